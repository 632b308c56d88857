import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import { keys } from '../../lib/adapters/dynamo/schema.ts';
import { PROBLEM_NODE_LOG } from '../../lib/config/contracts.ts';
import type { FleetscanConfig } from '../../lib/config/types.ts';
import { DEFAULT_THRESHOLDS } from '../../lib/core/policy.ts';
import { LocalWorkQueue } from '../../lib/local/work-queue.ts';
import { collect, collectRemediation } from '../../lib/runtime/collect.ts';
import type { ScanWork } from '../../lib/runtime/finish.ts';
import type { CommandGateway, NodeRecord, RuntimeDeps, StoredRecord } from '../../lib/runtime/ports.ts';
import { startScan, sweep } from '../../lib/runtime/scan.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { FakeFleet, ineffectiveRemediation, RecordingNotifier, TestClock } from '../support/fake-fleet.ts';
import { forbiddenIn } from '../support/forbidden-text.ts';
import { FRAGMENTED, gatherOutput, HEALTHY, T0, testConfig } from '../support/runtime-fixtures.ts';

const HOUR = 3_600_000;

interface Harness {
  readonly fleet: FakeFleet;
  readonly notifier: RecordingNotifier;
  readonly clock: TestClock;
  readonly store: DynamoHistory;
  readonly queue: LocalWorkQueue;
  readonly deps: RuntimeDeps;
}

let db: LocalTable;
let h: Harness;

beforeEach(async () => {
  db = await startDynalite();
  const fleet = new FakeFleet();
  const notifier = new RecordingNotifier();
  const clock = new TestClock(T0);
  fleet.now = () => clock.now();
  const store = db.store({ clock });
  const queue = new LocalWorkQueue();
  h = {
    fleet,
    notifier,
    clock,
    store,
    queue,
    deps: { gateway: fleet, store, notifier, optOut: fleet, clock, trigger: queue },
  };
});

afterEach(async () => {
  await db.stop();
});

/**
 * Collects a scan as its completion events would: each shard's command, then whatever the collections handed off.
 * Returns what finishing the scan did (from the collection that finished it).
 */
async function collectGather(deps: RuntimeDeps, config: FleetscanConfig, scanId: string): Promise<ScanWork> {
  let finished: ScanWork | undefined;
  const run = async (work: Parameters<typeof collect>[2]) => {
    const result = await collect(deps, config, work);
    if (result.kind === 'gather' && result.status !== 'unknown-command' && result.scan !== undefined) {
      finished = result.scan;
    }
    if (result.kind === 'scan') finished = result;
  };
  for (const shard of await h.store.scans.listShards(scanId)) {
    if (shard.commandId !== null) await run({ kind: 'gather', commandId: shard.commandId });
  }
  await h.queue.drain(run);
  if (finished === undefined) throw new Error(`collecting scan ${scanId} finished nothing`);
  return finished;
}

async function scanAndCollect(config: FleetscanConfig, deps: RuntimeDeps = h.deps) {
  const scan = await startScan(deps, config);
  h.clock.advance(60_000);
  const result = await collectGather(deps, config, scan.scanId);
  return { scan, result };
}

async function allNodes(scanId: string): Promise<NodeRecord[]> {
  const out: NodeRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.store.listScanNodes(scanId, cursor === undefined ? { limit: 100 } : { limit: 100, cursor });
    out.push(...page.items);
    cursor = page.next;
  } while (cursor !== undefined);
  return out;
}

function remediatedNodeIds(): string[] {
  return h.fleet.commandsFor('remediate').flatMap((command) => command.instanceIds);
}

async function collectAllRemediations(config: FleetscanConfig): Promise<void> {
  for (const command of h.fleet.commandsFor('remediate')) await collectRemediation(h.deps, config, command.commandId);
}

