/**
 * Fault: the collect Lambda dies mid-collection (here: the DynamoDB client throws at a chosen call), and the
 * event is delivered again (EventBridge/Lambda async retries). Proves the second delivery finishes the job:
 * every node recorded once, remediation neither repeated nor over budget, one summary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { SimulatedCrash } from './support/dynamo-faults.ts';
import { createWorld, expectScanInvariants, type World } from './support/world.ts';

const isScanCompletion = (input: Record<string, unknown>) =>
  String((input.Key as { pk?: string } | undefined)?.pk).startsWith('SCAN#') &&
  String(input.UpdateExpression).includes(':completed');

describe('Fault: a crash mid-collection, then re-delivery', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('finishes a collection that died after its first batch of node records', async () => {
    // Prepare: 60 nodes = 3 batches of records; the client dies at the second.
    const w = await createWorld({ fleet: Fleet.build({ size: 60, seed: 71, mix: { fragmented: 6 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    w.dynamoFaults.current = { crash: (call) => call.name === 'BatchWriteCommand' && call.nth === 2 };
    await expect(w.deliver(event)).rejects.toBeInstanceOf(SimulatedCrash);
    expect((await w.deps.store.getScan(scan.scanId))?.status).toBe('RUNNING');
    expect((await w.records(scan.scanId)).length).toBe(25);
    expect(w.sim.fleet.nodes.some((node) => node.received.some((r) => r.kind === 'remediate'))).toBe(false);
    // Act
    w.dynamoFaults.current = {};
    await w.deliver(structuredClone(event));
    // Assess
    await expectScanInvariants(
      w,
      { scanId: scan.scanId, targeted: w.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    expect(await w.deps.store.listScanRemediations(scan.scanId)).toHaveLength(5);
    expect(w.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
  });

  it('does not remediate again when it died after sending remediations but before completing the scan', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 40, seed: 72, mix: { fragmented: 8 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    w.dynamoFaults.current = { crash: (call) => call.name === 'UpdateCommand' && isScanCompletion(call.input) };
    await expect(w.deliver(event)).rejects.toBeInstanceOf(SimulatedCrash);
    const sentBefore = w.sim.sentCommands().filter((c) => c.kind === 'remediate').length;
    expect(sentBefore).toBeGreaterThan(0);
    // Act
    w.dynamoFaults.current = {};
    await w.deliver(structuredClone(event));
    // Assess: no new remediate command; the five remediations of the first attempt are the scan's.
    expect(w.sim.sentCommands().filter((c) => c.kind === 'remediate')).toHaveLength(sentBefore);
    await expectScanInvariants(
      w,
      { scanId: scan.scanId, targeted: w.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    expect(await w.deps.store.listScanRemediations(scan.scanId)).toHaveLength(5);
    const summaries = w.notifier.sent.filter((n) => n.scanId === scan.scanId);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.subject).toMatch(/5 remediations/);
  });

  it('keeps every node recorded once when two deliveries race and one of them dies', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 50, seed: 73, mix: { fragmented: 3, failed: 2 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    // The third batch write of the run dies — whichever delivery makes it.
    w.dynamoFaults.current = { crash: (call) => call.name === 'BatchWriteCommand' && call.nth === 3 };
    const results = await Promise.allSettled([w.deliver(event), w.deliver(structuredClone(event))]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    w.dynamoFaults.current = {};
    await w.deliver(structuredClone(event));
    await expectScanInvariants(
      w,
      { scanId: scan.scanId, targeted: w.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    expect(await w.deps.store.listScanRemediations(scan.scanId)).toHaveLength(3);
    expect(w.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
  });
});
