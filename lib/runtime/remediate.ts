/**
 * Remediation: choosing, claiming and sending (startRemediations, called by collectGather), finishing what an
 * earlier collection wrote but did not send (finishUnsent), and measuring the outcome when the remediate command
 * finishes (collectRemediation).
 *
 * The writes and the send, in order, for each node a scan remediates:
 *
 *   1. claim   node state, conditional: this scan has not claimed the node, its last remediation is older than the
 *              cooldown cutoff, it is not blocked.
 *   2. slot    scan item, conditional: one of the scan's maxNodesPerScan slots, per node (`slotNodes`) — taking it
 *              again for the same node is free.
 *   3. intent  remediation record PENDING with no command and a lease (`sendingUntil`, lease.ts), created only if
 *              the (scan, node) has no record: whoever creates it is the one collection allowed to send it. The
 *              record carries a due entry at the lease's end.
 *   4. send    SendCommand to the nodes' instance ids, Comment `fleetscan remediate <scanId> …` (remediateComment),
 *              so that SSM itself can tell which scan sent a command.
 *   5. command the CMD# item (command → scan and nodes, RUNNING, due at collectAfter).
 *   6. bind    commandId on each record, conditional on PENDING without a command; its due entry goes.
 *
 * Why budget, cooldown and duplicates are safe — the argument:
 *
 * a. Claims. `claimNode` is one conditional UpdateItem, and DynamoDB serializes conditional writes on one item,
 *    so among any number of duplicate or concurrent collectors (of this scan or of overlapping scans) at most one
 *    scan claims a given node per cooldown period. A claim this scan already holds (an earlier attempt that
 *    crashed, or a concurrent duplicate) is not refused to it: the collector goes on with steps 2 and 3, and step
 *    3 decides which collection sends.
 * b. Budget. A slot is taken only for a node this scan has claimed, at most once per node (the set), and only
 *    while fewer than max nodes hold one (the counter): the scan remediates at most max distinct nodes. Slots are
 *    never given back, so once one is refused every later fresh claim would be refused too and the collector stops
 *    claiming. A fresh claim whose slot is refused is put back (conditional on still being ours); a claim taken by
 *    another attempt is left as it is (its earlier values are unknown here) — that node waits out one cooldown
 *    unremediated: fewer remediations, never more. Exactly min(max, eligible) nodes are remediated when nothing
 *    crashes, whatever the interleaving.
 * c. One send per (scan, node). Only the creator of the intent sends it (step 3 is a conditional create: one
 *    creator), or — once its lease has run out — one collection that takes it over (compare-and-set on
 *    `sendingUntil`) after asking SSM for a command of this scan to the node and finding none. The lease is longer
 *    than a Lambda invocation can live plus SSM's listing delay, so by then the creator is gone and any command it
 *    sent is visible: a taker-over never sends a second command. Nothing is sent before its intent is stored.
 *
 * A crash (or a failed write) after each step, and what the re-delivery (Lambda's async retry; later the sweep:
 * the scan is still RUNNING, or the record is due) does:
 *
 *   after 1 or 2  the node is claimed by this scan and has no record: the re-delivery finds the claim its own
 *                 (a), takes the slot (free if taken), writes the intent and sends. Nothing was sent before.
 *   after 3       an intent, unsent, lease live: the re-delivery asks SSM (findCommands); there is no command, and
 *                 it cannot tell a dead creator from one about to send, so it leaves the intent. The scan
 *                 completes; when the lease ends the sweep collects the scan again (the record is due), a
 *                 collection takes the intent over and sends.
 *   after 4       sent, but no command item and the records unbound: the command's completion event makes
 *                 collectRemediation ask SSM what the unknown command was (describeCommand); its Comment names
 *                 the scan, its instance ids the nodes, so the command item is rebuilt, the records bound, the
 *                 outcome collected. A gather re-delivery that comes first finds it with findCommands and adopts
 *                 it the same way (both write conditionally and agree).
 *   after 5       the command item exists, the records unbound: collectRemediation binds each record as it
 *                 completes it (completeRemediation writes the command id); a gather re-delivery adopts it too.
 *   SendCommand fails  not retried (if the call did reach SSM, a retry could remediate twice): the intents are
 *                 completed as failed, unless a collection found the command in SSM and bound them first.
 */

