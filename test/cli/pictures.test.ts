/**
 * `fleetscan fleet` and `fleetscan report --html`, against a history the real DynamoStore wrote to dynalite: the
 * three scans of seed-history.ts, and a fourth in which one node is missing and a new one reports a hostile host
 * name.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FleetNode, FleetScan } from '../../lib/cli/fleet-data.ts';
import type { Io } from '../../lib/cli/io.ts';
import { main } from '../../lib/cli/main.ts';
import type { NodeRecord, ScanRecord } from '../../lib/runtime/ports.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { baseEnv, expectOneLineError, fleetscan, ROOT } from './run-cli.ts';
import { NODES, type SeededHistory, seedHistory, writeScan } from './seed-history.ts';

const HOSTILE_NODE = 'i-0badbadbadbadbad1';
const HOSTILE_HOST = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';

let db: LocalTable;
let seeded: SeededHistory;
let fourth: { scan: ScanRecord; records: NodeRecord[] };
let source: string[];
let dir: string;

beforeAll(async () => {
  db = await startDynalite();
  const store = db.store();
  seeded = await seedHistory(store);
  const last = seeded.scans.at(-1);
  if (last === undefined) throw new Error('seedHistory wrote no scans');
  const requestedAt = new Date(Date.parse(last.scan.requestedAt) + 900_000).toISOString();
  const scanId = '5c0ffee3-0000-4000-8000-000000000003';
  const scan: ScanRecord = {
    scanId,
    commandId: scanId,
    requestedAt,
    collectAfter: requestedAt,
    status: 'RUNNING',
    targets: 'tag:fleetscan=enabled',
  };
  const moved = (record: NodeRecord): NodeRecord => ({ ...record, scanId, at: requestedAt });
  const kept = last.records.filter((record) => record.nodeId !== NODES.fragmenting).map(moved);
  const template = last.records.find((record) => record.nodeId === NODES.healthy);
  if (template === undefined) throw new Error('seedHistory wrote no healthy node');
  const hostile: NodeRecord = {
    ...moved(template),
    nodeId: HOSTILE_NODE,
    host: HOSTILE_HOST,
    status: 'WARN',
    // The store keeps the indices and derives the worst from them.
    indices: template.indices.map((index) => (index.order === 6 ? { ...index, unusableIndex: 950 } : index)),
    worstUnusableIndex: 950,
  };
  fourth = { scan, records: [...kept, hostile] };
  const counts = { OK: 1, WARN: 1, CRITICAL: 1, ERROR: 1 };
  await writeScan(store, scan, fourth.records, {
    completedAt: requestedAt,
    counts,
    nodes: fourth.records.length,
    worstUnusableIndex: 1000,
  });
  source = ['--endpoint', db.endpoint, '--table', db.tableName];
  dir = await mkdtemp(path.join(ROOT, '.tmp', 'pictures-'));
});

afterAll(async () => {
  await db?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'dummy');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'dummy');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  return () => vi.unstubAllEnvs();
});

/** Runs a command in this process, as main() would from the shell. */
async function run(args: string[], env: Record<string, string> = { NO_COLOR: '1' }) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readStdin: async () => '',
    isTty: false,
    env,
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('CLI: fleetscan fleet', () => {
  it('prints the model as JSON: the scans oldest first, the nodes worst first, absent apart from ERROR', async () => {
    const result = await run(['fleet', '--json', ...source]);

    expect(result.code, result.stderr).toBe(0);
    const model = JSON.parse(result.stdout) as { scans: FleetScan[]; nodes: FleetNode[]; totalNodes: number };
    expect(model.scans.map((scan) => scan.scanId)).toEqual([
      ...seeded.scans.map((e) => e.scan.scanId),
      fourth.scan.scanId,
    ]);
    expect(model.nodes.map((node) => node.nodeId)).toEqual([
      NODES.lowMemory, // CRITICAL now, 1.000
      NODES.unreachable, // ERROR now
      HOSTILE_NODE, // WARN now
      NODES.fragmenting, // OK in its last scan (0.420), 0.991 before; absent from the newest
      NODES.healthy,
    ]);
    const byId = new Map(model.nodes.map((node) => [node.nodeId, node]));
    expect(byId.get(NODES.fragmenting)?.cells.at(-1)).toBeNull();
    expect(byId.get(NODES.unreachable)?.cells).toEqual(Array(4).fill({ status: 'ERROR', worstUnusableIndex: null }));
    expect(byId.get(HOSTILE_NODE)?.cells).toEqual([null, null, null, { status: 'WARN', worstUnusableIndex: 950 }]);
    expect(model.scans.at(-1)?.counts).toEqual({ OK: 1, WARN: 1, CRITICAL: 1, ERROR: 1 });
    expect(model.totalNodes).toBe(5);
  });

  it('draws the heatmap within $COLUMNS, without colour under NO_COLOR, a row per node', async () => {
    const result = await run(['fleet', '--limit', '3', ...source], { NO_COLOR: '1', COLUMNS: '50' });

    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(50);
    expect(result.stdout).not.toContain('\u001b');
    expect(lines.filter((line) => line.startsWith('i-0')).map((line) => line.split(' ')[0])).toEqual([
      NODES.lowMemory,
      NODES.unreachable,
      HOSTILE_NODE,
    ]);
    expect(lines.find((line) => line.startsWith(NODES.unreachable))?.endsWith('××××')).toBe(true);
    expect(lines.find((line) => line.startsWith(HOSTILE_NODE))?.endsWith('···█')).toBe(true);
    expect(result.stdout).toContain('more nodes with --limit N');
  });

  it('keeps the newest scans with --scans', async () => {
    const result = await run(['fleet', '--scans', '2', '--json', ...source]);
    expect(result.code, result.stderr).toBe(0);
    const model = JSON.parse(result.stdout) as { scans: FleetScan[] };
    expect(model.scans.map((scan) => scan.scanId)).toEqual([seeded.scans[2]?.scan.scanId, fourth.scan.scanId]);
  });

  it('rejects a bad --scans as a usage error naming the flag and the range', async () => {
    const result = await run(['fleet', '--scans', 'all', ...source]);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: "fleetscan fleet: --scans: 'all' is not a whole number from 1 to 500\n",
    });
  });

  it('runs as the installed executable, without colour when its output is not a terminal', async () => {
    const { NO_COLOR: _, ...env } = baseEnv();
    const spawned = await fleetscan(['fleet', ...source], env);
    expect(spawned.code, spawned.stderr).toBe(0);
    expect(spawned.stdout).toMatch(/^worst unusable free space index per node and scan — 5 of 5 nodes, worst first\n/);
    expect(spawned.stdout).not.toContain('\u001b');
  });
});

