/**
 * Faults at the worst moments of remediating and notifying — the three gaps the fault suite once found — and what
 * the re-delivery (Lambda's async retry) and the sweep make of them:
 * - a collection dies at any step between claiming a node and recording its remediate command (remediate.ts lists
 *   the steps): every claimed node is remediated exactly once, recorded with its command, and its outcome collected;
 * - SNS fails on the scan summary or on a remediation outcome: the notification stays in the outbox and is
 *   published by the re-delivery, or by the sweep once the retries are spent; a publisher that dies holding the
 *   outbox lease delays it until the lease ends, and one that dies after publishing makes it at-least-once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Collection } from '../../lib/runtime/collect.ts';
import { LEASE_SECONDS } from '../../lib/runtime/lease.ts';
import type { Notification } from '../../lib/runtime/ports.ts';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { type CallInfo, SimulatedCrash } from './support/dynamo-faults.ts';
import { createWorld, expectScanInvariants, type World } from './support/world.ts';

/** A predicate that matches the first call `match` accepts, and no other. */
function once(match: (call: CallInfo) => boolean): (call: CallInfo) => boolean {
  let fired = false;
  return (call) => {
    if (fired || !match(call)) return false;
    fired = true;
    return true;
  };
}

const pk = (call: CallInfo) =>
  String((call.input.Key as { pk?: unknown } | undefined)?.pk ?? (call.input.Item as { pk?: unknown } | undefined)?.pk);
const sk = (call: CallInfo) =>
  String((call.input.Key as { sk?: unknown } | undefined)?.sk ?? (call.input.Item as { sk?: unknown } | undefined)?.sk);
const update = (call: CallInfo, fragment: string) =>
  call.name === 'UpdateCommand' && String(call.input.UpdateExpression).includes(fragment);

/** The steps of remediating a node (remediate.ts), each as the DynamoDB call it ends with. */
const STEP = {
  claim: (call: CallInfo) => update(call, 'lastRemediationScanId = :scan'),
  slot: (call: CallInfo) => update(call, 'slotNodes'),
  intent: (call: CallInfo) => call.name === 'PutCommand' && sk(call).startsWith('REM#'),
  commandItem: (call: CallInfo) => call.name === 'PutCommand' && pk(call).startsWith('CMD#'),
  bind: (call: CallInfo) => update(call, 'SET commandId'),
};

const isSummary = (scanId: string) => (n: Notification) => n.body.startsWith(`fleetscan scan ${scanId}\n`);
const isOutcome = (n: Notification) => n.body.startsWith('fleetscan remediation ');

function remediatedNodes(w: World): string[] {
  return w.sim.fleet.nodes
    .filter((node) => node.received.some((r) => r.kind === 'remediate'))
    .map((node) => node.instanceId)
    .sort();
}

/** Lets every lease run out and sweeps until nothing is due: what the scan function's schedule does over time. */
async function sweepUntilIdle(w: World): Promise<void> {
  for (let round = 0; round < 5; round += 1) {
    w.clock.advance(LEASE_SECONDS + 60);
    if ((await w.sweepAndCollect()) === 0) return;
  }
  throw new Error('the sweep never ran out of work');
}

/** The end state after any of these faults: each remediation sent once, recorded, collected, notified once. */
async function expectEverythingRemediatedOnce(w: World, scanId: string, expected: number): Promise<void> {
  const stored = await w.deps.store.remediations.listScanRemediations(scanId);
  expect(stored.map((r) => r.nodeId).sort()).toEqual(remediatedNodes(w));
  expect(stored).toHaveLength(expected);
  for (const record of stored) {
    expect(record).toMatchObject({ status: 'COMPLETED', effect: 'improved', notification: 'sent' });
    expect(record.commandId).not.toBeNull();
  }
  await expectScanInvariants(w, { scanId, targeted: w.sim.fleet.nodes.map((n) => n.instanceId) }, expect);
  expect(w.notifier.sent.filter(isSummary(scanId))).toHaveLength(1);
  expect(
    w.notifier.sent
      .filter(isOutcome)
      .map((n) => n.body.split('\n')[1]?.split(' ')[1] ?? '')
      .sort(),
  ).toEqual(stored.map((r) => r.nodeId).sort());
  expect(await w.sweepAndCollect(), 'nothing left due').toBe(0);
}

