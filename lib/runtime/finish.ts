/**
 * A scan's own work, once its shards are collected (or whenever the sweep finds it due): settling shards whose
 * command was never bound, and when every shard is finished — COMPLETED or given up — remediating the scan's
 * candidates within one budget, completing the scan (COMPLETED, or INCOMPLETE with the reason and what was
 * collected kept), sending one summary through the outbox, and sealing its records into the node history.
 * Idempotent and safe to run concurrently: the last two shards to finish may both get here.
 *
 * A finished scan found due again only has leftovers: remediations an earlier collection wrote but did not send
 * (remediate.ts, finishUnsent), a summary still in the outbox, sealing not done yet.
 */
import { METRIC_NAMES, nodesMetric } from '../config/contracts.ts';
import type { FleetscanConfig } from '../config/types.ts';
import { sanitizeText } from '../core/sanitize.ts';
import { settlePlannedShards } from './adopt.ts';
import { MAX_LISTED_NODES, type ScanSummaryInput, scanSummary, shouldNotifyScan } from './notify.ts';
import { publishOnce } from './outbox.ts';
import type { Deadline, RemediationRecord, RuntimeDeps, ScanRecord, SeverityCounts, ShardRecord } from './ports.ts';
import { finishUnsent, startRemediations } from './remediate.ts';
import { sumTallies } from './tallies.ts';

/** Candidates read back for remediation, worst first: many times any budget, so eligibility filtering has room. */
const CANDIDATE_LIMIT = 1000;
/** Sealing stops this long before the deadline and hands the rest to a fresh invocation. */
const SEAL_MARGIN_MS = 5_000;

export interface ScanWork {
  readonly scanId: string;
  /**
   * completed / incomplete: this call finished the scan (and notified); already-completed: it was finished before
   * (this call only did leftovers); completed-elsewhere: a concurrent call finished it first; waiting: shards are
   * still being collected; unknown-scan: no such scan.
   */
  readonly status:
    | 'completed'
    | 'incomplete'
    | 'already-completed'
    | 'completed-elsewhere'
    | 'waiting'
    | 'unknown-scan';
  readonly nodes: number;
  readonly counts: SeverityCounts;
  readonly worstUnusableIndex: number | null;
  /** Remediations this call started. */
  readonly remediations: readonly RemediationRecord[];
  /** This call published the scan's summary. */
  readonly notified: boolean;
  /** The scan's records are in the node history. */
  readonly sealed: boolean;
}

const NONE: SeverityCounts = { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };

function why(shards: readonly ShardRecord[], missing: number, total: number): string | undefined {
  const given = shards.filter((shard) => shard.status === 'INCOMPLETE');
  const parts = given.map((shard) => `shard ${shard.shard + 1} of ${total}: ${shard.reason ?? 'given up'}`);
  if (missing > 0) parts.push(`${missing} shard record(s) were never written`);
  return parts.length === 0 ? undefined : sanitizeText(parts.join('; '), 500);
}

