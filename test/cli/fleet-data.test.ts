import { describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/errors.ts';
import { parseScans, readFleet, withinBudget } from '../../lib/cli/fleet-data.ts';
import { FakeReader, gridHistory, nodeRecord, scanRecord } from './fleet-fixtures.ts';

describe('Fleet model: readFleet', () => {
  it('ranks by latest status, then the worst index in the window, then scans not OK, then id', async () => {
    // Prepare: each neighbouring pair is decided by one key.
    const history = gridHistory({
      'i-0ok-high-index0': ['O700', 'O990', 'O300'],
      'i-0warn-latest000': ['O100', 'O100', 'W910'],
      'i-0error-latest00': ['C990', 'C1000', 'E'],
      'i-0critical-low00': ['O100', 'W920', 'C976'],
      'i-0critical-high0': ['O100', 'W950', 'C1000'],
      'i-0ok-twice-warn0': ['W930', 'W930', 'O100'],
      'i-0ok-once-warn00': ['O100', 'W930', 'O100'],
      'i-0ok-once-warn01': ['O100', 'W930', 'O100'],
    });

    // Act
    const model = await readFleet(new FakeReader(history), { scans: 24, limit: 100 });

    // Assess
    expect(model.nodes.map((node) => node.nodeId)).toEqual([
      'i-0critical-high0', // CRITICAL, 1.000
      'i-0critical-low00', // CRITICAL, 0.976
      'i-0error-latest00', // ERROR now, although it reached 1.000 before
      'i-0warn-latest000',
      'i-0ok-high-index0', // OK, 0.990
      'i-0ok-twice-warn0', // OK, 0.930, two scans not OK
      'i-0ok-once-warn00', // OK, 0.930, one — then by id
      'i-0ok-once-warn01',
    ]);
    expect(model.nodes[2]).toMatchObject({ latest: 'ERROR', worst: 1000, problems: 3 });
    expect(model.totalNodes).toBe(8);
  });

  it('keeps a node absent from a scan apart from a node without a verdict, and counts only what was read', async () => {
    const history = gridHistory({
      'i-0aaaaaaaaaaaaa01': ['O100', 'E', 'O120'],
      'i-0aaaaaaaaaaaaa02': ['O100', '-', 'W910'],
      'i-0aaaaaaaaaaaaa03': ['-', '-', 'O?'],
    });

    const model = await readFleet(new FakeReader(history), { scans: 3, limit: 10 });

    const cells = Object.fromEntries(model.nodes.map((node) => [node.nodeId, node.cells]));
    expect(cells['i-0aaaaaaaaaaaaa01']).toEqual([
      { status: 'OK', worstUnusableIndex: 100 },
      { status: 'ERROR', worstUnusableIndex: null },
      { status: 'OK', worstUnusableIndex: 120 },
    ]);
    expect(cells['i-0aaaaaaaaaaaaa02']?.[1]).toBeNull();
    expect(cells['i-0aaaaaaaaaaaaa03']).toEqual([null, null, { status: 'OK', worstUnusableIndex: null }]);
    expect(model.scans.map((scan) => [scan.nodes, scan.counts])).toEqual([
      [2, { OK: 2, WARN: 0, CRITICAL: 0, ERROR: 0 }],
      [1, { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 1 }],
      [3, { OK: 2, WARN: 1, CRITICAL: 0, ERROR: 0 }],
    ]);
  });

  it('reads every page of every scan in the window, oldest first, and says how many', async () => {
    const rows = Object.fromEntries(
      Array.from({ length: 7 }, (_, i) => [`i-0node00000000${String(i).padStart(2, '0')}`, ['O100', 'O200']]),
    );
    const history = gridHistory(rows);
    const reader = new FakeReader(history, 3);

    const model = await readFleet(reader, { scans: 5, limit: 2 });

    expect(model.scans.map((scan) => scan.scanId)).toEqual(history.scans.map((entry) => entry.scan.scanId));
    expect(model.totalNodes).toBe(7);
    expect(model.nodes).toHaveLength(2);
    // 7 records a scan in pages of 3: three pages each.
    expect(model.reads).toEqual({ pages: 6, records: 14 });
    expect(reader.calls.filter((call) => call.startsWith('listScanNodes'))).toHaveLength(6);
  });

  it('takes the host name from the newest record that has one, cleaned of control characters', async () => {
    const [old, recent] = [scanRecord(0, 1), scanRecord(1, 1)];
    const reader = new FakeReader({
      scans: [
        { scan: old, records: [nodeRecord(old, 'i-0aaaaaaaaaaaaa01', 'OK', 100, 'ip-old\u001b]0;x\u0007.internal')] },
        { scan: recent, records: [nodeRecord(recent, 'i-0aaaaaaaaaaaaa01', 'ERROR', null, null)] },
      ],
    });

    const model = await readFleet(reader, { scans: 2, limit: 1 });

    expect(model.nodes[0]?.host).toBe('ip-old.internal');
  });

  it('counts a node once in a scan, even if a store listed it twice', async () => {
    const scan = scanRecord(0, 1);
    const record = nodeRecord(scan, 'i-0aaaaaaaaaaaaa01', 'WARN', 910);
    const model = await readFleet(new FakeReader({ scans: [{ scan, records: [record, record] }] }), {
      scans: 1,
      limit: 10,
    });
    expect(model.scans[0]).toMatchObject({ nodes: 1, counts: { OK: 0, WARN: 1, CRITICAL: 0, ERROR: 0 } });
    expect(model.nodes[0]?.problems).toBe(1);
  });

  it('stops the window at the newest scans whose records fit the read budget, and says how many it left out', async () => {
    const history = gridHistory({ 'i-0aaaaaaaaaaaaa01': ['O1', 'O2', 'O3', 'O4', 'O5'] });
    const scans = history.scans.map((entry) => ({ ...entry, scan: { ...entry.scan, nodes: 100 } }));
    const reader = new FakeReader({ scans });

    const model = await readFleet(reader, { scans: 5, limit: 10, budget: 250 });

    expect(model.scans.map((scan) => scan.scanId)).toEqual(scans.slice(3).map((entry) => entry.scan.scanId));
    expect(model.skippedScans).toBe(3);
    expect(reader.calls.filter((call) => call.startsWith('listScanNodes'))).toHaveLength(2);
  });

  it('always reads the newest scan, even one larger than the budget', () => {
    const kept = withinBudget([scanRecord(1, 900), scanRecord(0, 10)], 100);
    expect(kept.map((scan) => scan.nodes)).toEqual([900]);
  });

  it('counts the window’s remediations by outcome, read since its oldest scan', async () => {
    const history = gridHistory({ 'i-0aaaaaaaaaaaaa01': ['O1', 'O2'] }, true);
    const reader = new FakeReader(history);

    const model = await readFleet(reader, { scans: 2, limit: 10, remediations: true });

    expect(reader.remediationQueries[0]).toEqual({ since: history.scans[0]?.scan.requestedAt });
    expect(model.remediations?.counts).toEqual({
      improved: 1,
      'no-effect': 1,
      failed: 0,
      skipped: 0,
      deferred: 0,
      'dry-run': 0,
      pending: 1,
    });
    expect(model.remediations?.items.map((item) => item.nodeId)).toContain('i-0remediated0000c');
    expect(model.remediations?.more).toBe(false);
  });

  it('reads no remediations unless asked, and an empty history is an empty model', async () => {
    const reader = new FakeReader({ scans: [] });
    const model = await readFleet(reader, { scans: 24, limit: 20, remediations: true });
    expect(model).toMatchObject({ scans: [], nodes: [], totalNodes: 0, remediations: null });
    const none = await readFleet(new FakeReader(gridHistory({ 'i-0aaaaaaaaaaaaa01': ['O1'] })), {
      scans: 1,
      limit: 1,
    });
    expect(none.remediations).toBeNull();
  });
});

describe('Fleet model: --scans', () => {
  it.each([['0'], ['501'], ['-1'], ['1.5'], ['ten']])(
    'Noncompliance: %s is a usage error naming the flag and the range',
    (value) => {
      expect(() => parseScans(value)).toThrowError(
        expect.objectContaining({ exitCode: 2, message: `--scans: '${value}' is not a whole number from 1 to 500` }),
      );
      expect(() => parseScans(value)).toThrow(CliError);
    },
  );

  it('Compliance: absent is 24, a whole number in range is itself', () => {
    expect(parseScans(undefined)).toBe(24);
    expect(parseScans('1')).toBe(1);
    expect(parseScans('500')).toBe(500);
  });
});