describe('collectGather: every node is recorded', () => {
  it('records judged nodes and ERROR nodes (failed, undeliverable, timed out, unparsable) and completes the scan', async () => {
    // Prepare
    const config = testConfig({ remediation: { enabled: false } });
    h.fleet.add('i-healthy');
    h.fleet.add('i-fragmented', { numa: [FRAGMENTED] });
    h.fleet.add('i-failed', {
      gather: () => ({ state: 'Failed', output: 'cat: /proc/buddyinfo: Permission denied\n', responseCode: 1 }),
    });
    h.fleet.add('i-undeliverable', { gather: () => ({ state: 'Undeliverable', output: '' }) });
    h.fleet.add('i-timedout', { gather: () => ({ state: 'DeliveryTimedOut', output: '' }) });
    h.fleet.add('i-garbled', {
      gather: () => ({
        output: gatherOutput({ host: 'h' }).replace('zone 0 Normal 3196', 'zone 0 Normal x\u001b[31m'),
      }),
    });
    // Act
    const { scan, result } = await scanAndCollect(config);
    // Assess
    expect(result).toMatchObject({ status: 'completed', nodes: 6, counts: { OK: 1, WARN: 0, CRITICAL: 1, ERROR: 4 } });
    const records = new Map((await allNodes(scan.scanId)).map((record) => [record.nodeId, record]));
    expect([...records.keys()].sort()).toEqual(
      ['i-failed', 'i-fragmented', 'i-garbled', 'i-healthy', 'i-timedout', 'i-undeliverable'].sort(),
    );
    expect(records.get('i-failed')).toMatchObject({
      status: 'ERROR',
      invocationState: 'Failed',
      error: 'invocation Failed (exit 1): cat: /proc/buddyinfo: Permission denied',
    });
    expect(records.get('i-undeliverable')).toMatchObject({ status: 'ERROR', invocationState: 'Undeliverable' });
    expect(records.get('i-timedout')).toMatchObject({ status: 'ERROR', invocationState: 'DeliveryTimedOut' });
    const garbled = records.get('i-garbled');
    expect(garbled).toMatchObject({ status: 'ERROR', invocationState: 'Success' });
    expect(garbled?.error).toMatch(/^line 8: free-block count is not a number \(found 'x\\x1b\[31m'\)$/);
    expect(forbiddenIn(garbled?.error ?? '')).toBeNull();
    expect(records.get('i-fragmented')).toMatchObject({
      status: 'CRITICAL',
      cause: 'fragmentation',
      consecutiveBreaches: 1,
    });
    expect(await h.store.getScan(scan.scanId)).toMatchObject({
      status: 'COMPLETED',
      nodes: 6,
      counts: { OK: 1, WARN: 0, CRITICAL: 1, ERROR: 4 },
      worstUnusableIndex: 1000,
    });
  });

  it('fetches the full output when the listing cut it, and records ERROR when even that is cut', async () => {
    const config = testConfig({ remediation: { enabled: false } });
    const manyNuma = Array.from({ length: 24 }, () => HEALTHY);
    const huge = Array.from({ length: 400 }, () => HEALTHY);
    h.fleet.add('i-wide', { numa: manyNuma });
    h.fleet.add('i-enormous', { numa: huge });
    h.fleet.add('i-small');
    const { scan } = await scanAndCollect(config);
    expect(gatherOutput({ numa: manyNuma }).length).toBeGreaterThan(2_500);
    expect(h.fleet.fullOutputCalls.map((call) => call.instanceId).sort()).toEqual(['i-enormous', 'i-wide']);
    const records = new Map((await allNodes(scan.scanId)).map((record) => [record.nodeId, record]));
    expect(records.get('i-wide')?.status).toBe('OK');
    expect(records.get('i-enormous')).toMatchObject({ status: 'ERROR' });
    expect(records.get('i-enormous')?.error).toMatch(/report has no 'end' line: the output was cut/);
  });

  it('packs realistic 2-NUMA records into the journal at under 100 bytes a node, every figure kept', async () => {
    const config = testConfig({ remediation: { enabled: false } });
    for (let index = 0; index < 50; index += 1) {
      h.fleet.add(`i-0123456789abcd${String(index).padStart(3, '0')}`, {
        gather: () => ({
          output: gatherOutput({
            host: `ip-10-0-${index}-17.eu-west-1.compute.internal`,
            numa: [FRAGMENTED, [129196 + index, 120577, 99000, 57340, 19150, 3490, 53, 3, 0, 0, 0]],
          }),
        }),
      });
    }
    const { scan } = await scanAndCollect(config);
    const page = await db.doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: db.tableName,
        Key: keys.journal(scan.scanId, 0, 0),
      }),
    );
    const bytes = page.Item?.r as Uint8Array;
    expect(page.Item?.n).toBe(50);
    expect(bytes.byteLength / 50).toBeLessThan(100);
    const record = (await allNodes(scan.scanId))[0];
    expect(record?.zones).toHaveLength(2);
    expect(record?.indices).toHaveLength(4);
    expect(record?.indices[0]).toMatchObject({ order: 6, suitableBlocks: 0, unusableIndex: 1000 });
  });

  it('processes the listing page by page: each page is stored before the next is read', async () => {
    const config = testConfig({ remediation: { enabled: false } });
    for (let index = 0; index < 120; index += 1) h.fleet.add(`i-${String(index).padStart(4, '0')}`);
    const events: string[] = [];
    const gateway: CommandGateway = {
      send: (request) => h.fleet.send(request),
      getFullOutput: (commandId, instanceId) => h.fleet.getFullOutput(commandId, instanceId),
      describeCommand: (commandId) => h.fleet.describeCommand(commandId),
      findCommands: (query) => h.fleet.findCommands(query),
      async listPage(commandId, nextToken) {
        const page = await h.fleet.listPage(commandId, nextToken);
        events.push(`page ${page.invocations.length}`);
        return page;
      },
    };
    const putPage = h.store.records.putPage.bind(h.store.records);
    h.store.records.putPage = async (ref, records: readonly StoredRecord[], options) => {
      events.push(`put ${records.length}`);
      return putPage(ref, records, options);
    };
    await scanAndCollect(config, { ...h.deps, gateway });
    expect(events).toEqual(['page 50', 'put 50', 'page 50', 'put 50', 'page 20', 'put 20']);
  });

  it('creates the scan record for a gather command that has none (sent by hand or the scan function failed)', async () => {
    const config = testConfig({ remediation: { enabled: false } });
    h.fleet.add('i-1');
    const { commandId } = await h.fleet.send({
      document: 'gather',
      targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
      parameters: {},
      maxConcurrency: '1',
      maxErrors: '0',
      deliveryTimeoutSeconds: 60,
      comment: '',
    });
    const result = await collect(
      h.deps,
      config,
      { kind: 'gather', commandId },
      { requestedAt: '2025-03-01T11:59:00.000Z' },
    );
    expect(result).toMatchObject({ kind: 'gather', status: 'collected', nodes: 1, scan: { status: 'completed' } });
    expect(await h.store.getScan(commandId)).toMatchObject({
      status: 'COMPLETED',
      requestedAt: '2025-03-01T11:59:00.000Z',
    });
  });
});