export async function finishScan(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scanId: string,
  options: { readonly deadline?: Deadline } = {},
): Promise<ScanWork> {
  const deadline = options.deadline ?? (() => Number.POSITIVE_INFINITY);
  const scan = await deps.store.scans.getScan(scanId);
  if (scan === null) {
    return {
      scanId,
      status: 'unknown-scan',
      nodes: 0,
      counts: NONE,
      worstUnusableIndex: null,
      remediations: [],
      notified: false,
      sealed: false,
    };
  }
  if (scan.status !== 'RUNNING') return leftovers(deps, config, scan, deadline);

  let shards = await deps.store.scans.listShards(scanId);
  if (await settlePlannedShards(deps, config, scan, shards)) shards = await deps.store.scans.listShards(scanId);
  const total = scan.shards ?? 1;
  const tallies = sumTallies(shards.map((shard) => shard.tallies));
  const base = { scanId, nodes: tallies.nodes, counts: tallies.counts, worstUnusableIndex: tallies.worstUnusableIndex };
  if (shards.some((shard) => shard.status === 'RUNNING' || shard.status === 'PLANNED')) {
    return { ...base, status: 'waiting', remediations: [], notified: false, sealed: false };
  }

  const missing = Math.max(0, total - shards.length);
  const incompleteReason = why(shards, missing, total);
  const candidates = await deps.store.records.candidates(scanId, total, CANDIDATE_LIMIT);
  const { started, notRemediated } = await startRemediations(deps, config, scan, candidates);
  if (tallies.candidates > candidates.length) {
    notRemediated['over budget'] = (notRemediated['over budget'] ?? 0) + tallies.candidates - candidates.length;
  }
  const problems = await deps.store.records.listProblemNodes(scanId, { limit: MAX_LISTED_NODES }, total);
  // From the store, not this call: remediations a crashed earlier attempt or a concurrent duplicate started count too.
  const summary: ScanSummaryInput = {
    scanId,
    requestedAt: scan.requestedAt,
    targets: scan.targets,
    counts: tallies.counts,
    nodes: tallies.nodes,
    worstUnusableIndex: tallies.worstUnusableIndex,
    problems: problems.items,
    problemCount: tallies.counts.WARN + tallies.counts.CRITICAL + tallies.counts.ERROR,
    remediations: await deps.store.remediations.listScanRemediations(scanId),
    notRemediated,
    ...(incompleteReason === undefined ? {} : { incompleteReason }),
  };
  const notify = shouldNotifyScan(summary);
  const status = incompleteReason === undefined ? 'COMPLETED' : 'INCOMPLETE';
  const completed = await deps.store.scans.completeScan(scanId, {
    status,
    completedAt: deps.clock.now().toISOString(),
    counts: tallies.counts,
    nodes: tallies.nodes,
    worstUnusableIndex: tallies.worstUnusableIndex,
    notify,
    notRemediated,
    ...(incompleteReason === undefined ? {} : { incompleteReason }),
  });
  deps.logger?.info('scan finished', {
    scanId,
    status,
    shards: total,
    nodes: tallies.nodes,
    counts: tallies.counts,
    remediations: started.length,
    completedHere: completed,
    ...(incompleteReason === undefined ? {} : { incompleteReason }),
  });
  if (!completed) {
    return { ...base, status: 'completed-elsewhere', remediations: started, notified: false, sealed: false };
  }
  deps.metrics?.add(status === 'COMPLETED' ? METRIC_NAMES.scansCompleted : METRIC_NAMES.scansIncomplete, 'Count', 1);
  deps.metrics?.add(METRIC_NAMES.nodesScanned, 'Count', tallies.nodes);
  for (const [name, count] of Object.entries(tallies.counts)) {
    deps.metrics?.add(nodesMetric(name as keyof SeverityCounts), 'Count', count);
  }
  if (tallies.worstUnusableIndex !== null) {
    deps.metrics?.add(METRIC_NAMES.worstUnusableIndex, 'None', tallies.worstUnusableIndex);
  }
  deps.metrics?.add(METRIC_NAMES.remediations, 'Count', started.length);

  // Throws when SNS fails: the summary stays in the outbox and the retry (or the sweep) publishes it.
  const notified = notify ? await publishOnce(deps, { kind: 'scan', scanId }, () => scanSummary(summary)) : false;
  const sealed = await sealScan(deps, scanId, deadline);
  return {
    ...base,
    status: status === 'COMPLETED' ? 'completed' : 'incomplete',
    remediations: started,
    notified,
    sealed,
  };
}

async function leftovers(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scan: ScanRecord,
  deadline: Deadline,
): Promise<ScanWork> {
  const remediations = await finishUnsent(
    deps,
    config,
    scan.scanId,
    await deps.store.remediations.listScanRemediations(scan.scanId),
  );
  const notified = scan.notification === 'pending' ? await publishStoredSummary(deps, scan) : false;
  const sealed = scan.sealed === true || (await sealScan(deps, scan.scanId, deadline));
  return {
    scanId: scan.scanId,
    status: 'already-completed',
    nodes: scan.nodes ?? 0,
    counts: scan.counts ?? NONE,
    worstUnusableIndex: scan.worstUnusableIndex ?? null,
    remediations,
    notified,
    sealed,
  };
}

/**
 * Seals a finished scan's records into the node history, as far as the deadline allows; the rest goes to a fresh
 * invocation (and, should that never come, to the sweep: the scan stays due until sealed).
 */
export async function sealScan(deps: RuntimeDeps, scanId: string, deadline: Deadline): Promise<boolean> {
  const scan = await deps.store.scans.getScan(scanId);
  if (scan === null || scan.status === 'RUNNING') return false;
  if (scan.sealed === true) return true;
  const result = await deps.store.records.seal(scan, scan.seal ?? null, () => deadline() - SEAL_MARGIN_MS);
  if (result.done) {
    await deps.store.scans.markSealed(scanId, result.progress);
    return true;
  }
  await deps.store.scans.saveSealProgress(scanId, result.progress);
  await deps.trigger.trigger({ kind: 'scan', scanId });
  deps.logger?.info('sealing handed off', { scanId, next: result.progress.next, bits: result.progress.bits });
  return false;
}

/**
 * Publishes a finished scan's summary still in the outbox, rebuilt from the store: the scan item (counts, why
 * nodes were not remediated), the worst problem records, every remediation the scan started.
 */
function publishStoredSummary(deps: RuntimeDeps, scan: ScanRecord): Promise<boolean> {
  return publishOnce(deps, { kind: 'scan', scanId: scan.scanId }, async () => {
    const counts = scan.counts ?? NONE;
    const problems = await deps.store.records.listProblemNodes(
      scan.scanId,
      { limit: MAX_LISTED_NODES },
      scan.shards ?? 1,
    );
    return scanSummary({
      scanId: scan.scanId,
      requestedAt: scan.requestedAt,
      targets: scan.targets,
      counts,
      nodes: scan.nodes ?? 0,
      worstUnusableIndex: scan.worstUnusableIndex ?? null,
      problems: problems.items,
      problemCount: counts.WARN + counts.CRITICAL + counts.ERROR,
      remediations: await deps.store.remediations.listScanRemediations(scan.scanId),
      notRemediated: scan.notRemediated ?? {},
      ...(scan.incompleteReason === undefined ? {} : { incompleteReason: scan.incompleteReason }),
    });
  });
}
