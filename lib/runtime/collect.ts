/**
 * Collecting a finished command: the collect Lambda's logic, and what `fleetscan demo` calls directly.
 *
 *   const deps: RuntimeDeps = { gateway, store, notifier, optOut, clock, logger?, metrics?, sleep? };
 *   await collectGather(deps, config, gatherCommandId);        // scanId = the gather command's id
 *   await collectRemediation(deps, config, remediateCommandId);
 *   await collect(deps, config, { kind: 'gather' | 'remediate', commandId });   // dispatch by kind
 *
 * collectGather streams the command's invocations page by page (50 outputs at most in memory), records every
 * targeted node — judged, or ERROR with the reason — evaluates the policy against each node's previous state,
 * remediates the eligible CRITICAL nodes, completes the scan and sends one summary. It is idempotent: records are
 * keyed (scan, node), state updates and claims are conditional, completion is conditional on RUNNING.
 *
 * The summary goes through the outbox (outbox.ts): completeScan writes it `pending` in the same conditional write
 * that completes the scan, and the collection that completed it publishes it under the outbox lease. If publishing
 * fails, the collection throws (the event is retried) and the summary stays pending; a collection of a COMPLETED
 * scan — the retry, a duplicate event, or the sweep (a pending summary is on the due list) — rebuilds it from the
 * store (the scan item, its problem nodes from the sparse index, its remediations) and publishes it. The same
 * collection of a COMPLETED scan also finishes the scan's remediations left unsent (remediate.ts, finishUnsent).
 */

import { METRIC_NAMES, nodesMetric } from '../config/contracts.ts';
import type { FleetscanConfig } from '../config/types.ts';
import { evaluate } from '../core/policy.ts';
import { parseGatherReport } from '../core/report.ts';
import { errorRecord, invocationError, judgedRecord, type RecordContext, readReport } from './evaluation.ts';
import { MAX_LISTED_NODES, type ScanSummaryInput, scanSummary, shouldNotifyScan } from './notify.ts';
import { publishOnce } from './outbox.ts';
import type {
  CommandKind,
  Invocation,
  NodeRecord,
  NodeState,
  RemediationRecord,
  RuntimeDeps,
  ScanRecord,
  SeverityCounts,
  VerdictUpdate,
} from './ports.ts';
import {
  collectAfter,
  collectRemediation,
  finishUnsent,
  type RemediationCandidate,
  type RemediationCollection,
  startRemediations,
} from './remediate.ts';

export { collectRemediation, type RemediationCollection } from './remediate.ts';

export interface GatherCollection {
  readonly scanId: string;
  /**
   * completed: this call completed the scan (and notified); already-completed: the scan was completed before (this
   * call only finished leftovers: unsent remediations, a summary still in the outbox); completed-elsewhere: a
   * concurrent collection completed it first (this one's writes were identical).
   */
  readonly status: 'completed' | 'already-completed' | 'completed-elsewhere';
  readonly nodes: number;
  readonly counts: SeverityCounts;
  readonly worstUnusableIndex: number | null;
  /** Remediations this call started. */
  readonly remediations: readonly RemediationRecord[];
  /** This call published the scan's summary. */
  readonly notified: boolean;
}

export interface CollectOptions {
  /** The command's requested time (the event's `requested-date-time`), for a scan fleetscan has no record of. */
  readonly requestedAt?: string;
}

/** What the collect handler receives once decoded (from an SSM status event or the sweep). */
export interface CollectRequest extends CollectOptions {
  readonly kind: CommandKind;
  readonly commandId: string;
}

export function collect(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  request: CollectRequest,
): Promise<GatherCollection | RemediationCollection> {
  return request.kind === 'gather'
    ? collectGather(deps, config, request.commandId, request)
    : collectRemediation(deps, config, request.commandId);
}

class ScanTally {
  readonly counts = { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };
  nodes = 0;
  worstUnusableIndex: number | null = null;
  /** Non-OK records only: what the summary lists. Small (≤ 1 KB each), so keeping them is fine. */
  readonly problems: NodeRecord[] = [];
  readonly candidates: RemediationCandidate[] = [];
  readonly seen = new Set<string>();

  add(record: NodeRecord): void {
    this.nodes += 1;
    this.counts[record.status] += 1;
    if (record.worstUnusableIndex !== null) {
      this.worstUnusableIndex = Math.max(
        this.worstUnusableIndex ?? record.worstUnusableIndex,
        record.worstUnusableIndex,
      );
    }
    if (record.status !== 'OK') this.problems.push(record);
  }
}

