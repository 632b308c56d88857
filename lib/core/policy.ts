/**
 * The threshold policy: from a host's zones (and what else the gather report says) to OK / WARN / CRITICAL,
 * the reasons, and the cause. Pure; the previous consecutive-breach count comes in, the new one goes out.
 *
 * Per watched zone and watched order k, with S = suitable blocks, U = unusable free space index and
 * FI = fragmentation index (thousandths):
 * - S = 0: an order-k allocation cannot be served from the free lists — a breach. The kernel's own rule
 *   (vm.extfrag_threshold, 500) names the cause: FI > threshold means fragmentation (compaction can help),
 *   otherwise lack of memory.
 * - 0 < S < minSuitableBlocks: nearly out — a warning even though FI is −1000 (the trap where U reads 0.999
 *   but one large block remains); a breach when U is also at or above criticalUnusableIndex.
 * - U ≥ warnUnusableIndex: most free memory sits in blocks too small for order k — a warning.
 * A breach becomes CRITICAL only after `consecutiveBreachesForCritical` breaching scans in a row (hysteresis);
 * before that it is a WARN that says how many more it takes. Low available memory (MemAvailable below
 * lowMemoryPercent of MemTotal) makes the cause `low-memory` whatever the indices say: compaction cannot help.
 *
 * With a version-2 gather report the verdict also says whether compaction can help (lib/core/diagnosis.ts: the
 * share of free memory in unmovable/reclaimable pageblocks, compact_fail/compact_stall since the previous scan,
 * fleetscan's previous no-effect compactions), reports `compaction-futile` (do not compact: drain or reboot),
 * `compaction-stalling` and `reclaim-pressure` from the counters' rates, and `known-kernel-issue` when the kernel
 * release and the failures' call sites match a known case (lib/core/known-cases.ts). These are warnings, never
 * breaches: they explain a breach and change what is done about it, they do not make one.
 */
import type { ZoneCounts } from './buddyinfo.ts';
import {
  type CompactionOutlook,
  compactionOutlook,
  counterFindings,
  DEFAULT_DIAGNOSIS,
  type DiagnosisThresholds,
} from './diagnosis.ts';
import { type KnownCaseMatch, matchKnownCases } from './known-cases.ts';
import { contigInfo, formatThousandths, fragmentationIndex, unusableFreeIndex } from './metrics.ts';
import type { CounterRates } from './rates.ts';
import type { AllocFailures, Pagetypes } from './report.ts';

export type Level = 'OK' | 'WARN' | 'CRITICAL';
export type Cause = 'fragmentation' | 'low-memory';

export const LEVELS: readonly Level[] = ['OK', 'WARN', 'CRITICAL'];

export interface Thresholds {
  /** Orders whose allocations matter (default 4 and 6: mysqld failed at 4, runc's netns at 6). */
  readonly orders: readonly number[];
  /** Zones to judge (default Normal); when none is present, DMA32 is judged instead. */
  readonly zones: readonly string[];
  /** Unusable free space index (thousandths) at which a watched order warns. */
  readonly warnUnusableIndex: number;
  /** Unusable free space index (thousandths) that, with few suitable blocks left, is a breach. */
  readonly criticalUnusableIndex: number;
  /** Fewer suitable blocks than this at a watched order warns. */
  readonly minSuitableBlocks: number;
  /** The kernel's vm.extfrag_threshold: above it a failing order is fragmentation, at or below lack of memory. */
  readonly extfragThreshold: number;
  /** Consecutive breaching scans before CRITICAL (1 = at once). */
  readonly consecutiveBreachesForCritical: number;
  /** MemAvailable below this percentage of MemTotal means low memory. */
  readonly lowMemoryPercent: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  orders: [4, 6],
  zones: ['Normal'],
  warnUnusableIndex: 900,
  criticalUnusableIndex: 975,
  minSuitableBlocks: 16,
  extfragThreshold: 500,
  consecutiveBreachesForCritical: 2,
  lowMemoryPercent: 5,
};

export type FindingCode =
  | 'no-suitable-block'
  | 'few-suitable-blocks'
  | 'high-unusable-index'
  | 'allocation-failures'
  | 'low-available-memory'
  | 'compaction-futile'
  | 'compaction-stalling'
  | 'reclaim-pressure'
  | 'known-kernel-issue';

export interface Finding {
  readonly code: FindingCode;
  /** Whether this finding counts as a breach (can become CRITICAL). */
  readonly breach: boolean;
  readonly cause: Cause | null;
  readonly node: number | null;
  readonly zone: string | null;
  readonly order: number | null;
  readonly suitableBlocks: number | null;
  readonly unusableIndex: number | null;
  readonly fragmentationIndex: number | null;
  readonly message: string;
}

