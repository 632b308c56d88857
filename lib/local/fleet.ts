/**
 * A simulated fleet for `fleetscan demo`: N nodes, the same for the same seed, each with a profile that decides
 * how its free lists drift from one scan to the next and how it answers a remediation. Node 0 is this machine
 * (read live, never changed). The model only produces what a node would print — gather and remediation reports
 * in the real formats, or the failures SSM reports — so everything downstream is the production code.
 *
 * The state is plain JSON so a demo can be continued by a later process (the data directory keeps it).
 */
import type { ZoneCounts } from '../core/buddyinfo.ts';
import {
  type AllocFailures,
  formatGatherReport,
  formatRemediationReport,
  type GatherDiagnostics,
  type GatherReport,
  type Precheck,
  type RemediationAction,
  type RemediationReport,
  type RemediationStep,
} from '../core/report.ts';
import {
  advanceSignals,
  type CounterBehaviour,
  createSignals,
  diagnosticsOf,
  QUIET,
  type SimSignals,
} from './kernel-signals.ts';
import { mixSeed, Rng } from './random.ts';
import {
  ARM64_64K_SAMPLE,
  FRAGMENTING_SAMPLES,
  HEALTHY_SAMPLES,
  LOW_MEMORY_SAMPLE,
  type Sample,
  sampleZones,
  TWO_NUMA_SAMPLE,
} from './samples.ts';

export const PROFILES = [
  'this-host',
  'healthy',
  'fragmenting',
  'sudden',
  'low-memory',
  'unreachable',
  'garbage',
  'two-numa',
  'arm64',
  'large',
  'unmovable',
] as const;
export type Profile = (typeof PROFILES)[number];

/** What each profile does, for the demo's legend and the docs. */
export const PROFILE_DESCRIPTIONS: Readonly<Record<Profile, string>> = {
  'this-host': "this machine's real /proc/buddyinfo (synthetic when unreadable); never remediated",
  healthy: 'plenty of high-order blocks; small jitter between scans',
  fragmenting: 'high orders decay scan over scan; compaction helps (on some nodes it has no effect)',
  sudden: 'healthy, then all blocks of order ≥ 4 vanish in one scan',
  'low-memory': 'little free memory at all: order-0 trouble compaction cannot fix',
  unreachable: 'the SSM agent never picks the command up (Undeliverable / Delivery Timed Out)',
  garbage: 'prints something that is not a gather report (escape sequences, a failing script)',
  'two-numa': 'two NUMA nodes; NUMA node 1 fragments while node 0 stays healthy (per-node compaction)',
  arm64: 'arm64 with 64 KiB pages: 14 order columns',
  large: '16 NUMA nodes: the report is longer than the 2,500 characters SSM lists, fetched in full',
  unmovable:
    'fragments like `fragmenting`, but most free memory sits in unmovable/reclaimable pageblocks: compaction is futile',
};

/** Nodes carrying this index modulo 10 (and node 0) are tagged as opted out of remediation. */
const OPT_OUT_MODULO = 5;

/** The first nodes after this host get one of each unusual profile, so even a small fleet shows them all. */
const SHOWCASE: readonly Profile[] = [
  'fragmenting',
  'sudden',
  'low-memory',
  'unreachable',
  'garbage',
  'two-numa',
  'arm64',
  'large',
  'unmovable',
];

const WEIGHTS: readonly (readonly [Profile, number])[] = [
  ['healthy', 55],
  ['fragmenting', 15],
  ['sudden', 8],
  ['low-memory', 6],
  ['unreachable', 5],
  ['garbage', 3],
  ['two-numa', 4],
  ['arm64', 2],
  ['large', 2],
  ['unmovable', 3],
];

const X86_KERNELS = [
  '6.1.119-129.201.amzn2023.x86_64',
  '5.10.228-219.884.amzn2.x86_64',
  '6.8.0-1019-aws',
  '5.15.0-1071-aws',
];
const ARM64_KERNELS = ['6.8.0-1019-aws-64k', '6.1.119-129.201.amzn2023.aarch64+64k'];