async function findOrCreateScan(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
  options: CollectOptions,
) {
  const existing = await deps.store.getScan(commandId);
  if (existing !== null) return existing;
  // A command of our document that no scan record knows: sent by hand, or the scan Lambda failed right after
  // SendCommand. Its nodes are recorded all the same.
  const requestedAt = options.requestedAt ?? deps.clock.now().toISOString();
  const scan: ScanRecord = {
    scanId: commandId,
    commandId,
    requestedAt,
    collectAfter: collectAfter(new Date(requestedAt), config),
    status: 'RUNNING',
    targets: 'unknown (no scan record; command sent outside the scan function)',
  };
  await deps.store.createScan(scan);
  deps.logger?.warn('collecting a gather command without a scan record', { commandId });
  return (await deps.store.getScan(commandId)) ?? scan;
}

/** The breach count a verdict starts from, and whether this node's state may take the verdict. */
function previousOf(state: NodeState | undefined, scan: ScanRecord) {
  if (state === undefined) return { previous: 0, folded: false, superseded: false };
  // Re-collection of the same scan: start from what the first collection started from, so it agrees.
  if (state.lastScanId === scan.scanId) return { previous: state.previousBreaches, folded: true, superseded: false };
  const superseded = state.lastScanAt !== null && state.lastScanAt > scan.requestedAt;
  return { previous: state.consecutiveBreaches, folded: false, superseded };
}

/** Full-output fetches (GetCommandInvocation) in flight per page: rare, but a fleet of wide hosts needs them all. */
const FULL_OUTPUT_CONCURRENCY = 4;

/** Maps with at most `limit` calls in flight, results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function collectPage(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scan: ScanRecord,
  page: readonly Invocation[],
  tally: ScanTally,
): Promise<void> {
  const fresh = page.filter((invocation) => !tally.seen.has(invocation.instanceId));
  for (const invocation of fresh) tally.seen.add(invocation.instanceId);
  if (fresh.length === 0) return;
  const states = await deps.store.getNodeStates(fresh.map((invocation) => invocation.instanceId));
  const context: RecordContext = { scanId: scan.scanId, at: scan.requestedAt, retentionDays: config.retentionDays };
  const records: NodeRecord[] = [];
  const updates: VerdictUpdate[] = [];

  const reads = await mapLimited(fresh, FULL_OUTPUT_CONCURRENCY, (invocation) =>
    invocation.terminal && invocation.state === 'Success'
      ? readReport(deps.gateway, scan.commandId, invocation, parseGatherReport)
      : Promise.resolve(null),
  );
  for (const [index, invocation] of fresh.entries()) {
    const state = states.get(invocation.instanceId);
    const { previous, folded, superseded } = previousOf(state, scan);
    const read = reads[index];
    if (!invocation.terminal) {
      records.push(errorRecord(context, invocation, `invocation still ${invocation.state} when collected`, previous));
      continue;
    }
    if (invocation.state !== 'Success' || read === null || read === undefined) {
      records.push(errorRecord(context, invocation, invocationError(invocation), previous));
      continue;
    }
    if (!read.ok) {
      records.push(errorRecord(context, invocation, read.error, previous));
      continue;
    }
    const { report } = read;
    const verdict = evaluate(
      {
        zones: report.zones,
        memTotalKb: report.memTotalKb,
        memAvailableKb: report.memAvailableKb,
        allocFailures: report.allocFailures,
        previousBreaches: previous,
      },
      config.thresholds,
    );
    records.push(judgedRecord(context, invocation, report, verdict, config.thresholds));
    // A node that never breached needs no state item: absent means zero.
    const changes = verdict.consecutiveBreaches !== 0 || (state?.consecutiveBreaches ?? 0) !== 0;
    if (!folded && !superseded && changes) {
      updates.push({
        nodeId: invocation.instanceId,
        scanId: scan.scanId,
        at: scan.requestedAt,
        previousBreaches: previous,
        consecutiveBreaches: verdict.consecutiveBreaches,
      });
    }
    // A newer scan has judged this node since: this one's data is too old to act on.
    if (verdict.level === 'CRITICAL' && verdict.cause === 'fragmentation' && !superseded) {
      tally.candidates.push({
        nodeId: invocation.instanceId,
        worstUnusableIndex: verdict.worstUnusableIndex,
        fragmentedNumaNodes: verdict.fragmentedNumaNodes,
      });
    }
  }

  await deps.store.putNodeRecords(records);
  await Promise.all(updates.map((update) => deps.store.recordVerdict(update)));
  for (const record of records) tally.add(record);
}

/**
 * Collects a finished gather command (scanId = commandId): see the module comment. Throws only for
 * infrastructure failures (the store, the listing); one node's broken output becomes that node's ERROR record.
 */
