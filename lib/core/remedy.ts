/**
 * What to do about a node, and whether what was done worked. Pure: the runtime (lib/runtime/remediate.ts) calls
 * `chooseAction` with a node's verdict and report when it picks candidates, and `judgeEffect` with the remediation
 * report a node sent back.
 *
 * The action follows the evidence, within the actions the configured policy allows:
 * - nothing, with a recommendation, when compaction cannot help (drain or reboot), when a known kernel case explains
 *   the failures (upgrade), or when the node is simply short of memory;
 * - `drop-caches` when reclaimable page cache is what blocks the order: the watched order fails for lack of free
 *   memory (fragmentation index at or below vm.extfrag_threshold, so the kernel itself would reclaim, not compact)
 *   while MemAvailable − MemFree, what the kernel could reclaim, is a large share of MemTotal;
 * - `drop-caches-and-compact` (writes 3: page cache and slab, then compacts) when free memory sits in Reclaimable
 *   pageblocks: freeing slab empties them, which compaction alone cannot do;
 * - `compact-node` when one NUMA node is fragmented (and movable), `compact` otherwise.
 */
import type { ZoneCounts } from './buddyinfo.ts';
import { DEFAULT_DIAGNOSIS, type DiagnosisThresholds, zoneMobility } from './diagnosis.ts';
import { contigInfo, formatThousandths, mergeCounts, unusableFreeIndex } from './metrics.ts';
import { type Thresholds, type Verdict, watchedZones } from './policy.ts';
import type { Pagetypes, RemediationAction, RemediationReport } from './report.ts';

export interface ActionChoice {
  /** The action to send, or null: do nothing (see recommendation). */
  readonly action: RemediationAction | null;
  /** The NUMA node for compact-node (and the compaction of drop-caches-and-compact); null for all of them. */
  readonly numaNode: number | null;
  /** Why this action (or none), one sentence. */
  readonly reason: string;
  /** What an operator should do instead, when no action is chosen; null otherwise. */
  readonly recommendation: string | null;
}

/** The actions a configured `remediation.action` allows: itself, and `compact` for `compact-node` (node unknown). */
export function allowedActionsFor(configured: RemediationAction): RemediationAction[] {
  return configured === 'compact-node' ? ['compact-node', 'compact'] : [configured];
}

export interface ChooseInput {
  readonly verdict: Verdict;
  readonly report: {
    readonly zones: readonly ZoneCounts[];
    readonly memTotalKb?: number | null;
    readonly memAvailableKb?: number | null;
    readonly memFreeKb?: number | null;
    readonly pagetypes?: Pagetypes | null;
  };
  /** What the configured policy allows (e.g. {@link allowedActionsFor}, or `remediation.allowedActions`). */
  readonly allowed: readonly RemediationAction[];
  readonly thresholds: Thresholds;
  readonly diagnosis?: DiagnosisThresholds;
}

const none = (reason: string, recommendation: string | null): ActionChoice => ({
  action: null,
  numaNode: null,
  reason,
  recommendation,
});