describe('collectGather: duplicates and re-deliveries', () => {
  it('does nothing the second time the same command is collected', async () => {
    const config = testConfig();
    h.fleet.add('i-ok');
    h.fleet.addFragmented(3);
    const { scan, result } = await scanAndCollect(config);
    const again = await collectGather(h.deps, config, scan.scanId);
    expect(result.status).toBe('completed');
    expect(again.status).toBe('already-completed');
    expect(again.counts).toEqual(result.counts);
    expect(await allNodes(scan.scanId)).toHaveLength(4);
    expect(remediatedNodeIds()).toHaveLength(3);
    expect(h.notifier.messages).toHaveLength(1);
    expect((await h.store.getScan(scan.scanId))?.remediations).toBe(3);
  });

  it('re-collecting a scan (as after a crash before completion) counts no breach twice and remediates nobody twice', async () => {
    const config = testConfig({ thresholds: { ...testConfig().thresholds, consecutiveBreachesForCritical: 2 } });
    h.fleet.addFragmented(2);
    const first = await scanAndCollect(config);
    h.clock.advance(HOUR);
    const second = await scanAndCollect(config);
    expect(second.result.counts.CRITICAL).toBe(2);
    const remediatedBefore = remediatedNodeIds();
    const recordsBefore = await allNodes(second.scan.scanId);

    // Act: the scan looks unfinished again (a crash right before completeScan) and its own work runs once more.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.scan(second.scan.scanId),
        UpdateExpression: 'SET #s = :running REMOVE sealed',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':running': 'RUNNING' },
      }),
    );
    const again = await collect(h.deps, config, { kind: 'scan', scanId: second.scan.scanId });

    // Assess
    expect(first.result.counts).toMatchObject({ WARN: 2, CRITICAL: 0 });
    expect(again).toMatchObject({ kind: 'scan', status: 'completed', counts: second.result.counts });
    expect(await allNodes(second.scan.scanId)).toEqual(recordsBefore);
    expect(remediatedNodeIds()).toEqual(remediatedBefore);
    expect((await h.store.getNodeState('i-frag00000'))?.consecutiveBreaches).toBe(2);
    expect((await h.store.getScan(second.scan.scanId))?.remediations).toBe(2);
  });

  it('two concurrent collections of one command store each node once and notify once', async () => {
    const config = testConfig();
    h.fleet.addFragmented(30);
    for (let index = 0; index < 40; index += 1) h.fleet.add(`i-ok${index}`);
    const scan = await startScan(h.deps, config);
    const results = await Promise.all([
      collect(h.deps, config, { kind: 'gather', commandId: scan.commandId }),
      collect(h.deps, config, { kind: 'gather', commandId: scan.commandId }),
    ]);
    // One holds the shard's lease and collects; the other finds it busy and leaves.
    expect(results.map((result) => result.status).sort()).toEqual(['busy', 'collected']);
    expect(await allNodes(scan.scanId)).toHaveLength(70);
    expect(h.notifier.messages).toHaveLength(1);
    expect((await h.store.getScan(scan.scanId))?.counts).toEqual({ OK: 40, WARN: 0, CRITICAL: 30, ERROR: 0 });
  });
});

