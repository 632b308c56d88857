/**
 * ScanStore on dynalite: scans and their shards, the collection lease and checkpoint a resumable collection rests
 * on, the due list the sweep reads, completion and sealing.
 */

import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itemSize } from '../../../lib/adapters/dynamo/codec.ts';
import type { DynamoHistory } from '../../../lib/adapters/dynamo/history.ts';
import { keys } from '../../../lib/adapters/dynamo/schema.ts';
import type { ScanRecord, ShardRecord, StatusChange } from '../../../lib/runtime/ports.ts';
import { NO_CHANGES, NO_TALLIES } from '../../../lib/runtime/tallies.ts';
import { type LocalTable, startDynalite } from '../../support/dynalite.ts';

let db: LocalTable;
let store: DynamoHistory;
const now = { value: new Date('2025-03-01T13:00:00.000Z') };

beforeEach(async () => {
  db = await startDynalite();
  store = db.store({ clock: { now: () => now.value } });
});

afterEach(async () => {
  await db.stop();
});

function scan(scanId: string, requestedAt: string, overrides: Partial<ScanRecord> = {}): ScanRecord {
  return {
    scanId,
    commandId: '',
    requestedAt,
    collectAfter: new Date(Date.parse(requestedAt) + 780_000).toISOString(),
    status: 'RUNNING',
    targets: 'tag:fleetscan=enabled',
    ...overrides,
  };
}

function shard(scanId: string, index: number, collectAfter = '2025-03-01T12:05:00.000Z'): ShardRecord {
  return {
    scanId,
    shard: index,
    targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: [`pool-${index}`] }] },
    commandId: null,
    status: 'PLANNED',
    collectAfter,
    page: 0,
    nextToken: null,
    listed: false,
    tallies: NO_TALLIES,
    targeted: null,
    attempts: 0,
    lastError: null,
    reason: null,
    leaseToken: null,
    leaseUntil: null,
  };
}

const lease = (token: string, until = '2025-03-01T13:10:00.000Z', extra: { inherit?: string } = {}) => ({
  token,
  until,
  now: now.value.toISOString(),
  ...extra,
});

const tallies = (nodes: number) => ({ ...NO_TALLIES, nodes, counts: { ...NO_TALLIES.counts, OK: nodes } });

async function runningScan(scanId = 's1', shards = 2): Promise<void> {
  await store.scans.createScan(
    scan(scanId, '2025-03-01T12:00:00.000Z'),
    Array.from({ length: shards }, (_, index) => shard(scanId, index)),
  );
  for (let index = 0; index < shards; index += 1) {
    await store.scans.bindShard(scanId, index, `${scanId}-cmd-${index}`, '2025-03-01T12:13:00.000Z');
  }
}

