/**
 * Fault: DynamoDB hands back half of every new batch as UnprocessedItems on its first attempt (a hot partition).
 * Proves every record is stored once anyway, and that the fault was really exercised.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { createWorld, expectScanInvariants, type World } from './support/world.ts';

describe('Fault: DynamoDB UnprocessedItems on every first attempt', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('stores every node record and remediation despite half of each batch coming back unprocessed', async () => {
    // Prepare
    world = await createWorld({ fleet: Fleet.build({ size: 60, seed: 41, mix: { fragmented: 4, failed: 2 } }) });
    world.dynamoFaults.current = { unprocessedOnFirstAttempt: true };
    const scan = await world.scan();
    // Act
    const result = await world.deliver(world.completionEvent(scan.commandId));
    // Assess: 60 records in batches of 25 — at least 30 items were held back and written on a retry.
    expect(result).toMatchObject({ kind: 'gather', status: 'collected', scan: { status: 'completed', nodes: 60 } });
    expect(world.dynamoStats.heldBack).toBeGreaterThanOrEqual(30);
    expect(world.dynamoStats.calls.BatchWriteCommand ?? 0).toBeGreaterThan(Math.ceil(60 / 25));
    await expectScanInvariants(
      world,
      { scanId: scan.scanId, targeted: world.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    const remediations = await world.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(remediations.map((r) => r.status)).toEqual(['PENDING', 'PENDING', 'PENDING', 'PENDING']);
    const failed = (await world.records(scan.scanId)).filter((r) => r.status === 'ERROR');
    expect(failed).toHaveLength(2);
  });
});