export interface SimZone {
  node: number;
  zone: string;
  freeBlocks: number[];
}

export interface SimNode {
  readonly index: number;
  readonly instanceId: string;
  readonly profile: Profile;
  /** Host, kernel, page size and memory follow the live reading on this machine's node. */
  host: string;
  kernel: string;
  pageSize: number;
  memTotalKb: number;
  memAvailableKb: number;
  zones: SimZone[];
  /** Boot, load, kernel log, counters, pagetypes: what a version-2 report adds (see kernel-signals.ts). */
  signals: SimSignals;
  /** This machine's own version-2 fields, as last read (node 0 only). */
  live?: Partial<GatherDiagnostics> & { readonly allocFailures: AllocFailures | null };
  readonly tags: Readonly<Record<string, string>>;
  /** False where compaction finds nothing movable: a remediation with no effect. */
  readonly compactable: boolean;
  /** The gather (0-based) at which a `sudden` node loses its high orders. */
  readonly suddenAt: number;
  readonly unreachableAs: 'Undeliverable' | 'DeliveryTimedOut';
  readonly garbageAs: 'escapes' | 'failing-script';
  /** Set by {@link SimulatedFleet.reboot}: the node reboots before its next gather. */
  rebootPending?: boolean;
}

export interface FleetState {
  readonly version: 2;
  readonly seed: number;
  /** Gathers performed so far (drift is a function of seed, node and this number). */
  gathers: number;
  /** Commands sent so far (command ids derive from it). */
  commands: number;
  readonly nodes: SimNode[];
}

/** A fleet as saved before version 2: nodes carried a since-boot allocation failure count and no other signal. */
interface FleetStateV1 extends Omit<FleetState, 'version' | 'nodes'> {
  readonly version: 1;
  readonly nodes: (Omit<SimNode, 'signals'> & { allocFailures: AllocFailures | null })[];
}

export interface TagPair {
  readonly key: string;
  readonly value: string;
}

export interface FleetOptions {
  readonly seed: number;
  readonly size: number;
  /** The tag every node carries, which gather targets select on. @default fleetscan=enabled */
  readonly targetTag?: TagPair;
  /** The tag opted-out nodes carry. @default fleetscan:remediate=false */
  readonly optOutTag?: TagPair;
}

/** What a node's SSM agent reports back for one invocation. */
export type NodeOutcome =
  | { readonly kind: 'ran'; readonly stdout: string; readonly stderr: string; readonly exitCode: number }
  | { readonly kind: 'unreachable'; readonly state: 'Undeliverable' | 'DeliveryTimedOut' };

export interface RemediationRequest {
  readonly action: RemediationAction;
  readonly numaNode: number | null;
  readonly dryRun: boolean;
  /** The document's guard parameters (remediation.maxLoadPerCpu, maxProactiveness, settleSeconds). */
  readonly maxLoadPerCpu: number;
  readonly maxProactiveness: number;
  readonly settleSeconds: number;
}

/** When a gather runs and what it counts from: the document's `since` parameter, epoch seconds (0: since boot). */
export interface GatherMoment {
  readonly now: Date;
  readonly since: number;
}

export const DEFAULT_TARGET_TAG: TagPair = { key: 'fleetscan', value: 'enabled' };
export const DEFAULT_OPT_OUT_TAG: TagPair = { key: 'fleetscan:remediate', value: 'false' };

function instanceId(rng: Rng): string {
  return `i-0${rng.hex(16)}`;
}

function privateHost(rng: Rng): string {
  return `ip-10-${rng.int(0, 3)}-${rng.int(0, 255)}-${rng.int(1, 254)}.ec2.internal`;
}

