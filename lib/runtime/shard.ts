/**
 * Collecting one shard — one gather command — page by page, resumably.
 *
 *   1. lease     take the shard's collection lease (ScanStore.takeShardLease): one collector at a time; a duplicate
 *                event or a sweep racing a live collector finds it `busy` and leaves. A fresh take counts an
 *                attempt; past collection.maxAttempts or collection.maxMinutes the shard is given up (INCOMPLETE).
 *   2. page      list one page from the checkpoint's NextToken, judge it, store it (NodeRecordStore.putPage: first
 *                writer wins — a page an earlier attempt stored stands, and its records are what is tallied), fold
 *                the verdicts into node states (conditional, once per scan).
 *   3. checkpoint  page number, NextToken and tallies on the shard, conditional on the lease and on the previous
 *                page number: a collector that lost its lease stops there.
 *   4. hand-off  before the invocation's deadline (Deadline: the Lambda context's remaining time) the lease is
 *                passed to a fresh invocation (WorkTrigger) that resumes at the checkpoint.
 *   5. finish    at the listing's end the shard is COMPLETED; when every shard of the scan is finished the scan is
 *                (finish.ts).
 *
 * No page is listed and written twice in the normal path. A crash between 2 and 3 re-lists that one page (the
 * stored page wins); a crash after 3 resumes after it. A NextToken SSM no longer takes restarts the listing and
 * skips the nodes already stored.
 */
import { randomUUID } from 'node:crypto';
import { PROBLEM_NODE_LOG } from '../config/contracts.ts';
import type { FleetscanConfig } from '../config/types.ts';
import { evaluate, type Verdict } from '../core/policy.ts';
import { type CounterRates, counterRates, sampleOf } from '../core/rates.ts';
import { type ActionChoice, chooseAction } from '../core/remedy.ts';
import { type ParsedGatherReport, parseGatherReport } from '../core/report.ts';
import { sanitizeText } from '../core/sanitize.ts';
import { recoverGatherCommand } from './adopt.ts';
import {
  BOOT_ID_CHARS,
  errorRecord,
  invocationError,
  judgedRecord,
  type RecordContext,
  readReport,
  storedCounters,
} from './evaluation.ts';
import { finishScan, type ScanWork } from './finish.ts';
import {
  type Deadline,
  type Invocation,
  type InvocationPage,
  ListingExpiredError,
  type NodeRecord,
  type NodeState,
  type RuntimeDeps,
  type ScanRecord,
  type ShardRecord,
  type StatusChange,
  type StoredRecord,
  type VerdictUpdate,
} from './ports.ts';
import { addRecords } from './tallies.ts';

/** The end of a lease a predecessor hands over: a fresh invocation lives at most 15 minutes (Lambda's limit). */
export const HANDOFF_LEASE_MS = 16 * 60 * 1000;
/** Past its deadline a collector holds its lease this much longer (it may be finishing its last write). */
const LEASE_MARGIN_MS = 60 * 1000;
/** Full-output fetches (GetCommandInvocation) in flight per page: rare, but a fleet of wide hosts needs them all. */
const FULL_OUTPUT_CONCURRENCY = 4;

export interface CollectOptions {
  /** Time left to this invocation, in ms. @default no deadline */
  readonly deadline?: Deadline;
  /** Hand off when less than this is left, or three of the slowest page seen so far. @default 10 s */
  readonly handoffMarginMs?: number;
  /** The command's requested time (the event's `requested-date-time`), for a command fleetscan has no record of. */
  readonly requestedAt?: string;
  /** The lease a predecessor handed over (hand-off payload). */
  readonly lease?: string;
}

export type ShardCollection =
  | {
      readonly status: 'collected' | 'handed-off' | 'busy' | 'lost-lease' | 'given-up' | 'finished';
      readonly scanId: string;
      readonly shard: number;
      /** Pages this invocation stored. */
      readonly pages: number;
      /** Records this invocation stored. */
      readonly nodes: number;
      /** What finishing the scan did, when this collection finished its last shard. */
      readonly scan?: ScanWork;
    }
  | { readonly status: 'unknown-command'; readonly commandId: string };

const NO_DEADLINE: Deadline = () => Number.POSITIVE_INFINITY;

function errorText(error: unknown): string {
  return sanitizeText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), 200);
}

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

