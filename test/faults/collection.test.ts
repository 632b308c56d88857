/**
 * Faults of a resumable, sharded collection, against the SSM simulator and dynalite with the real runtime:
 * hand-offs at every page boundary, a crash between a page's write and its checkpoint (and after it), the retry
 * and age limits that end a scan INCOMPLETE, a collector with a stale listing racing the one that completed the
 * scan, a collector that dies holding its lease, a listing token SSM stops accepting, a remediate SendCommand
 * whose outcome is unknown, and a scan sent as several commands.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect } from '../../lib/runtime/collect.ts';
import { LEASE_SECONDS } from '../../lib/runtime/lease.ts';
import {
  type CommandGateway,
  type InvocationPage,
  ListingExpiredError,
  type RuntimeDeps,
} from '../../lib/runtime/ports.ts';
import { sweep } from '../../lib/runtime/scan.ts';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { SimulatedCrash } from './support/dynamo-faults.ts';
import { createWorld, expectCleanNotifications, expectScanInvariants, type World } from './support/world.ts';

const isJournalPage = (input: Record<string, unknown>) =>
  String((input.Item as { pk?: string } | undefined)?.pk).startsWith('JRNL#');
const isCheckpoint = (input: Record<string, unknown>) =>
  String((input.Key as { sk?: string } | undefined)?.sk).startsWith('SHARD#') &&
  String(input.UpdateExpression).includes('tallies');
const isShardRelease = (input: Record<string, unknown>) =>
  String((input.Key as { sk?: string } | undefined)?.sk).startsWith('SHARD#') &&
  String(input.UpdateExpression).includes('REMOVE leaseToken, leaseUntil') &&
  !String(input.UpdateExpression).includes('#status');

const listings = (w: World) => w.sim.stats().apiCalls.ListCommandInvocations ?? 0;
const everyNode = (w: World) => w.sim.fleet.nodes.map((node) => node.instanceId);

/** A deadline that is generous until `pages` listing pages have been fetched, then none. */
function deadlineAfterPages(w: World, pages: number): () => number {
  const start = listings(w);
  return () => (listings(w) - start < pages ? 600_000 : 0);
}

describe('Fault: hand-offs', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it.each([0, 1, 2, 3, 4])(
    'hands off after %i of 4 pages and the successor resumes there: each page listed and written once',
    async (boundary) => {
      // Prepare: 180 nodes = 4 listing pages of 50, 50, 50, 30.
      const w = await createWorld({ fleet: Fleet.build({ size: 180, seed: 101, mix: { fragmented: 4, failed: 2 } }) });
      world = w;
      const scan = await w.scan();
      const before = listings(w);
      // Act: the first invocation runs out of time after `boundary` pages; its successors have all the time.
      const first = await w.deliver(w.completionEvent(scan.commandId), {
        deadline: deadlineAfterPages(w, boundary),
        drain: false,
      });
      expect(first).toMatchObject({ status: boundary === 4 ? 'collected' : 'handed-off', pages: boundary });
      // Handed over: the rest of the listing, or — out of time after the last page — sealing the history.
      expect(w.queue.size).toBe(1);
      await w.drain();
      // Assess
      await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
      expect(listings(w) - before).toBe(4);
      const shard = await w.deps.store.scans.getShard(scan.scanId, 0);
      expect(shard).toMatchObject({ status: 'COMPLETED', page: 4, attempts: 1, listed: true });
      expect(w.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(1);
    },
  );

  it('survives a hand-off at every page: one page per invocation', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 230, seed: 102, mix: { fragmented: 3 } }) });
    world = w;
    const scan = await w.scan();
    await w.deliver(w.completionEvent(scan.commandId), { deadline: deadlineAfterPages(w, 1), drain: false });
    let invocations = 1;
    while (w.queue.size > 0) {
      await w.queue.drain(async (work) => {
        invocations += 1;
        await collect(w.deps, w.config, work, { deadline: deadlineAfterPages(w, 1) });
      });
    }
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
    expect(invocations).toBeGreaterThanOrEqual(5);
    expect(await w.deps.store.scans.getShard(scan.scanId, 0)).toMatchObject({ page: 5, attempts: 1 });
  });
});