function scaled(zones: readonly ZoneCounts[], rng: Rng, factor: number): SimZone[] {
  return zones.map((zone) => ({
    node: zone.node,
    zone: zone.zone,
    // DMA is a fixed 16 MiB on every x86 host: it does not grow with the machine.
    freeBlocks: zone.freeBlocks.map((count) =>
      zone.zone === 'DMA' ? count : Math.round(count * factor * rng.between(0.85, 1.15)),
    ),
  }));
}

function freePagesOf(zones: readonly SimZone[]): number {
  return zones.reduce(
    (sum, zone) => sum + zone.freeBlocks.reduce((total, count, order) => total + count * 2 ** order, 0),
    0,
  );
}

function largeHostZones(rng: Rng): SimZone[] {
  const [dma, dma32, normal] = sampleZones(HEALTHY_SAMPLES[0] as Sample);
  const zones: SimZone[] = [];
  if (dma && dma32) zones.push(...scaled([dma, dma32], rng, 1));
  for (let node = 0; node < 16; node += 1) {
    for (const zone of ['Normal', 'Movable']) {
      const base = normal?.freeBlocks ?? [];
      zones.push({
        node,
        zone,
        freeBlocks: base.map((count) => Math.round(count * 300 * rng.between(0.7, 1.3))),
      });
    }
  }
  return zones;
}

function initialZones(profile: Profile, rng: Rng): SimZone[] {
  switch (profile) {
    case 'fragmenting':
      return scaled(sampleZones(rng.pick(FRAGMENTING_SAMPLES)), rng, rng.between(0.8, 2));
    case 'low-memory':
      return scaled(sampleZones(LOW_MEMORY_SAMPLE), rng, rng.between(0.8, 1.2));
    case 'two-numa':
      return scaled(sampleZones(TWO_NUMA_SAMPLE), rng, rng.between(0.8, 2));
    case 'arm64':
      return scaled(sampleZones(ARM64_64K_SAMPLE), rng, rng.between(0.8, 2));
    case 'large':
      return largeHostZones(rng);
    default:
      return scaled(sampleZones(rng.pick(HEALTHY_SAMPLES)), rng, rng.between(0.6, 2.5));
  }
}

function profileFor(index: number, rng: Rng): Profile {
  if (index === 0) return 'this-host';
  return SHOWCASE[index - 1] ?? rng.weighted(WEIGHTS);
}

function createNode(seed: number, index: number, options: FleetOptions): SimNode {
  const rng = new Rng(mixSeed(seed, index, 0x5eed));
  const id = instanceId(rng);
  const profile = profileFor(index, rng);
  const arm = profile === 'arm64';
  const pageSize = arm ? 65536 : 4096;
  const zones = initialZones(profile, rng);
  const freeKb = (freePagesOf(zones) * pageSize) / 1024;
  const sizedKb = rng.pick([8, 16, 32, 64, 128]) * 1024 * 1024 * (profile === 'large' ? 16 : 1);
  // Free memory is a share of the total: never more than two thirds of it.
  const memTotalKb = Math.round(Math.max(sizedKb, freeKb * 1.5));
  const availableShare = profile === 'low-memory' ? rng.between(0.015, 0.04) : rng.between(0.35, 0.8);
  const optedOut = index === 0 || index % 10 === OPT_OUT_MODULO;
  const targetTag = options.targetTag ?? DEFAULT_TARGET_TAG;
  const optOutTag = options.optOutTag ?? DEFAULT_OPT_OUT_TAG;
  const host = privateHost(rng);
  return {
    index,
    instanceId: id,
    profile,
    host,
    kernel: arm ? rng.pick(ARM64_KERNELS) : rng.pick(X86_KERNELS),
    pageSize,
    memTotalKb,
    memAvailableKb: Math.round(memTotalKb * availableShare),
    zones,
    signals: createSignals(new Rng(mixSeed(seed, index, 0x516)), {
      immovable: profile === 'unmovable',
      busy: profile === 'healthy' || profile === 'fragmenting' ? rng.chance(0.08) : false,
      // A few nodes do not let the gather read the kernel log.
      klogReadable: !rng.chance(0.1),
      cpus: Math.max(2, Math.round(memTotalKb / (4 * 1024 * 1024))),
    }),
    tags: {
      [targetTag.key]: targetTag.value,
      Name: host.split('.')[0] ?? host,
      ...(optedOut ? { [optOutTag.key]: optOutTag.value } : {}),
    },
    compactable:
      profile === 'this-host' || profile === 'low-memory' || profile === 'unmovable' ? false : !rng.chance(0.25),
    suddenAt: rng.int(0, 1),
    unreachableAs: rng.chance(0.5) ? 'Undeliverable' : 'DeliveryTimedOut',
    garbageAs: rng.chance(0.5) ? 'escapes' : 'failing-script',
  };
}

