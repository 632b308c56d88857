/**
 * Fault: outputs the listing cut at 2,500 bytes (hosts with many NUMA nodes), and one too big even for
 * GetCommandInvocation's 24,000 bytes. Proves the collector fetches the full output exactly once per cut node,
 * judges the ones that fit, and records the one that does not as ERROR with a clean reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { createWorld, expectScanInvariants, type World } from './support/world.ts';

describe('Fault: truncated outputs', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('falls back to GetCommandInvocation once per cut output, and only for those', async () => {
    // Prepare: 3 hosts with 32 NUMA nodes (~4 KB reports), 1 host printing 40 KB.
    const fleet = Fleet.build({ size: 30, seed: 51, mix: { large: 3, huge: 1 } });
    for (const node of fleet.withBehaviour('large').slice(0, 1)) node.condition = 'fragmented';
    world = await createWorld({ fleet });
    const scan = await world.scan();
    // Act
    await world.deliver(world.completionEvent(scan.commandId));
    // Assess
    expect(world.sim.stats().apiCalls.GetCommandInvocation).toBe(4);
    await expectScanInvariants(world, { scanId: scan.scanId, targeted: fleet.nodes.map((n) => n.instanceId) }, expect);
    const records = new Map((await world.records(scan.scanId)).map((r) => [r.nodeId, r]));
    const [fragmentedLarge, ...large] = fleet.withBehaviour('large');
    for (const node of large) {
      expect(records.get(node.instanceId)).toMatchObject({ status: 'OK', invocationState: 'Success', error: null });
    }
    // The large fragmented host is judged from its full output: a breach on some of its 32 NUMA nodes.
    expect(records.get(fragmentedLarge?.instanceId ?? '')?.status).toBe('CRITICAL');
    const huge = records.get(fleet.withBehaviour('huge')[0]?.instanceId ?? '');
    expect(huge?.status).toBe('ERROR');
    expect(huge?.error).toMatch(/cut/);
  });
});