describe('remediation: budget, cooldown, opt-out, blocking', () => {
  it('remediates exactly maxNodesPerScan of 100 CRITICAL fragmented nodes, worst first', async () => {
    const config = testConfig({ remediation: { maxNodesPerScan: 5 } });
    h.fleet.addFragmented(100);
    const { scan, result } = await scanAndCollect(config);
    expect(result.remediations).toHaveLength(5);
    expect(remediatedNodeIds()).toHaveLength(5);
    expect(new Set(remediatedNodeIds()).size).toBe(5);
    expect((await h.store.getScan(scan.scanId))?.remediations).toBe(5);
    const sent = h.fleet.commandsFor('remediate')[0]?.request;
    expect(sent).toMatchObject({
      document: 'remediate',
      targets: { kind: 'instances' },
      parameters: { action: ['compact-node'], numaNode: ['0'], dryRun: ['false'] },
    });
    const summary = h.notifier.messages[0];
    expect(summary?.body).toContain('95 over budget');
  });

  it('stays within the budget under two concurrent collections of the same command', async () => {
    const config = testConfig({ remediation: { maxNodesPerScan: 5 } });
    h.fleet.addFragmented(100);
    const scan = await startScan(h.deps, config);
    // Two finishes of the scan at once (the last two shards to finish, or a sweep racing the event).
    await collect(h.deps, config, { kind: 'gather', commandId: scan.commandId });
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.scan(scan.scanId),
        UpdateExpression: 'SET #s = :running',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':running': 'RUNNING' },
      }),
    );
    const results = await Promise.all([
      collect(h.deps, config, { kind: 'scan', scanId: scan.scanId }),
      collect(h.deps, config, { kind: 'scan', scanId: scan.scanId }),
    ]);
    const first = await h.store.remediations.listScanRemediations(scan.scanId);
    expect(first).toHaveLength(5);
    expect(results.map((result) => result.kind)).toEqual(['scan', 'scan']);
    expect(remediatedNodeIds()).toHaveLength(5);
    expect(new Set(remediatedNodeIds()).size).toBe(5);
    expect(
      (await h.store.remediations.listScanRemediations(scan.scanId)).map((record) => record.nodeId).sort(),
    ).toEqual(remediatedNodeIds().sort());
    expect((await h.store.getScan(scan.scanId))?.remediations).toBe(5);
  });

  it('sends at most 50 instance ids per remediate command', async () => {
    const config = testConfig({ remediation: { maxNodesPerScan: 120 } });
    h.fleet.addFragmented(120);
    await scanAndCollect(config);
    expect(h.fleet.commandsFor('remediate').map((command) => command.instanceIds.length)).toEqual([50, 50, 20]);
  });

  it('does not remediate a node again within its cooldown', async () => {
    const config = testConfig({ remediation: { cooldownSeconds: 6 * 3600 } });
    const node = 'i-cool';
    h.fleet.add(node, { numa: [FRAGMENTED] });
    await scanAndCollect(config);
    expect(remediatedNodeIds()).toEqual([node]);
    h.clock.advance(1 * HOUR);
    const second = await scanAndCollect(config);
    expect(second.result.counts.CRITICAL).toBe(1);
    expect(remediatedNodeIds()).toEqual([node]);
    // Still CRITICAL is not news: the scan sends nothing, and its record says why the node was left alone.
    expect(h.notifier.messages.filter((message) => message.scanId === second.scan.scanId)).toEqual([]);
    expect((await h.store.getScan(second.scan.scanId))?.notRemediated).toEqual({ 'cooling down': 1 });
    h.clock.advance(6 * HOUR);
    await scanAndCollect(config);
    expect(remediatedNodeIds()).toEqual([node, node]);
  });

  it('leaves opted-out nodes alone and remediates the others', async () => {
    const config = testConfig();
    h.fleet.add('i-mine', { numa: [FRAGMENTED], tags: { fleetscan: 'enabled', 'fleetscan:remediate': 'false' } });
    h.fleet.add('i-yours', { numa: [FRAGMENTED] });
    await scanAndCollect(config);
    expect(remediatedNodeIds()).toEqual(['i-yours']);
    expect(h.notifier.messages[0]?.body).toContain('1 opted out');
  });

  it('records a remediate SendCommand that failed as failed, and never sends it again', async () => {
    const config = testConfig();
    h.fleet.addFragmented(1);
    const gateway: CommandGateway = {
      send: async (request) => {
        if (request.document === 'remediate')
          throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
        return h.fleet.send(request);
      },
      listPage: (commandId, nextToken) => h.fleet.listPage(commandId, nextToken),
      getFullOutput: (commandId, instanceId) => h.fleet.getFullOutput(commandId, instanceId),
      describeCommand: (commandId) => h.fleet.describeCommand(commandId),
      findCommands: (query) => h.fleet.findCommands(query),
    };
    const { scan, result } = await scanAndCollect(config, { ...h.deps, gateway });
    expect(result.remediations).toMatchObject([{ status: 'COMPLETED', effect: 'failed', commandId: null }]);
    expect(await h.store.remediations.getRemediation(scan.scanId, 'i-frag00000')).toMatchObject({
      status: 'COMPLETED',
      effect: 'failed',
      error: 'SendCommand failed (AccessDeniedException)',
    });
    expect(h.notifier.messages[0]?.body).toContain('- failed: SendCommand failed (AccessDeniedException)');
    // Nothing is due for it, and a late sweep leaves it alone.
    h.clock.advance(HOUR);
    expect((await sweep(h.deps)).map((entry) => entry.kind)).toEqual([]);
    expect(remediatedNodeIds()).toEqual([]);
  });

  it('remediates nobody when the opt-out lookup fails', async () => {
    const config = testConfig();
    h.fleet.addFragmented(2);
    const deps = { ...h.deps, optOut: { optedOut: async () => Promise.reject(new Error('AccessDenied')) } };
    await scanAndCollect(config, deps);
    expect(remediatedNodeIds()).toEqual([]);
  });

  it('does not remediate low-memory CRITICAL nodes (compaction cannot help)', async () => {
    const config = testConfig();
    h.fleet.add('i-lowmem', {
      gather: () => ({ output: gatherOutput({ numa: [FRAGMENTED], memAvailableKb: 100_000 }) }),
    });
    const { result } = await scanAndCollect(config);
    expect(result.counts.CRITICAL).toBe(1);
    expect(remediatedNodeIds()).toEqual([]);
  });

  it('compacts the one fragmented NUMA node, or everything when several are fragmented', async () => {
    const config = testConfig();
    h.fleet.add('i-one', { numa: [HEALTHY, FRAGMENTED] });
    h.fleet.add('i-two', { numa: [FRAGMENTED, FRAGMENTED] });
    await scanAndCollect(config);
    const byNode = Object.fromEntries(
      h.fleet
        .commandsFor('remediate')
        .flatMap((command) => command.instanceIds.map((id) => [id, command.request.parameters])),
    );
    // The remediation guards go with every command: the node checks them right before acting.
    const guards = { maxLoadPerCpu: ['1'], maxProactiveness: ['20'], settleSeconds: ['10'] };
    expect(byNode['i-one']).toEqual({ action: ['compact-node'], numaNode: ['1'], dryRun: ['false'], ...guards });
    expect(byNode['i-two']).toEqual({ action: ['compact'], numaNode: ['all'], dryRun: ['false'], ...guards });
  });

  it('blocks a node after two remediations without effect, says so, and resumes once cleared', async () => {
    const config = testConfig({ remediation: { cooldownSeconds: 3600, maxNoEffect: 2 } });
    h.fleet.add('i-stuck', { numa: [FRAGMENTED], remediate: ineffectiveRemediation([FRAGMENTED]) });
    for (let round = 0; round < 2; round += 1) {
      await scanAndCollect(config);
      await collectAllRemediations(config);
      h.clock.advance(2 * HOUR);
    }
    expect(remediatedNodeIds()).toEqual(['i-stuck', 'i-stuck']);
    expect(await h.store.getNodeState('i-stuck')).toMatchObject({ blocked: true, noEffectCount: 2 });
    const outcome = h.notifier.messages.filter((message) => message.subject.includes('no-effect'));
    expect(outcome).toHaveLength(2);
    expect(outcome[1]?.subject).toContain('node blocked');
    expect(outcome[1]?.body).toMatch(
      /will not remediate it again until an operator clears it: fleetscan clear i-\S+$/m,
    );
    expect(outcome[1]?.severity).toBe('CRITICAL');

    const third = await scanAndCollect(config);
    expect(remediatedNodeIds()).toHaveLength(2);
    // Blocked, and judged for what two compactions without effect say: compaction cannot help this node.
    expect((await h.store.getScan(third.scan.scanId))?.notRemediated).toEqual({
      'compaction cannot help (drain or reboot)': 1,
    });
    const [record] = (await h.store.listScanNodes(third.scan.scanId, { limit: 1 })).items;
    expect(record?.findings).toContainEqual(expect.stringMatching(/^compaction-futile/));

    expect(await h.store.clearNode('i-stuck')).toBe(true);
    h.clock.advance(2 * HOUR);
    await scanAndCollect(config);
    expect(remediatedNodeIds()).toHaveLength(3);
  });
});

