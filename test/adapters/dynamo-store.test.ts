import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoStore,
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  UnprocessedItemsError,
} from '../../lib/adapters/dynamo-store.ts';
import { itemSize, nodeRecordItem } from '../../lib/runtime/items.ts';
import type { NodeClaim, RemediationRecord, ScanRecord } from '../../lib/runtime/ports.ts';
import { keys } from '../../lib/runtime/table-schema.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { nodeRecord } from '../support/runtime-fixtures.ts';

let db: LocalTable;
let store: DynamoStore;
const now = { value: new Date('2025-03-01T13:00:00.000Z') };

beforeAll(async () => {
  db = await startDynalite();
  store = db.store({ clock: { now: () => now.value } });
});

afterAll(async () => {
  await db.stop();
});

function scan(scanId: string, requestedAt: string, overrides: Partial<ScanRecord> = {}): ScanRecord {
  return {
    scanId,
    commandId: scanId,
    requestedAt,
    collectAfter: new Date(Date.parse(requestedAt) + 780_000).toISOString(),
    status: 'RUNNING',
    targets: 'tag:fleetscan=enabled',
    ...overrides,
  };
}

describe('DynamoStore: scans', () => {
  it('creates a scan once and reads it back by id', async () => {
    // Prepare
    const record = scan('scan-create', '2025-03-01T12:00:00.000Z');
    // Act
    const first = await store.createScan(record);
    const second = await store.createScan({ ...record, targets: 'other' });
    // Assess
    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(await store.getScan('scan-create')).toEqual(record);
  });

  it('lists scans newest first, page by page with an opaque cursor', async () => {
    const local = await startDynalite();
    try {
      const s = local.store({ clock: { now: () => now.value } });
      for (let minute = 0; minute < 5; minute += 1) {
        await s.createScan(scan(`scan-${minute}`, `2025-03-01T12:0${minute}:00.000Z`));
      }
      const first = await s.listScans({ limit: 2 });
      expect(first.items.map((item) => item.scanId)).toEqual(['scan-4', 'scan-3']);
      expect(first.next).toEqual(expect.any(String));
      const second = await s.listScans({ limit: 2, cursor: first.next as string });
      expect(second.items.map((item) => item.scanId)).toEqual(['scan-2', 'scan-1']);
      const third = await s.listScans({ limit: 2, cursor: second.next as string });
      expect(third.items.map((item) => item.scanId)).toEqual(['scan-0']);
    } finally {
      await local.stop();
    }
  });

  it('completes a RUNNING scan once, with its counts, and takes it off the due list', async () => {
    await store.createScan(scan('scan-due', '2025-03-01T11:00:00.000Z'));
    await store.createScan(scan('scan-not-due', '2025-03-01T12:59:00.000Z'));
    const dueBefore = await store.listDue('2025-03-01T13:00:00.000Z', 50);
    expect(dueBefore.map((due) => due.commandId)).toContain('scan-due');
    expect(dueBefore.map((due) => due.commandId)).not.toContain('scan-not-due');

    const completion = {
      completedAt: '2025-03-01T13:00:00.000Z',
      counts: { OK: 3, WARN: 1, CRITICAL: 1, ERROR: 0 },
      nodes: 5,
      worstUnusableIndex: 998,
    };
    expect(await store.completeScan('scan-due', completion)).toBe(true);
    expect(await store.completeScan('scan-due', { ...completion, nodes: 99 })).toBe(false);

    const stored = await store.getScan('scan-due');
    expect(stored).toMatchObject({ status: 'COMPLETED', nodes: 5, counts: completion.counts, worstUnusableIndex: 998 });
    const dueAfter = await store.listDue('2025-03-01T13:00:00.000Z', 50);
    expect(dueAfter.map((due) => due.commandId)).not.toContain('scan-due');
  });

  it('does not complete a scan that does not exist', async () => {
    const completion = {
      completedAt: 'x',
      counts: { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 },
      nodes: 0,
      worstUnusableIndex: null,
    };
    expect(await store.completeScan('no-such-scan', completion)).toBe(false);
  });

  it('hides items whose TTL has passed (DynamoDB deletes them up to two days late)', async () => {
    const old = scan('scan-expired', '2024-01-01T00:00:00.000Z');
    await store.createScan(old);
    expect(await store.getScan('scan-expired')).toBeNull();
    const page = await store.listScans({ limit: 100 });
    expect(page.items.map((item) => item.scanId)).not.toContain('scan-expired');
  });
});

