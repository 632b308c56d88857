/** `fleetscan report --html FILE`: the fleet's pictures as one self-contained HTML page. */
import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commandSpec } from './commands.ts';
import { CliError } from './errors.ts';
import { parseScans, readFleet } from './fleet-data.ts';
import { clean, plural } from './format.ts';
import { parseHistoryCommand, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { stringFlag } from './kit/args.ts';
import { fitted } from './kit/emit.ts';
import { isStructured, structured } from './kit/output.ts';
import { REPORT_NODES, TREND_NODES } from './picture-limits.ts';
import { renderHtmlReport } from './render/html-report.ts';
import { EXIT_FAILURE, shortPath } from './table-source.ts';

/** Why a file cannot be written there, as a sentence; null when it can be. */
async function unwritable(file: string): Promise<string | null> {
  const shown = clean(shortPath(file), 200);
  const info = await stat(file).catch(() => null);
  if (info?.isDirectory()) return `cannot write ${shown}: it is a directory`;
  const dir = path.dirname(file);
  const parent = await stat(dir).catch(() => null);
  if (parent === null) return `cannot write ${shown}: there is no directory ${clean(shortPath(dir), 200)}`;
  if (!parent.isDirectory()) return `cannot write ${shown}: ${clean(shortPath(dir), 200)} is not a directory`;
  const writable = await access(info === null ? dir : file, constants.W_OK).then(
    () => true,
    () => false,
  );
  return writable ? null : `cannot write ${shown}: permission denied`;
}

const IO_REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOENT: 'its directory is gone',
};

const kilobytes = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024))} KB`;

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseHistoryCommand(commandSpec('report'), args, io);
  const target = stringFlag(command.flags.html);
  if (target === undefined) throw new CliError('missing --html FILE — usage: fleetscan report --html FILE [options]');
  const scans = parseScans(command.flags.scans);
  const limit = command.flags.limit === undefined ? REPORT_NODES : (command.limit ?? REPORT_NODES);
  const file = path.resolve(target);
  // Checked before reading: on a large fleet the reads take a while, and would be lost.
  const before = await unwritable(file);
  if (before !== null) throw new CliError(before, EXIT_FAILURE);
  return withHistory(command, io, async (source) => {
    const model = await readFleet(source.reader, { scans, limit, remediations: true });
    const html = renderHtmlReport(model, { source: source.label, generatedAt: new Date().toISOString() });
    try {
      await writeFile(file, html, 'utf8');
    } catch (error) {
      const reason = IO_REASONS[String((error as { code?: unknown }).code)] ?? 'the write failed';
      throw new CliError(`cannot write ${clean(shortPath(file), 200)}: ${reason}`, EXIT_FAILURE, { cause: error });
    }
    const written = {
      file: shortPath(file),
      bytes: Buffer.byteLength(html),
      scans: model.scans.length,
      nodes: model.nodes.length,
      totalNodes: model.totalNodes,
      remediations: model.remediations?.items.length ?? 0,
      trendNodes: Math.min(TREND_NODES, model.nodes.length),
    };
    const { format } = command.output;
    if (isStructured(format)) {
      io.stdout(structured(written, format));
      return 0;
    }
    const what =
      model.scans.length === 0
        ? `no scans in ${source.label} yet`
        : `heatmap of ${written.nodes} of ${plural(written.totalNodes, 'node')} × ${plural(written.scans, 'scan')}, ` +
          `severity counts, ${plural(written.remediations, 'remediation')}, trend lines of ` +
          `${plural(written.trendNodes, 'node')} — from ${source.label}`;
    io.stdout(
      `${fitted([`wrote ${clean(written.file, 200)} (${kilobytes(written.bytes)}): ${what}`], command.output).join('\n')}\n`,
    );
    return 0;
  });
}
