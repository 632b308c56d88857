/**
 * The simulated fleet: nodes with ids, tags and a behaviour that decides what each document prints and how
 * the invocation ends. Deterministic: the same seed builds the same fleet and the same outputs.
 */
import type { ZoneCounts } from '../../../lib/core/buddyinfo.ts';
import {
  formatGatherReport,
  type GatherReport,
  REMEDIATION_ACTIONS,
  type RemediationAction,
} from '../../../lib/core/report.ts';
import {
  advanceSignals,
  type CounterBehaviour,
  createSignals,
  diagnosticsOf,
  QUIET,
  type SimSignals,
} from '../../../lib/local/kernel-signals.ts';
import { Rng as SignalRng } from '../../../lib/local/random.ts';
import { HOSTILE_TEXT } from '../forbidden-text.ts';
import {
  gatherReport,
  type HostFacts,
  type MemoryCondition,
  printGather,
  printRemediation,
  zonesFor,
} from './reports.ts';
import { Rng } from './rng.ts';

/**
 * - `healthy` / `fragmented` / `low-memory`: a well-formed gather report of that memory condition (1–2 NUMA nodes).
 * - `failed`: the script exits 1 with stderr and no report (Status Failed).
 * - `undeliverable`: the agent never got it (Status Failed, StatusDetails Undeliverable).
 * - `delivery-timed-out`: not picked up before TimeoutSeconds (Status TimedOut, StatusDetails Delivery Timed Out).
 * - `execution-timed-out`: killed by the execution timeout; stdout cut mid-report (Status TimedOut).
 * - `invalid-platform`: the document's platform precondition does not match (Status Failed, Invalid Platform).
 * - `access-denied`: the service could not act on the node (Status Failed, Access Denied).
 * - `large`: a valid report from a 32-NUMA-node host (~5 KB): the listing cuts it, GetCommandInvocation has it all.
 * - `huge`: a report padded past 40,000 bytes: even GetCommandInvocation's 24,000 bytes miss the `end` marker.
 * - `hostile`: a valid report whose host and kernel carry every forbidden class (HOSTILE_TEXT: terminal escapes,
 *   bidi and zero-width characters, line separators, tags, lone surrogates, ...), plus such stderr.
 * - `hostile-zone`: a report whose Normal zone's name carries HOSTILE_TEXT (the parser rejects it).
 * - `hostile-process`: a version-2 report whose allocfail process name carries HOSTILE_TEXT (rejected too).
 * - `hostile-garbage`: no report at all, only escape sequences, NULs and invalid UTF-8.
 * - `binary`: random bytes.
 * - `unparsable`: a report with a bad token.
 * - `empty`: exits 0 and prints nothing.
 */
