/**
 * One scan of fleetscan, wired as the Lambdas wire it (createClients → SsmGateway, DynamoHistory), pointed at the
 * bench's SSM simulator and metered dynalite: what the scan function does on a schedule tick (startScan, then the
 * sweep), then what the collect function does for each work item — each shard's completion event, every hand-off
 * a collection makes before its deadline, the scan's own work, each remediate command's completion — each item
 * one "invocation" with its own deadline and a fresh store (a cold container: nothing cached between them),
 * shards collected concurrently as Lambda would.
 *
 * It also measures what the deployed functions would log (Powertools JSON lines, EMF metrics, Lambda's platform
 * lines) and publish (SNS), for the cost model.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createClients, type FleetscanClients } from '../../lib/adapters/clients.ts';
import { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import { SsmGateway } from '../../lib/adapters/ssm.ts';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import type { FleetscanConfig } from '../../lib/config/types.ts';
import { collect } from '../../lib/runtime/collect.ts';
import type {
  Notification,
  RuntimeDeps,
  RuntimeLogger,
  RuntimeMetrics,
  WorkItem,
  WorkTrigger,
} from '../../lib/runtime/ports.ts';
import { startScan, sweep, workOf } from '../../lib/runtime/scan.ts';
import type { BenchJob } from './runner.ts';

/** Work queued for the collect function: runs up to `parallel` items at once; hand-offs queue more. */
export class BenchQueue implements WorkTrigger {
  private readonly pending: WorkItem[] = [];

  async trigger(work: WorkItem): Promise<void> {
    this.pending.push(work);
  }

  /** Runs queued work, and what it queues, until none is left; the first failure rejects (after the rest settle). */
  async drain(run: (work: WorkItem) => Promise<void>, parallel: number): Promise<void> {
    let active = 0;
    let failure: unknown;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (failure === undefined && active < parallel && this.pending.length > 0) {
          const work = this.pending.shift() as WorkItem;
          active += 1;
          run(work).then(
            () => {
              active -= 1;
              pump();
            },
            (error: unknown) => {
              failure ??= error;
              active -= 1;
              pump();
            },
          );
        }
        if (active === 0 && (this.pending.length === 0 || failure !== undefined)) resolve();
      };
      pump();
    });
    if (failure !== undefined) throw failure;
  }
}

/** Powertools' standard keys with a Lambda context, as each of its JSON log lines carries them. */
const POWERTOOLS_KEYS = {
  timestamp: '2026-01-01T00:00:00.000Z',
  service: 'fleetscan-collect',
  sampling_rate: 0,
  xray_trace_id: '1-00000000-000000000000000000000000',
  cold_start: false,
  function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:Fleetscan-collect',
  function_memory_size: '512',
  function_name: 'Fleetscan-collect',
  function_request_id: '00000000-0000-0000-0000-000000000000',
};
/** Lambda's own START, END and REPORT lines of one invocation. */
const PLATFORM_LINES = [
  'START RequestId: 00000000-0000-0000-0000-000000000000 Version: $LATEST',
  'END RequestId: 00000000-0000-0000-0000-000000000000',
  'REPORT RequestId: 00000000-0000-0000-0000-000000000000\tDuration: 1234.56 ms\tBilled Duration: 1235 ms\tMemory Size: 512 MB\tMax Memory Used: 150 MB\tInit Duration: 500.00 ms',
];
const PLATFORM_BYTES = PLATFORM_LINES.reduce((sum, line) => sum + line.length + 1, 0);

/** Counts what the functions would write to CloudWatch Logs. */
export class LogMeter {
  lines = 0;
  bytes = 0;
  private metrics: { name: string; unit: string; value: number }[] = [];

  readonly logger: RuntimeLogger = {
    info: (message, attributes) => this.line('INFO', message, attributes),
    warn: (message, attributes) => this.line('WARN', message, attributes),
    error: (message, attributes) => this.line('ERROR', message, attributes),
  };

  readonly sink: RuntimeMetrics = {
    add: (name, unit, value) => {
      this.metrics.push({ name, unit, value });
    },
  };

  private line(level: string, message: string, attributes?: Record<string, unknown>): void {
    this.lines += 1;
    this.bytes += JSON.stringify({ level, message, ...POWERTOOLS_KEYS, ...attributes }).length + 1;
  }

