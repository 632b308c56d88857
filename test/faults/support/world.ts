/**
 * A small world for fault-injection tests: the SSM simulator and an in-process dynalite, with fleetscan's real
 * runtime on top — createClients (adaptive retry) → SsmGateway, DynamoStore — wired as the Lambdas wire them.
 * Events are delivered as the collect handler does: decodeCollectEvent, then collect().
 */
import { createClients } from '../../../lib/adapters/clients.ts';
import { DynamoHistory } from '../../../lib/adapters/dynamo/history.ts';
import { SsmGateway } from '../../../lib/adapters/ssm.ts';
import type { FleetscanConfig } from '../../../lib/config/types.ts';
import { LocalWorkQueue } from '../../../lib/local/work-queue.ts';
import { type Collection, type CollectOptions, collect } from '../../../lib/runtime/collect.ts';
import { decodeCollectEvent, sweepPayload } from '../../../lib/runtime/events.ts';
import type { NodeRecord, RuntimeDeps, RuntimeLogger, ScanRecord } from '../../../lib/runtime/ports.ts';
import { startScan, sweep, workOf } from '../../../lib/runtime/scan.ts';
import { type LocalTable, startDynalite } from '../../support/dynalite.ts';
import { forbiddenIn } from '../../support/forbidden-text.ts';
import { testConfig } from '../../support/runtime-fixtures.ts';
import {
  type CommandStatusEvent,
  type Fleet,
  fleetscanDocuments,
  type SimulatorOptions,
  SsmSimulator,
} from '../../support/ssm-simulator/index.ts';
import { type DynamoFaultStats, type DynamoFaults, faultyDocumentClient } from './dynamo-faults.ts';
import { RecordingNotifier } from './recording-notifier.ts';

export const DOCUMENTS = { gather: 'fleetscan-Gather', remediate: 'fleetscan-Remediate' } as const;

export class TestClock {
  private current: Date;
  constructor(start: Date) {
    this.current = start;
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export interface WorldOptions {
  readonly fleet: Fleet;
  readonly simulator?: Omit<SimulatorOptions, 'fleet' | 'documents'>;
  readonly config?: Parameters<typeof testConfig>[0];
}

/** One line the runtime logged. */
export interface LoggedLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown> | undefined;
}

export interface World {
  readonly sim: SsmSimulator;
  readonly db: LocalTable;
  readonly config: FleetscanConfig;
  readonly clock: TestClock;
  readonly notifier: RecordingNotifier;
  /** Every line the runtime logged, in order (the Lambdas send them to CloudWatch Logs). */
  readonly logs: LoggedLine[];
  /** Change `.current` to inject DynamoDB faults from the next call on. */
  readonly dynamoFaults: { current: DynamoFaults };
  readonly dynamoStats: DynamoFaultStats;
  readonly deps: RuntimeDeps & { readonly store: DynamoHistory };
  /** Work collections handed to a fresh invocation (hand-offs, sealing): `drain()` runs it. */
  readonly queue: LocalWorkQueue;
  /** Starts a scan as the scan Lambda does; the simulated nodes answer at once (unless the simulator is told otherwise). */
  scan(): Promise<ScanRecord>;
  /**
   * Delivers one event (SSM status event or sweep payload) to the collect path, as the collect handler does, then
   * runs what it handed off (as the collect Lambda's own asynchronous invocations would) unless told not to.
   */
  deliver(event: unknown, options?: CollectOptions & { readonly drain?: boolean }): Promise<Collection | 'ignored'>;
  /** Runs the queued hand-offs (and what they queue) to the end; returns how many ran. */
  drain(options?: CollectOptions): Promise<number>;
  /** The completion events SSM would emit for every shard command of a scan. */
  scanCompletionEvents(scanId: string): Promise<CommandStatusEvent[]>;
  /** The command-level completion event SSM would emit for a command. */
  completionEvent(commandId: string): CommandStatusEvent;
  /** The sweep, as the scan Lambda runs it, with each due command delivered as the collect Lambda would get it. */
  sweepAndCollect(): Promise<number>;
  records(scanId: string): Promise<NodeRecord[]>;
  close(): Promise<void>;
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const clock = new TestClock(new Date());
  // SSM and the runtime share the test's clock: RequestedDateTime and the InvokedAfter filter follow it.
  const sim = await SsmSimulator.start({
    ...options.simulator,
    fleet: options.fleet,
    documents: fleetscanDocuments('fleetscan'),
    clock,
  });
  const db = await startDynalite();
  const config = testConfig(options.config);
  const notifier = new RecordingNotifier();
  const clients = createClients({
    region: 'us-east-1',
    endpoints: { ssm: sim.endpoint, dynamodb: db.endpoint },
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
  const dynamoFaults: { current: DynamoFaults } = { current: {} };
  const faulty = faultyDocumentClient(clients.doc, dynamoFaults);
  // The runtime's own backoffs (eventual consistency, UnprocessedItems) wait 1 ms here; the SDK's retries are real.
  const fast = async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
  };
  const queue = new LocalWorkQueue();
  const logs: LoggedLine[] = [];
  const log =
    (level: LoggedLine['level']) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      logs.push({ level, message, attributes });
    };
  const logger: RuntimeLogger = { info: log('info'), warn: log('warn'), error: log('error') };
  const deps: RuntimeDeps & { readonly store: DynamoHistory } = {
    gateway: new SsmGateway({ client: clients.ssm, sendClient: clients.ssmSend, documents: DOCUMENTS, sleep: fast }),
    store: new DynamoHistory({
      client: faulty.client,
      tableName: db.tableName,
      retentionDays: 90,
      clock,
      sleep: fast,
      orders: config.thresholds.orders,
    }),
    notifier,
    trigger: queue,
    logger,
    optOut: {
      optedOut: async (nodeIds) =>
        new Set(
          nodeIds.filter(
            (id) => sim.fleet.get(id)?.tags[config.remediation.optOutTag.key] === config.remediation.optOutTag.value,
          ),
        ),
    },
    clock,
  };