/** Picks the action for a node from its verdict and report; see the module comment. */
export function chooseAction(input: ChooseInput): ActionChoice {
  const { verdict, report, allowed, thresholds } = input;
  const diagnosis = input.diagnosis ?? DEFAULT_DIAGNOSIS;
  const may = (action: RemediationAction) => allowed.includes(action);
  if (verdict.level === 'OK') return none('the node is OK', null);
  const known = verdict.knownIssues[0];
  if (known !== undefined) {
    return none(`a known kernel case explains the failures (${known.id}, ${known.evidence})`, known.advice);
  }
  if (verdict.findings.some((f) => f.code === 'low-available-memory')) {
    return none('the node is short of memory, not fragmented', verdict.recommendation);
  }

  const watched = watchedZones(report.zones, thresholds);
  const troubled = report.zones.filter(
    (zone) => watched.includes(zone.zone) && verdict.findings.some((f) => f.node === zone.node && f.zone === zone.zone),
  );
  const mobility = troubled.map((zone) => zoneMobility(zone, report.pagetypes ?? null)).filter((m) => m !== null);
  const reclaimableBlocked = mobility.some(
    (m) => m.reclaimablePages > m.unmovablePages && m.immovablePercent >= diagnosis.futileUnmovablePercent / 2,
  );

  if (verdict.compaction.canHelp === false) {
    if (reclaimableBlocked && may('drop-caches-and-compact')) {
      return {
        action: 'drop-caches-and-compact',
        numaNode: verdict.fragmentedNumaNodes.length === 1 ? (verdict.fragmentedNumaNodes[0] ?? null) : null,
        reason: 'free memory sits in reclaimable (slab) pageblocks: freeing slab first can empty them',
        recommendation: null,
      };
    }
    return none(`compaction cannot help: ${verdict.compaction.reasons[0] ?? ''}`, verdict.recommendation);
  }

  const lackOfMemory = verdict.findings.some((f) => f.breach && f.cause === 'low-memory');
  const total = report.memTotalKb ?? null;
  const available = report.memAvailableKb ?? null;
  const free = report.memFreeKb ?? null;
  const reclaimablePercent =
    total !== null && available !== null && free !== null && total > 0 ? ((available - free) * 100) / total : null;
  if (lackOfMemory && verdict.fragmentedNumaNodes.length === 0) {
    const cache = reclaimablePercent !== null && reclaimablePercent >= diagnosis.dropCachesMinReclaimablePercent;
    if (cache && may('drop-caches')) {
      return {
        action: 'drop-caches',
        numaNode: null,
        reason: `the watched order fails for lack of free memory while ${(reclaimablePercent ?? 0).toFixed(0)}% of memory is reclaimable page cache`,
        recommendation: null,
      };
    }
    return none(
      'the watched order fails for lack of free memory, not fragmentation: compaction cannot help',
      cache
        ? 'allow drop-caches (fleetscan:remediation.allowedActions) to free the reclaimable page cache, or free memory on the node'
        : 'free memory on the node: little of it is reclaimable cache',
    );
  }
  if (reclaimableBlocked && may('drop-caches-and-compact')) {
    return {
      action: 'drop-caches-and-compact',
      numaNode: verdict.fragmentedNumaNodes.length === 1 ? (verdict.fragmentedNumaNodes[0] ?? null) : null,
      reason:
        'much of the free memory sits in reclaimable (slab) pageblocks: freeing slab first lets compaction build blocks',
      recommendation: null,
    };
  }
  const nodes = verdict.fragmentedNumaNodes;
  const single = nodes.length === 1 ? (nodes[0] ?? null) : null;
  if (single !== null && may('compact-node')) {
    return {
      action: 'compact-node',
      numaNode: single,
      reason: `only NUMA node ${single} is fragmented`,
      recommendation: null,
    };
  }
  if (may('compact')) {
    const reason =
      nodes.length > 1 ? `NUMA nodes ${nodes.join(', ')} are fragmented` : 'the watched zones are fragmented';
    return { action: 'compact', numaNode: null, reason, recommendation: null };
  }
  if (nodes.length > 0 && may('compact-node')) {
    const worst = nodes[0] ?? 0;
    return {
      action: 'compact-node',
      numaNode: worst,
      reason: `NUMA node ${worst} first (compact is not allowed)`,
      recommendation: null,
    };
  }
  return none(
    `no allowed action (${allowed.join(', ') || 'none'}) fits this node`,
    'allow compact or compact-node in fleetscan:remediation.allowedActions to let fleetscan act on it',
  );
}

/* ---- judging the effect ---- */

/** improved and no-effect as before; worse: fewer blocks and a higher index; skipped: a pre-check held it back. */
export type JudgedEffect = 'improved' | 'no-effect' | 'worse' | 'skipped' | 'dry-run' | 'failed';

export interface OrderState {
  /** Free blocks of the order or larger (merged over the watched zones of the acted node(s)). */
  readonly suitableBlocks: number;
  /** Unusable free space index of the merged counts, thousandths. */
  readonly unusableIndex: number;
}