describe('CLI: fleetscan report --html', () => {
  it('writes one self-contained page and says where and what it holds', async () => {
    const file = path.join(dir, 'fleet.html');

    const result = await fleetscan(['report', '--html', file, ...source]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /^wrote .+fleet\.html \(\d+ KB\): heatmap of 5 of 5 nodes × 4 scans, severity counts, 1 remediation, trend lines of 5 nodes — from table fleetscan-history\n$/,
    );
    const html = await readFile(file, 'utf8');
    expect(html).toContain('<svg id="heatmap" role="img"');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html.match(/<g class="hm-row"/g)).toHaveLength(5);
  });

  it('says in one sentence why it cannot write, before reading anything (exit 1)', async () => {
    const missing = await run(['report', '--html', path.join(dir, 'no', 'such', 'dir', 'x.html'), ...source]);
    expectOneLineError(missing, 1, /^fleetscan report: cannot write .+x\.html: there is no directory .+dir$/);
    const directory = await run(['report', '--html', dir, ...source]);
    expectOneLineError(directory, 1, /^fleetscan report: cannot write .+: it is a directory$/);
  });

  it('needs --html FILE (exit 2)', async () => {
    const result = await run(['report', ...source]);
    expectOneLineError(result, 2, /^fleetscan report: missing --html FILE — usage: fleetscan report --html FILE/);
  });
});
