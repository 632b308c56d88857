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
  type GatherReport,
  type RemediationAction,
  type RemediationReport,
  type StepResult,
} from '../core/report.ts';
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
  'fragmenting',
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
];

const X86_KERNELS = ['6.1.119-129.201.amzn2023.x86_64', '5.10.228-219.884.amzn2.x86_64', '6.8.0-1019-aws'];
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
  allocFailures: AllocFailures | null;
  zones: SimZone[];
  readonly tags: Readonly<Record<string, string>>;
  /** False where compaction finds nothing movable: a remediation with no effect. */
  readonly compactable: boolean;
  /** The gather (0-based) at which a `sudden` node loses its high orders. */
  readonly suddenAt: number;
  readonly unreachableAs: 'Undeliverable' | 'DeliveryTimedOut';
  readonly garbageAs: 'escapes' | 'failing-script';
}

export interface FleetState {
  readonly version: 1;
  readonly seed: number;
  /** Gathers performed so far (drift is a function of seed, node and this number). */
  gathers: number;
  /** Commands sent so far (command ids derive from it). */
  commands: number;
  readonly nodes: SimNode[];
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
    // A few nodes do not let the gather read the kernel log.
    allocFailures: rng.chance(0.1) ? null : { count: 0, maxOrder: null },
    zones,
    tags: {
      [targetTag.key]: targetTag.value,
      Name: host.split('.')[0] ?? host,
      ...(optedOut ? { [optOutTag.key]: optOutTag.value } : {}),
    },
    compactable: profile === 'this-host' || profile === 'low-memory' ? false : !rng.chance(0.25),
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
    return new SimulatedFleet({ version: 1, seed, gathers: 0, commands: 0, nodes });
  }

  /** A fleet saved by {@link toJSON}. */
  static fromJSON(value: unknown): SimulatedFleet {
    const state = value as Partial<FleetState> | null;
    if (state === null || typeof state !== 'object' || state.version !== 1 || !Array.isArray(state.nodes)) {
      throw new Error('not a saved fleetscan demo fleet');
    }
    return new SimulatedFleet(structuredClone(state as FleetState));
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
   * One gather across the given nodes: every node's free lists move on by one scan interval, then each answers.
   * `live` is this machine's reading for node 0 (null: keep its synthetic stand-in).
   */
  gather(instanceIds: readonly string[], live: GatherReport | null = null): Map<string, NodeOutcome> {
    const gatherNo = this.state.gathers;
    this.state.gathers += 1;
    const wanted = new Set(instanceIds);
    const out = new Map<string, NodeOutcome>();
    for (const node of this.state.nodes) {
      if (!wanted.has(node.instanceId)) continue;
      this.drift(node, gatherNo, live);
      out.set(node.instanceId, this.answerGather(node, gatherNo));
    }
    return out;
  }

  private drift(node: SimNode, gatherNo: number, live: GatherReport | null): void {
    const rng = new Rng(mixSeed(this.state.seed, node.index, gatherNo, 0xd1));
    if (node.profile === 'this-host') {
      if (live !== null) {
        adoptLive(node, live);
        return;
      }
    }
    if (gatherNo === 0 && node.profile !== 'sudden') return;
    for (const zone of node.zones) jitter(zone.freeBlocks, rng, node.profile === 'low-memory' ? 0.05 : 0.08);
    switch (node.profile) {
      case 'fragmenting':
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
    if ((node.profile === 'fragmenting' || node.profile === 'sudden') && node.allocFailures !== null) {
      const starved = watchedOf(node).every((zone) => zone.freeBlocks.slice(4).every((count) => count === 0));
      if (starved) {
        node.allocFailures = { count: node.allocFailures.count + rng.int(1, 12), maxOrder: rng.pick([4, 6]) };
      }
    }
  }

  private answerGather(node: SimNode, gatherNo: number): NodeOutcome {
    if (node.profile === 'unreachable') return { kind: 'unreachable', state: node.unreachableAs };
    if (node.profile === 'garbage') return garbageOutcome(node, gatherNo);
    return { kind: 'ran', stdout: formatGatherReport(this.report(node)), stderr: '', exitCode: 0 };
  }

  /** The node's current gather report (what its gather script would print). */
  report(node: Readonly<SimNode>): GatherReport {
    return {
      host: node.host,
      kernel: node.kernel,
      pageSize: node.pageSize,
      memTotalKb: node.memTotalKb,
      memAvailableKb: node.memAvailableKb,
      allocFailures: node.allocFailures,
      zones: node.zones.map((zone) => ({ node: zone.node, zone: zone.zone, freeBlocks: [...zone.freeBlocks] })),
    };
  }

  /**
   * Runs the remediate document on one node: re-read, act (unless dry run), re-read, report both.
   * This machine is never acted on: its steps are `skipped`.
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
    const before = this.report(node).zones;
    const rng = new Rng(mixSeed(this.state.seed, node.index, this.state.commands, 0xa1));
    const steps: { name: string; result: StepResult }[] = [];
    const acting = !request.dryRun && node.profile !== 'this-host';
    const result: StepResult = request.dryRun ? 'dry-run' : acting ? 'ok' : 'skipped';
    const targets = node.zones.filter((zone) => request.numaNode === null || zone.node === request.numaNode);
    if (request.action === 'drop-caches' || request.action === 'drop-caches-and-compact') {
      steps.push({ name: 'sync', result }, { name: 'drop-caches', result });
      if (acting) for (const zone of node.zones) dropCaches(zone.freeBlocks, rng, node.profile !== 'low-memory');
    }
    if (request.action === 'compact' || request.action === 'drop-caches-and-compact') {
      steps.push({ name: 'compact', result });
      if (acting && node.compactable) for (const zone of node.zones) compact(zone.freeBlocks, rng);
    }
    if (request.action === 'compact-node') {
      steps.push({ name: 'compact-node', result });
      if (acting && node.compactable) for (const zone of targets) compact(zone.freeBlocks, rng);
    }
    const report: RemediationReport = {
      host: node.host,
      pageSize: node.pageSize,
      action: request.action,
      numaNode: request.numaNode,
      dryRun: request.dryRun,
      steps,
      before,
      after: this.report(node).zones,
    };
    return { kind: 'ran', stdout: formatRemediationReport(report), stderr: '', exitCode: 0 };
  }
}

/** This machine's node takes what this machine says (a name or kernel of the real host, its real counts). */
function adoptLive(node: SimNode, live: GatherReport): void {
  node.zones = live.zones.map((zone) => ({ node: zone.node, zone: zone.zone, freeBlocks: [...zone.freeBlocks] }));
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