describe('notifications are for news', () => {
  const OPTED_OUT = { fleetscan: 'enabled', 'fleetscan:remediate': 'false' };
  const scanMessages = (scanId: string) => h.notifier.messages.filter((message) => message.scanId === scanId);

  it('tells each problem once, stays quiet while it lasts, tells the recovery, and sends the digest once a day', async () => {
    const config = testConfig();
    h.fleet.add('i-ok', { numa: [HEALTHY] });
    const b = h.fleet.add('i-b', { numa: [FRAGMENTED], tags: OPTED_OUT });
    h.fleet.add('i-c', { numa: [FRAGMENTED], tags: OPTED_OUT });
    // Act + Assess: the first scan's problems are news, and it sends the first digest.
    const first = await scanAndCollect(config);
    expect(scanMessages(first.scan.scanId).map((m) => [m.kinds, m.facts.newProblems])).toEqual([
      [
        ['change', 'digest'],
        ['i-b', 'i-c'],
      ],
    ]);
    // Ten more scans, 15 minutes apart, the same two nodes CRITICAL all along: not one message.
    const quiet: string[] = [];
    for (let scan = 0; scan < 10; scan += 1) {
      h.clock.advance(15 * 60_000 - 60_000);
      quiet.push((await scanAndCollect(config)).scan.scanId);
    }
    expect(quiet.flatMap(scanMessages)).toEqual([]);
    expect((await h.store.getScan(quiet[0] ?? ''))?.notificationKinds ?? []).toEqual([]);
    // i-b recovers: one message, OK, saying so.
    b.gather = () => ({ output: gatherOutput({ host: 'host-i-b', numa: [HEALTHY] }) });
    h.clock.advance(15 * 60_000 - 60_000);
    const recovery = await scanAndCollect(config);
    const [told] = scanMessages(recovery.scan.scanId);
    expect(told).toMatchObject({ subject: 'fleetscan: 1 recovered', severity: 'OK', kinds: ['change'] });
    expect(told?.facts).toMatchObject({ newProblems: [], recovered: ['i-b'] });
    // A day after the first digest, the next scan lists what is still wrong.
    h.clock.set(new Date(T0.getTime() + 24 * HOUR));
    const daily = await scanAndCollect(config);
    const [digest] = scanMessages(daily.scan.scanId);
    expect(digest).toMatchObject({ kinds: ['digest'], severity: 'CRITICAL' });
    expect(digest?.facts.ongoing).toEqual(['i-c']);
    expect(digest?.subject).toBe('fleetscan: 1 CRITICAL of 3 nodes');
    h.clock.advance(15 * 60_000 - 60_000);
    expect(scanMessages((await scanAndCollect(config)).scan.scanId)).toEqual([]);
  });

  it('tells a node that got worse (WARN to CRITICAL) as news', async () => {
    const config = testConfig({ thresholds: { ...testConfig().thresholds, consecutiveBreachesForCritical: 2 } });
    h.fleet.add('i-w', { numa: [FRAGMENTED], tags: OPTED_OUT });
    const warn = await scanAndCollect(config);
    expect(scanMessages(warn.scan.scanId)[0]?.subject).toMatch(/^fleetscan: 1 new WARN/);
    h.clock.advance(15 * 60_000);
    const worse = await scanAndCollect(config);
    expect(scanMessages(worse.scan.scanId).map((m) => m.subject)).toEqual(['fleetscan: 1 new CRITICAL']);
  });

  it('defers remediation outside the remediation windows, says when it may act, and acts once a window opens', async () => {
    const config = testConfig({
      remediation: {
        windows: [
          { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '02:00', end: '05:00', timeZone: 'UTC' },
        ],
      },
    });
    h.fleet.add('i-frag', { numa: [FRAGMENTED] });
    // T0 is 12:00 UTC: outside 02:00-05:00.
    const outside = await scanAndCollect(config);
    expect(h.fleet.commandsFor('remediate')).toEqual([]);
    const [deferred] = await h.store.remediations.listScanRemediations(outside.scan.scanId);
    expect(deferred).toMatchObject({ nodeId: 'i-frag', status: 'COMPLETED', effect: 'deferred', commandId: null });
    expect(deferred?.detail).toMatch(/2025-03-02T02:00:00\.000Z/);
    const [message] = scanMessages(outside.scan.scanId);
    expect(message?.body).toMatch(/i-frag: compact-node on NUMA node 0 - deferred/);
    // Still outside: deferred again, which is not news.
    h.clock.advance(15 * 60_000);
    const again = await scanAndCollect(config);
    expect(scanMessages(again.scan.scanId)).toEqual([]);
    // Inside the window: the node is remediated.
    h.clock.set(new Date('2025-03-02T02:30:00.000Z'));
    await scanAndCollect(config);
    expect(remediatedNodeIds()).toEqual(['i-frag']);
  });
});