export const BEHAVIOURS = [
  'healthy',
  'fragmented',
  'low-memory',
  'failed',
  'undeliverable',
  'delivery-timed-out',
  'execution-timed-out',
  'invalid-platform',
  'access-denied',
  'large',
  'huge',
  'hostile',
  'hostile-zone',
  'hostile-process',
  'hostile-garbage',
  'binary',
  'unparsable',
  'empty',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export type RemediationEffect = 'improved' | 'no-effect' | 'failed';

/** What SSM records for one invocation once it ends. */
export interface Outcome {
  readonly status: 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';
  /** Spaced spelling ("Delivery Timed Out"); the server may compact it (see SimulatorOptions.statusSpelling). */
  readonly statusDetails: string;
  /** The plugin's exit code; -1 when it never ran. */
  readonly responseCode: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** Whether the agent ran the plugin at all (undelivered invocations have no plugin output). */
  readonly ran: boolean;
}

export interface ReceivedCommand {
  readonly commandId: string;
  readonly documentName: string;
  readonly kind: DocumentKind;
  readonly parameters: Readonly<Record<string, readonly string[]>>;
}

export type DocumentKind = 'gather' | 'remediate';

export interface SimNode {
  readonly instanceId: string;
  readonly index: number;
  readonly tags: Record<string, string>;
  behaviour: Behaviour;
  /** Memory condition a well-formed gather reports; a remediation that works makes it `healthy`. */
  condition: MemoryCondition;
  readonly numaNodes: number;
  remediationEffect: RemediationEffect;
  /** Stays InProgress until `SsmSimulator.complete()` releases it. */
  straggler: boolean;
  readonly facts: HostFacts;
  /** Version 2's kernel signals (boot id, counters, kernel log), moved on at every gather; null: prints version 1's fields only. */
  readonly signals: SimSignals | null;
  /** Every command this node was targeted by, in order (delivered or not). */
  readonly received: ReceivedCommand[];
}

export interface NodeSpec {
  readonly behaviour?: Behaviour;
  readonly tags?: Record<string, string>;
  readonly numaNodes?: number;
  readonly remediationEffect?: RemediationEffect;
  readonly straggler?: boolean;
  readonly instanceId?: string;
  /** @default 1 */
  readonly reportVersion?: ReportVersion;
}

/**
 * 1: the gather report's version-1 fields only (what most tests need). 2: also what a real host's gather prints since
 * version 2 — boot id, uptime, load, the kernel log's failures since the previous scan, vmstat counters growing with
 * the time between gathers, sysctls, pagetypeinfo (lib/local/kernel-signals.ts, as the demo's fleet prints them).
 */
export type ReportVersion = 1 | 2;

export interface FleetOptions {
  /** Number of nodes. */
  readonly size: number;
  /** Seeds ids, behaviour placement and every count printed. @default 1 */
  readonly seed?: number;
  /** Tags every node carries. @default { fleetscan: 'enabled' } */
  readonly tags?: Record<string, string>;
  /** Exact number of nodes per behaviour, placed at seeded positions; the rest are `healthy`. */
  readonly mix?: Partial<Record<Behaviour, number>>;
  /** @default 'improved' */
  readonly remediationEffect?: RemediationEffect;
  /** @default 1 */
  readonly reportVersion?: ReportVersion;
}

const KERNELS = ['6.1.112-124.190.amzn2023.x86_64', '5.10.227-219.884.amzn2.x86_64', '6.8.0-1018-aws'];

function conditionOf(behaviour: Behaviour): MemoryCondition {
  return behaviour === 'fragmented' ? 'fragmented' : behaviour === 'low-memory' ? 'low-memory' : 'healthy';
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const EMPTY = new Uint8Array(0);

export class Fleet {
  readonly nodes: SimNode[] = [];
  private readonly byId = new Map<string, SimNode>();
  readonly seed: number;
  private readonly idRng: Rng;

  constructor(seed = 1) {
    this.seed = seed;
    this.idRng = Rng.derive(seed, 'instance-ids');
  }

  static build(options: FleetOptions): Fleet {
    const fleet = new Fleet(options.seed ?? 1);
    const placement = Rng.derive(fleet.seed, 'placement');
    const behaviours: Behaviour[] = [];
    for (const [behaviour, count] of Object.entries(options.mix ?? {}) as [Behaviour, number][]) {
      for (let i = 0; i < count; i += 1) behaviours.push(behaviour);
    }
    if (behaviours.length > options.size) {
      throw new Error(`fleet mix asks for ${behaviours.length} special nodes but the fleet has ${options.size}`);
    }
    while (behaviours.length < options.size) behaviours.push('healthy');
    placement.shuffle(behaviours);
    for (const behaviour of behaviours) {
      fleet.add({
        behaviour,
        tags: { ...(options.tags ?? { fleetscan: 'enabled' }) },
        remediationEffect: options.remediationEffect ?? 'improved',
        reportVersion: options.reportVersion ?? 1,
      });
    }
    return fleet;
  }

  add(spec: NodeSpec = {}): SimNode {
    const index = this.nodes.length;
    const rng = Rng.derive(this.seed, `node-${index}`);
    const instanceId = spec.instanceId ?? `i-${this.idRng.hex(17)}`;
    if (!/^i-[0-9a-f]{17}$/.test(instanceId)) throw new Error(`not an instance id: ${instanceId}`);
    if (this.byId.has(instanceId)) throw new Error(`duplicate instance id ${instanceId}`);
    const behaviour = spec.behaviour ?? 'healthy';
    // Drawn in this order since the first fleets: the same seed keeps giving the same nodes.
    const numaNodes = spec.numaNodes ?? (behaviour === 'large' ? 32 : rng.chance(0.3) ? 2 : 1);
    const facts: HostFacts = {
      host: `ip-10-${rng.int(0, 255)}-${rng.int(0, 255)}-${rng.int(1, 254)}.ec2.internal`,
      kernel: KERNELS[rng.int(0, KERNELS.length - 1)] ?? 'unknown',
      pageSize: 4096,
      // 8–128 GiB of RAM less what the kernel reserves, as MemTotal shows it.
      memTotalKb: 2 ** rng.int(3, 7) * 1024 * 1024 - rng.int(200_000, 600_000),
    };
    const node: SimNode = {
      instanceId,
      index,
      tags: { ...(spec.tags ?? { fleetscan: 'enabled' }) },
      behaviour,
      condition: conditionOf(behaviour),
      numaNodes,
      remediationEffect: spec.remediationEffect ?? 'improved',
      straggler: spec.straggler ?? false,
      facts,
      signals:
        spec.reportVersion === 2
          ? createSignals(new SignalRng(rng.int(0, 0xffff_ffff)), {
              immovable: false,
              busy: false,
              klogReadable: true,
              cpus: Math.max(2, Math.round(facts.memTotalKb / (4 * 1024 * 1024))),
            })
          : null,
      received: [],
    };
    this.nodes.push(node);
    this.byId.set(instanceId, node);
    return node;
  }

  get(instanceId: string): SimNode | undefined {
    return this.byId.get(instanceId);
  }

  /** The node with this id; throws when the fleet has none (a test's typo should fail loudly). */
  node(instanceId: string): SimNode {
    const node = this.byId.get(instanceId);
    if (node === undefined) throw new Error(`no simulated node ${instanceId}`);
    return node;
  }

  /** Nodes whose behaviour is one of `behaviours`. */
  withBehaviour(...behaviours: Behaviour[]): SimNode[] {
    return this.nodes.filter((node) => behaviours.includes(node.behaviour));
  }

  /** Nodes matching SendCommand tag targets: every target must match (AND), any value within one (OR). */
  matching(targets: readonly { readonly key: string; readonly values: readonly string[] }[]): SimNode[] {
    return this.nodes.filter((node) =>
      targets.every((target) => {
        if (target.key === 'tag-key') return target.values.some((key) => key in node.tags);
        const key = target.key.slice('tag:'.length);
        const value = node.tags[key];
        return value !== undefined && (target.values.includes(value) || target.values.includes('*'));
      }),
    );
  }
}

/**
 * Runs a document on a node: what the invocation ends with. `rng` is this invocation's own generator; `now` the
 * service's time (version-2 counters grow with the time between gathers).
 */
export function runDocument(
  node: SimNode,
  kind: DocumentKind,
  parameters: Readonly<Record<string, readonly string[]>>,
  rng: Rng,
  now: Date = new Date(),
): Outcome {
  const undelivered = (status: Outcome['status'], statusDetails: string): Outcome => ({
    status,
    statusDetails,
    responseCode: -1,
    stdout: EMPTY,
    stderr: EMPTY,
    ran: false,
  });
  switch (node.behaviour) {
    case 'undeliverable':
      return undelivered('Failed', 'Undeliverable');
    case 'delivery-timed-out':
      return undelivered('TimedOut', 'Delivery Timed Out');
    case 'invalid-platform':
      return undelivered('Failed', 'Invalid Platform');
    case 'access-denied':
      return undelivered('Failed', 'Access Denied');
    default:
  }
  return kind === 'gather' ? gather(node, rng, parameters, now) : remediate(node, parameters, rng);
}

/** Counters per minute by memory condition (as the demo's fleet has them for its profiles). */
const COUNTERS: Readonly<Record<MemoryCondition, CounterBehaviour>> = {
  healthy: QUIET,
  fragmented: { compactStalls: 6, compactFailShare: 0.8, reclaimStalls: 0.5 },
  'low-memory': { compactStalls: 0.5, compactFailShare: 0.7, reclaimStalls: 25 },
};

/**
 * The version-2 fields of a gather printing `zones` (undefined for a version-1 node): the node's signals moved on to
 * `now`, failures counted from the command's `since`.
 */
function version2(
  node: SimNode,
  zones: ZoneCounts[],
  parameters: Readonly<Record<string, readonly string[]>>,
  now: Date,
  rng: Rng,
): Partial<GatherReport> | undefined {
  if (node.signals === null) return undefined;
  const signalRng = new SignalRng(rng.int(0, 0xffff_ffff));
  const seconds = Math.floor(now.getTime() / 1000);
  const failures =
    node.condition === 'fragmented' ? { count: signalRng.int(1, 6), orders: [4, 5, 6] } : { count: 0, orders: [] };
  advanceSignals(node.signals, seconds, COUNTERS[node.condition], failures, signalRng);
  const since = Number(parameters.since?.[0] ?? '0');
  return diagnosticsOf(
    node.signals,
    {
      zones,
      watched: zones.filter((zone) => zone.zone === 'Normal'),
      pageSize: node.facts.pageSize,
      memTotalKb: node.facts.memTotalKb,
      memAvailableKb: Math.floor(node.facts.memTotalKb / 2),
    },
    seconds,
    Number.isSafeInteger(since) ? since : 0,
    signalRng,
  );
}

function success(stdout: string | Uint8Array, stderr: string | Uint8Array = EMPTY): Outcome {
  return {
    status: 'Success',
    statusDetails: 'Success',
    responseCode: 0,
    stdout: typeof stdout === 'string' ? text(stdout) : stdout,
    stderr: typeof stderr === 'string' ? text(stderr) : stderr,
    ran: true,
  };
}

function failure(exitCode: number, stdout: string, stderr: string): Outcome {
  return {
    status: 'Failed',
    statusDetails: 'Failed',
    responseCode: exitCode,
    stdout: text(stdout),
    stderr: text(stderr),
    ran: true,
  };
}

export const HOSTILE_HOST = `ip-10-0-0-1${HOSTILE_TEXT}evil-host`;
export const HOSTILE_STDERR = `${HOSTILE_TEXT}\u001b[31mwarning\u001b[0m: \u0000\u0001\u0002 \u202edenied`;

function gather(node: SimNode, rng: Rng, parameters: Readonly<Record<string, readonly string[]>>, now: Date): Outcome {
  const zones = (numa = node.numaNodes, extra = false): ZoneCounts[] => zonesFor(node.condition, numa, rng, extra);
  const print = (facts: HostFacts, printed: ZoneCounts[]): string =>
    printGather(facts, node.condition, printed, rng, version2(node, printed, parameters, now, rng));
  switch (node.behaviour) {
    case 'failed':
      return failure(1, '', 'cat: /proc/buddyinfo: Permission denied\n');
    case 'execution-timed-out': {
      const report = print(node.facts, zones());
      return {
        status: 'TimedOut',
        statusDetails: 'Execution Timed Out',
        responseCode: 1,
        stdout: text(report.slice(0, Math.floor(report.length / 2))),
        stderr: text('failed to run commands: exit status 1: execution timed out\n'),
        ran: true,
      };
    }
    case 'large':
      return success(print(node.facts, zones(node.numaNodes, true)));
    case 'huge': {
      const report = print(node.facts, zones());
      const padding = Array.from({ length: 500 }, (_, i) => `note ${String(i).padStart(4, '0')} ${'x'.repeat(72)}`);
      const lines = report.split('\n');
      const end = lines.lastIndexOf('end');
      lines.splice(end, 0, ...padding);
      return success(lines.join('\n'));
    }
    case 'hostile': {
      const facts = { ...node.facts, host: HOSTILE_HOST, kernel: `6.1.0${HOSTILE_TEXT}-red\u001b[0m` };
      return success(print(facts, zones()), HOSTILE_STDERR);
    }
    case 'hostile-zone': {
      const named = zones().map((zone) => (zone.zone === 'Normal' ? { ...zone, zone: `Normal${HOSTILE_TEXT}` } : zone));
      return success(printGather(node.facts, node.condition, named, rng), HOSTILE_STDERR);
    }
    case 'hostile-process': {
      const report = gatherReport(node.facts, node.condition, zones(), rng);
      const allocFailures = { count: 1, maxOrder: 4, processes: [{ name: `mysqld${HOSTILE_TEXT}`, order: 4 }] };
      return success(formatGatherReport({ ...report, allocFailures }), HOSTILE_STDERR);
    }
    case 'hostile-garbage': {
      const garbage = Buffer.concat([
        Buffer.from('\u001b]0;pwned\u0007\u001b[2J\u001b[3J\u001bc fleetscan-gather \u202e1\u0000\n'),
        Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x1b, 0x5b, 0x32, 0x4a, 0x0a]),
        Buffer.from(`host \u001b[8m${'A'.repeat(300)}\u0000\n`),
      ]);
      return success(new Uint8Array(garbage), HOSTILE_STDERR);
    }
    case 'binary':
      return success(rng.bytes(600));
    case 'unparsable':
      return success('fleetscan-gather 1\nhost broken\npagesize 4096\nmeminfo 100 50\nzone 0 Normal 12 x7 3\nend\n');
    case 'empty':
      return success('');
    default:
      return success(print(node.facts, zones()));
  }
}