describe('Scans: creating and listing', () => {
  it('creates a scan and its shards once, and reads them back', async () => {
    const record = scan('s-create', '2025-03-01T12:00:00.000Z');
    expect(await store.scans.createScan(record, [shard('s-create', 0), shard('s-create', 1)])).toBe(true);
    expect(await store.scans.createScan({ ...record, targets: 'other' }, [])).toBe(false);
    expect(await store.scans.getScan('s-create')).toEqual({ ...record, shards: 2 });
    expect((await store.scans.listShards('s-create')).map((entry) => [entry.shard, entry.status])).toEqual([
      [0, 'PLANNED'],
      [1, 'PLANNED'],
    ]);
  });

  it('binds a shard to its command once, names the scan after its first command, and maps the command back', async () => {
    await store.scans.createScan(scan('s-bind', '2025-03-01T12:00:00.000Z'), [shard('s-bind', 0), shard('s-bind', 1)]);
    expect(await store.scans.bindShard('s-bind', 1, 'cmd-b', '2025-03-01T12:13:00.000Z')).toBe(true);
    expect(await store.scans.bindShard('s-bind', 0, 'cmd-a', '2025-03-01T12:13:00.000Z')).toBe(true);
    // Again with the same command is fine (a retry); another command is refused.
    expect(await store.scans.bindShard('s-bind', 0, 'cmd-a', '2025-03-01T12:13:00.000Z')).toBe(true);
    expect(await store.scans.bindShard('s-bind', 0, 'cmd-x', '2025-03-01T12:13:00.000Z')).toBe(false);
    expect((await store.scans.getScan('s-bind'))?.commandId).toBe('cmd-a');
    expect(await store.scans.getShard('s-bind', 1)).toMatchObject({ status: 'RUNNING', commandId: 'cmd-b' });
    expect(await store.scans.getCommand('cmd-b')).toEqual({
      kind: 'gather',
      commandId: 'cmd-b',
      scanId: 's-bind',
      shard: 1,
    });
    expect(await store.scans.getCommand('cmd-none')).toBeNull();
  });

  it('lists scans newest first, since a time, and finds the newest (sealed) one before a time', async () => {
    for (let minute = 0; minute < 5; minute += 1) {
      await store.scans.createScan(scan(`s-${minute}`, `2025-03-01T12:0${minute}:00.000Z`), []);
    }
    const first = await store.scans.listScans({ limit: 2 });
    expect(first.items.map((item) => item.scanId)).toEqual(['s-4', 's-3']);
    const second = await store.scans.listScans({ limit: 2, cursor: first.next as string });
    expect(second.items.map((item) => item.scanId)).toEqual(['s-2', 's-1']);
    expect((await store.scans.listScans({ limit: 10, since: '2025-03-01T12:03:00.000Z' })).items).toHaveLength(2);
    const previous = (at: string) => store.scans.previousScans(at);
    expect((await previous('2025-03-01T12:04:00.000Z')).sealed).toBeNull();
    expect((await previous('2025-03-01T12:04:00.000Z')).latest?.scanId).toBe('s-3');
    expect((await previous('2025-03-01T12:00:00.000Z')).latest).toBeNull();
    await store.scans.markSealed('s-1', { bits: 3, next: 8 });
    await store.scans.markSealed('s-3', { bits: 3, next: 8 });
    expect((await previous('2025-03-01T12:04:00.000Z')).sealed?.scanId).toBe('s-3');
    expect((await previous('2025-03-01T12:03:00.000Z')).sealed?.scanId).toBe('s-1');
    expect((await previous('2025-03-01T12:03:00.000Z')).latest?.scanId).toBe('s-2');
    expect((await previous('2025-03-01T12:03:00.000Z')).sealed).toMatchObject({
      sealed: true,
      seal: { bits: 3, next: 8 },
    });
  });
});

