/**
 * `fleetscan demo --replay DIR`: every file in DIR is one more node of the demo fleet — its node id the file's
 * name without extension — that prints the file's content as its gather output on every scan. The output goes
 * through the same SSM limits as every simulated node's (2,500 characters listed, 24,000 fetched), so a real
 * node's output, or a hostile one, meets fleetscan's whole pipeline. Replayed nodes are read-only, like this
 * machine's node: they are never remediated.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sanitizeText } from '../core/sanitize.ts';

export interface ReplayNode {
  readonly nodeId: string;
  /** What the node prints, as read (decoded as UTF-8, as the SSM agent decodes output). */
  readonly stdout: string;
  /** The file it came from. */
  readonly file: string;
}

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

/** A node id a file name may give: what an instance or managed-instance id, or a host name, is made of. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** More than SSM ever hands out (24,000 characters): the rest of a larger file could never be seen. */
const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_REPLAY_NODES = 1000;

function shown(name: string): string {
  return sanitizeText(name, 80);
}

/** Reads DIR's regular files, in name order, as replayed nodes. Throws ReplayError naming the file at fault. */
export async function readReplayDir(dir: string): Promise<ReplayNode[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ReplayError(
      code === 'ENOENT'
        ? `--replay: no directory ${shown(dir)}`
        : code === 'ENOTDIR'
          ? `--replay: ${shown(dir)} is a file, not a directory of node outputs`
          : `--replay: cannot read ${shown(dir)}`,
    );
  }
  const nodes: ReplayNode[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const file = path.join(dir, name);
    const info = await stat(file);
    if (!info.isFile()) continue;
    const ext = path.extname(name);
    const nodeId = ext === '' || ext === name ? name : name.slice(0, -ext.length);
    if (!NODE_ID.test(nodeId)) {
      throw new ReplayError(
        `--replay: ${shown(file)}: '${shown(nodeId)}' is not a node id (letters, digits, '.', '_', '-'; at most 64)`,
      );
    }
    const other = seen.get(nodeId);
    if (other !== undefined)
      throw new ReplayError(`--replay: ${shown(file)} and ${shown(other)} are both node ${nodeId}`);
    seen.set(nodeId, file);
    if (info.size > MAX_FILE_BYTES) {
      throw new ReplayError(`--replay: ${shown(file)} is ${info.size} bytes; a node prints at most ${MAX_FILE_BYTES}`);
    }
    nodes.push({ nodeId, stdout: (await readFile(file)).toString('utf8'), file });
    if (nodes.length > MAX_REPLAY_NODES) {
      throw new ReplayError(`--replay: ${shown(dir)} holds more than ${MAX_REPLAY_NODES} node outputs`);
    }
  }
  if (nodes.length === 0) throw new ReplayError(`--replay: ${shown(dir)} holds no node output files`);
  return nodes;
}