export interface Verdict {
  readonly level: Level;
  readonly cause: Cause | null;
  /** One sentence per finding, worst first. */
  readonly reasons: string[];
  readonly findings: Finding[];
  /** Whether this scan breached (before hysteresis). */
  readonly breach: boolean;
  /** The breach count to store for the next scan: previous + 1 on a breach, else 0. */
  readonly consecutiveBreaches: number;
  /** Zones the verdict judged (after the DMA32 fallback). */
  readonly watchedZones: string[];
  /** NUMA nodes with a fragmentation breach: where per-node compaction would act. */
  readonly fragmentedNumaNodes: number[];
  /** Highest unusable index over the watched zones and orders (thousandths); null when nothing was watched. */
  readonly worstUnusableIndex: number | null;
  /** Highest fragmentation index over the watched zones and orders (thousandths). */
  readonly worstFragmentationIndex: number | null;
  /** Whether compaction can help this node (null: not enough evidence, e.g. a v1 report or no pagetypeinfo). */
  readonly compaction: CompactionOutlook;
  /** Known kernel cases the node's kernel and failures match. */
  readonly knownIssues: KnownCaseMatch[];
  /** What an operator should do instead of compacting, when compacting is not the answer; null otherwise. */
  readonly recommendation: string | null;
}

export interface PolicyInput {
  readonly zones: readonly ZoneCounts[];
  readonly memTotalKb?: number | null;
  readonly memAvailableKb?: number | null;
  readonly allocFailures?: AllocFailures | null;
  /** Consecutive breaching scans before this one (from the node's state). */
  readonly previousBreaches?: number;
  /** `uname -r`: matched against the known kernel cases. */
  readonly kernel?: string;
  /** /proc/pagetypeinfo from a v2 report; null or absent when not read. */
  readonly pagetypes?: Pagetypes | null;
  /** The node's counters since its previous scan (lib/core/rates.ts); null or absent for a first scan or v1. */
  readonly rates?: CounterRates | null;
  /** fleetscan compactions of this node in a row that had no effect (from its state). */
  readonly noEffectStreak?: number;
}

/** Watched zones present on the host; DMA32 where none is (a small VM without a Normal zone). */
export function watchedZones(zones: readonly ZoneCounts[], thresholds: Thresholds): string[] {
  const present = new Set(zones.map((zone) => zone.zone));
  const watched = thresholds.zones.filter((zone) => present.has(zone));
  if (watched.length > 0) return watched;
  return present.has('DMA32') ? ['DMA32'] : [];
}

function zoneFindings(zone: ZoneCounts, thresholds: Thresholds): Finding[] {
  const findings: Finding[] = [];
  for (const order of thresholds.orders) {
    if (order >= zone.freeBlocks.length) continue;
    const info = contigInfo(zone.freeBlocks, order);
    const suitable = Number(info.suitableBlocks);
    const unusable = unusableFreeIndex(info, order);
    const frag = fragmentationIndex(info, order);
    const where = { node: zone.node, zone: zone.zone, order, suitableBlocks: suitable };
    const indices = { unusableIndex: unusable, fragmentationIndex: frag };
    const at = `node ${zone.node} ${zone.zone} order ${order}`;
    if (suitable === 0) {
      const cause: Cause = frag > thresholds.extfragThreshold ? 'fragmentation' : 'low-memory';
      findings.push({
        code: 'no-suitable-block',
        breach: true,
        cause,
        ...where,
        ...indices,
        message: `${at}: no free block of order ≥${order} (unusable ${formatThousandths(unusable)}, fragmentation index ${formatThousandths(frag)}: ${cause})`,
      });
    } else if (suitable < thresholds.minSuitableBlocks) {
      const breach = unusable >= thresholds.criticalUnusableIndex;
      findings.push({
        code: 'few-suitable-blocks',
        breach,
        cause: unusable >= thresholds.warnUnusableIndex ? 'fragmentation' : 'low-memory',
        ...where,
        ...indices,
        message: `${at}: only ${suitable} free block${suitable === 1 ? '' : 's'} of order ≥${order} left (unusable ${formatThousandths(unusable)})`,
      });
    } else if (unusable >= thresholds.warnUnusableIndex) {
      findings.push({
        code: 'high-unusable-index',
        breach: false,
        cause: 'fragmentation',
        ...where,
        ...indices,
        message: `${at}: unusable free space index ${formatThousandths(unusable)} (${suitable} suitable blocks left)`,
      });
    }
  }
  return findings;
}

const NO_PLACE = {
  node: null,
  zone: null,
  order: null,
  suitableBlocks: null,
  unusableIndex: null,
  fragmentationIndex: null,
} as const;

function severityOf(finding: Finding): number {
  const codeRank: Record<FindingCode, number> = {
    'no-suitable-block': 4,
    'few-suitable-blocks': 3,
    'allocation-failures': 2,
    'high-unusable-index': 1,
    'compaction-futile': 1,
    'known-kernel-issue': 1,
    'compaction-stalling': 1,
    'reclaim-pressure': 1,
    'low-available-memory': 0,
  };
  return (finding.breach ? 10 : 0) + codeRank[finding.code];
}

const DRAIN_OR_REBOOT =
  'do not compact: drain the node (move its workloads away) or reboot it; compaction cannot move the unmovable pages that keep its free memory in small blocks';

