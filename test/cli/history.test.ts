import { describe, expect, it } from 'vitest';
import type { NodeRecordJson, RemediationJson, ScanJson } from '../../lib/cli/views.ts';
import { baseEnv, expectOneLineError, fleetscan } from './run-cli.ts';
import { HOSTILE_ERROR, NODES } from './seed-history.ts';
import { useSeededTable } from './seeded-table.ts';

// A known history in dynalite, written by the real DynamoStore; the CLI reads it through --endpoint/--table.
const table = useSeededTable();

const newestFirst = () => [...table.seeded.scans].reverse();
const STATUS_ORDER = { CRITICAL: 0, ERROR: 1, WARN: 2, OK: 3 } as const;

describe('CLI: fleetscan scans', () => {
  it('prints every scan as JSON, newest first, with the counts the collector stored', async () => {
    const run = await fleetscan(['scans', '--json', ...table.source]);
    expect(run.code, run.stderr).toBe(0);
    const scans = JSON.parse(run.stdout) as ScanJson[];
    expect(scans.map((scan) => scan.scanId)).toEqual(newestFirst().map((entry) => entry.scan.scanId));
    for (const [index, scan] of scans.entries()) {
      const expected = newestFirst()[index]?.scan;
      expect(scan.counts).toEqual(expected?.counts);
      expect(scan.nodes).toBe(expected?.nodes);
      expect(scan.remediations).toBe(expected?.remediations);
      expect(scan.status).toBe('COMPLETED');
      expect(scan.worstUnusableIndex).toBe(expected?.worstUnusableIndex);
    }
  });

  it('prints a table without colour under NO_COLOR, and stops at --limit', async () => {
    const run = await fleetscan(['scans', '--limit', '2', ...table.source]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('\u001b');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^SCAN\s+REQUESTED \(UTC\)\s+STATUS\s+NODES\s+OK\s+WARN\s+CRIT\s+ERR\s+REMEDIATED\s+WORST$/,
    );
    const [newest, second, oldest] = newestFirst();
    // The default table shows ids as unique prefixes, as git does; -o wide and tsv show them whole.
    expect(lines[1]?.startsWith(`${newest?.scan.scanId.slice(0, 8)}  `)).toBe(true);
    expect(lines[2]?.startsWith(`${second?.scan.scanId.slice(0, 8)}  `)).toBe(true);
    expect(run.stdout).not.toContain(oldest?.scan.scanId.slice(0, 8));
    expect(lines[3]).toMatch(/^2 scans, newest first, from table fleetscan-history — more with --limit/);
  });

  it('answers --help with its usage and exits 0', async () => {
    const run = await fleetscan(['scans', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: fleetscan scans /);
    expect(run.stdout).toContain('--local');
  });
});

describe('CLI: fleetscan scan', () => {
  it("prints one scan's nodes as JSON: CRITICAL, then ERROR, then WARN, then OK", async () => {
    const target = table.seeded.scans[1];
    const run = await fleetscan(['scan', target?.scan.scanId ?? '', '--json', ...table.source]);
    expect(run.code, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout) as { scan: ScanJson; nodes: NodeRecordJson[]; more: boolean };
    expect(shown.scan.scanId).toBe(target?.scan.scanId);
    expect(shown.more).toBe(false);
    expect(shown.nodes.map((node) => node.nodeId).sort()).toEqual(target?.records.map((r) => r.nodeId).sort());
    const ranks = shown.nodes.map((node) => STATUS_ORDER[node.status]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const criticals = shown.nodes.filter((node) => node.status === 'CRITICAL').map((n) => n.worstUnusableIndex ?? 0);
    expect(criticals).toEqual([...criticals].sort((a, b) => b - a));
    const unreachable = shown.nodes.find((node) => node.nodeId === NODES.unreachable);
    expect(unreachable?.invocationState).toBe('Undeliverable');
    expect(unreachable?.error).not.toContain('\u001b');
    expect(unreachable?.error).toContain('Undeliverable');
  });

  it('finds a scan by a unique prefix and never prints what a node sent to the terminal raw', async () => {
    const target = table.seeded.scans[2];
    const run = await fleetscan(['scan', target?.scan.scanId.slice(0, 8) ?? '', ...table.source]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toContain(`scan ${target?.scan.scanId}`);
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).not.toContain('\u0007');
    expect(HOSTILE_ERROR).toContain('\u001b');
    const rows = run.stdout.split('\n').filter((line) => /^i-0/.test(line));
    expect(rows.map((row) => row.split(/\s+/)[0])).toHaveLength(target?.records.length ?? -1);
    expect(rows[rows.length - 1]).toMatch(/\bOK\b/);
  });

  it('exits 1 naming an unknown scan', async () => {
    const run = await fleetscan(['scan', 'deadbeef-0000-4000-8000-000000000000', ...table.source]);
    expectOneLineError(run, 1, /^fleetscan scan: unknown scan 'deadbeef-0000-4000-8000-000000000000'/);
  });
});

describe('CLI: fleetscan history', () => {
  it("prints a node's records newest first, its state, and its trend oldest first", async () => {
    const run = await fleetscan(['history', NODES.fragmenting, '--json', ...table.source]);
    expect(run.code, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout) as {
      nodeId: string;
      state: { lastRemediationAt: string | null } | null;
      records: NodeRecordJson[];
      trend: (number | null)[];
    };
    const mine = table.seeded.scans.map((entry) => entry.records.find((record) => record.nodeId === NODES.fragmenting));
    expect(shown.nodeId).toBe(NODES.fragmenting);
    expect(shown.records.map((record) => record.scanId)).toEqual(newestFirst().map((entry) => entry.scan.scanId));
    expect(shown.trend).toEqual(mine.map((record) => record?.worstUnusableIndex));
    expect(shown.records[0]?.indices).toEqual(mine[mine.length - 1]?.indices);
    expect(shown.state?.lastRemediationAt).toBe(table.seeded.remediations[0]?.requestedAt);
  });

  it('draws the trend as a sparkline and shows each watched order', async () => {
    const run = await fleetscan(['history', NODES.fragmenting, ...table.source]);
    expect(run.code, run.stderr).toBe(0);
    const trend = run.stdout.split('\n').find((line) => line.startsWith('worst unusable index'));
    const values = table.seeded.scans.map(
      (entry) => entry.records.find((record) => record.nodeId === NODES.fragmenting)?.worstUnusableIndex ?? 0,
    );
    const bars = '▁▂▃▄▅▆▇█';
    const expected = values.map((value) => bars[Math.round((value / 1000) * 7)]).join('');
    expect(trend).toContain(expected);
    expect(run.stdout).toMatch(/0\/Normal o4\s+0\/Normal o6/);
  });

  it('keeps only the scans since an ISO-8601 time', async () => {
    const since = table.seeded.scans[1]?.scan.requestedAt ?? '';
    const run = await fleetscan(['history', NODES.healthy, '--since', since, '--json', ...table.source]);
    expect(run.code, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout) as { records: NodeRecordJson[] };
    expect(shown.records.map((record) => record.at)).toEqual(
      newestFirst()
        .map((entry) => entry.scan.requestedAt)
        .filter((at) => at >= since),
    );
  });

  it('exits 1 naming an unknown node', async () => {
    const run = await fleetscan(['history', 'i-0ffffffffffffffff', ...table.source]);
    expectOneLineError(run, 1, /^fleetscan history: unknown node 'i-0ffffffffffffffff'/);
  });
});

describe('CLI: fleetscan remediations', () => {
  it('prints each remediation with its measured before and after, all of them or one node', async () => {
    const all = await fleetscan(['remediations', '--json', ...table.source]);
    const mine = await fleetscan(['remediations', NODES.fragmenting, '--json', ...table.source]);
    const none = await fleetscan(['remediations', NODES.healthy, '--json', ...table.source]);
    for (const run of [all, mine, none]) expect(run.code, run.stderr).toBe(0);
    const expected = table.seeded.remediations[0];
    const records = JSON.parse(all.stdout) as RemediationJson[];
    expect(records).toHaveLength(table.seeded.remediations.length);
    expect(records[0]).toMatchObject({
      remediationId: expected?.remediationId,
      nodeId: expected?.nodeId,
      action: expected?.action,
      numaNode: expected?.numaNode,
      dryRun: false,
      status: 'COMPLETED',
      effect: expected?.effect,
      before: expected?.before,
      after: expected?.after,
    });
    expect(JSON.parse(mine.stdout)).toEqual(records);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('exits 1 naming an unknown node', async () => {
    const run = await fleetscan(['remediations', 'i-0eeeeeeeeeeeeeeee', ...table.source]);
    expectOneLineError(run, 1, /^fleetscan remediations: unknown node 'i-0eeeeeeeeeeeeeeee'/);
  });
});

describe('CLI: history errors', () => {
  it('names a table that does not exist', async () => {
    const run = await fleetscan(['scans', '--endpoint', table.db.endpoint, '--table', 'no-such-table']);
    expectOneLineError(run, 1, /^fleetscan scans: no such table: no-such-table \(from --table\)/);
  });

  it('says so when no AWS credentials can be found', async () => {
    const { AWS_ACCESS_KEY_ID: _key, AWS_SECRET_ACCESS_KEY: _secret, ...env } = baseEnv();
    const run = await fleetscan(['scans', '--table', 'fleetscan-history'], env);
    expectOneLineError(run, 1, /^fleetscan scans: no AWS credentials found: /);
  });

  it('rejects an unknown flag and a bad --limit as usage errors (exit 2)', async () => {
    const flag = await fleetscan(['scans', '--colour', ...table.source]);
    expectOneLineError(flag, 2, /^fleetscan scans: unknown option '--colour' — did you mean --color\?/);
    const limit = await fleetscan(['history', NODES.healthy, '--limit', 'ten', ...table.source]);
    expectOneLineError(limit, 2, /^fleetscan history: --limit: 'ten' is not a whole number/);
  });
});