/* ---- how free lists change ---- */

function jitter(counts: number[], rng: Rng, amount: number): void {
  counts.forEach((count, order) => {
    counts[order] = Math.max(0, Math.round(count * (1 + rng.between(-amount, amount))));
  });
}

/**
 * Fragmentation: blocks of higher orders are split and partly allocated; what comes back is scattered in
 * order 0–2 blocks. Free memory stays about the same while the high orders drain.
 */
function fragment(counts: number[], rng: Rng, rate: number, fromOrder: number): void {
  for (let order = counts.length - 1; order >= 1; order -= 1) {
    const current = counts[order] ?? 0;
    const share = order >= fromOrder ? rate : rate / 4;
    const moved = Math.min(current, Math.ceil(current * share * rng.between(0.8, 1.2)));
    if (moved === 0) continue;
    counts[order] = current - moved;
    const pages = Math.floor((moved * 2 ** order) / 2);
    counts[0] = (counts[0] ?? 0) + Math.floor(pages * 0.5);
    counts[1] = (counts[1] ?? 0) + Math.floor((pages * 0.3) / 2);
    if (counts.length > 2) counts[2] = (counts[2] ?? 0) + Math.floor((pages * 0.2) / 4);
  }
}

/** The collapse a `sudden` node suffers: nothing of order ≥ 4 is left. */
function collapse(counts: number[]): void {
  for (let order = counts.length - 1; order >= 4; order -= 1) {
    const pages = (counts[order] ?? 0) * 2 ** order;
    counts[order] = 0;
    counts[0] = (counts[0] ?? 0) + Math.floor(pages * 0.2);
    counts[1] = (counts[1] ?? 0) + Math.floor((pages * 0.2) / 2);
    counts[3] = (counts[3] ?? 0) + Math.floor((pages * 0.05) / 8);
  }
}

/** Compaction: migrates movable pages so small free blocks merge into large ones (the highest orders first). */
function compact(counts: number[], rng: Rng): void {
  let moved = 0;
  for (let order = 0; order < Math.min(4, counts.length); order += 1) {
    const current = counts[order] ?? 0;
    const taken = Math.floor(current * rng.between(0.5, 0.8));
    counts[order] = current - taken;
    moved += taken * 2 ** order;
  }
  const top = Math.min(counts.length - 1, 10);
  for (let order = top; order >= 4; order -= 1) {
    const blocks = Math.floor(moved / 2 / 2 ** order);
    counts[order] = (counts[order] ?? 0) + blocks;
    moved -= blocks * 2 ** order;
  }
  counts[0] = (counts[0] ?? 0) + moved;
}

/** Dropping the page cache returns pages, mostly as small blocks. */
function dropCaches(counts: number[], rng: Rng, generous: boolean): void {
  counts.forEach((count, order) => {
    const extra = order <= 2 && generous ? rng.int(50, 400) : 0;
    counts[order] = count + Math.round(count * rng.between(0.02, generous ? 0.2 : 0.04)) + extra;
  });
}