describe('Fault: crashes around the checkpoint', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('keeps the page an attempt stored before it died without its checkpoint, and lists it once more only', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 120, seed: 103, mix: { fragmented: 2 } }) });
    world = w;
    const scan = await w.scan();
    let journalWrites = 0;
    // The second page's write lands; the invocation dies before its checkpoint.
    w.dynamoFaults.current = {
      crashAfter: (call) => call.name === 'PutCommand' && isJournalPage(call.input) && ++journalWrites === 2,
    };
    await expect(w.deliver(w.completionEvent(scan.commandId))).rejects.toBeInstanceOf(SimulatedCrash);
    expect(await w.deps.store.scans.getShard(scan.scanId, 0)).toMatchObject({ page: 1 });
    w.dynamoFaults.current = {};
    const before = listings(w);
    await w.deliver(w.completionEvent(scan.commandId));
    // Pages 2 (again: its checkpoint was lost) and 3.
    expect(listings(w) - before).toBe(2);
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
    expect(await w.deps.store.scans.getShard(scan.scanId, 0)).toMatchObject({ page: 3, attempts: 2 });
  });

  it('resumes after the checkpoint when it died right after writing it', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 120, seed: 104, mix: { fragmented: 2 } }) });
    world = w;
    const scan = await w.scan();
    let checkpoints = 0;
    w.dynamoFaults.current = {
      crashAfter: (call) => call.name === 'UpdateCommand' && isCheckpoint(call.input) && ++checkpoints === 1,
    };
    await expect(w.deliver(w.completionEvent(scan.commandId))).rejects.toBeInstanceOf(SimulatedCrash);
    w.dynamoFaults.current = {};
    const before = listings(w);
    await w.deliver(w.completionEvent(scan.commandId));
    expect(listings(w) - before).toBe(2);
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
  });

  it('waits out the lease of a collector that died holding it, then the sweep finishes the shard', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 120, seed: 105, mix: { fragmented: 2 } }) });
    world = w;
    const scan = await w.scan();
    let journalWrites = 0;
    // It dies writing its second page and cannot even give its lease back (a timeout, not an exception).
    w.dynamoFaults.current = {
      crash: (call) =>
        (call.name === 'PutCommand' && isJournalPage(call.input) && ++journalWrites === 2) ||
        (call.name === 'UpdateCommand' && isShardRelease(call.input)),
    };
    await expect(w.deliver(w.completionEvent(scan.commandId), { deadline: () => 240_000 })).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    w.dynamoFaults.current = {};
    // The event's retry finds the lease live and leaves.
    expect(await w.deliver(w.completionEvent(scan.commandId))).toMatchObject({ status: 'busy' });
    expect(await w.sweepAndCollect()).toBe(0);
    // Due again once both the lease and the command's own collectAfter have passed.
    w.clock.advance(240 + 61);
    expect(await w.sweepAndCollect()).toBe(0);
    w.clock.advance((Date.parse(scan.collectAfter) - w.clock.now().getTime()) / 1000 + 60);
    expect(await w.sweepAndCollect()).toBeGreaterThanOrEqual(1);
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
  });
});

