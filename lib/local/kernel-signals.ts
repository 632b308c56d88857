/**
 * The kernel signals around /proc/buddyinfo on a simulated node — what a version-2 gather report adds: boot id and
 * uptime, load, the kernel log's page allocation failures (with their times, processes and call sites), the
 * compaction and reclaim counters of /proc/vmstat, the compaction sysctls, kcompactd's state and /proc/pagetypeinfo.
 *
 * Counters grow with the time between two gathers at a rate that follows the node's profile (a fragmenting node
 * stalls in direct compaction, a low-memory one in direct reclaim, one whose free memory is unmovable fails nearly
 * every compaction), a reboot resets them, and failures are kept with the second they were logged, so a gather's
 * `since` counts only the new ones, exactly as the gather script does. Plain JSON: it is saved with the fleet.
 */
import type { ZoneCounts } from '../core/buddyinfo.ts';
import type { AllocFailures, GatherDiagnostics, KernelLogScan, Pagetypes, PagetypeZone } from '../core/report.ts';
import type { Rng } from './random.ts';

/** The migrate types of /proc/pagetypeinfo on 5.x/6.x kernels, in the kernel's order. */
export const MIGRATE_TYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'] as const;

/** The kernel stops counting a free list at this many blocks (mm/vmstat.c, pagetypeinfo_showfree_print). */
const FREE_LIST_CAP = 100_000;

/** Failures kept per node: the kernel log is a ring buffer too. */
const MAX_KEPT_FAILURES = 200;

/** The counters the gather script reads from /proc/vmstat, in its order. */
const VMSTAT_NAMES = [
  'allocstall_dma',
  'allocstall_dma32',
  'allocstall_normal',
  'allocstall_movable',
  'allocstall_device',
  'pgmajfault',
  'pgscan_direct',
  'compact_migrate_scanned',
  'compact_free_scanned',
  'compact_stall',
  'compact_fail',
  'compact_success',
  'compact_daemon_wake',
] as const;

/** What the counters do, per minute, while a node is in a given condition. */
export interface CounterBehaviour {
  /** Direct compaction stalls per minute. */
  readonly compactStalls: number;
  /** Share of those that fail. */
  readonly compactFailShare: number;
  /** Direct reclaim stalls per minute. */
  readonly reclaimStalls: number;
}

export const QUIET: CounterBehaviour = { compactStalls: 0.05, compactFailShare: 0.3, reclaimStalls: 0 };

export interface SimFailure {
  /** Epoch second the kernel logged it. */
  readonly at: number;
  readonly order: number;
  readonly process: string;
  readonly site: string;
}

export interface SimSignals {
  bootId: string;
  /** Epoch second of the last boot; null until the first gather places it (uptime at first sight before that). */
  bootedAt: number | null;
  readonly uptimeAtFirstGather: number;
  /** Epoch second of the previous gather (counters grow from there). */
  lastGatherAt: number | null;
  readonly cpus: number;
  /** Typical 1-minute load per CPU. */
  readonly loadPerCpu: number;
  /** Where the gather finds the kernel log; `none`: not readable on this node. */
  readonly klog: 'dmesg' | 'journal' | 'none';
  vmstat: Record<string, number>;
  failures: SimFailure[];
  /** Share of the watched zones' free memory on the Unmovable and Reclaimable free lists. */
  readonly immovableShare: number;
  readonly proactiveness: number;
  /** Runs containers: its failures include container starts (what the known-cases table matches on 5.15). */
  readonly containerHost: boolean;
}

const PROCESSES = ['java', 'mysqld', 'nginx', 'containerd', 'kworker/u16:2', 'python3'];
const SITES = ['alloc_skb_with_frags', 'kmalloc_large_node', 'skb_page_frag_refill', 'tcp_sendmsg_locked'];
/** A container host's failures include container starts: runc's child creating a veth pair (docker/for-linux#1443). */
const CONTAINER_PROCESSES = [...PROCESSES, 'runc:[1:CHILD]', 'dockerd'];
const CONTAINER_SITES = [...SITES, 'veth_alloc_queues[veth]', 'veth_dev_init[veth]'];

export interface SignalOptions {
  /** Free memory is mostly unmovable: compaction cannot help (the `unmovable` profile). */
  readonly immovable: boolean;
  /** Runs hot: a remediation's load precheck holds it back. */
  readonly busy: boolean;
  /** The gather may not read the kernel log. */
  readonly klogReadable: boolean;
  readonly cpus: number;
}