export async function collectGather(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
  options: CollectOptions = {},
): Promise<GatherCollection> {
  const scan = await findOrCreateScan(deps, config, commandId, options);
  if (scan.status === 'COMPLETED') {
    deps.logger?.info('scan already collected', { scanId: scan.scanId });
    const remediations = await finishUnsent(
      deps,
      config,
      scan.scanId,
      await deps.store.listScanRemediations(scan.scanId),
    );
    const notified = scan.notification === 'pending' ? await publishStoredSummary(deps, scan) : false;
    return {
      scanId: scan.scanId,
      status: 'already-completed',
      nodes: scan.nodes ?? 0,
      counts: scan.counts ?? { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 },
      worstUnusableIndex: scan.worstUnusableIndex ?? null,
      remediations,
      notified,
    };
  }

  const tally = new ScanTally();
  let pages = 0;
  for await (const page of deps.gateway.listInvocations(commandId)) {
    pages += 1;
    await collectPage(deps, config, scan, page, tally);
  }
  if (tally.nodes === 0) deps.logger?.warn('gather command reached no node', { scanId: scan.scanId });

  const { started, notRemediated } = await startRemediations(deps, config, scan, tally.candidates);
  // From the store, not this call: remediations a crashed earlier attempt or a concurrent duplicate started count too.
  const summary: ScanSummaryInput = {
    scanId: scan.scanId,
    requestedAt: scan.requestedAt,
    targets: scan.targets,
    counts: tally.counts,
    nodes: tally.nodes,
    worstUnusableIndex: tally.worstUnusableIndex,
    problems: tally.problems,
    remediations: await deps.store.listScanRemediations(scan.scanId),
    notRemediated,
  };
  const notify = shouldNotifyScan(summary);
  const completed = await deps.store.completeScan(scan.scanId, {
    completedAt: deps.clock.now().toISOString(),
    counts: tally.counts,
    nodes: tally.nodes,
    worstUnusableIndex: tally.worstUnusableIndex,
    notify,
    notRemediated,
  });
  const result = {
    scanId: scan.scanId,
    nodes: tally.nodes,
    counts: { ...tally.counts },
    worstUnusableIndex: tally.worstUnusableIndex,
    remediations: started,
  };
  deps.logger?.info('scan collected', {
    scanId: scan.scanId,
    pages,
    nodes: tally.nodes,
    counts: tally.counts,
    remediations: started.length,
    completedHere: completed,
  });
  if (!completed) return { ...result, status: 'completed-elsewhere', notified: false };

  deps.metrics?.add(METRIC_NAMES.scansCompleted, 'Count', 1);
  deps.metrics?.add(METRIC_NAMES.nodesScanned, 'Count', tally.nodes);
  for (const [status, count] of Object.entries(tally.counts))
    deps.metrics?.add(nodesMetric(status as keyof SeverityCounts), 'Count', count);
  if (tally.worstUnusableIndex !== null)
    deps.metrics?.add(METRIC_NAMES.worstUnusableIndex, 'None', tally.worstUnusableIndex);
  deps.metrics?.add(METRIC_NAMES.remediations, 'Count', started.length);

  if (!notify) return { ...result, status: 'completed', notified: false };
  // Throws when SNS fails: the summary stays in the outbox and the retried event publishes it.
  const notified = await publishOnce(deps, { kind: 'scan', scanId: scan.scanId }, () => scanSummary(summary));
  return { ...result, status: 'completed', notified };
}

/**
 * Publishes a completed scan's summary still in the outbox, rebuilt from the store: the scan item (counts, why
 * nodes were not remediated), the worst problem nodes from the sparse index (in the summary's own order), every
 * remediation the scan started. The index is eventually consistent: a rebuild within a moment of the records being
 * written could list fewer nodes; the counts, from the scan item, are exact.
 */
function publishStoredSummary(deps: RuntimeDeps, scan: ScanRecord): Promise<boolean> {
  return publishOnce(deps, { kind: 'scan', scanId: scan.scanId }, async () => {
    const counts = scan.counts ?? { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };
    const problems = await deps.store.listProblemNodes(scan.scanId, { limit: MAX_LISTED_NODES });
    return scanSummary({
      scanId: scan.scanId,
      requestedAt: scan.requestedAt,
      targets: scan.targets,
      counts,
      nodes: scan.nodes ?? 0,
      worstUnusableIndex: scan.worstUnusableIndex ?? null,
      problems: problems.items,
      problemCount: counts.WARN + counts.CRITICAL + counts.ERROR,
      remediations: await deps.store.listScanRemediations(scan.scanId),
      notRemediated: scan.notRemediated ?? {},
    });
  });
}