describe('Fault: collection gives up', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('ends the scan INCOMPLETE after the attempt limit, keeping what was collected and saying why, once', async () => {
    const w = await createWorld({
      fleet: Fleet.build({ size: 120, seed: 106, mix: { fragmented: 2 } }),
      config: { collection: { nodesPerCommand: 10_000, maxAttempts: 3, maxMinutes: 180 } },
    });
    world = w;
    const scan = await w.scan();
    let journalWrites = 0;
    // Every attempt dies at the second page: something about it is broken for good.
    w.dynamoFaults.current = {
      crash: (call) => call.name === 'PutCommand' && isJournalPage(call.input) && ++journalWrites >= 2,
    };
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await expect(w.deliver(w.completionEvent(scan.commandId))).rejects.toBeInstanceOf(SimulatedCrash);
    }
    const shard = await w.deps.store.scans.getShard(scan.scanId, 0);
    expect(shard).toMatchObject({ status: 'RUNNING', attempts: 3, page: 1 });
    expect(shard?.lastError).toMatch(/SimulatedCrash: simulated crash at PutCommand/);
    // Act: the fourth attempt is over the limit.
    const result = await w.deliver(w.completionEvent(scan.commandId));
    // Assess
    expect(result).toMatchObject({ status: 'given-up', scan: { status: 'incomplete', nodes: 50 } });
    const finished = await w.deps.store.getScan(scan.scanId);
    expect(finished).toMatchObject({ status: 'INCOMPLETE', nodes: 50, sealed: true });
    expect(finished?.incompleteReason).toMatch(
      /^shard 1 of 1: collection gave up after 3 failed attempts: SimulatedCrash: simulated crash at PutCommand/,
    );
    expect((await w.records(scan.scanId)).length).toBe(50);
    const sent = w.notifier.sent.filter((n) => n.scanId === scan.scanId);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toMatch(/^fleetscan: INCOMPLETE scan, /);
    expect(sent[0]?.body).toContain('INCOMPLETE: collection stopped before every node was recorded');
    expectCleanNotifications(w, expect);
    // What it collected was acted on: the remediate commands are due (their events never came here); then nothing.
    w.clock.advance(3600);
    expect((await sweep(w.deps)).map((due) => due.kind)).toEqual(expect.arrayContaining(['remediate']));
    expect((await sweep(w.deps)).every((due) => due.kind === 'remediate')).toBe(true);
    await w.sweepAndCollect();
    expect(await w.sweepAndCollect()).toBe(0);
    expect(await w.deliver(w.completionEvent(scan.commandId))).toMatchObject({ status: 'finished' });
    expect(w.notifier.sent.filter((n) => n.body.startsWith(`fleetscan scan ${scan.scanId}`))).toHaveLength(1);
  });

  it('ends a scan INCOMPLETE when its shard is still not collected past collection.maxMinutes', async () => {
    const w = await createWorld({
      fleet: Fleet.build({ size: 60, seed: 107 }),
      config: { collection: { nodesPerCommand: 10_000, maxAttempts: 5, maxMinutes: 30 } },
    });
    world = w;
    const scan = await w.scan();
    w.clock.advance(31 * 60);
    expect(await w.sweepAndCollect()).toBeGreaterThanOrEqual(1);
    expect(await w.deps.store.getScan(scan.scanId)).toMatchObject({
      status: 'INCOMPLETE',
      nodes: 0,
      incompleteReason: expect.stringMatching(/collection gave up 31 minutes after the scan started/),
    });
  });
});