export function createSignals(rng: Rng, options: SignalOptions): SimSignals {
  return {
    bootId: rng.uuid(),
    bootedAt: null,
    uptimeAtFirstGather: rng.int(3_600, 60 * 86_400),
    lastGatherAt: null,
    cpus: options.cpus,
    loadPerCpu: options.busy ? rng.between(2.5, 4) : rng.between(0.05, 0.6),
    klog: options.klogReadable ? (rng.chance(0.7) ? 'dmesg' : 'journal') : 'none',
    vmstat: Object.fromEntries(VMSTAT_NAMES.map((name) => [name, 0])),
    failures: [],
    immovableShare: options.immovable ? rng.between(0.6, 0.85) : rng.between(0.02, 0.15),
    proactiveness: rng.chance(0.15) ? 0 : 20,
    containerHost: rng.chance(0.5),
  };
}

function grow(vmstat: Record<string, number>, name: string, by: number): void {
  vmstat[name] = (vmstat[name] ?? 0) + Math.max(0, Math.round(by));
}

/** Counters as a node that ran `minutes` at `behaviour` would have them. */
function accumulate(vmstat: Record<string, number>, behaviour: CounterBehaviour, minutes: number, rng: Rng): void {
  const stalls = behaviour.compactStalls * minutes * rng.between(0.7, 1.3);
  const failed = Math.round(stalls * behaviour.compactFailShare);
  grow(vmstat, 'compact_stall', stalls);
  grow(vmstat, 'compact_fail', failed);
  grow(vmstat, 'compact_success', Math.round(stalls) - failed);
  grow(vmstat, 'compact_migrate_scanned', stalls * rng.int(2_000, 20_000));
  grow(vmstat, 'compact_free_scanned', stalls * rng.int(5_000, 60_000));
  grow(vmstat, 'compact_daemon_wake', minutes * rng.between(0.1, 2));
  const reclaims = behaviour.reclaimStalls * minutes * rng.between(0.7, 1.3);
  grow(vmstat, 'allocstall_normal', reclaims);
  grow(vmstat, 'pgscan_direct', reclaims * rng.int(32, 512));
  grow(vmstat, 'pgmajfault', minutes * rng.between(1, 40) + reclaims * 8);
}

/**
 * Moves the node's signals on to `now` (epoch seconds): counters grow at `behaviour` since the previous gather,
 * and `newFailures` page allocation failures are logged at times spread over that interval. A reboot (rare, or
 * forced) starts a new boot id with counters from zero and an empty log.
 */
export function advanceSignals(
  signals: SimSignals,
  now: number,
  behaviour: CounterBehaviour,
  newFailures: { readonly count: number; readonly orders: readonly number[] },
  rng: Rng,
  reboot = false,
): void {
  if (signals.bootedAt === null) {
    signals.bootedAt = now - signals.uptimeAtFirstGather;
    // Before the first gather the node ran quietly since boot (the few spurious stalls any node has).
    accumulate(signals.vmstat, QUIET, signals.uptimeAtFirstGather / 60, rng);
  }
  const from = signals.lastGatherAt ?? now - 900;
  if (reboot) {
    signals.bootId = rng.uuid();
    signals.bootedAt = Math.max(from + 1, now - rng.int(60, Math.max(61, now - from)));
    for (const name of Object.keys(signals.vmstat)) signals.vmstat[name] = 0;
    signals.failures = [];
  }
  const start = Math.max(from, signals.bootedAt);
  accumulate(signals.vmstat, behaviour, Math.max(0, now - start) / 60, rng);
  for (let i = 0; i < newFailures.count; i += 1) {
    signals.failures.push({
      at: rng.int(start + 1, Math.max(start + 1, now)),
      order: rng.pick(newFailures.orders),
      process: rng.pick(signals.containerHost ? CONTAINER_PROCESSES : PROCESSES),
      site: rng.pick(signals.containerHost ? CONTAINER_SITES : SITES),
    });
  }
  signals.failures.sort((a, b) => a.at - b.at);
  signals.failures.splice(0, Math.max(0, signals.failures.length - MAX_KEPT_FAILURES));
  signals.lastGatherAt = now;
}

/** The `allocfail` line's content: failures logged at or after `since` (0: since boot). */
function failuresSince(signals: SimSignals, since: number): AllocFailures {
  const counted = signals.failures.filter((failure) => failure.at >= since);
  const byProcess = new Map<string, number>();
  for (const failure of counted) {
    byProcess.set(failure.process, Math.max(byProcess.get(failure.process) ?? 0, failure.order));
  }
  const sites = [...new Set(counted.map((failure) => failure.site))];
  return {
    count: counted.length,
    maxOrder: counted.length === 0 ? null : Math.max(...counted.map((failure) => failure.order)),
    processes: [...byProcess.entries()].slice(0, 5).map(([name, order]) => ({ name, order })),
    callSites: sites.slice(0, 6),
  };
}