import { METRIC_NAMES, SSM_LIMITS } from '../config/contracts.ts';
import type { FleetscanConfig, RemediationPolicy } from '../config/types.ts';
import type { Thresholds } from '../core/policy.ts';
import { parseRemediationReport, type RemediationAction, type RemediationReport } from '../core/report.ts';
import { sanitizeText } from '../core/sanitize.ts';
import { invocationError, MAX_ERROR_LENGTH, readReport, watchedIndices } from './evaluation.ts';
import { leaseUntil } from './lease.ts';
import { remediationOutcome } from './notify.ts';
import { publishOnce } from './outbox.ts';
import type {
  ClaimedFrom,
  CommandSummary,
  Invocation,
  NodeClaim,
  RemediationCommandRecord,
  RemediationEffect,
  RemediationRecord,
  RuntimeDeps,
  WatchedIndex,
} from './ports.ts';

/** Time past the command's own timeouts before the sweep collects it without its event. */
export const COLLECT_MARGIN_SECONDS = 120;
/**
 * How far before an intent's requestedAt the search for its command starts: SSM's RequestedDateTime and the
 * collector's clock are different clocks. Generous, because a wider window only costs listing pages.
 */
export const COMMAND_SEARCH_MARGIN_MS = 3_600_000;

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

/** A remediate command's Comment names fleetscan, then the scan (whole), then what it does. */
const COMMENT_PREFIX = 'fleetscan remediate ';

/**
 * The Comment a remediate command is sent with. The scan id comes first and is never cut (a scan id is an SSM
 * command id, 36 characters), so that SSM's own record of the command says which scan sent it.
 */
export function remediateComment(scanId: string, plan: RemediationPlan, dryRun: boolean): string {
  const head = `${COMMENT_PREFIX}${scanId}`;
  if (head.length > SSM_LIMITS.commentChars || /\s/.test(scanId)) {
    // A command SSM could not trace back to its scan must not be sent: recovery could not find it.
    throw new RangeError(`scan id '${scanId.slice(0, 40)}' does not fit a remediate command's Comment`);
  }
  const what = ` ${plan.action}${plan.numaNode === null ? '' : ` numa ${plan.numaNode}`}${dryRun ? ' dry run' : ''}`;
  return `${head}${what}`.slice(0, SSM_LIMITS.commentChars);
}

/** The scan a remediate command's Comment names, or null when fleetscan did not write it. */
export function scanOfRemediateComment(comment: string): string | null {
  return /^fleetscan remediate (\S+)/.exec(comment)?.[1] ?? null;
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
  /** Remediations this call sent (PENDING with their command), or could not send (COMPLETED, effect failed). */
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

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** Errors that mean SSM refused the request (nothing ran): validation, permissions, throttling that outlasted retries. */
const REFUSALS = new Set([
  'ValidationException',
  'InvalidParameters',
  'InvalidDocument',
  'InvalidDocumentVersion',
  'InvalidInstanceId',
  'InvalidRole',
  'InvalidOutputFolder',
  'InvalidNotificationConfig',
  'MaxDocumentSizeExceeded',
  'UnsupportedPlatformType',
  'DuplicateInstanceId',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'ThrottlingException',
]);

/**
 * True when a SendCommand failure certainly did not run anything: SSM answered with a client error (4xx other
 * than a request timeout), or an error SSM only gives to requests it refused. False for what may have reached SSM:
 * timeouts, reset connections, 5xx.
 */
export function isDefiniteRejection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 400 && status < 500 && status !== 408;
  return REFUSALS.has(error.name);
}

/**
 * Claims and remediates the scan's candidates, worst first, within the policy's budget and cooldown, skipping
 * opted-out and blocked nodes; first finishes what earlier collections of the scan left unsent. Safe to call
 * again for the same scan, and concurrently (see the module comment).
 */