describe('problem-node log lines', () => {
  it('logs each non-OK node once, with the fields the dashboard queries, even when the page is collected twice', async () => {
    const lines: { message: string; attributes?: Record<string, unknown> }[] = [];
    const logger = {
      info: (message: string, attributes?: Record<string, unknown>) => lines.push({ message, attributes }),
      warn: () => {},
      error: () => {},
    };
    const config = testConfig();
    h.fleet.add('i-fine', { numa: [HEALTHY] });
    h.fleet.add('i-bad', { numa: [FRAGMENTED], tags: { fleetscan: 'enabled', 'fleetscan:remediate': 'false' } });
    h.fleet.add('i-broken', { gather: () => ({ output: 'garbage', state: 'Failed', responseCode: 1 }) });
    const deps = { ...h.deps, logger };
    const { scan } = await scanAndCollect(config, deps);
    await collect(deps, config, { kind: 'gather', commandId: scan.commandId });
    const problems = lines.filter((line) => line.message === PROBLEM_NODE_LOG.message);
    expect(problems.map((line) => line.attributes?.nodeId).sort()).toEqual(['i-bad', 'i-broken']);
    for (const line of problems)
      expect(Object.keys(line.attributes ?? {}).sort()).toEqual([...PROBLEM_NODE_LOG.fields].sort());
    expect(problems.find((line) => line.attributes?.nodeId === 'i-bad')?.attributes).toMatchObject({
      scanId: scan.scanId,
      status: 'CRITICAL',
      cause: 'fragmentation',
      worstUnusableIndex: 1000,
      error: null,
    });
  });
});