function freePages(zone: ZoneCounts): number {
  return zone.freeBlocks.reduce((sum, count, order) => sum + count * 2 ** order, 0);
}

/** Splits each order's free blocks over the migrate types (Movable takes the rest), capped per list as the kernel's walk is. */
function pagetypeZone(
  zone: ZoneCounts,
  immovableShare: number,
  pageblockOrder: number,
  memShare: number,
): PagetypeZone {
  const free: Record<string, number> = Object.fromEntries(MIGRATE_TYPES.map((type) => [type, 0]));
  const capped = new Set<string>();
  const add = (type: string, blocks: number, order: number): void => {
    if (blocks > FREE_LIST_CAP) capped.add(type);
    free[type] = (free[type] ?? 0) + Math.min(blocks, FREE_LIST_CAP) * 2 ** order;
  };
  for (const [order, count] of zone.freeBlocks.entries()) {
    const unmovable = Math.floor(count * immovableShare * 0.6);
    const reclaimable = Math.floor(count * immovableShare * 0.4);
    add('Unmovable', unmovable, order);
    add('Reclaimable', reclaimable, order);
    add('Movable', count - unmovable - reclaimable, order);
  }
  // Pageblocks: the zone's size in blocks of 2^pageblock_order pages, estimated from its free pages.
  const total = Math.max(1, Math.round(freePages(zone) / memShare / 2 ** pageblockOrder));
  const unmovable = Math.round(total * Math.min(0.9, immovableShare * 0.5));
  const reclaimable = Math.round(total * Math.min(0.5, immovableShare * 0.3));
  const blocks = Object.fromEntries(MIGRATE_TYPES.map((type) => [type, 0]));
  blocks.Unmovable = unmovable;
  blocks.Reclaimable = reclaimable;
  blocks.Movable = Math.max(0, total - unmovable - reclaimable);
  return {
    node: zone.node,
    zone: zone.zone,
    blocks,
    freePages: free,
    cappedTypes: MIGRATE_TYPES.filter((type) => capped.has(type)),
  };
}

export interface NodeView {
  readonly zones: readonly ZoneCounts[];
  /** The zones a workload allocates from (what fragments; what is unmovable on an `unmovable` node). */
  readonly watched: readonly ZoneCounts[];
  readonly pageSize: number;
  readonly memTotalKb: number;
  readonly memAvailableKb: number;
}

/** The version-2 fields of the node's gather report at `now`, counting failures since `since` (epoch seconds). */
export function diagnosticsOf(
  signals: SimSignals,
  view: NodeView,
  now: number,
  since: number,
  rng: Rng,
): GatherDiagnostics & { readonly allocFailures: AllocFailures | null } {
  const free = view.zones.reduce((sum, zone) => sum + freePages(zone), 0);
  const memFreeKb = Math.round((free * view.pageSize) / 1024);
  const pageblockOrder = view.pageSize === 65_536 ? 13 : 9;
  const memShare = Math.min(1, Math.max(0.01, memFreeKb / view.memTotalKb));
  const load = signals.loadPerCpu * signals.cpus * rng.between(0.8, 1.2);
  const kernelLog: KernelLogScan =
    signals.klog === 'none'
      ? { source: 'none', state: 'unreadable', since }
      : { source: signals.klog, state: 'complete', since };
  const numaNodes = [...new Set(view.zones.map((zone) => zone.node))];
  const pagetypes: Pagetypes = {
    types: MIGRATE_TYPES,
    zones: view.zones.map((zone) =>
      pagetypeZone(zone, view.watched.includes(zone) ? signals.immovableShare : 0.05, pageblockOrder, memShare),
    ),
  };
  return {
    memFreeKb,
    slabReclaimableKb: Math.round(view.memTotalKb * (0.01 + signals.immovableShare * 0.1)),
    bootId: signals.bootId,
    uptimeSeconds: Math.max(0, now - (signals.bootedAt ?? now)),
    load: { one: load, five: load * 0.95, fifteen: load * 0.9, cpus: signals.cpus },
    kernelLog,
    allocFailures: signals.klog === 'none' ? null : failuresSince(signals, since),
    vmstat: { ...signals.vmstat },
    sysctls: {
      compactionProactiveness: signals.proactiveness,
      extfragThreshold: 500,
      minFreeKbytes: 67_584,
      watermarkScaleFactor: 10,
    },
    thp: { enabled: 'madvise', defrag: 'madvise' },
    kcompactd: numaNodes.map((node) => ({ node, state: 'S' })),
    pagetypes,
  };
}