describe('Fault: a crash between claiming a node and recording its remediate command', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('gap 1: a crash between the remediate SendCommand and storing its command leaves no remediation untracked', async () => {
    // Two fragmented hosts with different plans (compact-node 0 / compact all) → two remediate commands.
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 81, mix: { fragmented: 2 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    // The first write after the first SendCommand (its CMD# item) dies; the second plan is never sent.
    w.dynamoFaults.current = { crash: once(STEP.commandItem) };
    await expect(w.deliver(event)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(remediatedNodes(w)).toHaveLength(1);
    w.dynamoFaults.current = {};
    await w.deliver(structuredClone(event));
    const acted = remediatedNodes(w);
    const stored = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    // The sent command is found in SSM and adopted; the node claimed but never sent is sent now, once.
    expect(stored.map((r) => r.nodeId).sort()).toEqual(acted.sort());
    expect(stored).toHaveLength(2);
    expect(stored.every((r) => r.status === 'PENDING' && r.commandId !== null)).toBe(true);
    expect(new Set(stored.map((r) => r.commandId)).size).toBe(2);
    for (const commandId of new Set(stored.map((r) => r.commandId ?? ''))) {
      await w.deliver(w.completionEvent(commandId));
    }
    await expectEverythingRemediatedOnce(w, scan.scanId, 2);
  });

  it.each([
    ['after claiming the first node', { crashAfter: once(STEP.claim) }],
    ['after taking its budget slot', { crashAfter: once(STEP.slot) }],
    ['after writing its intent, before SendCommand', { crashAfter: once(STEP.intent) }],
    ['after SendCommand, before the command item', { crash: once(STEP.commandItem) }],
    ['after the command item, before binding the records', { crashAfter: once(STEP.commandItem) }],
    ['after binding the first record', { crashAfter: once(STEP.bind) }],
  ])('remediates every claimed node once when the collection dies %s', async (_, faults) => {
    const w = await createWorld({ fleet: Fleet.build({ size: 30, seed: 84, mix: { fragmented: 4 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    w.dynamoFaults.current = faults;
    await expect(w.deliver(event)).rejects.toBeInstanceOf(SimulatedCrash);
    w.dynamoFaults.current = {};
    // The retry, then the sweep for whatever waits on a lease, and the remediate commands' own events.
    await w.deliver(structuredClone(event));
    expect((await w.deps.store.getScan(scan.scanId))?.status).toBe('COMPLETED');
    await sweepUntilIdle(w);
    await expectEverythingRemediatedOnce(w, scan.scanId, 4);
  });

  it('leaves an intent whose sender may still be at work alone until its lease ends, then sends it once', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 85, mix: { fragmented: 1 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    w.dynamoFaults.current = { crashAfter: once(STEP.intent) };
    await expect(w.deliver(event)).rejects.toBeInstanceOf(SimulatedCrash);
    w.dynamoFaults.current = {};
    // Act: the retry comes within the lease: SSM has no command for the intent, and nobody may send it yet.
    await w.deliver(structuredClone(event));
    // Assess: the scan is completed and summarized; the remediation is shown as being sent, and nothing was sent.
    expect(w.sim.sentCommands().filter((c) => c.kind === 'remediate')).toHaveLength(0);
    const [intent] = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(intent).toMatchObject({ status: 'PENDING', commandId: null });
    const summary = w.notifier.sent.find(isSummary(scan.scanId));
    expect(summary?.body).toContain(`${intent?.nodeId}: `);
    expect(summary?.body).toMatch(/- being sent/);
    // Not due before the lease ends; due (as its scan) after.
    w.clock.advance(LEASE_SECONDS - 120);
    expect(await w.sweepAndCollect()).toBe(0);
    expect(remediatedNodes(w)).toHaveLength(0);
    await sweepUntilIdle(w);
    await expectEverythingRemediatedOnce(w, scan.scanId, 1);
  });

  it('collects a command sent before the collection died when its completion event comes first (SSM names the scan)', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 86, mix: { fragmented: 1 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    w.dynamoFaults.current = { crash: once(STEP.commandItem) };
    await expect(w.deliver(event)).rejects.toBeInstanceOf(SimulatedCrash);
    w.dynamoFaults.current = {};
    const [sent] = w.sim.sentCommands().filter((c) => c.kind === 'remediate');
    expect(sent?.comment).toMatch(new RegExp(`^fleetscan remediate ${scan.scanId} `));
    // Act: the remediate command's event before the gather event's retry.
    const collected = await w.deliver(w.completionEvent(sent?.commandId ?? ''));
    // Assess: rebuilt from SSM's record of the command, bound, measured and notified.
    expect(collected).toMatchObject({ status: 'completed', outcomes: [{ status: 'COMPLETED', effect: 'improved' }] });
    expect(await w.deps.store.remediations.getRemediationCommand(sent?.commandId ?? '')).toMatchObject({
      scanId: scan.scanId,
      nodeIds: [...(sent?.instanceIds ?? [])],
      status: 'COMPLETED',
    });
    const retried = (await w.deliver(structuredClone(event))) as Collection;
    expect(retried).toMatchObject({ status: 'finished', scan: { status: 'completed', remediations: [] } });
    await expectEverythingRemediatedOnce(w, scan.scanId, 1);
  });
});

describe('Fault: SNS fails on a notification', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('gap 2: an SNS failure on the scan summary is retried by the re-delivery (the summary stays in the outbox)', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 82, mix: { fragmented: 2 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    w.notifier.failNext = 1;
    await expect(w.deliver(event)).rejects.toThrow(/SNS/);
    expect(await w.deps.store.getScan(scan.scanId)).toMatchObject({ status: 'COMPLETED', notification: 'pending' });
    const again = await w.deliver(structuredClone(event));
    expect(again).toMatchObject({ status: 'finished', scan: { status: 'already-completed', notified: true } });
    expect(w.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
    expect((await w.deps.store.getScan(scan.scanId))?.notification).toBe('sent');
  });

  it('rebuilds the same summary from the store as the collection would have sent', async () => {
    // Two worlds, one fleet: one publishes at once, the other only on the re-delivery.
    const fleet = () => Fleet.build({ size: 60, seed: 87, mix: { fragmented: 8, failed: 3, 'low-memory': 2 } });
    const direct = await createWorld({ fleet: fleet() });
    world = direct;
    const first = await direct.scan();
    await direct.deliver(direct.completionEvent(first.commandId));
    const expected = direct.notifier.sent.find(isSummary(first.scanId));
    await direct.close();
    world = undefined;

    const w = await createWorld({ fleet: fleet() });
    world = w;
    const scan = await w.scan();
    w.notifier.failNext = 1;
    await expect(w.deliver(w.completionEvent(scan.commandId))).rejects.toThrow(/SNS/);
    await w.deliver(w.completionEvent(scan.commandId));
    const rebuilt = w.notifier.sent.find(isSummary(scan.scanId));
    const anonymous = (n: Notification | undefined) =>
      n === undefined
        ? undefined
        : {
            ...n,
            body: n.body
              .replaceAll(n.scanId, '<scan>')
              .replace(/\(command [0-9a-f-]+\)/g, '(command <id>)')
              .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>'),
            scanId: '<scan>',
          };
    expect(anonymous(rebuilt)).toEqual(anonymous(expected));
    expect(rebuilt?.body).toMatch(/Worst nodes \(13 of 13\)/);
    expect(rebuilt?.body).toMatch(/Not remediated: 3 over budget/);
  });

  it('publishes a summary from the sweep when SNS stays down through every retry', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 88, mix: { failed: 1 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    w.notifier.failNext = 3;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(w.deliver(structuredClone(event))).rejects.toThrow(/SNS/);
    }
    expect(w.notifier.sent).toHaveLength(0);
    // Act: the schedule's next sweep hands the scan out again (its summary is due).
    w.clock.advance(60);
    expect(await w.sweepAndCollect()).toBe(1);
    // Assess
    expect(w.notifier.sent.filter(isSummary(scan.scanId))).toHaveLength(1);
    expect(await w.sweepAndCollect()).toBe(0);
  });

  it('waits out the lease of a publisher that died holding it, then publishes once', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 89, mix: { failed: 1 } }) });
    world = w;
    const scan = await w.scan();
    const event = w.completionEvent(scan.commandId);
    // SNS fails and the collection dies before it can give the lease back.
    w.notifier.failNext = 1;
    w.dynamoFaults.current = { crash: once((call) => update(call, 'REMOVE notifyingUntil')) };
    await expect(w.deliver(event)).rejects.toThrow(/SNS/);
    w.dynamoFaults.current = {};
    expect(await w.deliver(structuredClone(event))).toMatchObject({ scan: { notified: false } });
    expect(w.notifier.sent).toHaveLength(0);
    w.clock.advance(LEASE_SECONDS + 1);
    expect(await w.sweepAndCollect()).toBe(1);
    expect(w.notifier.sent.filter(isSummary(scan.scanId))).toHaveLength(1);
    expect(await w.sweepAndCollect()).toBe(0);
  });

  it('publishes twice — at least once — only when a collection dies between publishing and marking it sent', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 90, mix: { failed: 1 } }) });
    world = w;
    const scan = await w.scan();
    w.dynamoFaults.current = { crash: once((call) => update(call, 'SET notification = :sent')) };
    await expect(w.deliver(w.completionEvent(scan.commandId))).rejects.toBeInstanceOf(SimulatedCrash);
    w.dynamoFaults.current = {};
    expect(w.notifier.sent.filter(isSummary(scan.scanId))).toHaveLength(1);
    w.clock.advance(LEASE_SECONDS + 1);
    expect(await w.sweepAndCollect()).toBe(1);
    expect(w.notifier.sent.filter(isSummary(scan.scanId))).toHaveLength(2);
    expect(await w.sweepAndCollect()).toBe(0);
  });

  it('gap 3: an SNS failure on a remediation outcome is retried by the re-delivery (the outcome stays in the outbox)', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 83, mix: { fragmented: 1 } }) });
    world = w;
    const scan = await w.scan();
    await w.deliver(w.completionEvent(scan.commandId));
    const [remediation] = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    const event = w.completionEvent(remediation?.commandId ?? '');
    w.notifier.failNext = 1;
    await expect(w.deliver(event)).rejects.toThrow(/SNS/);
    expect(await w.deps.store.remediations.getRemediation(scan.scanId, remediation?.nodeId ?? '')).toMatchObject({
      status: 'COMPLETED',
      notification: 'pending',
    });
    await w.deliver(structuredClone(event));
    expect(w.notifier.sent.filter((n) => n.subject.includes('compact'))).toHaveLength(1);
    expect(await w.deliver(structuredClone(event))).toMatchObject({ status: 'already-completed' });
    expect(w.notifier.sent.filter(isOutcome)).toHaveLength(1);
  });

  it('publishes an outcome from the sweep when SNS stays down through every retry of its event', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 91, mix: { fragmented: 1 } }) });
    world = w;
    const scan = await w.scan();
    await w.deliver(w.completionEvent(scan.commandId));
    const [remediation] = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    const event = w.completionEvent(remediation?.commandId ?? '');
    w.notifier.failNext = 3;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(w.deliver(structuredClone(event))).rejects.toThrow(/SNS/);
    }
    w.clock.advance(LEASE_SECONDS + 60);
    expect(await w.sweepAndCollect()).toBe(1);
    const outcomes = w.notifier.sent.filter(isOutcome);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.subject).toMatch(/improved \(unusable/);
    expect(await w.sweepAndCollect()).toBe(0);
  });
});