describe('counters between scans', () => {
  const BOOT_A = '0f3e2d1c-4b5a-4978-8695-a4b3c2d1e0f9';
  const BOOT_B = '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d';
  const counters = (stalls: number, fails: number) => ({
    compact_stall: stalls,
    compact_fail: fails,
    compact_success: 0,
    allocstall_normal: 0,
  });

  it('judges compaction from the counters’ rates since the last scan, and from boot after a reboot', async () => {
    const config = testConfig();
    const node = h.fleet.add('i-rates', { tags: { fleetscan: 'enabled', 'fleetscan:remediate': 'false' } });
    const answer = (stalls: number, fails: number, bootId: string, uptimeSeconds: number) => {
      node.gather = () => ({
        output: gatherOutput({ numa: [FRAGMENTED], vmstat: counters(stalls, fails), bootId, uptimeSeconds }),
      });
    };
    const codes = async (scanId: string) => (await allNodes(scanId))[0]?.findings.map((f) => f.split('@')[0]) ?? [];
    // A node up for days with a million stalls behind it: the totals say nothing about now.
    answer(1_000_000, 990_000, BOOT_A, 400_000);
    const first = await scanAndCollect(config);
    expect(await codes(first.scan.scanId)).not.toContain('compaction-stalling');
    // 15 minutes later, 600 more stalls (40 a minute), 590 of them failed: stalling, and futile.
    h.clock.advance(15 * 60_000);
    answer(1_000_600, 990_590, BOOT_A, 400_900);
    const second = await scanAndCollect(config);
    expect(await codes(second.scan.scanId)).toEqual(
      expect.arrayContaining(['compaction-stalling', 'compaction-futile']),
    );
    // Rebooted in between: the counters went down. The rates run from boot (5 minutes, 3 stalls): quiet.
    h.clock.advance(15 * 60_000);
    answer(3, 0, BOOT_B, 300);
    const third = await scanAndCollect(config);
    const found = await codes(third.scan.scanId);
    expect(found).not.toContain('compaction-stalling');
    expect(found).not.toContain('compaction-futile');
    const [record] = await allNodes(third.scan.scanId);
    // The record keeps the counters the diagnosis judges, direct reclaim's summed over the zones.
    expect(record).toMatchObject({
      bootId: BOOT_B.slice(0, 8),
      uptimeSeconds: 300,
      counters: { compact_stall: 3, compact_fail: 0, compact_success: 0, allocstall: 0 },
    });
  });

  it('keeps only the counters it judges, and judges direct reclaim from their sum over the zones', async () => {
    const config = testConfig();
    const node = h.fleet.add('i-reclaim', { tags: { fleetscan: 'enabled', 'fleetscan:remediate': 'false' } });
    const answer = (normal: number, dma32: number, uptimeSeconds: number) => {
      const vmstat = {
        ...counters(0, 0),
        allocstall_normal: normal,
        allocstall_dma32: dma32,
        compact_migrate_scanned: 9_000_000_000,
        pgmajfault: 1592,
      };
      node.gather = () => ({ output: gatherOutput({ numa: [FRAGMENTED], vmstat, bootId: BOOT_A, uptimeSeconds }) });
    };
    answer(100, 50, 10_000);
    const first = await scanAndCollect(config);
    expect((await allNodes(first.scan.scanId))[0]?.counters).toEqual({
      compact_stall: 0,
      compact_fail: 0,
      compact_success: 0,
      allocstall: 150,
    });
    // 15 minutes on, 300 more direct-reclaim stalls over both zones: 20 a minute, above the default 10.
    h.clock.advance(15 * 60_000);
    answer(300, 150, 10_900);
    const second = await scanAndCollect(config);
    const [record] = await allNodes(second.scan.scanId);
    expect(record?.findings.map((f) => f.split('@')[0])).toContain('reclaim-pressure');
    expect(record?.counters?.allocstall).toBe(450);
  });
});

describe('node states are read only where a verdict may depend on them', () => {
  /** Records the node ids each getNodeStates call asks for. */
  function spyOnStateReads(): string[][] {
    const asked: string[][] = [];
    const read = h.store.states.getNodeStates.bind(h.store.states);
    h.store.states.getNodeStates = async (ids) => {
      asked.push([...ids].sort());
      return read(ids);
    };
    return asked;
  }
  const gatherOf = (numa: readonly (readonly number[])[], id: string) => () => ({
    output: gatherOutput({ host: `host-${id}`, numa }),
  });

  it('skips healthy nodes whose previous record had no breach, and still resets a streak that ended', async () => {
    // Prepare: a healthy node, a fragmented one, and one that breaches in the first scan only; CRITICAL after 2.
    const config = testConfig({
      remediation: { enabled: false },
      thresholds: { ...DEFAULT_THRESHOLDS, consecutiveBreachesForCritical: 2 },
    });
    h.fleet.add('i-healthy');
    h.fleet.add('i-fragmented', { numa: [FRAGMENTED] });
    const recovering = h.fleet.add('i-recovering', { numa: [FRAGMENTED] });
    const asked = spyOnStateReads();
    // Act: scan 1 (no previous scan), scan 2 (the recovering node is healthy), scan 3 (it breaches again).
    await scanAndCollect(config);
    h.clock.advance(15 * 60_000);
    recovering.gather = gatherOf([HEALTHY], 'i-recovering');
    await scanAndCollect(config);
    h.clock.advance(15 * 60_000);
    recovering.gather = gatherOf([FRAGMENTED], 'i-recovering');
    const third = await scanAndCollect(config);
    // Assess: the first scan reads every state; then only the nodes with a breach now or in their previous record.
    expect(asked).toEqual([
      ['i-fragmented', 'i-healthy', 'i-recovering'],
      ['i-fragmented', 'i-recovering'],
      ['i-fragmented', 'i-recovering'],
    ]);
    // The streak that ended in scan 2 was reset: its new breach is the first of two (WARN), not CRITICAL.
    const records = new Map((await allNodes(third.scan.scanId)).map((record) => [record.nodeId, record]));
    expect(records.get('i-recovering')).toMatchObject({ status: 'WARN', consecutiveBreaches: 1 });
    expect(records.get('i-fragmented')).toMatchObject({ status: 'CRITICAL', consecutiveBreaches: 3 });
    expect(await h.store.states.getNodeState('i-healthy')).toBeNull();
  });

  it('reads every state when a scan since the previous sealed one is not in the history yet', async () => {
    // Prepare: a sealed scan, then a scan sent but never collected.
    const config = testConfig({ remediation: { enabled: false } });
    h.fleet.add('i-healthy-1');
    h.fleet.add('i-healthy-2');
    await scanAndCollect(config);
    h.clock.advance(15 * 60_000);
    await startScan(h.deps, config);
    h.clock.advance(15 * 60_000);
    const asked = spyOnStateReads();
    // Act
    await scanAndCollect(config);
    // Assess: its verdicts are in no record the collector reads, so the states are.
    expect(asked).toEqual([['i-healthy-1', 'i-healthy-2']]);
  });
});