describe('DynamoStore: node records', () => {
  it('stores records keyed by scan and node, so a rewrite replaces rather than duplicates', async () => {
    const records = Array.from({ length: 60 }, (_, index) =>
      nodeRecord({ scanId: 'scan-nodes', nodeId: `i-${String(index).padStart(17, '0')}` }),
    );
    await store.putNodeRecords(records);
    await store.putNodeRecords(records);
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await store.listScanNodes(
        'scan-nodes',
        cursor === undefined ? { limit: 25 } : { limit: 25, cursor },
      );
      all.push(...page.items);
      cursor = page.next;
    } while (cursor !== undefined);
    expect(all).toHaveLength(60);
    expect(all[0]).toEqual(records[0]);
    expect(all.map((record) => record.nodeId)).toEqual(records.map((record) => record.nodeId));
  });

  it('indexes only non-OK nodes in the problems index, CRITICAL then ERROR then WARN, worst index first', async () => {
    const base = { scanId: 'scan-problems' };
    await store.putNodeRecords([
      nodeRecord({ ...base, nodeId: 'i-ok', status: 'OK' }),
      nodeRecord({ ...base, nodeId: 'i-warn', status: 'WARN', worstUnusableIndex: 990 }),
      nodeRecord({ ...base, nodeId: 'i-crit-a', status: 'CRITICAL', worstUnusableIndex: 960 }),
      nodeRecord({ ...base, nodeId: 'i-crit-b', status: 'CRITICAL', worstUnusableIndex: 999 }),
      nodeRecord({ ...base, nodeId: 'i-err', status: 'ERROR', worstUnusableIndex: null, indices: [], zones: [] }),
    ]);
    const page = await store.listProblemNodes('scan-problems', { limit: 10 });
    expect(page.items.map((record) => record.nodeId)).toEqual(['i-crit-b', 'i-crit-a', 'i-err', 'i-warn']);
    expect(page.next).toBeUndefined();
  });

  it("returns one node's history newest first, optionally since a time", async () => {
    for (const [scanId, at] of [
      ['h-1', '2025-03-01T10:00:00.000Z'],
      ['h-2', '2025-03-01T11:00:00.000Z'],
      ['h-3', '2025-03-01T12:00:00.000Z'],
    ] as const) {
      await store.putNodeRecords([nodeRecord({ scanId, nodeId: 'i-history', at })]);
    }
    const all = await store.nodeHistory('i-history', { limit: 10 });
    expect(all.items.map((record) => record.scanId)).toEqual(['h-3', 'h-2', 'h-1']);
    const since = await store.nodeHistory('i-history', { limit: 10, since: '2025-03-01T11:00:00.000Z' });
    expect(since.items.map((record) => record.scanId)).toEqual(['h-3', 'h-2']);
  });

  it('keeps a realistic 2-NUMA node record within one write unit', () => {
    const record = nodeRecord({
      scanId: 'c0a8f4e2-1b6d-4f7e-9a3b-2d5c8e1f0a47',
      nodeId: 'i-0123456789abcdef0',
      status: 'CRITICAL',
      cause: 'fragmentation',
      findings: [
        'no-suitable-block@0/Normal/4',
        'no-suitable-block@0/Normal/6',
        'few-suitable-blocks@1/Normal/6',
        'allocation-failures@4',
      ],
      host: 'ip-10-0-3-17.eu-west-1.compute.internal',
      kernel: '6.1.0-18-amd64',
      zones: ['0 Normal 1163 1101 932 222 0 0 0 0 0 0 0', '1 Normal 129196 120577 99000 57340 19150 3490 53 3 0 0 0'],
      indices: [
        { node: 0, zone: 'Normal', order: 4, suitableBlocks: 0, unusableIndex: 1000, fragmentationIndex: 852 },
        { node: 0, zone: 'Normal', order: 6, suitableBlocks: 0, unusableIndex: 1000, fragmentationIndex: 963 },
        { node: 1, zone: 'Normal', order: 4, suitableBlocks: 24112, unusableIndex: 723, fragmentationIndex: -1000 },
        { node: 1, zone: 'Normal', order: 6, suitableBlocks: 62, unusableIndex: 987, fragmentationIndex: -1000 },
      ],
      worstUnusableIndex: 1000,
      worstFragmentationIndex: 963,
      consecutiveBreaches: 3,
      allocFailures: 3,
    });
    const size = itemSize(nodeRecordItem(record, 90));
    expect(size).toBeLessThanOrEqual(1024);
  });
});