/** The breach count a verdict starts from, and whether this node's state may take the verdict. */
function previousOf(state: NodeState | undefined, scan: ScanRecord) {
  if (state === undefined) return { previous: 0, folded: false, superseded: false };
  // Re-collection of the same scan: start from what the first collection started from, so it agrees.
  if (state.lastScanId === scan.scanId) return { previous: state.previousBreaches, folded: true, superseded: false };
  const superseded = state.lastScanAt !== null && state.lastScanAt > scan.requestedAt;
  return { previous: state.consecutiveBreaches, folded: false, superseded };
}

interface Judged {
  readonly stored: StoredRecord[];
  readonly updates: Map<string, VerdictUpdate>;
  readonly newHosts: { nodeId: string; host: string }[];
  /** CRITICAL nodes no action suits, by why. */
  readonly held: Record<string, number>;
  /** Each judged node's status against its previous record. */
  readonly changes: StatusChange[];
}

/**
 * The previous scan the records of a page are judged against: the newest sealed one (its records are the nodes'
 * previous records), and whether its records are the nodes' states too — it is the newest scan before this one
 * (no scan since whose verdicts are not in those records) and it completed (every verdict it stored was folded in).
 */
interface PreviousScan {
  readonly sealed: ScanRecord | null;
  readonly adjacent: boolean;
}

/** A node's verdict from its report, its breach streak so far and its remediations' no-effect streak. */
function judge(
  report: ParsedGatherReport,
  before: NodeRecord | undefined,
  scan: ScanRecord,
  config: FleetscanConfig,
  streaks: { readonly breaches: number; readonly noEffect: number },
): Verdict {
  return evaluate(
    {
      zones: report.zones,
      memTotalKb: report.memTotalKb,
      memAvailableKb: report.memAvailableKb,
      allocFailures: report.allocFailures,
      previousBreaches: streaks.breaches,
      kernel: report.kernel,
      pagetypes: report.pagetypes,
      rates: ratesSince(before, report, scan),
      noEffectStreak: streaks.noEffect,
    },
    config.thresholds,
    config.diagnosis,
  );
}

const NO_STREAKS = { breaches: 0, noEffect: 0 } as const;

/** One listing page → the records to store, the verdicts to fold in, the host names new to the history. */
async function judgePage(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scan: ScanRecord,
  commandId: string,
  invocations: readonly Invocation[],
  previousScan: PreviousScan,
): Promise<Judged> {
  const ids = invocations.map((invocation) => invocation.instanceId);
  const [previous, reads] = await Promise.all([
    previousScan.sealed === null
      ? Promise.resolve(new Map<string, NodeRecord>())
      : deps.store.records.previousRecords(previousScan.sealed, ids),
    mapLimited(invocations, FULL_OUTPUT_CONCURRENCY, (invocation) =>
      invocation.terminal && invocation.state === 'Success'
        ? readReport(deps.gateway, commandId, invocation, parseGatherReport)
        : Promise.resolve(null),
    ),
  ]);
  // A node whose report shows nothing at all, and whose previous record (of the scan just before, completed) had no breach
  // streak, has a state with none either: its verdict cannot depend on the state (a streak only counts breaches, a
  // no-effect streak only speaks of troubled zones), and there is nothing to reset. Most of a fleet, most scans:
  // their states are not read (a read costs even for an absent state).
  const stateless = new Map<string, Verdict>();
  for (const [index, invocation] of invocations.entries()) {
    const read = reads[index];
    const before = previous.get(invocation.instanceId);
    if (!previousScan.adjacent || before === undefined || before.consecutiveBreaches !== 0) continue;
    if (!invocation.terminal || invocation.state !== 'Success' || read === null || read === undefined || !read.ok) {
      continue;
    }
    const verdict = judge(read.report, before, scan, config, NO_STREAKS);
    if (verdict.level === 'OK') stateless.set(invocation.instanceId, verdict);
  }
  const wanted = ids.filter((id) => !stateless.has(id));
  const states = wanted.length === 0 ? new Map<string, NodeState>() : await deps.store.states.getNodeStates(wanted);
  const context: RecordContext = { scanId: scan.scanId, at: scan.requestedAt };
  const stored: StoredRecord[] = [];
  const updates = new Map<string, VerdictUpdate>();
  const newHosts: { nodeId: string; host: string }[] = [];
  const held: Record<string, number> = {};
  const changes: StatusChange[] = [];
  for (const [index, invocation] of invocations.entries()) {
    const state = states.get(invocation.instanceId);
    const { previous: breaches, folded, superseded } = previousOf(state, scan);
    const read = reads[index];
    if (!invocation.terminal) {
      stored.push({
        record: errorRecord(context, invocation, `invocation still ${invocation.state} when collected`, breaches),
      });
      continue;
    }
    if (invocation.state !== 'Success' || read === null || read === undefined) {
      stored.push({ record: errorRecord(context, invocation, invocationError(invocation), breaches) });
      continue;
    }
    if (!read.ok) {
      stored.push({ record: errorRecord(context, invocation, read.error, breaches) });
      continue;
    }
    const { report } = read;
    const before = previous.get(invocation.instanceId);
    const verdict =
      stateless.get(invocation.instanceId) ??
      judge(report, before, scan, config, { breaches, noEffect: state?.noEffectCount ?? 0 });
    const record = judgedRecord(context, invocation, report, verdict, config.thresholds);
    changes.push({ nodeId: record.nodeId, status: record.status, from: before?.status ?? null });
    // A newer scan has judged this node since: this one's data is too old to act on.
    if (verdict.level === 'CRITICAL' && !superseded) {
      const choice = chooseAction({
        verdict,
        report,
        allowed: config.remediation.allowedActions,
        thresholds: config.thresholds,
        diagnosis: config.diagnosis,
      });
      if (choice.action !== null) {
        stored.push({ record, candidacy: { action: choice.action, numaNode: choice.numaNode } });
      } else {
        stored.push({ record });
        const why = heldReason(verdict, choice);
        held[why] = (held[why] ?? 0) + 1;
      }
    } else {
      stored.push({ record });
    }
    // A node that never breached needs no state item: absent means zero.
    const moved = verdict.consecutiveBreaches !== 0 || (state?.consecutiveBreaches ?? 0) !== 0;
    if (!folded && !superseded && moved) {
      updates.set(invocation.instanceId, {
        nodeId: invocation.instanceId,
        scanId: scan.scanId,
        at: scan.requestedAt,
        previousBreaches: breaches,
        consecutiveBreaches: verdict.consecutiveBreaches,
      });
    }
    if (record.host !== null && record.host !== '' && before?.host !== record.host) {
      newHosts.push({ nodeId: invocation.instanceId, host: record.host });
    }
  }
  // Nodes that could not be judged change status too (unreachable since the last scan, or back).
  for (const { record } of stored) {
    if (record.status === 'ERROR') {
      changes.push({ nodeId: record.nodeId, status: 'ERROR', from: previous.get(record.nodeId)?.status ?? null });
    }
  }
  return { stored, updates, newHosts, held, changes };
}