  const world: World = {
    sim,
    db,
    config,
    clock,
    notifier,
    logs,
    dynamoFaults,
    dynamoStats: faulty.stats,
    deps,
    queue,
    scan: () => startScan(deps, config),
    async deliver(event, options = {}) {
      const decoded = decodeCollectEvent(event, DOCUMENTS);
      if (decoded.kind === 'ignore') return 'ignored';
      const { drain = true, ...collectOptions } = options;
      const result = await collect(deps, config, decoded.request.work, {
        ...collectOptions,
        ...(decoded.request.requestedAt === undefined ? {} : { requestedAt: decoded.request.requestedAt }),
      });
      if (drain) await world.drain();
      return result;
    },
    async drain(options = {}) {
      return queue.drain(async (work) => {
        await collect(deps, config, work, options);
      });
    },
    completionEvent: (commandId) => sim.completionEvents(commandId).command,
    async scanCompletionEvents(scanId) {
      const shards = await deps.store.scans.listShards(scanId);
      return shards.flatMap((shard) =>
        shard.commandId === null ? [] : [sim.completionEvents(shard.commandId).command],
      );
    },
    async sweepAndCollect() {
      const due = await sweep(deps, clock.now());
      for (const entry of due) await world.deliver(sweepPayload(workOf(entry)));
      return due.length;
    },
    async records(scanId) {
      const out: NodeRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await deps.store.listScanNodes(scanId, { limit: 25, ...(cursor === undefined ? {} : { cursor }) });
        out.push(...page.items);
        cursor = page.next;
      } while (cursor !== undefined);
      return out;
    },
    async close() {
      await clients.destroy();
      await sim.close();
      await db.stop();
    },
  };
  return world;
}

export interface InvariantOptions {
  readonly scanId: string;
  /** Every node the scan targeted. */
  readonly targeted: readonly string[];
}

/**
 * What must hold after any fault: every targeted node has exactly one record for the scan and the scan is
 * COMPLETED with matching counts; no node got more than one remediate command for the scan, and the scan's
 * remediate commands stayed within the budget; every notification is one clean line of subject under 100
 * characters and a clean body.
 */
export async function expectScanInvariants(
  world: World,
  options: InvariantOptions,
  expect: typeof import('vitest').expect,
): Promise<void> {
  const records = await world.records(options.scanId);
  const ids = records.map((record) => record.nodeId);
  expect(ids.length, 'one record per targeted node').toBe(options.targeted.length);
  expect(new Set(ids), 'the targeted nodes, each once').toEqual(new Set(options.targeted));

  const scan = await world.deps.store.getScan(options.scanId);
  expect(scan?.status).toBe('COMPLETED');
  expect(scan?.nodes).toBe(options.targeted.length);
  const counts = scan?.counts ?? { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };
  expect(counts.OK + counts.WARN + counts.CRITICAL + counts.ERROR).toBe(options.targeted.length);

  // The scan's remediate commands, as the store knows them; the fleet-wide count below catches any it does not.
  const stored = await world.deps.store.remediations.listScanRemediations(options.scanId);
  const commandIds = new Set(stored.flatMap((record) => (record.commandId === null ? [] : [record.commandId])));
  const remediated = [...commandIds].flatMap((id) => [...world.sim.command(id).invocations.keys()]);
  expect(new Set(remediated).size, 'no node remediated twice by one scan').toBe(remediated.length);
  expect(new Set(stored.map((record) => record.nodeId)).size).toBe(stored.length);
  expect(stored.length, 'the budget held').toBeLessThanOrEqual(world.config.remediation.maxNodesPerScan);
  for (const node of world.sim.fleet.nodes) {
    const received = node.received.filter((r) => r.kind === 'remediate').length;
    expect(received, `${node.instanceId} remediated at most once`).toBeLessThanOrEqual(1);
  }

  expectCleanNotifications(world, expect);
}

export function expectCleanNotifications(world: World, expect: typeof import('vitest').expect): void {
  for (const notification of world.notifier.sent) {
    expect(notification.subject.length, notification.subject).toBeLessThan(100);
    expect(notification.subject).not.toMatch(/[\r\n]/);
    expect(forbiddenIn(notification.subject), 'subject is sanitized').toBeNull();
    expect(forbiddenIn(notification.body, { multiline: true }), 'body is sanitized').toBeNull();
    expect(forbiddenIn(notification.scanId)).toBeNull();
  }
}