function first(parameters: Readonly<Record<string, readonly string[]>>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = parameters[name]?.[0];
    if (value !== undefined) return value;
  }
  return undefined;
}

function remediate(node: SimNode, parameters: Readonly<Record<string, readonly string[]>>, rng: Rng): Outcome {
  if (node.behaviour === 'failed') return failure(1, '', 'remediate: permission denied\n');
  const requested = first(parameters, 'action', 'Action') ?? 'compact';
  const action: RemediationAction = (REMEDIATION_ACTIONS as readonly string[]).includes(requested)
    ? (requested as RemediationAction)
    : 'compact';
  const numa = first(parameters, 'numaNode', 'numa', 'NumaNode');
  const numaNode = numa === undefined || numa === 'all' || numa === '' ? null : Number(numa);
  const dryRun = (first(parameters, 'dryRun', 'dryrun', 'DryRun') ?? 'true') === 'true';
  const before = zonesFor(node.condition, node.numaNodes, rng);
  const acts = !dryRun && node.remediationEffect === 'improved';
  if (acts) node.condition = 'healthy';
  const after = acts ? zonesFor('healthy', node.numaNodes, rng) : before;
  // A hostile node's remediation report carries its hostile host name too.
  const facts = node.behaviour === 'hostile' ? { ...node.facts, host: HOSTILE_HOST } : node.facts;
  if (node.remediationEffect === 'failed' && !dryRun) {
    const report = printRemediation(facts, { action, numaNode, dryRun, before, after, stepResult: 'failed' });
    return failure(1, report, `sh: 1: cannot create /proc/sys/vm/compact_memory: Permission denied\n`);
  }
  return success(
    printRemediation(facts, { action, numaNode, dryRun, before, after, stepResult: dryRun ? 'dry-run' : 'ok' }),
  );
}
