/**
 * Realistic node reports for the simulated fleet, printed with the project's own formatters so the simulator
 * speaks exactly what the gather and remediate scripts print.
 */
import type { ZoneCounts } from '../../../lib/core/buddyinfo.ts';
import {
  formatGatherReport,
  formatRemediationReport,
  type GatherReport,
  type RemediationAction,
  type StepResult,
} from '../../../lib/core/report.ts';
import type { Rng } from './rng.ts';

/** What a node's memory looks like: the condition a gather reports and a remediation may change. */
export type MemoryCondition = 'healthy' | 'fragmented' | 'low-memory';

const ORDERS = 11;

function ranged(rng: Rng, ranges: readonly (readonly [number, number])[]): number[] {
  return ranges.map(([min, max]) => rng.int(min, max));
}

/** Counts for a zone with plenty of high-order blocks: every watched order is served (policy OK). */
function healthyCounts(rng: Rng): number[] {
  return ranged(rng, [
    [500, 3000],
    [300, 1500],
    [200, 800],
    [100, 400],
    [60, 200],
    [30, 100],
    [20, 60],
    [10, 40],
    [5, 20],
    [2, 10],
    [50, 400],
  ]);
}

/**
 * Lots of small blocks, nothing from order 5 up and a handful at order 4: an order-6 request fails with a
 * fragmentation index near 1000 (the kernel would compact), order 4 is nearly out — a breach.
 */
function fragmentedCounts(rng: Rng): number[] {
  return [
    ...ranged(rng, [
      [20_000, 40_000],
      [10_000, 25_000],
      [5000, 10_000],
      [2000, 6000],
      [0, 8],
    ]),
    ...new Array<number>(ORDERS - 5).fill(0),
  ];
}

/** Almost nothing free: failing orders are lack of memory, not fragmentation (compaction cannot help). */
function lowMemoryCounts(rng: Rng): number[] {
  return [
    ...ranged(rng, [
      [40, 200],
      [10, 50],
      [0, 10],
      [0, 2],
    ]),
    ...new Array<number>(ORDERS - 4).fill(0),
  ];
}

const DMA: readonly number[] = [1, 0, 1, 0, 2, 1, 1, 0, 1, 1, 3];

function dma32Counts(rng: Rng): number[] {
  return ranged(rng, [
    [80, 7000],
    [100, 5000],
    [50, 2500],
    [20, 1000],
    [10, 400],
    [5, 150],
    [2, 60],
    [0, 14],
    [0, 4],
    [0, 4],
    [0, 500],
  ]);
}

/** Zones as /proc/buddyinfo lists them for a 1–N NUMA-node x86-64 host in `condition`. */
export function zonesFor(condition: MemoryCondition, numaNodes: number, rng: Rng, extraZones = false): ZoneCounts[] {
  const normal = (): number[] =>
    condition === 'healthy'
      ? healthyCounts(rng)
      : condition === 'fragmented'
        ? fragmentedCounts(rng)
        : lowMemoryCounts(rng);
  const zones: ZoneCounts[] = [
    { node: 0, zone: 'DMA', freeBlocks: DMA },
    { node: 0, zone: 'DMA32', freeBlocks: dma32Counts(rng) },
    { node: 0, zone: 'Normal', freeBlocks: normal() },
  ];
  for (let node = 1; node < numaNodes; node += 1) {
    zones.push({ node, zone: 'Normal', freeBlocks: normal() });
    if (extraZones) zones.push({ node, zone: 'Movable', freeBlocks: healthyCounts(rng) });
  }
  return zones;
}

export interface HostFacts {
  readonly host: string;
  readonly kernel: string;
  readonly pageSize: number;
  readonly memTotalKb: number;
}

/** A gather report as the gather script prints it for a host in `condition`. */
export function gatherReport(
  facts: HostFacts,
  condition: MemoryCondition,
  zones: ZoneCounts[],
  rng: Rng,
): GatherReport {
  const available =
    condition === 'low-memory'
      ? Math.floor(facts.memTotalKb * (rng.int(5, 30) / 1000))
      : Math.floor(facts.memTotalKb * (rng.int(200, 700) / 1000));
  return {
    host: facts.host,
    kernel: facts.kernel,
    pageSize: facts.pageSize,
    memTotalKb: facts.memTotalKb,
    memAvailableKb: available,
    allocFailures:
      condition === 'fragmented' ? { count: rng.int(1, 40), maxOrder: rng.int(4, 6) } : { count: 0, maxOrder: null },
    zones,
  };
}

/** `v2`: version 2's fields (kernel signals, failures since the previous scan), printed as the gather script does. */
export function printGather(
  facts: HostFacts,
  condition: MemoryCondition,
  zones: ZoneCounts[],
  rng: Rng,
  v2?: Partial<GatherReport>,
): string {
  return formatGatherReport({ ...gatherReport(facts, condition, zones, rng), ...v2 });
}

export interface RemediationRun {
  readonly action: RemediationAction;
  readonly numaNode: number | null;
  readonly dryRun: boolean;
  readonly before: ZoneCounts[];
  readonly after: ZoneCounts[];
  readonly stepResult: StepResult;
}

const STEPS: Record<RemediationAction, readonly string[]> = {
  'drop-caches': ['sync', 'drop-caches'],
  compact: ['compact'],
  'compact-node': ['compact-node'],
  'drop-caches-and-compact': ['sync', 'drop-caches', 'compact'],
};

export function printRemediation(facts: HostFacts, run: RemediationRun): string {
  return formatRemediationReport({
    host: facts.host,
    pageSize: facts.pageSize,
    action: run.action,
    numaNode: run.numaNode,
    dryRun: run.dryRun,
    steps: STEPS[run.action].map((name) => ({ name, result: run.stepResult })),
    before: run.before,
    after: run.after,
  });
}