describe('collectRemediation', () => {
  it('stores the measured effect once and notifies once, however often the event comes', async () => {
    const config = testConfig();
    h.fleet.add('i-fixable', { numa: [HEALTHY, FRAGMENTED] });
    const { scan } = await scanAndCollect(config);
    const [command] = h.fleet.commandsFor('remediate');
    const commandId = command?.commandId ?? '';
    const results = await Promise.all([
      collectRemediation(h.deps, config, commandId),
      collectRemediation(h.deps, config, commandId),
    ]);
    const again = await collectRemediation(h.deps, config, commandId);
    expect(results.flatMap((result) => result.outcomes)).toHaveLength(1);
    expect(again.status).toBe('already-completed');
    const record = await h.store.remediations.getRemediation(scan.scanId, 'i-fixable');
    expect(record).toMatchObject({ status: 'COMPLETED', effect: 'improved', action: 'compact-node', numaNode: 1 });
    expect(record?.before?.every((index) => index.node === 1)).toBe(true);
    const outcomes = h.notifier.messages.filter((message) => message.subject.includes('improved'));
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.subject).toMatch(/unusable 1\.000 -> 0\.\d{3}/);
    expect(await h.store.getNodeState('i-fixable')).toMatchObject({ noEffectCount: 0, blocked: false });
  });

  it('records a dry run as dry-run, never as no-effect', async () => {
    const config = testConfig({ remediation: { dryRun: true, maxNoEffect: 1 } });
    h.fleet.add('i-dry', { numa: [FRAGMENTED] });
    const { scan } = await scanAndCollect(config);
    await collectAllRemediations(config);
    expect(h.fleet.commandsFor('remediate')[0]?.request.parameters.dryRun).toEqual(['true']);
    expect((await h.store.remediations.getRemediation(scan.scanId, 'i-dry'))?.effect).toBe('dry-run');
    expect(await h.store.getNodeState('i-dry')).toMatchObject({ noEffectCount: 0, blocked: false });
  });

  it('records a failed invocation or an unparsable report as failed', async () => {
    const config = testConfig();
    h.fleet.add('i-fails', {
      numa: [FRAGMENTED],
      remediate: () => ({ state: 'Failed', output: 'boom', responseCode: 2 }),
    });
    h.fleet.add('i-garbage', {
      numa: [FRAGMENTED],
      remediate: () => ({ output: 'fleetscan-remediate 1\nhost x\nend\n' }),
    });
    const { scan } = await scanAndCollect(config);
    await collectAllRemediations(config);
    expect(await h.store.remediations.getRemediation(scan.scanId, 'i-fails')).toMatchObject({
      effect: 'failed',
      error: 'invocation Failed (exit 2): boom',
    });
    expect(await h.store.remediations.getRemediation(scan.scanId, 'i-garbage')).toMatchObject({
      effect: 'failed',
      error: "line 2: report has no 'pagesize' line",
    });
  });

  it('ignores a remediate command fleetscan does not know', async () => {
    expect(await collectRemediation(h.deps, testConfig(), 'cmd-unknown')).toEqual({
      commandId: 'cmd-unknown',
      status: 'unknown-command',
      outcomes: [],
    });
  });
});

describe('sweep', () => {
  it('hands out shards, scans and remediate commands still running past collectAfter, and nothing once collected', async () => {
    const config = testConfig();
    h.fleet.add('i-frag', { numa: [FRAGMENTED] });
    const scan = await startScan(h.deps, config);
    expect(await sweep(h.deps)).toEqual([]);
    h.clock.advance((600 + 60 + 120) * 1000);
    expect((await sweep(h.deps)).map(({ dueAt: _, ...work }) => work)).toEqual([
      { kind: 'gather', commandId: scan.commandId },
      { kind: 'scan', scanId: scan.scanId },
    ]);
    await collect(h.deps, config, { kind: 'gather', commandId: scan.commandId });
    h.clock.advance(HOUR);
    const due = await sweep(h.deps);
    expect(due.map((entry) => entry.kind)).toEqual(['remediate']);
    const [remediate] = due;
    if (remediate?.kind !== 'remediate') throw new Error('expected the remediate command');
    await collect(h.deps, config, { kind: 'remediate', commandId: remediate.commandId });
    expect(await sweep(h.deps)).toEqual([]);
  });
});