export interface EffectJudgement {
  readonly effect: JudgedEffect;
  /** Whether this outcome counts towards the action's no-effect streak (no-effect and worse do). */
  readonly countsAsNoEffect: boolean;
  /** The watched order judged; null when nothing could be measured. */
  readonly order: number | null;
  readonly before: OrderState | null;
  readonly after: OrderState | null;
  readonly reason: string;
}

function stateAt(zones: readonly ZoneCounts[], order: number): OrderState {
  const info = contigInfo(mergeCounts(zones), order);
  return { suitableBlocks: Number(info.suitableBlocks), unusableIndex: unusableFreeIndex(info, order) };
}

function measured(report: RemediationReport, zones: readonly ZoneCounts[], thresholds: Thresholds): ZoneCounts[] {
  const watched = watchedZones(report.before, thresholds);
  return zones.filter((z) => watched.includes(z.zone) && (report.numaNode === null || z.node === report.numaNode));
}

/**
 * Judges one remediation from its report, on the watched order's suitable blocks AND unusable index together,
 * merged over the watched zones of the NUMA node acted on (all nodes for numa=all):
 * - improved: neither got worse and at least one got better;
 * - worse: fewer blocks and a higher index;
 * - no-effect: no change, or a mixed one (blocks rose while the index got worse: drop-caches freeing small pages);
 * so that each action's no-effect streak can trigger. `order` defaults to the watched order whose index was worst
 * before acting (the highest such order on a tie).
 */
export function judgeEffect(report: RemediationReport, thresholds: Thresholds, order?: number): EffectJudgement {
  const failed = report.steps.find((step) => step.result === 'failed');
  const base = { order: null, before: null, after: null } as const;
  if (failed !== undefined)
    return { ...base, effect: 'failed', countsAsNoEffect: false, reason: `step ${failed.name} failed` };
  const held = report.steps.find((step) => step.result === 'skipped' && step.reason?.startsWith('precheck-'));
  if (held !== undefined) {
    return { ...base, effect: 'skipped', countsAsNoEffect: false, reason: `held back by ${held.reason} on the node` };
  }
  if (report.dryRun)
    return { ...base, effect: 'dry-run', countsAsNoEffect: false, reason: 'dry run: nothing was written' };
  const before = measured(report, report.before, thresholds);
  const after = measured(report, report.after, thresholds);
  const width = Math.max(0, ...before.map((z) => z.freeBlocks.length));
  const orders = thresholds.orders.filter((o) => o < width);
  if (before.length === 0 || after.length === 0 || orders.length === 0) {
    return { ...base, effect: 'failed', countsAsNoEffect: false, reason: 'report has no watched zone to measure' };
  }
  const judged =
    order ??
    orders.reduce((worst, o) => (stateAt(before, o).unusableIndex >= stateAt(before, worst).unusableIndex ? o : worst));
  const b = stateAt(before, judged);
  const a = stateAt(after, judged);
  const moreBlocks = a.suitableBlocks > b.suitableBlocks;
  const fewerBlocks = a.suitableBlocks < b.suitableBlocks;
  const lowerIndex = a.unusableIndex < b.unusableIndex;
  const higherIndex = a.unusableIndex > b.unusableIndex;
  const change = `order ${judged}: ${b.suitableBlocks} → ${a.suitableBlocks} blocks, unusable ${formatThousandths(b.unusableIndex)} → ${formatThousandths(a.unusableIndex)}`;
  const judge = (effect: JudgedEffect, why: string): EffectJudgement => ({
    effect,
    countsAsNoEffect: effect === 'no-effect' || effect === 'worse',
    order: judged,
    before: b,
    after: a,
    reason: `${why} (${change})`,
  });
  if ((moreBlocks || lowerIndex) && !fewerBlocks && !higherIndex) return judge('improved', 'improved');
  if (fewerBlocks && higherIndex) return judge('worse', 'worse');
  if (moreBlocks && higherIndex)
    return judge('no-effect', 'mixed: more blocks, but a larger share of free memory is unusable');
  if (fewerBlocks && lowerIndex) return judge('no-effect', 'mixed: a lower index, but fewer blocks');
  return judge('no-effect', 'no change');
}
