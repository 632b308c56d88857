/**
 * The HistoryReader contract the CLI builds on, exercised through a history written by the runtime's own write
 * methods (seed-history.ts), so it holds whatever the table layout behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryReader } from '../../lib/runtime/ports.ts';
import { NODES, type SeededHistory, seedHistory } from '../cli/seed-history.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';

let db: LocalTable;
let reader: HistoryReader;
let seeded: SeededHistory;

beforeAll(async () => {
  db = await startDynalite();
  const store = db.store();
  seeded = await seedHistory(store);
  reader = store;
});

afterAll(async () => {
  await db.stop();
});

const scanAt = (index: number) => {
  const entry = seeded.scans[index];
  if (entry === undefined) throw new Error(`no seeded scan ${index}`);
  return entry;
};

describe('HistoryReader: since', () => {
  it('lists only the scans requested at or after the given time, newest first', async () => {
    const since = scanAt(1).scan.requestedAt;
    const page = await reader.listScans({ limit: 10, since });
    expect(page.items.map((scan) => scan.scanId)).toEqual([scanAt(2).scan.scanId, scanAt(1).scan.scanId]);
  });

  it('lists only the remediations requested at or after the given time', async () => {
    const [remediation] = seeded.remediations;
    if (remediation === undefined) throw new Error('the seed has a remediation');
    const at = await reader.listRemediations({ limit: 10, since: remediation.requestedAt });
    const after = await reader.listRemediations({ limit: 10, since: scanAt(2).scan.requestedAt });
    expect(at.items.map((record) => record.remediationId)).toEqual([remediation.remediationId]);
    expect(after.items).toEqual([]);
  });
});

describe('HistoryReader: filtering a scan', () => {
  it('keeps only the statuses asked for', async () => {
    const { scan, records } = scanAt(2);
    const page = await reader.listScanNodes(scan.scanId, { limit: 100, status: ['CRITICAL', 'ERROR'] });
    const expected = records.filter((record) => record.status === 'CRITICAL' || record.status === 'ERROR');
    expect(page.items.map((record) => record.nodeId).sort()).toEqual(expected.map((record) => record.nodeId).sort());
  });

  it('keeps only the causes asked for, null meaning no cause', async () => {
    const { scan, records } = scanAt(2);
    const lowMemory = await reader.listScanNodes(scan.scanId, { limit: 100, cause: ['low-memory'] });
    const none = await reader.listScanNodes(scan.scanId, { limit: 100, cause: [null] });
    expect(lowMemory.items.map((record) => record.nodeId)).toEqual([NODES.lowMemory]);
    expect(none.items.map((record) => record.nodeId).sort()).toEqual(
      records
        .filter((record) => record.cause === null)
        .map((record) => record.nodeId)
        .sort(),
    );
  });
});

describe('HistoryReader: resolving a node name', () => {
  it('takes instance and managed-instance ids as they are', async () => {
    expect(await reader.resolveNode('i-0123456789abcdef0')).toEqual(['i-0123456789abcdef0']);
    expect(await reader.resolveNode('mi-0123456789abcdef0')).toEqual(['mi-0123456789abcdef0']);
  });

  it('finds a node by the host name its reports gave', async () => {
    const host = scanAt(2).records.find((record) => record.nodeId === NODES.healthy)?.host;
    expect(host).toEqual(expect.stringMatching(/\.ec2\.internal$/));
    expect(await reader.resolveNode(host as string)).toEqual([NODES.healthy]);
  });

  it('finds nothing for a host name no node reported', async () => {
    expect(await reader.resolveNode('ip-192-0-2-1.ec2.internal')).toEqual([]);
  });
});

describe('HistoryReader: node states', () => {
  it('reads the states of several nodes at once, with the cooldown end of the last remediation', async () => {
    const states = await reader.getNodeStates([NODES.fragmenting, NODES.healthy]);
    expect([...states.keys()]).toContain(NODES.fragmenting);
    expect(states.get(NODES.fragmenting)?.cooldownUntil).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
  });
});