function watchedOf(node: SimNode): SimZone[] {
  // What fragments is where the workload allocates: the Normal zones (DMA32 on small VMs).
  const normal = node.zones.filter((zone) => zone.zone === 'Normal');
  return normal.length > 0 ? normal : node.zones.filter((zone) => zone.zone !== 'DMA');
}

export class SimulatedFleet {
  private constructor(private readonly state: FleetState) {}

  static create(options: FleetOptions): SimulatedFleet {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError('a fleet has at least one node');
    const seed = options.seed >>> 0;
    const nodes = Array.from({ length: options.size }, (_, index) => createNode(seed, index, options));
    return new SimulatedFleet({ version: 2, seed, gathers: 0, commands: 0, nodes });
  }

  /** A fleet saved by {@link toJSON}. */
  static fromJSON(value: unknown): SimulatedFleet {
    const state = value as { version?: unknown; seed?: unknown; nodes?: unknown } | null;
    if (state === null || typeof state !== 'object' || !Array.isArray(state.nodes)) {
      throw new Error('not a saved fleetscan demo fleet');
    }
    if (state.version === 1 && typeof state.seed === 'number') return SimulatedFleet.upgrade(state as FleetStateV1);
    if (state.version !== 2) throw new Error(`a demo fleet saved in format ${String(state.version)}, not 1 or 2`);
    return new SimulatedFleet(structuredClone(state as FleetState));
  }

  /** A fleet saved before nodes had kernel signals: each node gets the signals it would have had from the start. */
  private static upgrade(old: FleetStateV1): SimulatedFleet {
    const nodes = old.nodes.map(({ allocFailures: _, ...node }) => {
      const fresh = createNode(old.seed, node.index, { seed: old.seed, size: old.nodes.length });
      return { ...structuredClone(node), signals: fresh.signals } as SimNode;
    });
    return new SimulatedFleet({ ...structuredClone(old), version: 2, nodes });
  }

  toJSON(): FleetState {
    return structuredClone(this.state);
  }

  get seed(): number {
    return this.state.seed;
  }

  get size(): number {
    return this.state.nodes.length;
  }

  /** Gathers performed so far. */
  get gathers(): number {
    return this.state.gathers;
  }

  get nodes(): readonly Readonly<SimNode>[] {
    return this.state.nodes;
  }

  node(instanceId: string): Readonly<SimNode> | undefined {
    return this.state.nodes.find((node) => node.instanceId === instanceId);
  }

  /** A fresh id for a command (deterministic: the seed and how many commands came before). */
  nextCommandId(): string {
    this.state.commands += 1;
    return new Rng(mixSeed(this.state.seed, this.state.commands, 0xc0)).uuid();
  }

  /** Nodes carrying every one of the tags (each key with one of its values). */
  matchTags(tags: readonly { readonly key: string; readonly values: readonly string[] }[]): string[] {
    return this.state.nodes
      .filter((node) =>
        tags.every(({ key, values }) => {
          const value = node.tags[key];
          return value !== undefined && (values.includes(value) || values.includes('*'));
        }),
      )
      .map((node) => node.instanceId);
  }

  /**
   * Tells a node to reboot before its next gather (new boot id, counters from zero, its free lists as after a boot).
   * Nodes also reboot now and then by themselves.
   */
  reboot(instanceId: string): void {
    const node = this.state.nodes.find((candidate) => candidate.instanceId === instanceId);
    if (node !== undefined) node.rebootPending = true;
  }

  /**
   * One gather across the given nodes at `moment`: every node's free lists and counters move on by one scan
   * interval, then each answers, counting kernel-log failures since `moment.since`. `live` is this machine's reading
   * for node 0 (null: keep its synthetic stand-in).
   */
  gather(
    instanceIds: readonly string[],
    moment: GatherMoment,
    live: GatherReport | null = null,
  ): Map<string, NodeOutcome> {
    const gatherNo = this.state.gathers;
    this.state.gathers += 1;
    const wanted = new Set(instanceIds);
    const out = new Map<string, NodeOutcome>();
    for (const node of this.state.nodes) {
      if (!wanted.has(node.instanceId)) continue;
      this.drift(node, gatherNo, moment, live);
      out.set(node.instanceId, this.answerGather(node, gatherNo, moment));
    }
    return out;
  }

