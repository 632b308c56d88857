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
  String((input.Key as { pk?: string; sk?: string } | undefined)?.sk) === 'META' &&
  String((input.Key as { pk?: string } | undefined)?.pk).startsWith('SCAN#') &&
  String(input.UpdateExpression).includes('completedAt');
const isJournalPage = (input: Record<string, unknown>) =>
  String((input.Item as { pk?: string } | undefined)?.pk).startsWith('JRNL#');

describe('Fault: a crash mid-collection, then re-delivery', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('finishes a collection that died writing its second listing page, from the checkpoint', async () => {
    // Prepare: 60 nodes = 2 listing pages; the client dies writing the second.
    const w = await createWorld({ fleet: Fleet.build({ size: 60, seed: 71, mix: { fragmented: 6 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    let journalWrites = 0;
    w.dynamoFaults.current = {
      crash: (call) => call.name === 'PutCommand' && isJournalPage(call.input) && ++journalWrites === 2,
    };
    await expect(w.deliver(event)).rejects.toBeInstanceOf(SimulatedCrash);
    expect((await w.deps.store.getScan(scan.scanId))?.status).toBe('RUNNING');
    expect((await w.records(scan.scanId)).length).toBe(50);
    expect(await w.deps.store.scans.getShard(scan.scanId, 0)).toMatchObject({ page: 1, attempts: 1 });
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
    expect(await w.deps.store.remediations.listScanRemediations(scan.scanId)).toHaveLength(5);
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
    expect(await w.deps.store.remediations.listScanRemediations(scan.scanId)).toHaveLength(5);
    const summaries = w.notifier.sent.filter((n) => n.scanId === scan.scanId);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.subject).toMatch(/5 remediations/);
  });

  it('keeps every node recorded once when two deliveries race and one of them dies', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 50, seed: 73, mix: { fragmented: 3, failed: 2 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    // The journal write of the run dies — whichever delivery makes it (the other finds the shard leased).
    w.dynamoFaults.current = { crash: (call) => call.name === 'PutCommand' && isJournalPage(call.input) };
    const results = await Promise.allSettled([w.deliver(event), w.deliver(structuredClone(event))]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toMatchObject([{ status: 'busy' }]);
    w.dynamoFaults.current = {};
    await w.deliver(structuredClone(event));
    await expectScanInvariants(
      w,
      { scanId: scan.scanId, targeted: w.sim.fleet.nodes.map((n) => n.instanceId) },
      expect,
    );
    expect(await w.deps.store.remediations.listScanRemediations(scan.scanId)).toHaveLength(3);
    expect(w.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
  });
});
