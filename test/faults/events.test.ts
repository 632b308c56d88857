/**
 * Faults of delivery: EventBridge delivers SSM's completion events at least once, in no promised order, and not
 * always (best effort). Proves duplicates (sequential and concurrent), late and premature events change nothing,
 * and that the sweep collects a scan and a remediation whose events were lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sweepPayload } from '../../lib/runtime/events.ts';
import { sweep } from '../../lib/runtime/scan.ts';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { createWorld, expectScanInvariants, type World } from './support/world.ts';

describe('Fault: duplicate and out-of-order completion events', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('collects a scan once when its event arrives twice at the same time and again later', async () => {
    // Prepare: 7 fragmented nodes, budget 5.
    world = await createWorld({ fleet: Fleet.build({ size: 50, seed: 61, mix: { fragmented: 7 } }) });
    const scan = await world.scan();
    const event = world.completionEvent(scan.commandId);
    // Act: two concurrent deliveries, then a third after both finished.
    const [first, second] = await Promise.all([world.deliver(event), world.deliver(structuredClone(event))]);
    const third = await world.deliver(structuredClone(event));
    // Assess
    // One delivery holds the shard's lease and collects; the concurrent one finds it busy; the late one finds
    // the scan finished and has nothing left to do.
    const statuses = [first, second, third].map((r) => (typeof r === 'string' ? r : r.status));
    expect([statuses[0], statuses[1]].sort()).toEqual(['busy', 'collected']);
    expect(third).toMatchObject({ status: 'finished', scan: { status: 'already-completed' } });
    await expectScanInvariants(
      world,
      { scanId: scan.scanId, targeted: world.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    expect(await world.deps.store.remediations.listScanRemediations(scan.scanId)).toHaveLength(5);
    expect(world.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
  });

  it('ignores a premature event, survives remediation events out of order and twice, and notifies each outcome once', async () => {
    const w = await createWorld({
      fleet: Fleet.build({ size: 30, seed: 62, mix: { fragmented: 3 } }),
      simulator: { completion: 'manual' },
    });
    world = w;
    const scan = await w.scan();
    // Prepare: while the command runs, SSM may already have emitted an InProgress status change.
    const premature = world.completionEvent(scan.commandId);
    expect(premature.detail.status).toBe('InProgress');
    expect(await world.deliver(premature)).toBe('ignored');
    world.sim.complete(scan.commandId);
    const gatherEvent = world.completionEvent(scan.commandId);
    await world.deliver(gatherEvent);
    const remediations = await world.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(remediations).toHaveLength(3);
    // One remediate command per plan (compact-node on NUMA node 0, or compact on all of a 2-NUMA host).
    const commandIds = [...new Set(remediations.map((r) => r.commandId ?? ''))];
    for (const commandId of commandIds) world.sim.complete(commandId);
    const remediationEvents = commandIds.map((commandId) => w.completionEvent(commandId));

    // Act: the remediation events twice concurrently, in reverse order; the gather event again (late); them again.
    await Promise.all(
      [...remediationEvents].reverse().flatMap((event) => [w.deliver(event), w.deliver(structuredClone(event))]),
    );
    await world.deliver(structuredClone(gatherEvent));
    for (const event of remediationEvents) await world.deliver(structuredClone(event));

    // Assess
    await expectScanInvariants(
      world,
      { scanId: scan.scanId, targeted: world.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    const settled = await world.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(settled.map((r) => `${r.status}/${r.effect}`)).toEqual([
      'COMPLETED/improved',
      'COMPLETED/improved',
      'COMPLETED/improved',
    ]);
    const outcomes = world.notifier.sent.filter((n) => n.subject.includes('improved'));
    expect(outcomes.map((n) => n.subject.split(' ')[1]).sort()).toEqual(settled.map((r) => r.nodeId).sort());
    for (const record of settled) {
      expect((await world.deps.store.getNodeState(record.nodeId))?.noEffectCount).toBe(0);
    }
  });

  it('does not remediate a node again when the next scan runs before the cooldown ends', async () => {
    world = await createWorld({ fleet: Fleet.build({ size: 30, seed: 63, mix: { fragmented: 8 } }) });
    const first = await world.scan();
    await world.deliver(world.completionEvent(first.commandId));
    world.clock.advance(15 * 60);
    const second = await world.scan();
    await world.deliver(world.completionEvent(second.commandId));
    await world.deliver(world.completionEvent(second.commandId));
    // 5 in the first scan (the budget), the other 3 in the second; none twice.
    const remediated = world.sim.fleet.nodes.filter((node) => node.received.some((r) => r.kind === 'remediate'));
    expect(remediated).toHaveLength(8);
    await expectScanInvariants(
      world,
      { scanId: second.scanId, targeted: world.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
  });
});

describe('Fault: a lost completion event', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('is recovered by the sweep once the command is overdue, for the scan and for its remediation', async () => {
    world = await createWorld({ fleet: Fleet.build({ size: 40, seed: 64, mix: { fragmented: 2 } }) });
    const scan = await world.scan();
    // Act: no event is ever delivered. Not overdue yet: the sweep leaves the scan alone.
    expect(await world.sweepAndCollect()).toBe(0);
    expect((await world.deps.store.getScan(scan.scanId))?.status).toBe('RUNNING');
    world.clock.advance((Date.parse(scan.collectAfter) - world.clock.now().getTime()) / 1000 + 1);
    // Due: the shard's command (collected as if its event had come) and the scan's own work (it finds the scan
    // finished by then, or would settle a shard whose command was never bound).
    expect((await sweep(world.deps)).map((due) => due.kind).sort()).toEqual(['gather', 'scan']);
    expect(await world.sweepAndCollect()).toBe(2);
    // Assess: the scan is collected as if its event had come, and leaves the due list.
    await expectScanInvariants(
      world,
      { scanId: scan.scanId, targeted: world.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    expect(world.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
    // The remediation's event is lost too: the next overdue sweep collects it, and nothing is left after.
    const pending = await world.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(pending.map((r) => r.status)).toEqual(['PENDING', 'PENDING']);
    world.clock.advance(world.config.deliveryTimeoutSeconds + world.config.executionTimeoutSeconds + 600);
    expect(await world.sweepAndCollect()).toBe(new Set(pending.map((r) => r.commandId)).size);
    expect((await world.deps.store.remediations.listScanRemediations(scan.scanId)).map((r) => r.status)).toEqual([
      'COMPLETED',
      'COMPLETED',
    ]);
    expect(await world.sweepAndCollect()).toBe(0);
    // The late event, when it finally comes, is a no-op.
    expect(await world.deliver(world.completionEvent(scan.commandId))).toMatchObject({
      scan: { status: 'already-completed' },
    });
    expect(await world.deliver(sweepPayload({ kind: 'gather', commandId: scan.commandId }))).toMatchObject({
      scan: { status: 'already-completed' },
    });
  });
});
