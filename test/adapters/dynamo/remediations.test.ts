import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoHistory } from '../../../lib/adapters/dynamo/history.ts';
import type { RemediationRecord } from '../../../lib/runtime/ports.ts';
import { type LocalTable, startDynalite } from '../../support/dynalite.ts';

let db: LocalTable;
let store: DynamoHistory;
const now = { value: new Date('2025-03-01T13:00:00.000Z') };

beforeAll(async () => {
  db = await startDynalite();
  store = db.store({ clock: { now: () => now.value } });
});

afterAll(async () => {
  await db.stop();
});

describe('Remediations: records and commands', () => {
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
    await store.remediations.putRemediations([pending, { ...pending, remediationId: 'scan-rem:i-r2', nodeId: 'i-r2' }]);
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
    expect(await store.remediations.completeRemediation(completed)).toBe(true);
    expect(await store.remediations.completeRemediation({ ...completed, effect: 'no-effect' })).toBe(false);
    expect(await store.remediations.getRemediation('scan-rem', 'i-r1')).toEqual(completed);
    expect((await store.remediations.listScanRemediations('scan-rem')).map((r) => r.nodeId)).toEqual(['i-r1', 'i-r2']);
    expect((await store.remediations.listRemediations({ limit: 10, nodeId: 'i-r1' })).items).toEqual([completed]);
    expect((await store.remediations.listRemediations({ limit: 10 })).items.map((r) => r.remediationId)).toContain(
      'scan-rem:i-r2',
    );
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
    await store.remediations.putRemediationCommand(command);
    await store.remediations.putRemediationCommand({ ...command, nodeIds: ['overwritten?'] });
    expect(await store.remediations.getRemediationCommand('cmd-due')).toEqual(command);
    expect(await store.scans.listDue('2025-03-01T12:13:00.000Z', 50)).toContainEqual({
      kind: 'remediate',
      commandId: 'cmd-due',
      dueAt: command.collectAfter,
    });
    expect(await store.remediations.completeRemediationCommand('cmd-due', '2025-03-01T12:14:00.000Z')).toBe(true);
    expect(await store.remediations.completeRemediationCommand('cmd-due', '2025-03-01T12:14:00.000Z')).toBe(false);
    expect(await store.scans.listDue('2025-03-02T00:00:00.000Z', 50)).not.toContainEqual(
      expect.objectContaining({ commandId: 'cmd-due' }),
    );
  });
});