describe('Shards: the collection lease', () => {
  it('gives the lease to one collector at a time, counts fresh takes as attempts, and frees it when it ends', async () => {
    await runningScan();
    const takes = await Promise.all(['a', 'b', 'c'].map((token) => store.scans.takeShardLease('s1', 0, lease(token))));
    expect(takes.filter((taken) => taken !== null)).toHaveLength(1);
    const holder = takes.find((taken) => taken !== null);
    expect(holder).toMatchObject({ attempts: 1, leaseUntil: '2025-03-01T13:10:00.000Z' });
    expect(await store.scans.takeShardLease('s1', 0, lease('d'))).toBeNull();
    // Once the lease has ended, anyone may take it: a second attempt.
    now.value = new Date('2025-03-01T13:10:00.000Z');
    expect(await store.scans.takeShardLease('s1', 0, lease('e', '2025-03-01T13:20:00.000Z'))).toMatchObject({
      leaseToken: 'e',
      attempts: 2,
    });
    now.value = new Date('2025-03-01T13:00:00.000Z');
  });

  it('passes the lease on in a hand-off: only the named successor takes it, and it is no attempt', async () => {
    await runningScan();
    await store.scans.takeShardLease('s1', 0, lease('first'));
    expect(await store.scans.handOffShard('s1', 0, 'not-mine', 'next', '2025-03-01T13:16:00.000Z')).toBe(false);
    expect(await store.scans.handOffShard('s1', 0, 'first', 'next', '2025-03-01T13:16:00.000Z')).toBe(true);
    expect(await store.scans.takeShardLease('s1', 0, lease('intruder'))).toBeNull();
    expect(await store.scans.takeShardLease('s1', 0, lease('second', undefined, { inherit: 'stale' }))).toBeNull();
    const taken = await store.scans.takeShardLease('s1', 0, lease('second', undefined, { inherit: 'next' }));
    expect(taken).toMatchObject({ leaseToken: 'second', attempts: 1 });
  });

  it('checkpoints only for the lease holder and from the page it is at', async () => {
    await runningScan();
    await store.scans.takeShardLease('s1', 0, lease('holder'));
    const step = {
      token: 'holder',
      from: 0,
      page: 1,
      nextToken: 't1',
      listed: false,
      tallies: tallies(50),
      targeted: 120,
    };
    expect(await store.scans.checkpointShard('s1', 0, { ...step, token: 'other' })).toBe(false);
    expect(await store.scans.checkpointShard('s1', 0, step)).toBe(true);
    // The same step again (a collector holding an older listing) is refused: the checkpoint moved on.
    expect(await store.scans.checkpointShard('s1', 0, step)).toBe(false);
    expect(
      await store.scans.checkpointShard('s1', 0, {
        ...step,
        from: 1,
        page: 2,
        nextToken: null,
        listed: true,
        tallies: tallies(100),
      }),
    ).toBe(true);
    expect(await store.scans.getShard('s1', 0)).toMatchObject({
      page: 2,
      nextToken: null,
      listed: true,
      targeted: 120,
      tallies: { nodes: 100 },
    });
  });

  it('keeps a checkpoint with 40 listed changes small, reads them back, and reads changes written as maps', async () => {
    // Prepare: the most changes a shard lists (new problems and recoveries), a replayed node's id with a space.
    await runningScan();
    await store.scans.takeShardLease('s1', 0, lease('holder'));
    const listed: StatusChange[] = Array.from({ length: 40 }, (_, index) => ({
      nodeId: index === 0 ? 'web 1' : `i-${String(index).padStart(17, '0')}`,
      status: index % 2 === 0 ? 'CRITICAL' : 'OK',
      from: index % 3 === 0 ? null : 'WARN',
    }));
    const withChanges = { ...tallies(50), changes: { ...NO_CHANGES, listed } };
    // Act
    await store.scans.checkpointShard('s1', 0, {
      token: 'holder',
      from: 0,
      page: 1,
      nextToken: 't1',
      listed: false,
      tallies: withChanges,
      targeted: 120,
    });
    // Assess: every change back as it was; the item within 1.5 KB (a checkpoint rewrites all of it each page).
    expect((await store.scans.getShard('s1', 0))?.tallies.changes.listed).toEqual(listed);
    const item = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.shard('s1', 0) }));
    expect(itemSize(item.Item ?? {})).toBeLessThan(1536);
    // A scan item written before the compact form: its changes as maps still read.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.shard('s1', 0),
        UpdateExpression: 'SET tallies.changes.listed = :old',
        ExpressionAttributeValues: {
          ':old': [
            { n: 'i-old', s: 'ERROR', f: 'OK' },
            { n: 'i-new', s: 'WARN' },
          ],
        },
      }),
    );
    expect((await store.scans.getShard('s1', 0))?.tallies.changes.listed).toEqual([
      { nodeId: 'i-old', status: 'ERROR', from: 'OK' },
      { nodeId: 'i-new', status: 'WARN', from: null },
    ]);
  });

  it('gives the lease back after a failure, keeping the error, and finishes a shard once', async () => {
    await runningScan();
    await store.scans.takeShardLease('s1', 1, lease('x'));
    await store.scans.releaseShard('s1', 1, 'x', 'ThrottlingException: Rate exceeded');
    expect(await store.scans.getShard('s1', 1)).toMatchObject({
      leaseToken: null,
      lastError: 'ThrottlingException: Rate exceeded',
    });
    await store.scans.takeShardLease('s1', 1, lease('y'));
    expect(await store.scans.finishShard('s1', 1, { token: 'x', status: 'COMPLETED' })).toBe(false);
    expect(await store.scans.finishShard('s1', 1, { token: 'y', status: 'INCOMPLETE', reason: 'gave up' })).toBe(true);
    expect(await store.scans.finishShard('s1', 1, { token: null, status: 'COMPLETED' })).toBe(false);
    expect(await store.scans.getShard('s1', 1)).toMatchObject({ status: 'INCOMPLETE', reason: 'gave up' });
    expect(await store.scans.takeShardLease('s1', 1, lease('z'))).toBeNull();
  });

  it('abandons a PLANNED shard (its command was never sent), and only a PLANNED one', async () => {
    await store.scans.createScan(scan('s-ab', '2025-03-01T12:00:00.000Z'), [shard('s-ab', 0), shard('s-ab', 1)]);
    await store.scans.bindShard('s-ab', 1, 'cmd-1', '2025-03-01T12:13:00.000Z');
    expect(await store.scans.abandonShard('s-ab', 0, 'never sent')).toBe(true);
    expect(await store.scans.abandonShard('s-ab', 1, 'never sent')).toBe(false);
    expect((await store.scans.listShards('s-ab')).map((entry) => entry.status)).toEqual(['INCOMPLETE', 'RUNNING']);
  });
});