  private drift(node: SimNode, gatherNo: number, moment: GatherMoment, live: GatherReport | null): void {
    const rng = new Rng(mixSeed(this.state.seed, node.index, gatherNo, 0xd1));
    const now = Math.floor(moment.now.getTime() / 1000);
    if (node.profile === 'this-host' && live !== null) {
      adoptLive(node, live);
      advanceSignals(node.signals, now, QUIET, NO_FAILURES, rng);
      return;
    }
    const reboot =
      node.rebootPending === true || (node.profile !== 'this-host' && gatherNo > 0 && rng.chance(REBOOT_CHANCE));
    node.rebootPending = false;
    if (reboot) node.zones = initialZones(node.profile, rng);
    else if (gatherNo > 0 || node.profile === 'sudden') this.move(node, gatherNo, rng);
    // Allocations of an order fail once no watched zone has a free block of that order or above.
    const starvedOrders = FAILING_ORDERS.filter((order) =>
      watchedOf(node).every((zone) => zone.freeBlocks.slice(order).every((count) => count === 0)),
    );
    const starved = starvedOrders.length > 0;
    const failing =
      starved && (node.profile === 'fragmenting' || node.profile === 'sudden' || node.profile === 'unmovable');
    const failures = failing ? { count: rng.int(1, 4 * starvedOrders.length), orders: starvedOrders } : NO_FAILURES;
    advanceSignals(node.signals, now, behaviourOf(node, starved), failures, rng, reboot);
  }

  /** How the free lists change over one scan interval, by profile. */
  private move(node: SimNode, gatherNo: number, rng: Rng): void {
    for (const zone of node.zones) jitter(zone.freeBlocks, rng, node.profile === 'low-memory' ? 0.05 : 0.08);
    switch (node.profile) {
      case 'fragmenting':
      case 'unmovable':
        for (const zone of watchedOf(node)) fragment(zone.freeBlocks, rng, 0.55, 4);
        break;
      case 'two-numa':
        for (const zone of watchedOf(node).filter((candidate) => candidate.node === 1)) {
          fragment(zone.freeBlocks, rng, 0.7, 4);
        }
        break;
      case 'sudden':
        if (gatherNo === node.suddenAt) for (const zone of watchedOf(node)) collapse(zone.freeBlocks);
        break;
      default:
        break;
    }
  }

  private answerGather(node: SimNode, gatherNo: number, moment: GatherMoment): NodeOutcome {
    if (node.profile === 'unreachable') return { kind: 'unreachable', state: node.unreachableAs };
    if (node.profile === 'garbage') return garbageOutcome(node, gatherNo);
    const report = this.report(node, moment, new Rng(mixSeed(this.state.seed, node.index, gatherNo, 0x10ad)));
    return { kind: 'ran', stdout: formatGatherReport(report), stderr: '', exitCode: 0 };
  }

  /** The node's gather report at `moment` (what its gather script would print). */
  report(node: Readonly<SimNode>, moment: GatherMoment, rng = new Rng(node.index)): GatherReport {
    const zones = zonesOf(node);
    const since = moment.since;
    const diagnostics =
      node.live ??
      diagnosticsOf(
        node.signals,
        {
          zones,
          watched: zones.filter((zone) => watchedOf(node).some((w) => w.node === zone.node && w.zone === zone.zone)),
          pageSize: node.pageSize,
          memTotalKb: node.memTotalKb,
          memAvailableKb: node.memAvailableKb,
        },
        Math.floor(moment.now.getTime() / 1000),
        since,
        rng,
      );
    return {
      host: node.host,
      kernel: node.kernel,
      pageSize: node.pageSize,
      memTotalKb: node.memTotalKb,
      memAvailableKb: node.memAvailableKb,
      ...diagnostics,
      zones,
    };
  }

