/**
 * Whether compaction can help a node, and the findings that come from the kernel's own counters. Pure; the policy
 * (lib/core/policy.ts) calls it with what the gather report and the node's previous scan say.
 *
 * Compaction migrates movable pages only. Its free scanner takes target pages from MOVABLE (and CMA) pageblocks and
 * its migrate scanner empties movable blocks (mm/compaction.c, suitable_migration_target and
 * suitable_migration_source); unmovable allocations live in their own pageblocks, and grouping pages by mobility
 * delays fragmentation without preventing it (KERNEL-FACTS.md). So when most of a zone's free memory sits on the
 * Unmovable and Reclaimable free lists (/proc/pagetypeinfo), compaction cannot turn it into large blocks: the node
 * needs draining or a reboot. Evidence that compaction cannot help, any one of which is enough:
 * - the share of a troubled zone's free memory in unmovable/reclaimable pageblocks is at or above
 *   futileUnmovablePercent (a lower bound when the kernel capped a free-list count, which keeps the call safe);
 * - the kernel's own direct compaction failed at least futileCompactFailPercent of at least minCompactStalls stalls
 *   since the previous scan (compact_fail / compact_stall deltas);
 * - fleetscan's own compactions of this node had no effect futileAfterNoEffect times in a row;
 * - the node is simply short of memory (MemAvailable below the low-memory threshold).
 * canHelp is true when /proc/pagetypeinfo was read and shows the troubled zones' free memory mostly movable, with none
 * of the above; null when there is not enough evidence either way (a v1 report, no pagetypeinfo, first scan).
 */
import type { ZoneCounts } from './buddyinfo.ts';
import { contigInfo } from './metrics.ts';
import { allocstalls, type CounterRates } from './rates.ts';
import type { Pagetypes } from './report.ts';

export interface DiagnosisThresholds {
  /** Share (%) of a zone's free memory in Unmovable+Reclaimable pageblocks at or above which compaction cannot help. */
  readonly futileUnmovablePercent: number;
  /** compact_fail as a share (%) of compact_stall since the previous scan at or above which compaction is futile... */
  readonly futileCompactFailPercent: number;
  /** ...once at least this many direct compaction stalls happened since the previous scan. */
  readonly minCompactStalls: number;
  /** Direct compaction stalls per minute since the previous scan from which `compaction-stalling` is reported. */
  readonly compactStallsPerMinute: number;
  /** Direct reclaim stalls (allocstall*) per minute since the previous scan from which `reclaim-pressure` is reported. */
  readonly reclaimStallsPerMinute: number;
  /** fleetscan compactions in a row without effect after which compaction is judged futile on the node. */
  readonly futileAfterNoEffect: number;
  /**
   * Reclaimable memory (MemAvailable − MemFree) as a share (%) of MemTotal from which drop-caches is chosen when a
   * lack of free memory, not fragmentation, is what blocks the watched order.
   */
  readonly dropCachesMinReclaimablePercent: number;
}

export const DEFAULT_DIAGNOSIS: DiagnosisThresholds = {
  futileUnmovablePercent: 50,
  futileCompactFailPercent: 90,
  minCompactStalls: 10,
  compactStallsPerMinute: 1,
  reclaimStallsPerMinute: 10,
  futileAfterNoEffect: 2,
  dropCachesMinReclaimablePercent: 10,
};

/** The migrate types compaction can neither empty nor use as targets, as /proc/pagetypeinfo names them. */
export const IMMOVABLE_TYPES = ['Unmovable', 'Reclaimable'] as const;

export interface ZoneMobility {
  readonly node: number;
  readonly zone: string;
  /** Free pages of the zone (buddyinfo: exact). */
  readonly freePages: number;
  /** Free pages on the Unmovable free lists. */
  readonly unmovablePages: number;
  /** Free pages on the Reclaimable free lists. */
  readonly reclaimablePages: number;
  /** (unmovable + reclaimable) / free, in whole percent (at most 100). */
  readonly immovablePercent: number;
  /** True when a count the share rests on was capped by the kernel: the share is then a lower bound. */
  readonly lowerBound: boolean;
}

/** How much of a zone's free memory compaction cannot use; null without pagetypeinfo for the zone. */
export function zoneMobility(zone: ZoneCounts, pagetypes: Pagetypes | null): ZoneMobility | null {
  const entry = pagetypes?.zones.find((z) => z.node === zone.node && z.zone === zone.zone);
  const free = entry?.freePages;
  if (entry === undefined || free === null || free === undefined) return null;
  const freePages = Number(contigInfo(zone.freeBlocks, 0).freePages);
  if (freePages === 0) return null;
  const unmovablePages = free.Unmovable ?? 0;
  const reclaimablePages = free.Reclaimable ?? 0;
  return {
    node: zone.node,
    zone: zone.zone,
    freePages,
    unmovablePages,
    reclaimablePages,
    immovablePercent: Math.min(100, Math.floor(((unmovablePages + reclaimablePages) * 100) / freePages)),
    lowerBound: IMMOVABLE_TYPES.some((type) => entry.cappedTypes.includes(type)),
  };
}