describe('Fault: a stale listing', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('never lets a collector holding an older listing overwrite the records of the one that completed the scan', async () => {
    // Prepare: one node is still running when the slow collector lists it.
    const fleet = Fleet.build({ size: 40, seed: 108 });
    const straggler = fleet.nodes[3];
    if (straggler === undefined) throw new Error('fleet too small');
    straggler.straggler = true;
    const w = await createWorld({ fleet });
    world = w;
    const scan = await w.scan();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let listed: InvocationPage | undefined;
    const slowGateway: CommandGateway = {
      ...w.deps.gateway,
      send: (request) => w.deps.gateway.send(request),
      getFullOutput: (commandId, instanceId) => w.deps.gateway.getFullOutput(commandId, instanceId),
      describeCommand: (commandId) => w.deps.gateway.describeCommand(commandId),
      findCommands: (query) => w.deps.gateway.findCommands(query),
      async listPage(commandId, nextToken) {
        listed = await w.deps.gateway.listPage(commandId, nextToken);
        await gate;
        return listed;
      },
    };
    const slow: RuntimeDeps = { ...w.deps, gateway: slowGateway };
    // Act: the sweep's collector lists (the straggler InProgress) and stalls past its lease …
    const stale = collect(slow, w.config, { kind: 'gather', commandId: scan.commandId }, { deadline: () => 60_000 });
    while (listed === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(listed.invocations.find((i) => i.instanceId === straggler.instanceId)?.state).toBe('InProgress');
    w.sim.complete(scan.commandId);
    w.clock.advance(60 + 61);
    // … while the event's collector takes the expired lease and completes the scan with the node's real answer.
    const fresh = await w.deliver(w.completionEvent(scan.commandId));
    expect(fresh).toMatchObject({ status: 'collected', scan: { status: 'completed' } });
    release();
    // Assess: the stale collector lost: nothing it listed replaced anything.
    expect(await stale).toMatchObject({ status: 'lost-lease' });
    const record = (await w.records(scan.scanId)).find((r) => r.nodeId === straggler.instanceId);
    expect(record).toMatchObject({ status: 'OK', invocationState: 'Success' });
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
    expect(w.notifier.sent.filter((n) => n.scanId === scan.scanId)).toHaveLength(0);
  });

  it('lists again from the top when SSM stops accepting the checkpoint’s token, skipping what is stored', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 130, seed: 109, mix: { fragmented: 1 } }) });
    world = w;
    const scan = await w.scan();
    let expired = false;
    const expiring: CommandGateway = {
      ...w.deps.gateway,
      send: (request) => w.deps.gateway.send(request),
      getFullOutput: (commandId, instanceId) => w.deps.gateway.getFullOutput(commandId, instanceId),
      describeCommand: (commandId) => w.deps.gateway.describeCommand(commandId),
      findCommands: (query) => w.deps.gateway.findCommands(query),
      async listPage(commandId, nextToken) {
        if (nextToken !== null && !expired) {
          expired = true;
          throw new ListingExpiredError('token expired');
        }
        return w.deps.gateway.listPage(commandId, nextToken);
      },
    };
    await w.deliver(w.completionEvent(scan.commandId), { deadline: deadlineAfterPages(w, 1), drain: false });
    await w.queue.drain(async (work) => {
      await collect({ ...w.deps, gateway: expiring }, w.config, work);
    });
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
    expect(expired).toBe(true);
  });
});

describe('Fault: a remediate SendCommand whose outcome is unknown', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const timeout = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });

  it('adopts the command SSM ran although the call failed: no failed record, no second command', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 110, mix: { fragmented: 2 } }) });
    world = w;
    const scan = await w.scan();
    const ambiguous: CommandGateway = {
      ...w.deps.gateway,
      listPage: (commandId, nextToken) => w.deps.gateway.listPage(commandId, nextToken),
      getFullOutput: (commandId, instanceId) => w.deps.gateway.getFullOutput(commandId, instanceId),
      describeCommand: (commandId) => w.deps.gateway.describeCommand(commandId),
      findCommands: (query) => w.deps.gateway.findCommands(query),
      async send(request) {
        const sent = await w.deps.gateway.send(request);
        // The request reached SSM and ran; the answer was lost on the way back.
        if (request.document === 'remediate') throw timeout();
        return sent;
      },
    };
    await collect({ ...w.deps, gateway: ambiguous }, w.config, { kind: 'gather', commandId: scan.commandId });
    const open = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(open.map((r) => [r.status, r.commandId, r.effect])).toEqual([
      ['PENDING', null, undefined],
      ['PENDING', null, undefined],
    ]);
    expect(w.sim.sentCommands().filter((c) => c.kind === 'remediate')).toHaveLength(1);
    // Act: once the sender's lease ends, the sweep hands the scan out; SSM's record of the command is adopted.
    w.clock.advance(LEASE_SECONDS + 1);
    await w.sweepAndCollect();
    for (const command of w.sim.sentCommands().filter((c) => c.kind === 'remediate')) {
      await w.deliver(w.completionEvent(command.commandId));
    }
    // Assess
    expect(w.sim.sentCommands().filter((c) => c.kind === 'remediate')).toHaveLength(1);
    const settled = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(settled.map((r) => `${r.status}/${r.effect}`)).toEqual(['COMPLETED/improved', 'COMPLETED/improved']);
    expect(new Set(settled.map((r) => r.commandId)).size).toBe(1);
  });

  it('sends once more, once, what never reached SSM', async () => {
    const w = await createWorld({ fleet: Fleet.build({ size: 20, seed: 111, mix: { fragmented: 1 } }) });
    world = w;
    const scan = await w.scan();
    const lost: CommandGateway = {
      ...w.deps.gateway,
      listPage: (commandId, nextToken) => w.deps.gateway.listPage(commandId, nextToken),
      getFullOutput: (commandId, instanceId) => w.deps.gateway.getFullOutput(commandId, instanceId),
      describeCommand: (commandId) => w.deps.gateway.describeCommand(commandId),
      findCommands: (query) => w.deps.gateway.findCommands(query),
      async send(request) {
        if (request.document === 'remediate') throw timeout();
        return w.deps.gateway.send(request);
      },
    };
    await collect({ ...w.deps, gateway: lost }, w.config, { kind: 'gather', commandId: scan.commandId });
    expect(w.sim.sentCommands().filter((c) => c.kind === 'remediate')).toHaveLength(0);
    w.clock.advance(LEASE_SECONDS + 1);
    await w.sweepAndCollect();
    await w.sweepAndCollect();
    const sent = w.sim.sentCommands().filter((c) => c.kind === 'remediate');
    expect(sent).toHaveLength(1);
    await w.deliver(w.completionEvent(sent[0]?.commandId ?? ''));
    const [settled] = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(settled).toMatchObject({ status: 'COMPLETED', effect: 'improved', commandId: sent[0]?.commandId });
  });
});