  /**
   * Runs the remediate document on one node as the script does: prechecks (load, kcompactd, proactiveness) that may
   * hold the action back, a reading, the action (unless dry run), a settle, a second reading. This machine is never
   * acted on: its steps are `skipped`.
   */
  remediate(instanceId: string, request: RemediationRequest, live: GatherReport | null = null): NodeOutcome {
    const node = this.state.nodes.find((candidate) => candidate.instanceId === instanceId);
    if (node === undefined) return { kind: 'unreachable', state: 'Undeliverable' };
    if (node.profile === 'unreachable') return { kind: 'unreachable', state: node.unreachableAs };
    if (node.profile === 'garbage') {
      return {
        kind: 'ran',
        stdout: '',
        stderr: 'sh: 1: cannot create /proc/sys/vm/compact_memory: Permission denied\n',
        exitCode: 1,
      };
    }
    if (node.profile === 'this-host' && live !== null) adoptLive(node, live);
    const prechecks = prechecksOf(node, request);
    const blocked = prechecks.find((check) => check.result === 'skip');
    const before = zonesOf(node);
    const rng = new Rng(mixSeed(this.state.seed, node.index, this.state.commands, 0xa1));
    const steps: RemediationStep[] = [];
    const acting = blocked === undefined && !request.dryRun && node.profile !== 'this-host';
    const step = (name: string): void => {
      if (blocked !== undefined) steps.push({ name, result: 'skipped', reason: `precheck-${blocked.name}` });
      else steps.push({ name, result: request.dryRun ? 'dry-run' : acting ? 'ok' : 'skipped' });
    };
    const targets = node.zones.filter((zone) => request.numaNode === null || zone.node === request.numaNode);
    if (request.action === 'drop-caches' || request.action === 'drop-caches-and-compact') {
      step('sync');
      step('drop-caches');
      if (acting) for (const zone of node.zones) dropCaches(zone.freeBlocks, rng, node.profile !== 'low-memory');
    }
    if (request.action !== 'drop-caches') {
      // `compact` writes compact_memory; the others compact one NUMA node through its sysfs file when given one.
      step(request.action === 'compact' || request.numaNode === null ? 'compact' : 'compact-node');
      const zones = request.action === 'compact' ? node.zones : targets;
      if (acting && node.compactable) for (const zone of zones) compact(zone.freeBlocks, rng);
    }
    const report: RemediationReport = {
      host: node.host,
      pageSize: node.pageSize,
      action: request.action,
      numaNode: request.numaNode,
      dryRun: request.dryRun,
      prechecks,
      steps,
      before,
      settleSeconds: acting ? request.settleSeconds : 0,
      after: zonesOf(node),
    };
    return { kind: 'ran', stdout: formatRemediationReport(report), stderr: '', exitCode: 0 };
  }
}

const NO_FAILURES = { count: 0, orders: [0] } as const;

/** The orders workloads ask for that fail on a fragmented node (network buffers at 4, jumbo frames at 6). */
const FAILING_ORDERS = [4, 6] as const;

/** Chance that a node reboots between two gathers (kernel updates, spot replacements, crashes). */
const REBOOT_CHANCE = 0.002;

function zonesOf(node: Readonly<SimNode>): ZoneCounts[] {
  return node.zones.map((zone) => ({ node: zone.node, zone: zone.zone, freeBlocks: [...zone.freeBlocks] }));
}

