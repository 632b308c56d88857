/**
 * Remediation: choosing, claiming and sending (startRemediations, called by collectGather), and measuring the
 * outcome when the remediate command finishes (collectRemediation).
 *
 * Why budget, cooldown and duplicates are safe — the argument:
 *
 * 1. The node claim comes first. `claimNode` is one conditional UpdateItem on the node's state: it succeeds only
 *    if this scan has not claimed the node (lastRemediationScanId <> scan), the last remediation is older than the
 *    cooldown cutoff, and the node is not blocked. DynamoDB serializes conditional writes on one item, so among
 *    any number of duplicate or concurrent collectors (of this scan or of overlapping scans) at most one wins a
 *    given node per cooldown period.
 * 2. Only a claim winner takes a budget slot: `ADD remediations 1` on the scan item, conditional on
 *    `remediations < max`. Each slot therefore belongs to a distinct node claimed by this scan, and the counter
 *    never exceeds max. Slots are never given back, so the counter only grows: once a slot is refused, every
 *    later attempt of this scan would be refused too, and the collector stops trying.
 * 3. A winner whose slot is refused puts the node's claim back (conditional on the claim still being its own).
 *    No slot is taken before a claim, so a failed claim can never leak a slot. A crash between the two steps
 *    leaves a claimed node without a slot (the node waits out one cooldown unremediated) or a slot whose claim
 *    was not put back — both err towards fewer remediations, never more. Exactly min(max, eligible) nodes are
 *    remediated when nothing crashes, whatever the interleaving, because refusals happen only at max.
 * 4. The command is sent after both conditions hold; a collector that fails to claim never sends. A failure
 *    after SendCommand and before the records are written loses the record, not the guarantee: the retry's
 *    claims fail, so nothing is sent twice.
 */

import type { FleetscanConfig, RemediationPolicy } from '../config/types.ts';
import type { Thresholds } from '../core/policy.ts';
import { parseRemediationReport, type RemediationAction, type RemediationReport } from '../core/report.ts';
import { sanitizeText } from '../core/sanitize.ts';
import { invocationError, MAX_ERROR_LENGTH, readReport, watchedIndices } from './evaluation.ts';
import { remediationOutcome } from './notify.ts';
import type {
  Invocation,
  NodeClaim,
  RemediationCommandRecord,
  RemediationEffect,
  RemediationRecord,
  RuntimeDeps,
  WatchedIndex,
} from './ports.ts';

/** Explicit instance ids per SendCommand (the API's limit). */
export const MAX_INSTANCES_PER_COMMAND = 50;
/** Time past the command's own timeouts before the sweep collects it without its event. */
export const COLLECT_MARGIN_SECONDS = 120;

export interface RemediationCandidate {
  readonly nodeId: string;
  readonly worstUnusableIndex: number | null;
  /** NUMA nodes with a fragmentation breach (the verdict's fragmentedNumaNodes). */
  readonly fragmentedNumaNodes: readonly number[];
}

export interface RemediationPlan {
  readonly action: RemediationAction;
  readonly numaNode: number | null;
}

/**
 * What to do on one node. Exactly one fragmented NUMA node: compact that node alone (compact-node; or
 * drop-caches-and-compact restricted to it when that is the configured action) — cheaper and gentler than
 * compacting everything. Otherwise the configured action on all nodes; compact-node without a single node to
 * name falls back to compact. drop-caches is never escalated to compaction.
 */
export function planRemediation(
  policy: Pick<RemediationPolicy, 'action'>,
  fragmentedNumaNodes: readonly number[],
): RemediationPlan {
  const [only] = fragmentedNumaNodes;
  const single = fragmentedNumaNodes.length === 1 && only !== undefined ? only : null;
  switch (policy.action) {
    case 'compact':
    case 'compact-node':
      return single === null ? { action: 'compact', numaNode: null } : { action: 'compact-node', numaNode: single };
    case 'drop-caches-and-compact':
      return { action: 'drop-caches-and-compact', numaNode: single };
    case 'drop-caches':
      return { action: 'drop-caches', numaNode: null };
  }
}

export function remediationId(scanId: string, nodeId: string): string {
  return `${scanId}:${nodeId}`;
}

/** When a command's completion is overdue: its delivery and execution timeouts plus a margin. */
export function collectAfter(
  requestedAt: Date,
  config: Pick<FleetscanConfig, 'deliveryTimeoutSeconds' | 'executionTimeoutSeconds'>,
) {
  const seconds = config.deliveryTimeoutSeconds + config.executionTimeoutSeconds + COLLECT_MARGIN_SECONDS;
  return new Date(requestedAt.getTime() + seconds * 1000).toISOString();
}

