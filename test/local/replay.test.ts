/**
 * `fleetscan demo --replay DIR`: recorded node outputs, hostile and broken ones included, through the whole
 * pipeline — and nothing one node prints can hurt another: every node is recorded exactly once per scan, the
 * scans complete, and the rest of the fleet is remediated and notified as usual.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../lib/local/demo.ts';
import { NOTIFICATIONS_FILE, NOTIFICATIONS_JSONL } from '../../lib/local/notifier.ts';
import { ReplayError, readReplayDir } from '../../lib/local/replay.ts';
import { openLocalStore } from '../../lib/local/store.ts';
import type { NodeRecord } from '../../lib/runtime/ports.ts';
import { fleetscan } from '../cli/run-cli.ts';
import { forbiddenIn, forbiddenInAny, HOSTILE_TEXT } from '../support/forbidden-text.ts';

const HOUR = 3_600_000;
const NOW = new Date(Math.floor(Date.now() / HOUR) * HOUR + 7 * 60_000);
const created: string[] = [];
async function tmp(prefix: string): Promise<string> {
  await mkdir(path.join(process.cwd(), '.tmp'), { recursive: true });
  const dir = await mkdtemp(path.join(process.cwd(), '.tmp', prefix));
  created.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of created) await rm(dir, { recursive: true, force: true });
});

const synthetic = async () => null;
const FIXTURES = path.join(process.cwd(), 'test/fixtures/reports');

function report(lines: readonly string[]): string {
  return [
    'fleetscan-gather 1',
    'host ip-10-9-9-9.ec2.internal',
    'kernel 6.1.0-18-amd64',
    'pagesize 4096',
    'meminfo 65842624 41237812',
    'allocfail 0 -',
    ...lines,
    'end',
    '',
  ].join('\n');
}

/** A report with `numa` NUMA nodes, one Normal zone each. */
function wide(numa: number): string {
  return report(Array.from({ length: numa }, (_, node) => `zone ${node} Normal 1163 1101 932 222 10 5 3 1 0 0 0`));
}

async function replayDir(): Promise<string> {
  const dir = await tmp('replay-');
  const files: Record<string, string> = {
    // A real node's report (the 2-NUMA fixture).
    'i-0aaaaaaaaaaaaaa01.txt': await readFile(path.join(FIXTURES, 'gather-2numa.txt'), 'utf8'),
    // Counts no number type can hold.
    'i-0aaaaaaaaaaaaaa02.txt': report(['zone 0 Normal 1163 1101 932 222 0 0 0 0 0 0 0']).replace(
      'allocfail 0 -',
      'allocfail 9007199254740993 4',
    ),
    'i-0aaaaaaaaaaaaaa03.txt': report([`zone 0 Normal ${'9'.repeat(400)} 1 1 1 1 1 1 1 1 1 1`]),
    // Hundreds of NUMA nodes, under SSM's 24,000 characters (fetched in full) and over them (cut).
    'i-0aaaaaaaaaaaaaa04.txt': wide(420),
    'i-0aaaaaaaaaaaaaa05.txt': wide(700),
    // Every forbidden class (terminal escapes, bidi, zero-width, tags, ...) in the host name and the kernel.
    'i-0aaaaaaaaaaaaaa06.txt': report(['zone 0 Normal 1163 1101 932 222 10 5 3 1 0 0 0'])
      .replace('host ip-10-9-9-9.ec2.internal', `host ip-10-0-0-6${HOSTILE_TEXT}evil`)
      .replace('kernel 6.1.0-18-amd64', `kernel 6.1.0${HOSTILE_TEXT}`),
    // Garbage.
    'i-0aaaaaaaaaaaaaa07.txt': '\u001b[31mnot a report\u001b[0m\n',
    // ... in a zone name, and in a process name.
    'i-0aaaaaaaaaaaaaa08.txt': report([`zone 0 Normal${HOSTILE_TEXT} 1163 1101 932 222 10 5 3 1 0 0 0`]),
    'i-0aaaaaaaaaaaaaa09.txt': report(['zone 0 Normal 1163 1101 932 222 10 5 3 1 0 0 0'])
      .replace('fleetscan-gather 1', 'fleetscan-gather 2')
      .replace('allocfail 0 -', `allocfail 1 4 mysqld${HOSTILE_TEXT}:4`),
  };
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  return dir;
}

async function records(dataDir: string, scanId: string): Promise<NodeRecord[]> {
  const local = await openLocalStore({ dataDir, create: false });
  try {
    const out: NodeRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await local.store.listScanNodes(
        scanId,
        cursor === undefined ? { limit: 100 } : { limit: 100, cursor },
      );
      out.push(...page.items);
      cursor = page.next;
    } while (cursor !== undefined);
    return out;
  } finally {
    await local.close();
  }
}