  /** One invocation ended: its platform lines, and its metrics as one EMF document (Powertools' publishStoredMetrics). */
  endInvocation(): void {
    this.lines += PLATFORM_LINES.length;
    this.bytes += PLATFORM_BYTES;
    if (this.metrics.length === 0) return;
    const emf = {
      _aws: {
        Timestamp: 0,
        CloudWatchMetrics: [
          {
            Namespace: 'Fleetscan',
            Dimensions: [['service']],
            Metrics: this.metrics.map(({ name, unit }) => ({ Name: name, Unit: unit })),
          },
        ],
      },
      service: POWERTOOLS_KEYS.service,
      ...Object.fromEntries(this.metrics.map(({ name, value }) => [name, value])),
    };
    this.lines += 1;
    this.bytes += JSON.stringify(emf).length + 1;
    this.metrics = [];
  }
}

type Handler = (args: unknown) => Promise<unknown>;
/** The one thing the counter needs of an SDK client. */
interface Stacked {
  readonly middlewareStack: {
    add(
      middleware: (next: Handler) => Handler,
      options: { step: 'finalizeRequest'; priority: 'low'; name: string },
    ): void;
  };
}

/** A function's calls in one scan: requests sent, and the round trips they cost one after the other. */
export interface CallCounts {
  ssm: number;
  dynamodb: number;
  /** Requests sent while none of the same invocation was in flight: calls made together cost one round trip. */
  ssmRoundTrips: number;
  dynamodbRoundTrips: number;
}

type Phase = 'scan' | 'collect';
const noCalls = (): CallCounts => ({ ssm: 0, dynamodb: 0, ssmRoundTrips: 0, dynamodbRoundTrips: 0 });

/**
 * SDK requests sent (each attempt: after the retry middleware), per service, by the function and invocation sending
 * them (an invocation runs inside `invocation()`; AsyncLocalStorage carries it into the SDK's middleware).
 */
export class CallCounter {
  readonly counts: Record<Phase, CallCounts> = { scan: noCalls(), collect: noCalls() };
  private readonly current = new AsyncLocalStorage<{ readonly phase: Phase; inFlight: number }>();

  invocation<T>(phase: Phase, run: () => Promise<T>): Promise<T> {
    return this.current.run({ phase, inFlight: 0 }, run);
  }

  attach(service: 'ssm' | 'dynamodb', client: object): void {
    (client as Stacked).middlewareStack.add(
      (next) => async (args) => {
        const context = this.current.getStore();
        if (context === undefined) return next(args);
        const counts = this.counts[context.phase];
        counts[service] += 1;
        if (context.inFlight === 0) counts[service === 'ssm' ? 'ssmRoundTrips' : 'dynamodbRoundTrips'] += 1;
        context.inFlight += 1;
        try {
          return await next(args);
        } finally {
          context.inFlight -= 1;
        }
      },
      { step: 'finalizeRequest', priority: 'low', name: `benchCount-${service}` },
    );
  }
}

export interface RuntimeScanRun {
  readonly scanId: string;
  readonly status: string;
  readonly stored: number;
  readonly counts: Record<string, number>;
  /** Gather commands sent (shards). */
  readonly commands: number;
  readonly invocations: { readonly gather: number; readonly scan: number; readonly remediate: number };
  /** Invocations that ended by handing their work to a fresh one. */
  readonly handOffs: number;
  readonly remediations: number;
  readonly notifications: { readonly count: number; readonly bytes: number };
  readonly logs: { readonly lines: number; readonly bytes: number };
  /** SDK requests and round trips by function. */
  readonly calls: Readonly<Record<Phase, CallCounts>>;
  readonly scanMs: number;
  readonly scanCpuMs: number;
  readonly notes: string[];
}

function configOf(job: BenchJob): FleetscanConfig {
  return {
    ...DEFAULT_CONFIG,
    targets: [{ tagKey: job.tagKey, tagValues: [...job.tagValues] }],
    collection: { ...DEFAULT_CONFIG.collection, nodesPerCommand: job.nodesPerCommand },
  };
}

export function benchClients(job: BenchJob): FleetscanClients {
  return createClients({
    region: 'us-east-1',
    endpoints: { ssm: job.ssmEndpoint, dynamodb: job.dynamoEndpoint },
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
  });
}