/** Judges one host. */
export function evaluate(
  input: PolicyInput,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
  diagnosis: DiagnosisThresholds = DEFAULT_DIAGNOSIS,
): Verdict {
  const watched = watchedZones(input.zones, thresholds);
  const judged = input.zones.filter((zone) => watched.includes(zone.zone));
  const findings = judged.flatMap((zone) => zoneFindings(zone, thresholds));
  const troubled = new Set(findings.map((finding) => `${finding.node}/${finding.zone}`));

  const minOrder = Math.min(...thresholds.orders);
  const alloc = input.allocFailures;
  if (alloc && alloc.count > 0 && alloc.maxOrder !== null && alloc.maxOrder >= minOrder) {
    findings.push({
      code: 'allocation-failures',
      breach: false,
      cause: null,
      ...NO_PLACE,
      order: alloc.maxOrder,
      message: `kernel log shows ${alloc.count} page allocation failure${alloc.count === 1 ? '' : 's'}, up to order ${alloc.maxOrder}`,
    });
  }

  const total = input.memTotalKb ?? null;
  const available = input.memAvailableKb ?? null;
  const lowMemory =
    total !== null && available !== null && total > 0 && available * 100 < total * thresholds.lowMemoryPercent;
  if (lowMemory) {
    findings.push({
      code: 'low-available-memory',
      breach: false,
      cause: 'low-memory',
      ...NO_PLACE,
      message: `MemAvailable is ${((available * 100) / total).toFixed(1)}% of MemTotal (below ${thresholds.lowMemoryPercent}%): compaction cannot help`,
    });
  }

  const compaction = compactionOutlook(
    {
      watchedZones: judged,
      troubled,
      pagetypes: input.pagetypes ?? null,
      rates: input.rates ?? null,
      noEffectStreak: input.noEffectStreak ?? 0,
      lowMemory,
    },
    diagnosis,
  );
  const knownIssues = matchKnownCases(input.kernel ?? '', alloc ?? null);
  let recommendation: string | null = null;
  if (compaction.canHelp === false && troubled.size > 0 && !lowMemory) {
    recommendation = DRAIN_OR_REBOOT;
    findings.push({
      code: 'compaction-futile',
      breach: false,
      cause: 'fragmentation',
      ...NO_PLACE,
      message: `compaction cannot help: ${compaction.reasons[0] ?? ''}; drain or reboot the node`,
    });
  }
  for (const known of knownIssues) {
    recommendation = known.advice;
    findings.push({
      code: 'known-kernel-issue',
      breach: false,
      cause: null,
      ...NO_PLACE,
      order: alloc?.maxOrder ?? null,
      message: `known case ${known.id} (${known.evidence}): ${known.advice}`,
    });
  }
  for (const counter of counterFindings(input.rates ?? null, diagnosis)) {
    findings.push({ code: counter.code, breach: false, cause: null, ...NO_PLACE, message: counter.message });
  }

  findings.sort((a, b) => severityOf(b) - severityOf(a));
  const breach = findings.some((finding) => finding.breach);
  const previous = input.previousBreaches ?? 0;
  const consecutiveBreaches = breach ? previous + 1 : 0;
  const level: Level = breach
    ? consecutiveBreaches >= thresholds.consecutiveBreachesForCritical
      ? 'CRITICAL'
      : 'WARN'
    : findings.length > 0
      ? 'WARN'
      : 'OK';

  const reasons = findings.map((finding) => finding.message);
  if (breach && level === 'WARN') {
    const more = thresholds.consecutiveBreachesForCritical - consecutiveBreaches;
    reasons.push(
      `breach ${consecutiveBreaches} of ${thresholds.consecutiveBreachesForCritical}: CRITICAL after ${more} more`,
    );
  }

  const worst = findings.find((finding) => finding.cause !== null);
  const cause: Cause | null = level === 'OK' ? null : lowMemory ? 'low-memory' : (worst?.cause ?? null);
  const fragmentedNumaNodes = [
    ...new Set(
      findings
        .filter((finding) => finding.breach && finding.cause === 'fragmentation' && finding.node !== null)
        .map((finding) => finding.node as number),
    ),
  ].sort((a, b) => a - b);

  const indices = judged.flatMap((zone) =>
    thresholds.orders
      .filter((order) => order < zone.freeBlocks.length)
      .map((order) => {
        const info = contigInfo(zone.freeBlocks, order);
        return { unusable: unusableFreeIndex(info, order), frag: fragmentationIndex(info, order) };
      }),
  );
  return {
    level,
    cause,
    reasons,
    findings,
    breach,
    consecutiveBreaches,
    watchedZones: watched,
    fragmentedNumaNodes,
    worstUnusableIndex: indices.length === 0 ? null : Math.max(...indices.map((i) => i.unusable)),
    worstFragmentationIndex: indices.length === 0 ? null : Math.max(...indices.map((i) => i.frag)),
    compaction,
    knownIssues,
    recommendation: recommendation ?? (lowMemory && breach ? LOW_MEMORY_ADVICE : null),
  };
}

const LOW_MEMORY_ADVICE =
  'the node is short of memory, not fragmented: reduce what runs on it or give it more memory; compaction and drop_caches cannot help';