describe('demo --replay', () => {
  it('records every node once per scan however hostile a replayed one, and acts on the rest as usual', async () => {
    const wideOutput = wide(420);
    expect(wideOutput.length).toBeGreaterThan(2500);
    expect(wideOutput.length).toBeLessThan(24_000);
    expect(wide(700).length).toBeGreaterThan(24_000);
    const replay = await readReplayDir(await replayDir());
    const dataDir = await tmp('replay-demo-');
    // Act
    const result = await runDemo({
      dataDir,
      nodes: 30,
      scans: 3,
      seed: 5,
      reset: false,
      now: NOW,
      readThisHost: synthetic,
      replay,
    });
    // Assess
    expect(result.replayed).toEqual(replay.map((node) => node.nodeId));
    expect(result.scans.map((scan) => scan.nodes)).toEqual([39, 39, 39]);
    for (const scan of result.scans) {
      const stored = await records(dataDir, scan.scanId);
      const ids = stored.map((record) => record.nodeId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(39);
    }
    const last = result.scans.at(-1);
    const byId = new Map((await records(dataDir, last?.scanId ?? '')).map((record) => [record.nodeId, record]));
    expect(byId.get('i-0aaaaaaaaaaaaaa01')).toMatchObject({
      status: 'CRITICAL',
      host: 'ip-10-0-3-17.eu-west-1.compute.internal',
    });
    expect(byId.get('i-0aaaaaaaaaaaaaa02')).toMatchObject({ status: 'ERROR', error: expect.stringMatching(/alloc/i) });
    expect(byId.get('i-0aaaaaaaaaaaaaa03')).toMatchObject({ status: 'ERROR', error: expect.stringMatching(/line 7/) });
    // Judged (its few order-6 blocks make it WARN), fetched in full, its record bounded.
    const judgedWide = byId.get('i-0aaaaaaaaaaaaaa04');
    expect(judgedWide?.status).toBe('WARN');
    expect(judgedWide?.zones.length).toBeLessThanOrEqual(64);
    expect(byId.get('i-0aaaaaaaaaaaaaa05')).toMatchObject({ status: 'ERROR', error: expect.stringMatching(/cut/) });
    const hostile = byId.get('i-0aaaaaaaaaaaaaa06');
    expect(hostile?.status).toBe('WARN');
    expect(hostile?.host).toMatch(/^ip-10-0-0-6/);
    expect(byId.get('i-0aaaaaaaaaaaaaa07')).toMatchObject({ status: 'ERROR' });
    expect(byId.get('i-0aaaaaaaaaaaaaa08')).toMatchObject({
      status: 'ERROR',
      error: expect.stringMatching(/zone name/),
    });
    expect(byId.get('i-0aaaaaaaaaaaaaa09')).toMatchObject({ status: 'ERROR', error: expect.stringMatching(/process/) });
    for (const scan of result.scans) expect(forbiddenInAny(await records(dataDir, scan.scanId))).toBeNull();
    // What the demo's notifier wrote, the replayed nodes' news among it.
    const log = await readFile(path.join(dataDir, NOTIFICATIONS_FILE), 'utf8');
    expect(log).toContain('i-0aaaaaaaaaaaaaa08');
    expect(forbiddenIn(log, { multiline: true })).toBeNull();
    const jsonl = (await readFile(path.join(dataDir, NOTIFICATIONS_JSONL), 'utf8')).trimEnd().split('\n');
    expect(forbiddenInAny(jsonl.map((line) => JSON.parse(line) as unknown))).toBeNull();
    // Replayed nodes are read-only; the simulated fleet was remediated as ever.
    const remediated = result.scans.flatMap((scan) => scan.remediations.map((entry) => entry.nodeId));
    expect(remediated.some((id) => id.startsWith('i-0aaaaaaaaaaaaaa'))).toBe(false);
    expect(remediated.length).toBeGreaterThan(0);
    // The first scan's problems are news (the replayed ones among them); later scans only tell what changes.
    expect(result.scans[0]?.notifications).toBeGreaterThan(0);
  });

  it('names the file at fault when a directory cannot be replayed', async () => {
    const bad = await tmp('replay-bad-');
    await writeFile(path.join(bad, 'not a node id.txt'), 'x');
    await expect(readReplayDir(bad)).rejects.toThrow(/not a node id\.txt: 'not a node id' is not a node id/);
    const twice = await tmp('replay-twice-');
    await writeFile(path.join(twice, 'i-1.txt'), 'x');
    await writeFile(path.join(twice, 'i-1.log'), 'y');
    await expect(readReplayDir(twice)).rejects.toThrow(/are both node i-1/);
    await expect(readReplayDir(await tmp('replay-empty-'))).rejects.toBeInstanceOf(ReplayError);
    await expect(readReplayDir(path.join(bad, 'missing'))).rejects.toThrow(/no directory/);
  });

  it('runs from the CLI with --replay and says which nodes were replayed', async () => {
    const dataDir = await tmp('replay-cli-');
    const dir = await tmp('replay-one-');
    await writeFile(path.join(dir, 'web-1.txt'), await readFile(path.join(FIXTURES, 'gather-2numa.txt'), 'utf8'));
    const out = await fleetscan(['demo', '--nodes', '5', '--scans', '1', '--data-dir', dataDir, '--replay', dir]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Replayed 1 recorded output as read-only node: web-1.');
    const missing = await fleetscan(['demo', '--data-dir', dataDir, '--replay', path.join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^fleetscan demo: --replay: no directory .*nope\n$/);
  });
});