/** What fleetscan does for one scheduled scan, to the end of its remediations' collection. */
export async function runRuntimeScan(job: BenchJob): Promise<RuntimeScanRun> {
  const config = configOf(job);
  const clients = benchClients(job);
  const calls = new CallCounter();
  calls.attach('ssm', clients.ssm);
  calls.attach('ssm', clients.ssmSend);
  calls.attach('dynamodb', clients.dynamodb);
  const logs = new LogMeter();
  const notifications: Notification[] = [];
  const queue = new BenchQueue();
  const clock = { now: () => new Date(Date.now() + job.clockOffsetMs) };
  const gateway = new SsmGateway({
    client: clients.ssm,
    sendClient: clients.ssmSend,
    documents: { gather: job.gatherDocument, remediate: job.remediateDocument },
  });
  let handOffs = 0;
  /** What a collect invocation triggers is a hand-off: it gives its work to a fresh invocation. */
  const handOff: WorkTrigger = {
    trigger: (work) => {
      handOffs += 1;
      return queue.trigger(work);
    },
  };
  const deps = (trigger: WorkTrigger = handOff): RuntimeDeps => ({
    gateway,
    // A fresh store per invocation: nothing cached from an earlier one (a cold container).
    store: new DynamoHistory({
      client: clients.doc,
      tableName: job.tableName,
      retentionDays: config.retentionDays,
      orders: config.thresholds.orders,
    }),
    trigger,
    notifier: {
      publish: async (notification) => {
        notifications.push(notification);
      },
    },
    // No EC2 here: nobody opts out (the real TagOptOut asks EC2 only about remediation candidates).
    optOut: { optedOut: async () => new Set<string>() },
    clock,
    logger: logs.logger,
    metrics: logs.sink,
  });

  try {
    // The scan function: start the scan, then sweep for work left behind.
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const scanDeps = deps(queue);
    const scan = await calls.invocation('scan', async () => {
      const started = await startScan(scanDeps, config);
      for (const due of await sweep(scanDeps)) {
        if (!(due.kind === 'scan' && due.scanId === started.scanId)) await queue.trigger(workOf(due));
      }
      return started;
    });
    logs.endInvocation();
    const scanMs = performance.now() - t0;
    const scanCpu = process.cpuUsage(cpu0);

    // SSM's completion event for each shard's command.
    const shards = await scanDeps.store.scans.listShards(scan.scanId);
    const commands = shards.flatMap((shard) => (shard.commandId === null ? [] : [shard.commandId]));
    for (const commandId of commands) await queue.trigger({ kind: 'gather', commandId });
    const invocations = { gather: 0, scan: 0, remediate: 0 };
    const run = async (work: WorkItem) => {
      invocations[work.kind] += 1;
      const started = performance.now();
      await calls.invocation('collect', () =>
        collect(deps(), config, work, { deadline: () => job.deadlineMs - (performance.now() - started) }),
      );
      logs.endInvocation();
    };
    await queue.drain(run, Math.max(1, commands.length));

    // The remediate commands' completion events.
    const store = deps().store;
    const started = await store.remediations.listScanRemediations(scan.scanId);
    for (const commandId of new Set(started.flatMap((r) => (r.commandId === null ? [] : [r.commandId])))) {
      await queue.trigger({ kind: 'remediate', commandId });
    }
    await queue.drain(run, 4);

    const finished = await store.scans.getScan(scan.scanId);
    return {
      scanId: scan.scanId,
      status: finished?.status ?? 'unknown',
      stored: finished?.nodes ?? 0,
      counts: { ...(finished?.counts ?? {}) },
      commands: commands.length,
      invocations,
      handOffs,
      remediations: started.length,
      notifications: {
        count: notifications.length,
        bytes: notifications.reduce((sum, n) => sum + Buffer.byteLength(n.subject) + Buffer.byteLength(n.body), 0),
      },
      logs: { lines: logs.lines, bytes: logs.bytes },
      calls: calls.counts,
      scanMs,
      scanCpuMs: (scanCpu.user + scanCpu.system) / 1000,
      notes: [
        `${finished?.status}, counts ${JSON.stringify(finished?.counts ?? {})}, sealed ${finished?.sealed === true}, ${started.length} remediation(s), ${notifications.length} notification(s)`,
      ],
    };
  } finally {
    await clients.destroy();
  }
}