export interface RemediationStart {
  /** Remediations this call started (PENDING), or could not send (COMPLETED, effect failed). */
  readonly started: RemediationRecord[];
  /** Fragmented CRITICAL nodes left alone, by reason. */
  readonly notRemediated: Record<string, number>;
}

function bump(counts: Record<string, number>, reason: string, by = 1): void {
  counts[reason] = (counts[reason] ?? 0) + by;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/**
 * Claims and remediates the scan's candidates, worst first, within the policy's budget and cooldown, skipping
 * opted-out and blocked nodes. Safe to call again for the same scan, and concurrently (see the module comment).
 */
export async function startRemediations(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scan: { readonly scanId: string },
  candidates: readonly RemediationCandidate[],
): Promise<RemediationStart> {
  const policy = config.remediation;
  const notRemediated: Record<string, number> = {};
  if (candidates.length === 0) return { started: [], notRemediated };
  if (!policy.enabled) {
    bump(notRemediated, 'remediation disabled', candidates.length);
    return { started: [], notRemediated };
  }
  const now = deps.clock.now();
  const at = now.toISOString();
  const cooldownCutoff = new Date(now.getTime() - policy.cooldownSeconds * 1000).toISOString();
  // Same order in every collector, so that concurrent duplicates compete for the same nodes first.
  const ordered = [...candidates].sort(
    (a, b) =>
      (b.worstUnusableIndex ?? -1) - (a.worstUnusableIndex ?? -1) ||
      (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0),
  );

  // Read-side pre-filter: saves claim writes for nodes that would be refused anyway. The claim is the authority.
  const states = await deps.store.getNodeStates(ordered.map((candidate) => candidate.nodeId));
  const eligible = ordered.filter((candidate) => {
    const state = states.get(candidate.nodeId);
    if (state?.blocked) bump(notRemediated, 'blocked');
    else if (state?.lastRemediationScanId === scan.scanId) bump(notRemediated, 'already remediated by this scan');
    else if (state?.lastRemediationAt != null && state.lastRemediationAt >= cooldownCutoff)
      bump(notRemediated, 'cooling down');
    else return true;
    return false;
  });
  if (eligible.length === 0) return { started: [], notRemediated };

  let optedOut: ReadonlySet<string>;
  try {
    optedOut = await deps.optOut.optedOut(eligible.map((candidate) => candidate.nodeId));
  } catch (error) {
    // Without the tags we cannot honour an opt-out: act on nobody rather than on someone who said no.
    deps.logger?.error('opt-out lookup failed; no remediation this scan', {
      scanId: scan.scanId,
      candidates: eligible.length,
      error: error instanceof Error ? error.name : String(error),
    });
    bump(notRemediated, 'opt-out lookup failed', eligible.length);
    return { started: [], notRemediated };
  }

  const claimed: { candidate: RemediationCandidate; plan: RemediationPlan }[] = [];
  let budgetSpent = false;
  for (const candidate of eligible) {
    if (optedOut.has(candidate.nodeId)) {
      bump(notRemediated, 'opted out');
      continue;
    }
    if (budgetSpent) {
      bump(notRemediated, 'over budget');
      continue;
    }
    const claim: NodeClaim = {
      nodeId: candidate.nodeId,
      scanId: scan.scanId,
      remediationId: remediationId(scan.scanId, candidate.nodeId),
      at,
      cooldownCutoff,
    };
    const result = await deps.store.claimNode(claim);
    if (!result.claimed) {
      bump(notRemediated, 'claimed by another collection or cooling down');
      continue;
    }
    if (!(await deps.store.takeRemediationSlot(scan.scanId, candidate.nodeId, policy.maxNodesPerScan))) {
      await deps.store.releaseNode(claim, result.previous);
      budgetSpent = true;
      bump(notRemediated, 'over budget');
      continue;
    }
    claimed.push({ candidate, plan: planRemediation(policy, candidate.fragmentedNumaNodes) });
  }

  const groups = new Map<string, { plan: RemediationPlan; nodeIds: string[] }>();
  for (const { candidate, plan } of claimed) {
    const key = `${plan.action}|${plan.numaNode ?? 'all'}`;
    const group = groups.get(key) ?? { plan, nodeIds: [] };
    group.nodeIds.push(candidate.nodeId);
    groups.set(key, group);
  }

  const started: RemediationRecord[] = [];
  for (const { plan, nodeIds } of groups.values()) {
    for (const batch of chunk(nodeIds, MAX_INSTANCES_PER_COMMAND)) {
      started.push(...(await sendBatch(deps, config, scan.scanId, plan, batch, at)));
    }
  }
  deps.logger?.info('remediations started', {
    scanId: scan.scanId,
    started: started.length,
    candidates: candidates.length,
    notRemediated,
  });
  return { started, notRemediated };
}

async function sendBatch(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scanId: string,
  plan: RemediationPlan,
  nodeIds: readonly string[],
  at: string,
): Promise<RemediationRecord[]> {
  const policy = config.remediation;
  const base = (nodeId: string) => ({
    remediationId: remediationId(scanId, nodeId),
    nodeId,
    scanId,
    action: plan.action,
    numaNode: plan.numaNode,
    dryRun: policy.dryRun,
    requestedAt: at,
  });
  let commandId: string;
  try {
    ({ commandId } = await deps.gateway.send({
      document: 'remediate',
      targets: { kind: 'instances', instanceIds: nodeIds },
      parameters: {
        action: [plan.action],
        numaNode: [plan.numaNode === null ? 'all' : String(plan.numaNode)],
        dryRun: [String(policy.dryRun)],
      },
      maxConcurrency: config.maxConcurrency,
      // One node's failure must not cancel the others' remediation.
      maxErrors: '100%',
      deliveryTimeoutSeconds: config.deliveryTimeoutSeconds,
      comment: `fleetscan ${plan.action}${policy.dryRun ? ' dry run' : ''} scan ${scanId}`.slice(0, 100),
    }));
  } catch (error) {
    // Not retried and not released: if the call did reach SSM, a retry could remediate twice.
    const name = error instanceof Error ? error.name : 'Error';
    deps.logger?.error('remediate SendCommand failed', { scanId, nodes: nodeIds.length, error: name });
    const failed = nodeIds.map(
      (nodeId): RemediationRecord => ({
        ...base(nodeId),
        commandId: null,
        status: 'COMPLETED',
        effect: 'failed',
        completedAt: at,
        error: sanitizeText(`SendCommand failed (${name})`, MAX_ERROR_LENGTH),
      }),
    );
    await deps.store.putRemediations(failed);
    return failed;
  }
  const records = nodeIds.map((nodeId): RemediationRecord => ({ ...base(nodeId), commandId, status: 'PENDING' }));
  await deps.store.putRemediations(records);
  const command: RemediationCommandRecord = {
    commandId,
    scanId,
    requestedAt: at,
    collectAfter: collectAfter(new Date(at), config),
    status: 'RUNNING',
    nodeIds: [...nodeIds],
  };
  await deps.store.putRemediationCommand(command);
  return records;
}

/* ---- measuring the outcome ---- */

export interface MeasuredEffect {
  readonly effect: RemediationEffect;
  readonly before: WatchedIndex[];
  readonly after: WatchedIndex[];
  readonly error: string | null;
}

function worst(indices: readonly WatchedIndex[]): number {
  return Math.max(...indices.map((index) => index.unusableIndex));
}

function suitableAt(indices: readonly WatchedIndex[], order: number): number {
  return indices.filter((index) => index.order === order).reduce((sum, index) => sum + index.suitableBlocks, 0);
}

/**
 * The effect of one remediation, from its report. Measured over the watched zones (policy's zones, DMA32
 * fallback) of the NUMA node acted on (all of them for numa=all), at the watched orders:
 * - failed: a step failed, or there is nothing watched to measure;
 * - dry-run: the report says dryrun (nothing was written, so it is never "no effect");
 * - improved: the worst watched unusable index dropped, or the suitable blocks at some watched order
 *   (summed over the watched zones) rose;
 * - no-effect: neither.
 */
export function measureEffect(report: RemediationReport, thresholds: Thresholds): MeasuredEffect {
  const before = watchedIndices(report.before, thresholds, report.numaNode);
  const after = watchedIndices(report.after, thresholds, report.numaNode);
  const failedStep = report.steps.find((step) => step.result === 'failed');
  if (failedStep !== undefined) {
    return { effect: 'failed', before, after, error: `step ${failedStep.name} failed` };
  }
  if (report.dryRun) return { effect: 'dry-run', before, after, error: null };
  if (before.length === 0 || after.length === 0) {
    return { effect: 'failed', before, after, error: 'report has no watched zone to measure' };
  }
  const improved =
    worst(after) < worst(before) ||
    thresholds.orders.some((order) => suitableAt(after, order) > suitableAt(before, order));
  return { effect: improved ? 'improved' : 'no-effect', before, after, error: null };
}

export interface RemediationCollection {
  readonly commandId: string;
  readonly status: 'completed' | 'already-completed' | 'unknown-command';
  /** Outcomes this call recorded first (a duplicate collection records none). */
  readonly outcomes: readonly RemediationRecord[];
}

/**
 * Collects a finished remediate command: measures every node's effect, stores it, updates the node's no-effect
 * streak (blocking it at maxNoEffect) and sends one notification per outcome. Idempotent: a remediation is
 * completed (and notified) once, its outcome folded into the node's streak once.
 */
export async function collectRemediation(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
): Promise<RemediationCollection> {
  const command = await deps.store.getRemediationCommand(commandId);
  if (command === null) {
    deps.logger?.warn('remediate command unknown to fleetscan; ignored', { commandId });
    return { commandId, status: 'unknown-command', outcomes: [] };
  }
  if (command.status === 'COMPLETED') return { commandId, status: 'already-completed', outcomes: [] };

  const expected = new Set(command.nodeIds);
  const settled = new Set<string>();
  const outcomes: RemediationRecord[] = [];
  for await (const page of deps.gateway.listInvocations(commandId)) {
    for (const invocation of page) {
      if (!expected.has(invocation.instanceId) || settled.has(invocation.instanceId)) continue;
      settled.add(invocation.instanceId);
      const outcome = await settle(deps, config, command, invocation);
      if (outcome !== null) outcomes.push(outcome);
    }
  }
  for (const nodeId of command.nodeIds) {
    if (settled.has(nodeId)) continue;
    const missing: Invocation = {
      instanceId: nodeId,
      state: 'Unknown',
      terminal: true,
      output: '',
      responseCode: null,
    };
    const outcome = await settle(deps, config, command, missing, 'no invocation was listed for the node');
    if (outcome !== null) outcomes.push(outcome);
  }
  await deps.store.completeRemediationCommand(commandId, deps.clock.now().toISOString());
  deps.metrics?.add('RemediationsCompleted', 'Count', outcomes.length);
  deps.logger?.info('remediate command collected', { commandId, scanId: command.scanId, outcomes: outcomes.length });
  return { commandId, status: 'completed', outcomes };
}

const EFFECT_METRIC: Record<RemediationEffect, string> = {
  improved: 'RemediationImproved',
  'no-effect': 'RemediationNoEffect',
  'dry-run': 'RemediationDryRun',
  failed: 'RemediationFailed',
};

async function settle(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  command: RemediationCommandRecord,
  invocation: Invocation,
  missingReason?: string,
): Promise<RemediationRecord | null> {
  const pending = await deps.store.getRemediation(command.scanId, invocation.instanceId);
  if (pending === null || pending.status === 'COMPLETED') return null;

  let measured: MeasuredEffect;
  let host: string | null = null;
  if (missingReason !== undefined) {
    measured = { effect: 'failed', before: [], after: [], error: missingReason };
  } else if (invocation.state !== 'Success') {
    measured = { effect: 'failed', before: [], after: [], error: invocationError(invocation) };
  } else {
    const read = await readReport(deps.gateway, command.commandId, invocation, parseRemediationReport);
    if (read.ok) {
      measured = measureEffect(read.report, config.thresholds);
      host = read.report.host;
    } else {
      measured = { effect: 'failed', before: [], after: [], error: read.error };
    }
  }
  const at = deps.clock.now().toISOString();
  // The streak first: a crash before completing leaves the record PENDING, so the retry completes and notifies.
  const streak = await deps.store.recordRemediationOutcome({
    nodeId: pending.nodeId,
    remediationId: pending.remediationId,
    effect: measured.effect,
    maxNoEffect: config.remediation.maxNoEffect,
    at,
  });
  const completed: RemediationRecord = {
    ...pending,
    status: 'COMPLETED',
    effect: measured.effect,
    completedAt: at,
    before: measured.before,
    after: measured.after,
    error: measured.error === null ? null : sanitizeText(measured.error, MAX_ERROR_LENGTH),
    ...(streak.blocked && measured.effect === 'no-effect' ? { blocked: true } : {}),
  };
  if (!(await deps.store.completeRemediation(completed))) return null;
  deps.metrics?.add(EFFECT_METRIC[measured.effect], 'Count', 1);
  await deps.notifier.publish(
    remediationOutcome({
      record: completed,
      host,
      noEffectCount: streak.noEffectCount,
      maxNoEffect: config.remediation.maxNoEffect,
      blocked: completed.blocked === true,
    }),
  );
  return completed;
}