describe('Scans: the due list', () => {
  it('hands out a RUNNING shard as its command at collectAfter, or at its lease end while a collector holds it', async () => {
    await runningScan('s-due', 1);
    expect(await store.scans.listDue('2025-03-01T12:12:59.000Z', 50)).toEqual([]);
    expect(await store.scans.listDue('2025-03-01T12:13:00.000Z', 50)).toEqual([
      { kind: 'gather', commandId: 's-due-cmd-0', dueAt: '2025-03-01T12:13:00.000Z' },
      { kind: 'scan', scanId: 's-due', dueAt: '2025-03-01T12:13:00.000Z' },
    ]);
    await store.scans.takeShardLease('s-due', 0, lease('holder', '2025-03-01T13:30:00.000Z'));
    expect(await store.scans.listDue('2025-03-01T13:29:00.000Z', 50)).toEqual([
      { kind: 'scan', scanId: 's-due', dueAt: '2025-03-01T12:13:00.000Z' },
    ]);
    expect(await store.scans.listDue('2025-03-01T13:30:00.000Z', 50)).toContainEqual({
      kind: 'gather',
      commandId: 's-due-cmd-0',
      dueAt: '2025-03-01T13:30:00.000Z',
    });
    await store.scans.finishShard('s-due', 0, { token: 'holder', status: 'COMPLETED' });
    expect(await store.scans.listDue('2025-03-01T14:00:00.000Z', 50)).toEqual([
      { kind: 'scan', scanId: 's-due', dueAt: '2025-03-01T12:13:00.000Z' },
    ]);
  });

  it('keeps a finished scan due until it is sealed and its summary is sent, in either order', async () => {
    const completion = {
      status: 'COMPLETED' as const,
      completedAt: '2025-03-01T12:30:00.000Z',
      counts: { OK: 1, WARN: 0, CRITICAL: 1, ERROR: 0 },
      nodes: 2,
      worstUnusableIndex: 1000,
    };
    for (const id of ['s-a', 's-b', 's-c']) await store.scans.createScan(scan(id, '2025-03-01T11:00:00.000Z'), []);
    expect(
      await store.scans.completeScan('s-a', { ...completion, notify: true, notRemediated: { 'over budget': 3 } }),
    ).toBe(true);
    expect(await store.scans.completeScan('s-a', completion)).toBe(false);
    expect(await store.scans.completeScan('s-b', { ...completion, notify: true })).toBe(true);
    expect(
      await store.scans.completeScan('s-c', {
        ...completion,
        status: 'INCOMPLETE',
        incompleteReason: 'shard 2 of 2: gave up',
      }),
    ).toBe(true);
    const due = async () =>
      (await store.scans.listDue('2025-03-01T12:30:00.000Z', 50)).flatMap((entry) =>
        entry.kind === 'scan' ? [entry.scanId] : [],
      );
    expect(await due()).toEqual(['s-a', 's-b', 's-c']);
    // s-a: summary sent, then sealed. s-b: sealed, then summary sent. s-c: nothing to send, sealed.
    await store.outbox.markNotified({ kind: 'scan', scanId: 's-a' });
    await store.scans.markSealed('s-b', { bits: 0, next: 1 });
    await store.scans.markSealed('s-c', { bits: 0, next: 1 });
    expect(await due()).toEqual(['s-a', 's-b']);
    await store.scans.markSealed('s-a', { bits: 0, next: 1 });
    await store.outbox.markNotified({ kind: 'scan', scanId: 's-b' });
    expect(await due()).toEqual([]);
    expect(await store.scans.getScan('s-c')).toMatchObject({
      status: 'INCOMPLETE',
      incompleteReason: 'shard 2 of 2: gave up',
      worstUnusableIndex: 1000,
      sealed: true,
    });
    expect((await store.scans.getScan('s-a'))?.notRemediated).toEqual({ 'over budget': 3 });
  });

  it('keeps where sealing got to on the scan', async () => {
    await store.scans.createScan(scan('s-seal', '2025-03-01T11:00:00.000Z'), []);
    await store.scans.saveSealProgress('s-seal', { bits: 5, next: 17 });
    expect(await store.scans.getScan('s-seal')).toMatchObject({ seal: { bits: 5, next: 17 } });
    expect((await store.scans.getScan('s-seal'))?.sealed).toBeUndefined();
  });
});

describe('Scans: the remediation budget', () => {
  it('gives out at most max slots per scan, per node and idempotently', async () => {
    await store.scans.createScan(scan('s-budget', '2025-03-01T12:00:00.000Z'), []);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => store.scans.takeRemediationSlot('s-budget', `i-${index}`, 3)),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
    const holder = `i-${results.indexOf(true)}`;
    expect(await store.scans.takeRemediationSlot('s-budget', holder, 3)).toBe(true);
    expect((await store.scans.getScan('s-budget'))?.remediations).toBe(3);
    expect(await store.scans.takeRemediationSlot('no-such-scan', 'i-0', 3)).toBe(false);
  });
});