describe('Fault: a scan sent as several commands', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('collects each shard on its own, in any order, and finishes the scan once: one summary, one budget', async () => {
    // Prepare: 200 nodes in four tag-value buckets; 60 nodes per command at most.
    const fleet = Fleet.build({ size: 200, seed: 112, mix: { fragmented: 12, failed: 3 } });
    for (const node of fleet.nodes) node.tags.fleetscan = `pool-${node.index % 4}`;
    const w = await createWorld({
      fleet,
      config: {
        targets: [{ tagKey: 'fleetscan', tagValues: ['pool-0', 'pool-1', 'pool-2', 'pool-3'] }],
        collection: { nodesPerCommand: 60, maxAttempts: 5, maxMinutes: 180 },
      },
    });
    world = w;
    const scan = await w.scan();
    const shards = await w.deps.store.scans.listShards(scan.scanId);
    expect(shards.map((shard) => shard.targets)).toEqual(
      [0, 1, 2, 3].map((n) => ({ kind: 'tags', tags: [{ key: 'fleetscan', values: [`pool-${n}`] }] })),
    );
    // Act: the shards' events in reverse order, the first one twice at once, with hand-offs on the way.
    const events = await w.scanCompletionEvents(scan.scanId);
    const results = [];
    for (const event of [...events].reverse()) {
      results.push(await w.deliver(event, { deadline: deadlineAfterPages(w, 0) }));
    }
    await Promise.all([w.deliver(structuredClone(events[0])), w.deliver(structuredClone(events[0]))]);
    // Assess
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: everyNode(w) }, expect);
    expect(await w.deps.store.getScan(scan.scanId)).toMatchObject({
      status: 'COMPLETED',
      shards: 4,
      progress: { collected: 200, targeted: 200 },
    });
    expect(w.notifier.sent.filter((n) => n.scanId === scan.scanId && n.body.startsWith('fleetscan scan'))).toHaveLength(
      1,
    );
    expect(await w.deps.store.remediations.listScanRemediations(scan.scanId)).toHaveLength(
      w.config.remediation.maxNodesPerScan,
    );
    // The next scan is planned from this one's size: 200 nodes at 60 a command, 4 commands.
    w.clock.advance(15 * 60);
    const next = await w.scan();
    expect(next.shards).toBe(4);
  });
});