describe('DynamoStore: cursors', () => {
  it('round-trips a key through an opaque base64url cursor', () => {
    const key = { pk: 'SCAN#a', sk: 'NODE#i-1', gsi1pk: 'NODE#i-1' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(key);
  });

  it.each([['not base64 json'], [encodeCursor({})], [Buffer.from('[1,2]').toString('base64url')]])(
    'rejects a cursor it did not hand out (%s)',
    async (cursor) => {
      await expect(store.listScans({ limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    },
  );
});

describe('DynamoStore: node state', () => {
  it('folds a verdict once per scan and never over a newer scan', async () => {
    const base = { nodeId: 'i-verdict', previousBreaches: 0, consecutiveBreaches: 1 };
    expect(await store.recordVerdict({ ...base, scanId: 's-2', at: '2025-03-01T12:00:00.000Z' })).toBe(true);
    expect(
      await store.recordVerdict({ ...base, scanId: 's-2', at: '2025-03-01T12:00:00.000Z', consecutiveBreaches: 5 }),
    ).toBe(false);
    expect(await store.recordVerdict({ ...base, scanId: 's-1', at: '2025-03-01T11:45:00.000Z' })).toBe(false);
    expect(
      await store.recordVerdict({
        ...base,
        scanId: 's-3',
        at: '2025-03-01T12:15:00.000Z',
        previousBreaches: 1,
        consecutiveBreaches: 2,
      }),
    ).toBe(true);
    expect(await store.getNodeState('i-verdict')).toMatchObject({
      consecutiveBreaches: 2,
      previousBreaches: 1,
      lastScanId: 's-3',
      lastScanAt: '2025-03-01T12:15:00.000Z',
    });
  });

  it('reads many states at once and leaves absent nodes out', async () => {
    await store.recordVerdict({ nodeId: 'i-s1', scanId: 's', at: 'a', previousBreaches: 0, consecutiveBreaches: 1 });
    const states = await store.getNodeStates(['i-s1', 'i-absent', 'i-s1']);
    expect([...states.keys()]).toEqual(['i-s1']);
  });
});

describe('DynamoStore: remediation claims', () => {
  const claim = (overrides: Partial<NodeClaim> = {}): NodeClaim => ({
    nodeId: 'i-claim',
    scanId: 'scan-a',
    remediationId: 'scan-a:i-claim',
    at: '2025-03-01T12:00:00.000Z',
    cooldownCutoff: '2025-03-01T06:00:00.000Z',
    cooldownUntil: '2025-03-01T18:00:00.000Z',
    ...overrides,
  });

  it('claims a node once per scan and refuses within the cooldown', async () => {
    const first = await store.claimNode(claim());
    expect(first).toEqual({
      claimed: true,
      previous: { lastRemediationAt: null, lastRemediationId: null, lastRemediationScanId: null, cooldownUntil: null },
    });
    expect(await store.claimNode(claim())).toEqual({ claimed: false });
    // Another scan an hour later: still cooling down (6 h).
    expect(
      await store.claimNode(
        claim({
          scanId: 'scan-b',
          remediationId: 'scan-b:i-claim',
          at: '2025-03-01T13:00:00.000Z',
          cooldownCutoff: '2025-03-01T07:00:00.000Z',
        }),
      ),
    ).toEqual({ claimed: false });
    // Seven hours later: allowed again, and the previous claim is reported.
    const later = await store.claimNode(
      claim({
        scanId: 'scan-c',
        remediationId: 'scan-c:i-claim',
        at: '2025-03-01T19:00:00.000Z',
        cooldownCutoff: '2025-03-01T13:00:00.000Z',
      }),
    );
    expect(later).toEqual({
      claimed: true,
      previous: {
        lastRemediationAt: '2025-03-01T12:00:00.000Z',
        lastRemediationId: 'scan-a:i-claim',
        lastRemediationScanId: 'scan-a',
        cooldownUntil: '2025-03-01T18:00:00.000Z',
      },
    });
  });

  it('puts back what a claim overwrote when the claim is released', async () => {
    const c = claim({ nodeId: 'i-release', remediationId: 'scan-a:i-release' });
    const result = await store.claimNode(c);
    if (!result.claimed) throw new Error('expected a claim');
    await store.releaseNode(c, result.previous);
    const state = await store.getNodeState('i-release');
    expect(state).toMatchObject({ lastRemediationAt: null, lastRemediationId: null, lastRemediationScanId: null });
    expect((await store.claimNode(c)).claimed).toBe(true);
  });

  it('refuses to claim a blocked node until it is cleared', async () => {
    const nodeId = 'i-blocked';
    for (const scanId of ['r1', 'r2']) {
      await store.recordRemediationOutcome({
        nodeId,
        remediationId: `${scanId}:${nodeId}`,
        effect: 'no-effect',
        maxNoEffect: 2,
        at: 'x',
      });
    }
    expect((await store.getNodeState(nodeId))?.blocked).toBe(true);
    expect(await store.claimNode(claim({ nodeId }))).toEqual({ claimed: false });
    expect(await store.clearNode(nodeId)).toBe(true);
    expect(await store.getNodeState(nodeId)).toMatchObject({ blocked: false, noEffectCount: 0 });
    expect((await store.claimNode(claim({ nodeId }))).claimed).toBe(true);
  });

  it('clears nothing for a node without state', async () => {
    expect(await store.clearNode('i-never-seen')).toBe(false);
  });

  it('gives out at most max budget slots per scan', async () => {
    await store.createScan(scan('scan-budget', '2025-03-01T12:00:00.000Z'));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => store.takeRemediationSlot('scan-budget', `i-${index}`, 3)),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
    expect((await store.getScan('scan-budget'))?.remediations).toBe(3);
    expect(await store.takeRemediationSlot('no-such-scan', 'i-0', 3)).toBe(false);
  });

  it('gives a node that holds a slot the same slot again, for free, even once the budget is spent', async () => {
    await store.createScan(scan('scan-slots', '2025-03-01T12:00:00.000Z'));
    expect(await store.takeRemediationSlot('scan-slots', 'i-a', 2)).toBe(true);
    expect(await Promise.all([1, 2, 3].map(() => store.takeRemediationSlot('scan-slots', 'i-a', 2)))).toEqual([
      true,
      true,
      true,
    ]);
    expect((await store.getScan('scan-slots'))?.remediations).toBe(1);
    expect(await store.takeRemediationSlot('scan-slots', 'i-b', 2)).toBe(true);
    expect(await store.takeRemediationSlot('scan-slots', 'i-c', 2)).toBe(false);
    expect(await store.takeRemediationSlot('scan-slots', 'i-a', 2)).toBe(true);
    expect((await store.getScan('scan-slots'))?.remediations).toBe(2);
  });
});

describe('DynamoStore: remediation outcomes', () => {
  it('counts a no-effect outcome once per remediation and blocks at the limit', async () => {
    const nodeId = 'i-outcome';
    const first = { nodeId, remediationId: 'a', effect: 'no-effect' as const, maxNoEffect: 2, at: 't1' };
    expect(await store.recordRemediationOutcome(first)).toEqual({
      noEffectCount: 1,
      blocked: false,
      newlyBlocked: false,
    });
    expect(await store.recordRemediationOutcome(first)).toEqual({
      noEffectCount: 1,
      blocked: false,
      newlyBlocked: false,
    });
    const second = { ...first, remediationId: 'b', at: 't2' };
    expect(await store.recordRemediationOutcome(second)).toEqual({
      noEffectCount: 2,
      blocked: true,
      newlyBlocked: true,
    });
    expect(await store.recordRemediationOutcome(second)).toEqual({
      noEffectCount: 2,
      blocked: true,
      newlyBlocked: false,
    });
  });

  it('resets the streak on an improvement and leaves it alone on a dry run', async () => {
    const nodeId = 'i-streak';
    await store.recordRemediationOutcome({ nodeId, remediationId: 'a', effect: 'no-effect', maxNoEffect: 2, at: 't' });
    expect(
      await store.recordRemediationOutcome({ nodeId, remediationId: 'b', effect: 'dry-run', maxNoEffect: 2, at: 't' }),
    ).toMatchObject({ noEffectCount: 1 });
    expect(
      await store.recordRemediationOutcome({ nodeId, remediationId: 'c', effect: 'improved', maxNoEffect: 2, at: 't' }),
    ).toMatchObject({ noEffectCount: 0, blocked: false });
  });

  it('completes a PENDING remediation once and lists the scan remediations', async () => {
    const pending = {
      remediationId: 'scan-rem:i-r1',
      nodeId: 'i-r1',
      scanId: 'scan-rem',
      commandId: 'cmd-1',
      action: 'compact-node' as const,
      numaNode: 1,
      dryRun: false,
      requestedAt: '2025-03-01T12:10:00.000Z',
      status: 'PENDING' as const,
    };
    await store.putRemediations([pending, { ...pending, remediationId: 'scan-rem:i-r2', nodeId: 'i-r2' }]);
    const completed = {
      ...pending,
      status: 'COMPLETED' as const,
      effect: 'improved' as const,
      completedAt: '2025-03-01T12:12:00.000Z',
      before: [{ node: 1, zone: 'Normal', order: 4, suitableBlocks: 0, unusableIndex: 1000, fragmentationIndex: 852 }],
      after: [
        { node: 1, zone: 'Normal', order: 4, suitableBlocks: 900, unusableIndex: 310, fragmentationIndex: -1000 },
      ],
    };
    expect(await store.completeRemediation(completed)).toBe(true);
    expect(await store.completeRemediation({ ...completed, effect: 'no-effect' })).toBe(false);
    expect(await store.getRemediation('scan-rem', 'i-r1')).toEqual(completed);
    expect((await store.listScanRemediations('scan-rem')).map((r) => r.nodeId)).toEqual(['i-r1', 'i-r2']);
    expect((await store.listRemediations({ limit: 10, nodeId: 'i-r1' })).items).toEqual([completed]);
    expect((await store.listRemediations({ limit: 10 })).items.map((r) => r.remediationId)).toContain('scan-rem:i-r2');
  });

  it('keeps remediate commands on the due list until completed', async () => {
    const command = {
      commandId: 'cmd-due',
      scanId: 'scan-x',
      requestedAt: '2025-03-01T12:00:00.000Z',
      collectAfter: '2025-03-01T12:13:00.000Z',
      status: 'RUNNING' as const,
      nodeIds: ['i-1', 'i-2'],
    };
    await store.putRemediationCommand(command);
    await store.putRemediationCommand({ ...command, nodeIds: ['overwritten?'] });
    expect(await store.getRemediationCommand('cmd-due')).toEqual(command);
    expect(await store.listDue('2025-03-01T12:13:00.000Z', 50)).toContainEqual({
      kind: 'remediate',
      commandId: 'cmd-due',
      collectAfter: command.collectAfter,
    });
    expect(await store.completeRemediationCommand('cmd-due', '2025-03-01T12:14:00.000Z')).toBe(true);
    expect(await store.completeRemediationCommand('cmd-due', '2025-03-01T12:14:00.000Z')).toBe(false);
    expect((await store.listDue('2025-03-02T00:00:00.000Z', 50)).map((due) => due.commandId)).not.toContain('cmd-due');
  });
});

describe('DynamoStore: remediation intents and the notification outbox', () => {
  let local: LocalTable;
  let s: DynamoStore;
  beforeAll(async () => {
    local = await startDynalite();
    s = local.store({ clock: { now: () => now.value } });
  });
  afterAll(async () => {
    await local.stop();
  });

  const intent = (nodeId: string, overrides: Partial<RemediationRecord> = {}): RemediationRecord => ({
    remediationId: `scan-i:${nodeId}`,
    nodeId,
    scanId: 'scan-i',
    commandId: null,
    action: 'compact',
    numaNode: null,
    dryRun: false,
    requestedAt: '2025-03-01T12:00:00.000Z',
    status: 'PENDING',
    sendingUntil: '2025-03-01T12:20:00.000Z',
    ...overrides,
  });

  it('creates an intent once: the second writer learns that someone else owns it', async () => {
    expect(await s.createRemediationIntent(intent('i-1'))).toBe(true);
    expect(await s.createRemediationIntent(intent('i-1', { sendingUntil: '2025-03-01T12:30:00.000Z' }))).toBe(false);
    expect(await s.getRemediation('scan-i', 'i-1')).toEqual(intent('i-1'));
  });

  it('puts an unsent intent on the due list as its scan when its lease ends, and takes it off once bound', async () => {
    await s.createRemediationIntent(intent('i-2'));
    expect(await s.listDue('2025-03-01T12:19:59.000Z', 50)).toEqual([]);
    // Two intents of one scan are one piece of work for the sweep.
    expect(await s.listDue('2025-03-01T12:20:00.000Z', 50)).toEqual([
      { kind: 'gather', commandId: 'scan-i', collectAfter: '2025-03-01T12:20:00.000Z' },
    ]);
    expect(await s.setRemediationCommand('scan-i', 'i-2', 'cmd-2')).toBe(true);
    expect(await s.setRemediationCommand('scan-i', 'i-2', 'cmd-other')).toBe(false);
    expect(await s.getRemediation('scan-i', 'i-2')).toEqual({
      ...intent('i-2'),
      commandId: 'cmd-2',
      sendingUntil: undefined,
    });
    expect(await s.setRemediationCommand('scan-i', 'i-none', 'cmd-2')).toBe(false);
  });

  it('lets one collection take an expired intent over (compare-and-set on its lease), and none a sent one', async () => {
    await s.createRemediationIntent(intent('i-3', { scanId: 'scan-t', remediationId: 'scan-t:i-3' }));
    const takeOver = (expected: string | null) =>
      s.takeOverRemediationIntent('scan-t', 'i-3', expected, '2025-03-01T12:45:00.000Z');
    expect(await takeOver(null)).toBe(false);
    expect(await Promise.all([takeOver('2025-03-01T12:20:00.000Z'), takeOver('2025-03-01T12:20:00.000Z')])).toEqual(
      expect.arrayContaining([true, false]),
    );
    expect((await s.getRemediation('scan-t', 'i-3'))?.sendingUntil).toBe('2025-03-01T12:45:00.000Z');
    // Due again when the new lease ends, not before.
    expect((await s.listDue('2025-03-01T12:44:00.000Z', 50)).map((entry) => entry.commandId)).not.toContain('scan-t');
    expect(await s.listDue('2025-03-01T12:45:00.000Z', 50)).toContainEqual({
      kind: 'gather',
      commandId: 'scan-t',
      collectAfter: '2025-03-01T12:45:00.000Z',
    });
    expect(await s.setRemediationCommand('scan-t', 'i-3', 'cmd-3')).toBe(true);
    expect(await takeOver('2025-03-01T12:45:00.000Z')).toBe(false);
  });

  it('completes a remediation only for its own command, and puts its outcome in the outbox', async () => {
    await s.createRemediationIntent(intent('i-4'));
    await s.setRemediationCommand('scan-i', 'i-4', 'cmd-4');
    const done = (commandId: string | null): RemediationRecord => ({
      ...intent('i-4'),
      commandId,
      sendingUntil: undefined,
      status: 'COMPLETED',
      effect: 'improved',
      completedAt: '2025-03-01T12:05:00.000Z',
      host: 'ip-10-0-0-4',
      noEffectCount: 0,
      notification: 'pending',
    });
    expect(await s.completeRemediation(done('cmd-other'))).toBe(false);
    expect(await s.completeRemediation(done(null))).toBe(false);
    expect(await s.completeRemediation(done('cmd-4'))).toBe(true);
    expect(await s.getRemediation('scan-i', 'i-4')).toEqual(done('cmd-4'));
    expect(await s.listDue('2025-03-01T12:05:00.000Z', 50)).toContainEqual({
      kind: 'remediate',
      commandId: 'cmd-4',
      collectAfter: '2025-03-01T12:05:00.000Z',
    });
  });

  it('hands the outbox lease to one publisher at a time, takes it back after a failure, and marks it sent', async () => {
    const target = { kind: 'remediation' as const, scanId: 'scan-i', nodeId: 'i-4' };
    const at = '2025-03-01T12:06:00.000Z';
    const until = '2025-03-01T12:26:00.000Z';
    const claims = await Promise.all([1, 2, 3].map(() => s.claimNotification(target, at, until)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await s.claimNotification(target, '2025-03-01T12:25:59.000Z', '2025-03-01T12:45:59.000Z')).toBe(false);
    await s.releaseNotification(target, 'not-mine');
    expect(await s.claimNotification(target, at, until)).toBe(false);
    await s.releaseNotification(target, until);
    expect(await s.claimNotification(target, at, until)).toBe(true);
    // A lease that ran out is anybody's.
    expect(await s.claimNotification(target, until, '2025-03-01T12:46:00.000Z')).toBe(true);
    await s.markNotified(target);
    expect((await s.getRemediation('scan-i', 'i-4'))?.notification).toBe('sent');
    expect(await s.claimNotification(target, '2025-03-01T13:00:00.000Z', '2025-03-01T13:20:00.000Z')).toBe(false);
    expect(await s.listDue('2025-03-01T13:00:00.000Z', 50)).not.toContainEqual(
      expect.objectContaining({ commandId: 'cmd-4' }),
    );
    // Nothing is created for a target that does not exist.
    await s.markNotified({ kind: 'scan', scanId: 'scan-none' });
    expect(await s.getScan('scan-none')).toBeNull();
  });

  it('completes a scan with its summary in the outbox (due at once) or with nothing to send (off the due list)', async () => {
    const completion = {
      completedAt: '2025-03-01T12:30:00.000Z',
      counts: { OK: 1, WARN: 0, CRITICAL: 1, ERROR: 0 },
      nodes: 2,
      worstUnusableIndex: 1000,
    };
    await s.createScan(scan('scan-o1', '2025-03-01T11:00:00.000Z'));
    await s.createScan(scan('scan-o2', '2025-03-01T11:00:00.000Z'));
    expect(
      await s.completeScan('scan-o1', {
        ...completion,
        notify: true,
        notRemediated: { 'over budget': 3, 'opted out': 1 },
      }),
    ).toBe(true);
    expect(await s.completeScan('scan-o2', { ...completion, notify: false })).toBe(true);
    expect(await s.getScan('scan-o1')).toMatchObject({
      status: 'COMPLETED',
      notification: 'pending',
      notRemediated: { 'over budget': 3, 'opted out': 1 },
    });
    expect((await s.getScan('scan-o2'))?.notification).toBeUndefined();
    const due = await s.listDue('2025-03-01T12:30:00.000Z', 50);
    expect(due).toContainEqual({ kind: 'gather', commandId: 'scan-o1', collectAfter: '2025-03-01T12:30:00.000Z' });
    expect(due.map((entry) => entry.commandId)).not.toContain('scan-o2');
    await s.markNotified({ kind: 'scan', scanId: 'scan-o1' });
    expect((await s.getScan('scan-o1'))?.notification).toBe('sent');
    expect((await s.listDue('2025-03-01T12:30:00.000Z', 50)).map((entry) => entry.commandId)).not.toContain('scan-o1');
  });
});

describe('DynamoStore: batches under pressure (mocked DynamoDB)', () => {
  const raw = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const doc = DynamoDBDocumentClient.from(raw);

  it('retries UnprocessedItems with backoff until every item is stored, 25 per call', async () => {
    const mock = mockClient(doc);
    const delays: number[] = [];
    const s = new DynamoStore({
      client: doc,
      tableName: 't',
      retentionDays: 90,
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
    });
    const records = Array.from({ length: 30 }, (_, i) => nodeRecord({ nodeId: `i-${i}` }));
    const firstItem = nodeRecordItem(records[0] ?? nodeRecord(), 90);
    mock
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: [{ PutRequest: { Item: firstItem } }] } })
      .resolves({});
    await s.putNodeRecords(records);
    expect(mock).toHaveReceivedCommandTimes(BatchWriteCommand, 3);
    const calls = mock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.t?.length);
    expect(calls).toEqual([25, 1, 5]);
    expect(delays).toEqual([25]);
    mock.restore();
  });

  it('gives up with a named error after the bounded attempts', async () => {
    const mock = mockClient(doc);
    const s = new DynamoStore({
      client: doc,
      tableName: 't',
      retentionDays: 90,
      sleep: async () => {},
      batchAttempts: 4,
    });
    const item = nodeRecordItem(nodeRecord(), 90);
    mock.on(BatchWriteCommand).resolves({ UnprocessedItems: { t: [{ PutRequest: { Item: item } }] } });
    const error = await s.putNodeRecords([nodeRecord()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessedItemsError);
    expect(error).toMatchObject({ operation: 'BatchWriteItem', remaining: 1, attempts: 4 });
    expect(mock).toHaveReceivedCommandTimes(BatchWriteCommand, 4);
    mock.restore();
  });

  it('retries UnprocessedKeys of a BatchGet', async () => {
    const mock = mockClient(doc);
    const s = new DynamoStore({ client: doc, tableName: 't', retentionDays: 90, sleep: async () => {} });
    mock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { t: [{ ...keys.nodeState('i-1'), consecutiveBreaches: 1 }] },
        UnprocessedKeys: { t: { Keys: [keys.nodeState('i-2')] } },
      })
      .resolves({ Responses: { t: [{ ...keys.nodeState('i-2'), consecutiveBreaches: 2 }] } });
    const states = await s.getNodeStates(['i-1', 'i-2']);
    expect(states.get('i-2')?.consecutiveBreaches).toBe(2);
    expect(mock).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(mock).toHaveReceivedNthCommandWith(BatchGetCommand, 2, {
      RequestItems: { t: { Keys: [keys.nodeState('i-2')], ConsistentRead: true } },
    });
    mock.restore();
  });

  it('creates a scan with a condition so that a second create cannot overwrite it', async () => {
    const mock = mockClient(doc);
    const s = new DynamoStore({ client: doc, tableName: 't', retentionDays: 90 });
    mock.on(PutCommand).resolves({});
    await s.createScan({
      scanId: 'a',
      commandId: 'a',
      requestedAt: '2025-03-01T12:00:00.000Z',
      collectAfter: '2025-03-01T12:13:00.000Z',
      status: 'RUNNING',
      targets: 't',
    });
    expect(mock).toHaveReceivedCommandWith(PutCommand, { ConditionExpression: 'attribute_not_exists(pk)' });
    mock.restore();
  });
});