/** The node's counters since its previous record (none when either lacks them: a v1 report, a first scan). */
function ratesSince(before: NodeRecord | undefined, report: ParsedGatherReport, scan: ScanRecord): CounterRates | null {
  const sample = sampleOf(report, Date.parse(scan.requestedAt));
  if (sample === null) return null;
  // The counters as records keep them, so that this scan's and the previous one's compare name for name.
  const current = { ...sample, counters: storedCounters(sample.counters) ?? {} };
  const previous =
    before === undefined || before.counters === null
      ? null
      : {
          at: Date.parse(before.at),
          bootId: before.bootId,
          uptimeSeconds: before.uptimeSeconds,
          counters: before.counters,
        };
  // Boot ids are kept shortened: compare like with like.
  const shortened = { ...current, bootId: current.bootId === null ? null : current.bootId.slice(0, BOOT_ID_CHARS) };
  return counterRates(previous, shortened);
}

/** Why a CRITICAL node gets no remediation, in a few words for the summary's "Not remediated" line. */
function heldReason(verdict: Verdict, choice: ActionChoice): string {
  if (verdict.knownIssues.length > 0) return 'known kernel issue (upgrade)';
  if (verdict.compaction.canHelp === false) return 'compaction cannot help (drain or reboot)';
  if (verdict.findings.some((finding) => finding.code === 'low-available-memory')) return 'short of memory';
  return choice.reason.startsWith('the watched order fails for lack of free memory')
    ? 'lack of free memory'
    : 'no allowed action fits';
}

/** What a gather command was sent for: its `CMD#` item, or SSM's own record of it (its Comment names the scan). */
async function shardOfCommand(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
  options: CollectOptions,
): Promise<{ scanId: string; shard: number } | null> {
  const known = await deps.store.scans.getCommand(commandId);
  if (known !== null) return known.kind === 'gather' ? { scanId: known.scanId, shard: known.shard } : null;
  return recoverGatherCommand(deps, config, commandId, options.requestedAt);
}