export interface CompactionOutlook {
  /** true: compaction can help; false: it cannot (do not compact: drain or reboot); null: not enough evidence. */
  readonly canHelp: boolean | null;
  /** The evidence, one sentence each, the deciding ones first. */
  readonly reasons: string[];
}

export interface OutlookInput {
  /** The zones the verdict watches (after its DMA32 fallback). */
  readonly watchedZones: readonly ZoneCounts[];
  /** `node/zone` of the watched zones that have a finding; when none has, all watched zones are judged. */
  readonly troubled: ReadonlySet<string>;
  readonly pagetypes: Pagetypes | null;
  readonly rates: CounterRates | null;
  /** fleetscan compactions of this node in a row that had no effect (from its state). */
  readonly noEffectStreak: number;
  /** The node is short of memory (the policy's low-available-memory finding). */
  readonly lowMemory: boolean;
}

const where = (m: { node: number; zone: string }) => `node ${m.node} ${m.zone}`;

/** Whether compaction can help this node, with the evidence; see the module comment. */
export function compactionOutlook(
  input: OutlookInput,
  thresholds: DiagnosisThresholds = DEFAULT_DIAGNOSIS,
): CompactionOutlook {
  const against: string[] = [];
  const forIt: string[] = [];
  if (input.lowMemory) against.push('the node is short of memory, not fragmented: compaction cannot create free pages');

  const judged = input.watchedZones.filter(
    (z) => input.troubled.size === 0 || input.troubled.has(`${z.node}/${z.zone}`),
  );
  const mobility = judged.map((zone) => zoneMobility(zone, input.pagetypes));
  for (const m of mobility) {
    if (m === null) continue;
    const share = `${m.lowerBound ? 'at least ' : ''}${m.immovablePercent}%`;
    if (m.immovablePercent >= thresholds.futileUnmovablePercent) {
      against.push(
        `${share} of ${where(m)}'s free memory is in unmovable/reclaimable pageblocks, which compaction cannot empty or fill`,
      );
    } else {
      forIt.push(`${share} of ${where(m)}'s free memory is in unmovable/reclaimable pageblocks: the rest is movable`);
    }
  }
  const known = mobility.filter((m) => m !== null).length;

  const stalls = input.rates?.deltas.compact_stall;
  const fails = input.rates?.deltas.compact_fail;
  if (stalls !== undefined && fails !== undefined && stalls >= thresholds.minCompactStalls) {
    const percent = Math.floor((Math.max(0, fails) * 100) / stalls);
    const text =
      `the kernel's direct compaction failed ${fails} of ${stalls} times ${input.rates?.note ?? ''} (${percent}%)`.replace(
        ' ()',
        '',
      );
    if (percent >= thresholds.futileCompactFailPercent) against.push(text);
    else forIt.push(text);
  }

  if (input.noEffectStreak >= thresholds.futileAfterNoEffect) {
    against.push(`fleetscan's last ${input.noEffectStreak} compactions of this node had no effect`);
  }

  if (against.length > 0) return { canHelp: false, reasons: [...against, ...forIt] };
  if (known > 0 && known === judged.length) return { canHelp: true, reasons: forIt };
  const missing =
    input.pagetypes === null ? 'no /proc/pagetypeinfo in the report' : 'pagetypeinfo lacks the watched zones';
  return { canHelp: null, reasons: [`not enough evidence: ${missing}`, ...forIt] };
}

export interface CounterFinding {
  readonly code: 'compaction-stalling' | 'reclaim-pressure';
  readonly perMinute: number;
  readonly delta: number;
  readonly message: string;
}

/** compaction-stalling and reclaim-pressure, from the counters' rates since the previous scan. */
export function counterFindings(
  rates: CounterRates | null,
  thresholds: DiagnosisThresholds = DEFAULT_DIAGNOSIS,
): CounterFinding[] {
  if (rates === null || rates.elapsedSeconds === null) return [];
  const out: CounterFinding[] = [];
  const stalls = rates.deltas.compact_stall;
  const stallRate = rates.perMinute.compact_stall;
  if (stalls !== undefined && stallRate !== undefined && stalls > 0 && stallRate >= thresholds.compactStallsPerMinute) {
    const failed = rates.deltas.compact_fail;
    out.push({
      code: 'compaction-stalling',
      perMinute: stallRate,
      delta: stalls,
      message: `direct compaction stalled allocations ${stalls} times ${rates.note} (${stallRate.toFixed(1)}/min${failed === undefined ? '' : `, ${failed} failed`}): the workload is paying for fragmentation now`,
    });
  }
  const reclaim = allocstalls(rates.deltas);
  if (reclaim !== null && reclaim > 0 && rates.elapsedSeconds > 0) {
    const perMinute = (reclaim * 60) / rates.elapsedSeconds;
    if (perMinute >= thresholds.reclaimStallsPerMinute) {
      out.push({
        code: 'reclaim-pressure',
        perMinute,
        delta: reclaim,
        message: `direct reclaim stalled allocations ${reclaim} times ${rates.note} (${perMinute.toFixed(1)}/min): kswapd is not keeping up`,
      });
    }
  }
  return out;
}