export async function startRemediations(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scan: { readonly scanId: string },
  candidates: readonly RemediationCandidate[],
): Promise<RemediationStart> {
  const policy = config.remediation;
  const notRemediated: Record<string, number> = {};
  const existing = await deps.store.remediations.listScanRemediations(scan.scanId);
  const started = await finishUnsent(deps, config, scan.scanId, existing);
  if (candidates.length === 0) return { started, notRemediated };
  if (!policy.enabled) {
    bump(notRemediated, 'remediation disabled', candidates.length);
    return { started, notRemediated };
  }
  const now = deps.clock.now();
  const at = now.toISOString();
  const cooldownCutoff = new Date(now.getTime() - policy.cooldownSeconds * 1000).toISOString();
  const cooldownUntil = new Date(now.getTime() + policy.cooldownSeconds * 1000).toISOString();
  // Same order in every collector, so that concurrent duplicates compete for the same nodes first.
  const ordered = [...candidates].sort(
    (a, b) =>
      (b.worstUnusableIndex ?? -1) - (a.worstUnusableIndex ?? -1) ||
      (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0),
  );

  // Read-side pre-filter: saves claim writes for nodes that would be refused anyway. The writes are the authority.
  const recorded = new Set(existing.map((record) => record.nodeId));
  const states = await deps.store.states.getNodeStates(ordered.map((candidate) => candidate.nodeId));
  const eligible: { candidate: RemediationCandidate; ours: boolean }[] = [];
  for (const candidate of ordered) {
    const state = states.get(candidate.nodeId);
    if (state?.blocked) bump(notRemediated, 'blocked');
    else if (recorded.has(candidate.nodeId)) bump(notRemediated, 'already remediated by this scan');
    // Claimed by this scan but never recorded: an earlier attempt stopped before its intent (module comment).
    else if (state?.lastRemediationScanId === scan.scanId) eligible.push({ candidate, ours: true });
    else if (state?.lastRemediationAt != null && state.lastRemediationAt >= cooldownCutoff)
      bump(notRemediated, 'cooling down');
    else eligible.push({ candidate, ours: false });
  }
  if (eligible.length === 0) return { started, notRemediated };

  let optedOut: ReadonlySet<string>;
  try {
    optedOut = await deps.optOut.optedOut(eligible.map(({ candidate }) => candidate.nodeId));
  } catch (error) {
    // Without the tags we cannot honour an opt-out: act on nobody rather than on someone who said no.
    deps.logger?.error('opt-out lookup failed; no remediation this scan', {
      scanId: scan.scanId,
      candidates: eligible.length,
      error: errorName(error),
    });
    bump(notRemediated, 'opt-out lookup failed', eligible.length);
    return { started, notRemediated };
  }

  const claimed: { candidate: RemediationCandidate; plan: RemediationPlan }[] = [];
  let budgetSpent = false;
  for (const { candidate, ours } of eligible) {
    if (optedOut.has(candidate.nodeId)) {
      bump(notRemediated, 'opted out');
      continue;
    }
    // A node this scan claimed already may hold a slot already: it is not refused for a spent budget yet.
    if (budgetSpent && !ours) {
      bump(notRemediated, 'over budget');
      continue;
    }
    const claim: NodeClaim = {
      nodeId: candidate.nodeId,
      scanId: scan.scanId,
      remediationId: remediationId(scan.scanId, candidate.nodeId),
      at,
      cooldownCutoff,
      cooldownUntil,
    };
    let previous: ClaimedFrom | null = null;
    if (!ours) {
      const result = await deps.store.states.claimNode(claim);
      if (result.claimed) previous = result.previous;
      else if ((await deps.store.states.getNodeState(candidate.nodeId))?.lastRemediationScanId !== scan.scanId) {
        bump(notRemediated, 'claimed by another collection or cooling down');
        continue;
      }
      // else: a concurrent collection of this scan claimed it a moment ago; step 3 decides who sends.
    }
    if (!(await deps.store.scans.takeRemediationSlot(scan.scanId, candidate.nodeId, policy.maxNodesPerScan))) {
      if (previous !== null) await deps.store.states.releaseNode(claim, previous);
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

  for (const { plan, nodeIds } of groups.values()) {
    for (const batch of chunk(nodeIds, SSM_LIMITS.instancesPerCommand)) {
      const intents = batch.map(
        (nodeId): RemediationRecord => ({
          remediationId: remediationId(scan.scanId, nodeId),
          nodeId,
          scanId: scan.scanId,
          commandId: null,
          action: plan.action,
          numaNode: plan.numaNode,
          dryRun: policy.dryRun,
          requestedAt: at,
          status: 'PENDING',
          sendingUntil: leaseUntil(deps.clock.now()),
        }),
      );
      const created = await Promise.all(
        intents.map((intent) => deps.store.remediations.createRemediationIntent(intent)),
      );
      const mine = intents.filter((_, index) => created[index] === true);
      // The others' intents were written by a concurrent collection of this scan, which sends them.
      if (mine.length < intents.length)
        bump(notRemediated, 'already remediated by this scan', intents.length - mine.length);
      started.push(...(await sendIntents(deps, config, scan.scanId, mine)));
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

/**
 * Sends intents this collection holds (created or taken over): one command for records that share action, NUMA
 * node and dry run, then the command item, then the command on each record (steps 4–6).
 */
async function sendIntents(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scanId: string,
  records: readonly RemediationRecord[],
): Promise<RemediationRecord[]> {
  const [first] = records;
  if (first === undefined) return [];
  const plan: RemediationPlan = { action: first.action, numaNode: first.numaNode };
  const nodeIds = records.map((record) => record.nodeId);
  const at = deps.clock.now().toISOString();
  let commandId: string;
  try {
    ({ commandId } = await deps.gateway.send({
      document: 'remediate',
      targets: { kind: 'instances', instanceIds: nodeIds },
      parameters: {
        action: [plan.action],
        numaNode: [plan.numaNode === null ? 'all' : String(plan.numaNode)],
        dryRun: [String(first.dryRun)],
      },
      maxConcurrency: config.maxConcurrency,
      // One node's failure must not cancel the others' remediation.
      maxErrors: '100%',
      deliveryTimeoutSeconds: config.deliveryTimeoutSeconds,
      comment: remediateComment(scanId, plan, first.dryRun),
    }));
  } catch (error) {
    // Never retried here: if the call did reach SSM, a retry could remediate twice.
    const name = errorName(error);
    if (!isDefiniteRejection(error)) {
      // It may have reached SSM (a timeout, a reset connection, a server error): the intents stay unsent under
      // their lease, and once it ends finishUnsent asks SSM (the Comment names the scan) — adopting the command if
      // it ran, sending again only if SSM has none.
      deps.logger?.error('remediate SendCommand outcome unknown; left to the lease path', {
        scanId,
        nodes: nodeIds.length,
        error: name,
      });
      return [...records];
    }
    deps.logger?.error('remediate SendCommand refused', { scanId, nodes: nodeIds.length, error: name });
    const failed = records.map(
      (record): RemediationRecord => ({
        ...record,
        commandId: null,
        sendingUntil: undefined,
        status: 'COMPLETED',
        effect: 'failed',
        completedAt: at,
        error: sanitizeText(`SendCommand failed (${name})`, MAX_ERROR_LENGTH),
      }),
    );
    await Promise.all(failed.map((record) => deps.store.remediations.completeRemediation(record)));
    return failed;
  }
  const command: RemediationCommandRecord = {
    commandId,
    scanId,
    requestedAt: at,
    collectAfter: collectAfter(new Date(at), config),
    status: 'RUNNING',
    nodeIds,
  };
  await deps.store.remediations.putRemediationCommand(command);
  await Promise.all(nodeIds.map((nodeId) => deps.store.remediations.setRemediationCommand(scanId, nodeId, commandId)));
  return records.map((record): RemediationRecord => ({ ...record, commandId, sendingUntil: undefined }));
}

/** Records a command found in SSM as the scan's (steps 5 and 6 for a sender that stopped after step 4). */
async function adoptCommand(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scanId: string,
  found: CommandSummary,
): Promise<RemediationCommandRecord> {
  const requestedAt = found.requestedAt ?? deps.clock.now().toISOString();
  const command: RemediationCommandRecord = {
    commandId: found.commandId,
    scanId,
    requestedAt,
    collectAfter: collectAfter(new Date(requestedAt), config),
    status: 'RUNNING',
    nodeIds: [...found.instanceIds],
  };
  // Both conditional: a sender still alive, or another collection adopting it, writes the same.
  await deps.store.remediations.putRemediationCommand(command);
  await Promise.all(
    command.nodeIds.map((nodeId) => deps.store.remediations.setRemediationCommand(scanId, nodeId, command.commandId)),
  );
  deps.logger?.warn('remediate command found in SSM and recorded', {
    scanId,
    commandId: command.commandId,
    nodes: command.nodeIds.length,
  });
  return command;
}

/**
 * Finishes the scan's intents that are still unsent (PENDING without a command), as an earlier collection left
 * them: adopts the command SSM says was sent for them; takes over and sends those whose lease has ended and that
 * SSM has no command for; leaves those whose lease is live (their sender may be at work; the sweep comes back
 * when the lease ends). Returns what this call sent.
 */
export async function finishUnsent(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scanId: string,
  records: readonly RemediationRecord[],
): Promise<RemediationRecord[]> {
  const unsent = records.filter((record) => record.status === 'PENDING' && record.commandId === null);
  if (unsent.length === 0) return [];
  const now = deps.clock.now();
  const earliest = Math.min(...unsent.map((record) => Date.parse(record.requestedAt)));
  const invokedAfter = new Date(
    (Number.isFinite(earliest) ? earliest : now.getTime()) - COMMAND_SEARCH_MARGIN_MS,
  ).toISOString();
  const found = (await deps.gateway.findCommands({ document: 'remediate', invokedAfter }))
    .filter((command) => command.document === 'remediate' && scanOfRemediateComment(command.comment) === scanId)
    .sort((a, b) => ((a.requestedAt ?? '') < (b.requestedAt ?? '') ? -1 : 1));
  const sentBy = new Map<string, CommandSummary>();
  for (const command of found) {
    for (const nodeId of command.instanceIds) if (!sentBy.has(nodeId)) sentBy.set(nodeId, command);
  }

  const adopt = new Map<string, CommandSummary>();
  const takenOver: RemediationRecord[] = [];
  let leased = 0;
  for (const record of unsent) {
    const command = sentBy.get(record.nodeId);
    if (command !== undefined) {
      adopt.set(command.commandId, command);
      continue;
    }
    if (record.sendingUntil !== undefined && record.sendingUntil > now.toISOString()) {
      leased += 1;
      continue;
    }
    const until = leaseUntil(now);
    if (
      await deps.store.remediations.takeOverRemediationIntent(scanId, record.nodeId, record.sendingUntil ?? null, until)
    ) {
      takenOver.push({ ...record, sendingUntil: until });
    }
  }
  for (const command of adopt.values()) await adoptCommand(deps, config, scanId, command);
  if (leased > 0) {
    deps.logger?.info('remediations still within their sender lease; left to it or to the sweep', { scanId, leased });
  }
  if (takenOver.length === 0) return [];
  deps.logger?.warn('sending remediations an earlier collection wrote but never sent', {
    scanId,
    nodes: takenOver.length,
  });

  if (!config.remediation.enabled) {
    const at = now.toISOString();
    const dropped = takenOver.map(
      (record): RemediationRecord => ({
        ...record,
        sendingUntil: undefined,
        status: 'COMPLETED',
        effect: 'failed',
        completedAt: at,
        error: 'not sent: remediation was disabled before it was sent',
      }),
    );
    await Promise.all(dropped.map((record) => deps.store.remediations.completeRemediation(record)));
    return dropped;
  }
  const groups = new Map<string, RemediationRecord[]>();
  for (const record of takenOver) {
    const key = `${record.action}|${record.numaNode ?? 'all'}|${record.dryRun}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const sent: RemediationRecord[] = [];
  for (const group of groups.values()) {
    for (const batch of chunk(group, SSM_LIMITS.instancesPerCommand))
      sent.push(...(await sendIntents(deps, config, scanId, batch)));
  }
  return sent;
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
    return { effect: 'failed', ...bounded(before, after), error: `step ${failedStep.name} failed` };
  }
  if (report.dryRun) return { effect: 'dry-run', ...bounded(before, after), error: null };
  if (before.length === 0 || after.length === 0) {
    return { effect: 'failed', ...bounded(before, after), error: 'report has no watched zone to measure' };
  }
  const improved =
    worst(after) < worst(before) ||
    thresholds.orders.some((order) => suitableAt(after, order) > suitableAt(before, order));
  return { effect: improved ? 'improved' : 'no-effect', ...bounded(before, after), error: null };
}

/** Indices a remediation record keeps: the worst before, and the same zones and orders after. */
export const MAX_REMEDIATION_INDICES = 16;

/** The worst MAX_REMEDIATION_INDICES indices before, and their counterparts after: a 400-zone host stays small. */
function bounded(before: readonly WatchedIndex[], after: readonly WatchedIndex[]) {
  const kept = before.slice(0, MAX_REMEDIATION_INDICES);
  const same = (a: WatchedIndex, b: WatchedIndex) => a.node === b.node && a.zone === b.zone && a.order === b.order;
  return {
    before: kept,
    after: kept.flatMap((entry) => after.filter((candidate) => same(candidate, entry)).slice(0, 1)),
  };
}

/** Every page of a command's invocations (a remediate command has at most 50 nodes: one page). */
export async function* allPages(
  gateway: RuntimeDeps['gateway'],
  commandId: string,
): AsyncIterable<readonly Invocation[]> {
  let nextToken: string | null = null;
  do {
    const page = await gateway.listPage(commandId, nextToken);
    yield page.invocations;
    nextToken = page.nextToken;
  } while (nextToken !== null);
}

export interface RemediationCollection {
  readonly commandId: string;
  readonly status: 'completed' | 'already-completed' | 'unknown-command';
  /** Outcomes this call recorded first (a duplicate collection records none). */
  readonly outcomes: readonly RemediationRecord[];
}

/**
 * A remediate command fleetscan has no item for: a collection stopped between SendCommand and writing it (module
 * comment, "after 4"). SSM says which scan sent it (its Comment) and to which nodes; the item is rebuilt from that
 * and the scan's intents bound to it. Null for a command fleetscan did not send (by hand, or SSM forgot it).
 */
async function recoverCommand(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
): Promise<RemediationCommandRecord | null> {
  const found = await deps.gateway.describeCommand(commandId);
  if (found === null || found.document !== 'remediate') return null;
  const scanId = scanOfRemediateComment(found.comment);
  if (scanId === null) return null;
  await adoptCommand(deps, config, scanId, found);
  return deps.store.remediations.getRemediationCommand(commandId);
}

/**
 * Collects a finished remediate command: measures every node's effect, stores it, updates the node's no-effect
 * streak (blocking it at maxNoEffect) and sends one notification per outcome through the outbox (outbox.ts).
 * Idempotent: a remediation is completed once, its outcome folded into the node's streak once and published
 * once (at least once if a collection dies between publishing and marking it sent). A command the store does not
 * know is looked up in SSM first. Throws when a notification cannot be published, so that the event is retried;
 * the command stays RUNNING until every outcome is stored and published.
 */
export async function collectRemediation(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
): Promise<RemediationCollection> {
  const command =
    (await deps.store.remediations.getRemediationCommand(commandId)) ?? (await recoverCommand(deps, config, commandId));
  if (command === null) {
    deps.logger?.warn('remediate command unknown to fleetscan; ignored', { commandId });
    return { commandId, status: 'unknown-command', outcomes: [] };
  }
  if (command.status === 'COMPLETED') {
    // Outcomes a concurrent collection completed but did not get to publish (it died holding the outbox lease).
    const nodes = new Set(command.nodeIds);
    for (const record of await deps.store.remediations.listScanRemediations(command.scanId)) {
      if (nodes.has(record.nodeId) && record.commandId === commandId && record.notification === 'pending') {
        await publishOutcome(deps, config, record);
      }
    }
    return { commandId, status: 'already-completed', outcomes: [] };
  }

  const expected = new Set(command.nodeIds);
  const settled = new Set<string>();
  const outcomes: RemediationRecord[] = [];
  for await (const page of allPages(deps.gateway, commandId)) {
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
  await deps.store.remediations.completeRemediationCommand(commandId, deps.clock.now().toISOString());
  deps.metrics?.add(METRIC_NAMES.remediationsCompleted, 'Count', outcomes.length);
  deps.logger?.info('remediate command collected', { commandId, scanId: command.scanId, outcomes: outcomes.length });
  return { commandId, status: 'completed', outcomes };
}

const EFFECT_METRIC: Record<RemediationEffect, string> = {
  improved: METRIC_NAMES.remediationImproved,
  'no-effect': METRIC_NAMES.remediationNoEffect,
  'dry-run': METRIC_NAMES.remediationDryRun,
  failed: METRIC_NAMES.remediationFailed,
};

/** Publishes a completed remediation's outcome if it is still in the outbox; the message is rebuilt from the record. */
function publishOutcome(deps: RuntimeDeps, config: FleetscanConfig, record: RemediationRecord): Promise<boolean> {
  return publishOnce(deps, { kind: 'remediation', scanId: record.scanId, nodeId: record.nodeId }, () =>
    remediationOutcome({
      record,
      host: record.host ?? null,
      noEffectCount: record.noEffectCount ?? 0,
      maxNoEffect: config.remediation.maxNoEffect,
      blocked: record.blocked === true,
    }),
  );
}

async function settle(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  command: RemediationCommandRecord,
  invocation: Invocation,
  missingReason?: string,
): Promise<RemediationRecord | null> {
  const pending = await deps.store.remediations.getRemediation(command.scanId, invocation.instanceId);
  if (pending === null) return null;
  // Bound to another command: not this one's to measure (a record is sent once; see the module comment).
  if (pending.commandId !== null && pending.commandId !== command.commandId) return null;
  if (pending.status === 'COMPLETED') {
    // Completed by an earlier attempt that could not publish (SNS failed, or it died): publish now.
    if (pending.notification === 'pending') await publishOutcome(deps, config, pending);
    return null;
  }

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
  const streak = await deps.store.states.recordRemediationOutcome({
    nodeId: pending.nodeId,
    remediationId: pending.remediationId,
    effect: measured.effect,
    maxNoEffect: config.remediation.maxNoEffect,
    at,
  });
  const completed: RemediationRecord = {
    ...pending,
    // Bound here if the sender stopped before binding it (module comment, "after 5").
    commandId: command.commandId,
    sendingUntil: undefined,
    status: 'COMPLETED',
    effect: measured.effect,
    completedAt: at,
    before: measured.before,
    after: measured.after,
    error: measured.error === null ? null : sanitizeText(measured.error, MAX_ERROR_LENGTH),
    ...(streak.blocked && measured.effect === 'no-effect' ? { blocked: true } : {}),
    host,
    noEffectCount: streak.noEffectCount,
    // Into the outbox with the completion: published below, or by the retry if that fails.
    notification: 'pending',
  };
  if (!(await deps.store.remediations.completeRemediation(completed))) return null;
  deps.metrics?.add(EFFECT_METRIC[measured.effect], 'Count', 1);
  await publishOutcome(deps, config, completed);
  return completed;
}