/** Collects the shard a gather command belongs to (see the module comment). */
export async function collectGatherCommand(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
  options: CollectOptions = {},
): Promise<ShardCollection> {
  const target = await shardOfCommand(deps, config, commandId, options);
  if (target === null) {
    deps.logger?.warn('gather command unknown to fleetscan; ignored', { commandId });
    return { status: 'unknown-command', commandId };
  }
  return collectShard(deps, config, target.scanId, target.shard, options);
}

export async function collectShard(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scanId: string,
  shardNo: number,
  options: CollectOptions = {},
): Promise<ShardCollection> {
  const deadline = options.deadline ?? NO_DEADLINE;
  const newId = deps.newId ?? randomUUID;
  const base = { scanId, shard: shardNo, pages: 0, nodes: 0 };
  const scan = await deps.store.scans.getScan(scanId);
  const current = await deps.store.scans.getShard(scanId, shardNo);
  if (scan === null || current === null) return { status: 'unknown-command', commandId: current?.commandId ?? scanId };
  if (current.status !== 'RUNNING') {
    return { ...base, status: 'finished', scan: await finishScan(deps, config, scanId, { deadline }) };
  }

  const token = newId();
  const now = deps.clock.now();
  const remaining = deadline();
  const leaseEnd = Number.isFinite(remaining)
    ? now.getTime() + remaining + LEASE_MARGIN_MS
    : now.getTime() + HANDOFF_LEASE_MS;
  const shard = await deps.store.scans.takeShardLease(scanId, shardNo, {
    token,
    now: now.toISOString(),
    until: new Date(leaseEnd).toISOString(),
    ...(options.lease === undefined ? {} : { inherit: options.lease }),
  });
  if (shard === null) {
    deps.logger?.info('shard is being collected by another invocation', { scanId, shard: shardNo });
    return { ...base, status: 'busy' };
  }

  const ageMinutes = (now.getTime() - Date.parse(scan.requestedAt)) / 60_000;
  const tooMany = options.lease === undefined && shard.attempts > config.collection.maxAttempts;
  if (tooMany || ageMinutes > config.collection.maxMinutes) {
    const reason = tooMany
      ? `collection gave up after ${shard.attempts - 1} failed attempts${shard.lastError === null ? '' : `: ${shard.lastError}`}`
      : `collection gave up ${Math.round(ageMinutes)} minutes after the scan started (collection.maxMinutes ${config.collection.maxMinutes})`;
    deps.logger?.error('shard given up', { scanId, shard: shardNo, attempts: shard.attempts, reason });
    await deps.store.scans.finishShard(scanId, shardNo, {
      token,
      status: 'INCOMPLETE',
      reason: sanitizeText(reason, 300),
    });
    return { ...base, status: 'given-up', scan: await finishScan(deps, config, scanId, { deadline }) };
  }

  try {
    return await walk(deps, config, scan, shard, token, deadline, options.handoffMarginMs ?? 10_000, newId);
  } catch (error) {
    // Give the lease back so that the retry (Lambda's, or the sweep's) can take it at once; the failure is kept.
    await deps.store.scans.releaseShard(scanId, shardNo, token, errorText(error)).catch(() => undefined);
    throw error;
  }
}