describe('Remediation intents and the notification outbox', () => {
  let local: LocalTable;
  let s: DynamoHistory;
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
    expect(await s.remediations.createRemediationIntent(intent('i-1'))).toBe(true);
    expect(
      await s.remediations.createRemediationIntent(intent('i-1', { sendingUntil: '2025-03-01T12:30:00.000Z' })),
    ).toBe(false);
    expect(await s.remediations.getRemediation('scan-i', 'i-1')).toEqual(intent('i-1'));
  });

  it('puts an unsent intent on the due list as its scan when its lease ends, and takes it off once bound', async () => {
    await s.remediations.createRemediationIntent(intent('i-2'));
    expect(await s.scans.listDue('2025-03-01T12:19:59.000Z', 50)).toEqual([]);
    // Two intents of one scan are one piece of work for the sweep.
    expect(await s.scans.listDue('2025-03-01T12:20:00.000Z', 50)).toEqual([
      { kind: 'scan', scanId: 'scan-i', dueAt: '2025-03-01T12:20:00.000Z' },
    ]);
    expect(await s.remediations.setRemediationCommand('scan-i', 'i-2', 'cmd-2')).toBe(true);
    expect(await s.remediations.setRemediationCommand('scan-i', 'i-2', 'cmd-other')).toBe(false);
    expect(await s.remediations.getRemediation('scan-i', 'i-2')).toEqual({
      ...intent('i-2'),
      commandId: 'cmd-2',
      sendingUntil: undefined,
    });
    expect(await s.remediations.setRemediationCommand('scan-i', 'i-none', 'cmd-2')).toBe(false);
  });

  it('lets one collection take an expired intent over (compare-and-set on its lease), and none a sent one', async () => {
    await s.remediations.createRemediationIntent(intent('i-3', { scanId: 'scan-t', remediationId: 'scan-t:i-3' }));
    const takeOver = (expected: string | null) =>
      s.remediations.takeOverRemediationIntent('scan-t', 'i-3', expected, '2025-03-01T12:45:00.000Z');
    expect(await takeOver(null)).toBe(false);
    expect(await Promise.all([takeOver('2025-03-01T12:20:00.000Z'), takeOver('2025-03-01T12:20:00.000Z')])).toEqual(
      expect.arrayContaining([true, false]),
    );
    expect((await s.remediations.getRemediation('scan-t', 'i-3'))?.sendingUntil).toBe('2025-03-01T12:45:00.000Z');
    // Due again when the new lease ends, not before.
    expect(await s.scans.listDue('2025-03-01T12:44:00.000Z', 50)).not.toContainEqual(
      expect.objectContaining({ scanId: 'scan-t' }),
    );
    expect(await s.scans.listDue('2025-03-01T12:45:00.000Z', 50)).toContainEqual({
      kind: 'scan',
      scanId: 'scan-t',
      dueAt: '2025-03-01T12:45:00.000Z',
    });
    expect(await s.remediations.setRemediationCommand('scan-t', 'i-3', 'cmd-3')).toBe(true);
    expect(await takeOver('2025-03-01T12:45:00.000Z')).toBe(false);
  });

  it('completes a remediation only for its own command, and puts its outcome in the outbox', async () => {
    await s.remediations.createRemediationIntent(intent('i-4'));
    await s.remediations.setRemediationCommand('scan-i', 'i-4', 'cmd-4');
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
    expect(await s.remediations.completeRemediation(done('cmd-other'))).toBe(false);
    expect(await s.remediations.completeRemediation(done(null))).toBe(false);
    expect(await s.remediations.completeRemediation(done('cmd-4'))).toBe(true);
    expect(await s.remediations.getRemediation('scan-i', 'i-4')).toEqual(done('cmd-4'));
    expect(await s.scans.listDue('2025-03-01T12:05:00.000Z', 50)).toContainEqual({
      kind: 'remediate',
      commandId: 'cmd-4',
      dueAt: '2025-03-01T12:05:00.000Z',
    });
  });

  it('hands the outbox lease to one publisher at a time, takes it back after a failure, and marks it sent', async () => {
    const target = { kind: 'remediation' as const, scanId: 'scan-i', nodeId: 'i-4' };
    const at = '2025-03-01T12:06:00.000Z';
    const until = '2025-03-01T12:26:00.000Z';
    const claims = await Promise.all([1, 2, 3].map(() => s.outbox.claimNotification(target, at, until)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await s.outbox.claimNotification(target, '2025-03-01T12:25:59.000Z', '2025-03-01T12:45:59.000Z')).toBe(
      false,
    );
    await s.outbox.releaseNotification(target, 'not-mine');
    expect(await s.outbox.claimNotification(target, at, until)).toBe(false);
    await s.outbox.releaseNotification(target, until);
    expect(await s.outbox.claimNotification(target, at, until)).toBe(true);
    // A lease that ran out is anybody's.
    expect(await s.outbox.claimNotification(target, until, '2025-03-01T12:46:00.000Z')).toBe(true);
    await s.outbox.markNotified(target);
    expect((await s.remediations.getRemediation('scan-i', 'i-4'))?.notification).toBe('sent');
    expect(await s.outbox.claimNotification(target, '2025-03-01T13:00:00.000Z', '2025-03-01T13:20:00.000Z')).toBe(
      false,
    );
    expect(await s.scans.listDue('2025-03-01T13:00:00.000Z', 50)).not.toContainEqual(
      expect.objectContaining({ commandId: 'cmd-4' }),
    );
    // Nothing is created for a target that does not exist.
    await s.outbox.markNotified({ kind: 'scan', scanId: 'scan-none' });
    expect(await s.scans.getScan('scan-none')).toBeNull();
  });
});