/** What the node's counters do over the next interval: its profile, and whether the high orders are gone. */
function behaviourOf(node: Readonly<SimNode>, starved: boolean): CounterBehaviour {
  switch (node.profile) {
    case 'low-memory':
      return { compactStalls: 0.5, compactFailShare: 0.7, reclaimStalls: 25 };
    case 'unmovable':
      return { compactStalls: 12, compactFailShare: 0.97, reclaimStalls: 0.5 };
    case 'fragmenting':
    case 'sudden':
    case 'two-numa':
      // Compaction that moves nothing (a non-compactable node) fails more often, but not always: fleetscan's own
      // no-effect streak is what tells it apart there.
      return starved
        ? { compactStalls: 4, compactFailShare: node.compactable ? 0.5 : 0.8, reclaimStalls: 0 }
        : { compactStalls: 0.5, compactFailShare: 0.4, reclaimStalls: 0 };
    default:
      return QUIET;
  }
}

/** The remediate script's prechecks, on what the node shows now (see remediate.sh check_load & co). */
function prechecksOf(node: Readonly<SimNode>, request: RemediationRequest): Precheck[] {
  const signals = node.signals;
  const load = node.live?.load ?? { one: signals.loadPerCpu * signals.cpus, cpus: signals.cpus };
  const checks: Precheck[] = [
    {
      name: 'load',
      result: load.one > load.cpus * request.maxLoadPerCpu ? 'skip' : 'ok',
      observed: [load.one.toFixed(2), String(load.cpus), String(request.maxLoadPerCpu)],
    },
  ];
  if (request.action === 'drop-caches') return checks;
  const kcompactd = (
    node.live?.kcompactd ?? [...new Set(node.zones.map((zone) => zone.node))].map((n) => ({ node: n, state: 'S' }))
  ).filter((thread) => request.numaNode === null || thread.node === request.numaNode);
  checks.push({
    name: 'kcompactd',
    result:
      kcompactd.length === 0 ? 'unknown' : kcompactd.some((t) => t.state === 'R' || t.state === 'D') ? 'skip' : 'ok',
    observed: kcompactd.map((thread) => `${thread.node}:${thread.state}`),
  });
  const proactiveness = node.live?.sysctls?.compactionProactiveness ?? (node.live ? null : signals.proactiveness);
  checks.push({
    name: 'proactiveness',
    result: proactiveness !== null && proactiveness > request.maxProactiveness ? 'skip' : 'ok',
    observed: [proactiveness === null ? '-' : String(proactiveness), String(request.maxProactiveness)],
  });
  return checks;
}

/** This machine's node takes what this machine says (a name or kernel of the real host, its real counts). */
function adoptLive(node: SimNode, live: GatherReport): void {
  node.zones = live.zones.map((zone) => ({ node: zone.node, zone: zone.zone, freeBlocks: [...zone.freeBlocks] }));
  const { host, kernel, pageSize, memTotalKb, memAvailableKb, zones, ...diagnostics } = live;
  node.live = diagnostics;
  node.host = live.host;
  node.kernel = live.kernel;
  node.pageSize = live.pageSize;
  node.memTotalKb = live.memTotalKb ?? node.memTotalKb;
  node.memAvailableKb = live.memAvailableKb ?? node.memAvailableKb;
}

function garbageOutcome(node: SimNode, gatherNo: number): NodeOutcome {
  if (node.garbageAs === 'escapes') {
    // A login banner wrapper that prints escape sequences (title change, screen clear) instead of the report.
    return {
      kind: 'ran',
      stdout: `\u001b]0;owned by ${node.host}\u0007\u001b[2J\u001b[31mWARNING: unauthorized access prohibited\u001b[0m\nscan ${gatherNo}: motd plugin failed\n`,
      stderr: '',
      exitCode: 0,
    };
  }
  return {
    kind: 'ran',
    stdout: `fleetscan-gather 1\nhost ${node.host}\nkernel ${node.kernel}\n`,
    stderr: 'sh: 4: getconf: not found\nsh: 5: cannot open /proc/buddyinfo: Permission denied\n',
    exitCode: 2,
  };
}