async function walk(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scan: ScanRecord,
  start: ShardRecord,
  token: string,
  deadline: Deadline,
  marginMs: number,
  newId: () => string,
): Promise<ShardCollection> {
  const commandId = start.commandId as string;
  const base = { scanId: scan.scanId, shard: start.shard };
  let { page, nextToken, tallies, targeted, listed } = start;
  let pages = 0;
  let nodes = 0;
  let slowest = 0;
  let skip: Set<string> | null = null;
  const { sealed, latest } = await deps.store.scans.previousScans(scan.requestedAt);
  // Adjacent only when complete: a shard given up may have stored a page whose verdicts were never folded in.
  const previousScan: PreviousScan = {
    sealed,
    adjacent: sealed !== null && sealed.status === 'COMPLETED' && latest?.scanId === sealed.scanId,
  };
  if (targeted === null) targeted = (await deps.gateway.describeCommand(commandId))?.targetCount ?? null;

  while (!listed) {
    if (deadline() < Math.max(marginMs, 3 * slowest)) {
      const next = newId();
      const until = new Date(deps.clock.now().getTime() + HANDOFF_LEASE_MS).toISOString();
      if (!(await deps.store.scans.handOffShard(scan.scanId, start.shard, token, next, until))) {
        return { ...base, status: 'lost-lease', pages, nodes };
      }
      try {
        await deps.trigger.trigger({ kind: 'gather', commandId, lease: next });
      } catch (error) {
        // Nobody will present the handed-over lease: give it back so that the retry need not wait it out.
        await deps.store.scans.releaseShard(scan.scanId, start.shard, next, errorText(error)).catch(() => undefined);
        throw error;
      }
      deps.logger?.info('shard handed off', { scanId: scan.scanId, shard: start.shard, page, pages, nodes });
      return { ...base, status: 'handed-off', pages, nodes };
    }
    const began = Date.now();
    let listing: InvocationPage;
    try {
      listing = await deps.gateway.listPage(commandId, nextToken);
    } catch (error) {
      if (!(error instanceof ListingExpiredError) || nextToken === null) throw error;
      // The checkpoint's token is no longer good: list again from the top, skipping what is stored already.
      deps.logger?.warn('listing token expired; listing again from the first page', {
        scanId: scan.scanId,
        shard: start.shard,
      });
      skip = await deps.store.records.shardNodeIds(scan.scanId, start.shard);
      nextToken = null;
      continue;
    }
    const from = page;
    const seen = skip;
    const invocations =
      seen === null ? listing.invocations : listing.invocations.filter((inv) => !seen.has(inv.instanceId));
    if (invocations.length > 0) {
      const judged = await judgePage(deps, config, scan, commandId, invocations, previousScan);
      const stored = await deps.store.records.putPage(
        { scanId: scan.scanId, at: scan.requestedAt, shard: start.shard, page },
        judged.stored,
        { newHosts: judged.newHosts },
      );
      // Verdicts of what is stored (an earlier attempt's page, when there was one); each folds in once per scan.
      await Promise.all(
        stored.flatMap(({ record }) => {
          const update = judged.updates.get(record.nodeId);
          return update === undefined || update.consecutiveBreaches !== record.consecutiveBreaches
            ? []
            : [deps.store.states.recordVerdict(update)];
        }),
      );
      // What the page stored is what is tallied (an earlier attempt's page, when there was one).
      const kept = new Set(stored.map(({ record }) => `${record.nodeId}|${record.status}`));
      const ours =
        stored.length === judged.stored.length &&
        stored.every((entry, i) => entry.record.nodeId === judged.stored[i]?.record.nodeId);
      tallies = addRecords(tallies, stored, {
        held: ours ? judged.held : {},
        changes: judged.changes.filter((change) => kept.has(`${change.nodeId}|${change.status}`)),
      });
      for (const { record } of stored) seen?.add(record.nodeId);
      // One log line per problem node, once: by the attempt that stored the page (the dashboard lists them).
      if (ours) logProblemNodes(deps, stored);
      page += 1;
      pages += 1;
      nodes += stored.length;
    }
    nextToken = listing.nextToken;
    listed = nextToken === null;
    const checkpointed = await deps.store.scans.checkpointShard(scan.scanId, start.shard, {
      token,
      from,
      page,
      nextToken,
      listed,
      tallies,
      targeted,
    });
    if (!checkpointed) return { ...base, status: 'lost-lease', pages, nodes };
    slowest = Math.max(slowest, Date.now() - began);
  }

  if (tallies.nodes === 0)
    deps.logger?.warn('gather command reached no node', { scanId: scan.scanId, shard: start.shard });
  await deps.store.scans.finishShard(scan.scanId, start.shard, { token, status: 'COMPLETED' });
  deps.logger?.info('shard collected', { scanId: scan.scanId, shard: start.shard, pages: page, nodes: tallies.nodes });
  return {
    ...base,
    status: 'collected',
    pages,
    nodes,
    scan: await finishScan(deps, config, scan.scanId, { deadline }),
  };
}

/** Finding codes a problem-node log line carries (a record may hold dozens). */
const LOGGED_FINDINGS = 5;

function logProblemNodes(deps: Pick<RuntimeDeps, 'logger'>, stored: readonly StoredRecord[]): void {
  if (deps.logger === undefined) return;
  for (const { record } of stored) {
    if (record.status === 'OK') continue;
    const line: Record<(typeof PROBLEM_NODE_LOG.fields)[number], unknown> = {
      scanId: record.scanId,
      nodeId: record.nodeId,
      status: record.status,
      cause: record.cause,
      worstUnusableIndex: record.worstUnusableIndex,
      findings: record.findings.slice(0, LOGGED_FINDINGS).map((finding) => finding.split('@')[0]),
      error: record.error,
    };
    deps.logger.info(PROBLEM_NODE_LOG.message, line);
  }
}
