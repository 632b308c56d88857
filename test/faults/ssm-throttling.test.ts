/**
 * Fault: SSM throttles — storms of consecutive ThrottlingExceptions on the listing, and a share of every call.
 * Proves the collection still records every node once, remediates within the budget and notifies cleanly, and
 * that the throttling really happened (so the test cannot pass by missing its fault).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { createWorld, expectScanInvariants, type World } from './support/world.ts';

describe('Fault: SSM throttling', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('collects every node once through a throttling storm on the second listing page', async () => {
    // Prepare: 60 nodes (two pages), 8 fragmented — more than the budget of 5.
    world = await createWorld({ fleet: Fleet.build({ size: 60, seed: 31, mix: { fragmented: 8 } }) });
    const scan = await world.scan();
    world.sim.setFaults({
      throttle: {
        // Page 1 goes through; page 2 is refused twice in a row (the SDK's adaptive retry must pace it).
        storms: [{ operation: 'ListCommandInvocations', afterCalls: 1, length: 2 }],
      },
    });
    // Act
    const result = await world.deliver(world.completionEvent(scan.commandId));
    // Assess
    expect(result).toMatchObject({ kind: 'gather', status: 'collected', scan: { status: 'completed', nodes: 60 } });
    expect(world.sim.stats().throttled.ListCommandInvocations).toBe(2);
    expect(world.sim.stats().apiCalls.ListCommandInvocations).toBe(4);
    await expectScanInvariants(
      world,
      { scanId: scan.scanId, targeted: world.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    expect(await world.deps.store.remediations.listScanRemediations(scan.scanId)).toHaveLength(5);
    expect(world.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
  });

  it('collects and remediates while a fifth of all SSM calls are throttled', async () => {
    world = await createWorld({ fleet: Fleet.build({ size: 40, seed: 32, mix: { fragmented: 3, large: 2 } }) });
    world.sim.setFaults({ seed: 7, throttle: { share: 0.2 } });
    const scan = await world.scan();
    const result = await world.deliver(world.completionEvent(scan.commandId));
    expect(result).toMatchObject({ kind: 'gather', status: 'collected', scan: { status: 'completed', nodes: 40 } });
    const stats = world.sim.stats();
    const throttled = Object.values(stats.throttled).reduce((a, b) => a + b, 0);
    expect(throttled).toBeGreaterThan(0);
    await expectScanInvariants(
      world,
      { scanId: scan.scanId, targeted: world.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );

    // The remediate command, throttled too, is collected once its event comes.
    const remediations = await world.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(remediations).toHaveLength(3);
    const commandId = remediations[0]?.commandId ?? '';
    await world.deliver(world.completionEvent(commandId));
    const settled = await world.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(settled.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(world.notifier.sent.filter((n) => n.subject.includes('compact'))).toHaveLength(3);
  });
});
