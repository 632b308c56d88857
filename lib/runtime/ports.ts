/**
 * The small interfaces the runtime's plain modules (scan, collect, remediate, notify) take as arguments.
 * AWS adapters (lib/adapters/ssm.ts, dynamo/history.ts, sns.ts, ec2-tags.ts) implement them for the Lambdas;
 * local adapters (lib/local/) implement them for `fleetscan demo`. No module above this line knows which.
 */
import type { Cause, Level } from '../core/policy.ts';
import type { RemediationAction } from '../core/report.ts';

/** A node's status in a scan: the policy's level, or ERROR when no verdict could be reached. */
export type NodeStatus = Level | 'ERROR';

/** SSM invocation states, normalized (SSM spells some with and some without spaces). */
export type InvocationState =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling'
  | 'Undeliverable'
  | 'Terminated'
  | 'InvalidPlatform'
  | 'AccessDenied'
  | 'DeliveryTimedOut'
  | 'ExecutionTimedOut'
  | 'Unknown';

/** One node's invocation of a command, as ListCommandInvocations (Details) reports it. */
export interface Invocation {
  readonly instanceId: string;
  readonly state: InvocationState;
  /** True once the invocation cannot change any more. */
  readonly terminal: boolean;
  /** The plugin output as listed: at most 2,500 characters, possibly cut. Untrusted. */
  readonly output: string;
  /** The agent's own exit code where known. */
  readonly responseCode: number | null;
}

export interface SendCommandRequest {
  readonly document: 'gather' | 'remediate';
  /** Tag targets (gather) or explicit instance ids (remediate, at most 50 per call). */
  readonly targets: /** `key` is the tag key itself; the SSM adapter spells the target `tag:<key>`. */
    | { readonly kind: 'tags'; readonly tags: readonly { readonly key: string; readonly values: readonly string[] }[] }
    | { readonly kind: 'instances'; readonly instanceIds: readonly string[] };
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly deliveryTimeoutSeconds: number;
  /** Short text shown in the SSM console (≤ 100 characters). */
  readonly comment: string;
}

/** What SSM remembers of a command it was sent (ListCommands): enough to tell which scan and nodes it was for. */
export interface CommandSummary {
  readonly commandId: string;
  /** Which of fleetscan's two documents it ran; null for any other document. */
  readonly document: 'gather' | 'remediate' | null;
  /** The Comment it was sent with (fleetscan's remediate commands name their scan: see remediateComment). */
  readonly comment: string;
  /** The explicit instance ids it was sent to (empty for a command sent to tag targets). */
  readonly instanceIds: readonly string[];
  /** When SSM received it, ISO-8601 UTC; null when SSM did not say. */
  readonly requestedAt: string | null;
  /** How many nodes it targeted (TargetCount); null when SSM did not say. */
  readonly targetCount: number | null;
}

/** One page of a command's invocations, and where the next one starts (null: this was the last). */
export interface InvocationPage {
  readonly invocations: readonly Invocation[];
  /** SSM's NextToken, opaque: a checkpoint stores it to resume the listing. */
  readonly nextToken: string | null;
}

/** A listing's NextToken that SSM no longer accepts (expired, or from another listing): start again from the top. */
export class ListingExpiredError extends Error {
  override readonly name = 'ListingExpiredError';
}

/** The fleet, as SSM Run Command reaches it. */
export interface CommandGateway {
  /** Sends a command; returns its id. */
  send(request: SendCommandRequest): Promise<{ readonly commandId: string }>;
  /**
   * One page of a command's invocations (at most 50) with outputs, from `nextToken` (null: the first page). Throws
   * ListingExpiredError when SSM rejects the token.
   */
  listPage(commandId: string, nextToken: string | null): Promise<InvocationPage>;
  /** The full stdout of one invocation (up to 24,000 characters), for outputs the listing cut. */
  getFullOutput(commandId: string, instanceId: string): Promise<string>;
  /** What SSM knows of one command (ListCommands by CommandId); null when SSM does not know it. */
  describeCommand(commandId: string): Promise<CommandSummary | null>;
  /**
   * The commands of one of fleetscan's documents requested at or after `invokedAfter` (ListCommands filtered by
   * DocumentName and InvokedAfter), every page. A superset is fine: callers match the comment and instance ids.
   */
  findCommands(query: {
    readonly document: 'gather' | 'remediate';
    readonly invokedAfter: string;
  }): Promise<CommandSummary[]>;
}

/** Where notifications go (SNS; a terminal and a file locally). */
/**
 * What a message carries (its `kind` message attribute, for subscription filters): news about nodes (`change`: newly
 * in trouble, recovered), remediation results (`outcome`), the periodic list of ongoing problems (`digest`), or a
 * scan that could not finish (`scan-failed`). One message may carry several.
 */
export const NOTIFICATION_KINDS = ['change', 'outcome', 'digest', 'scan-failed'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The nodes a message is about, by id (structured: the demo's notifications.jsonl, tests). */
export interface NotificationFacts {
  readonly newProblems: readonly string[];
  readonly recovered: readonly string[];
  readonly ongoing: readonly string[];
  readonly remediations: readonly {
    readonly nodeId: string;
    readonly action: RemediationAction;
    readonly effect: string;
  }[];
}

export interface Notification {
  /** Fewer than 100 characters, one line, sanitized. */
  readonly subject: string;
  readonly body: string;
  /** The worst status the message reports (ERROR: nodes that could not be judged, or a failed remediation). */
  readonly severity: NodeStatus;
  readonly scanId: string;
  /** At least one. */
  readonly kinds: readonly NotificationKind[];
  readonly facts: NotificationFacts;
}

export interface Notifier {
  publish(notification: Notification): Promise<void>;
}

/** Which nodes opted out of remediation (instance tag). */
export interface OptOutSource {
  optedOut(nodeIds: readonly string[]): Promise<ReadonlySet<string>>;
}

export interface Clock {
  now(): Date;
}

/** Structured logging the runtime needs; Powertools' Logger satisfies it. Attributes are ids and counts, never events. */
export interface RuntimeLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Metric sink (EMF in Lambda); names are fleetscan's: NodesScanned, NodesOK/WARN/CRITICAL/ERROR, WorstUnusableIndex, Remediations. */
export interface RuntimeMetrics {
  add(name: string, unit: 'Count' | 'None', value: number): void;
}

/** Waits; injected so that tests never sleep for real. */
export type Sleep = (ms: number) => Promise<void>;

/* ---- what is stored ---- */

/**
 * RUNNING until every node is recorded; COMPLETED; or INCOMPLETE when collection gave up (its retry or age limit)
 * with what was collected kept and the reason stored.
 */
export type ScanStatus = 'RUNNING' | 'COMPLETED' | 'INCOMPLETE';

/** How far a scan's collection has come: nodes recorded so far of the nodes its commands targeted. */
export interface ScanProgress {
  readonly collected: number;
  /** What SSM reports its commands targeted (TargetCount); null until SSM has said. */
  readonly targeted: number | null;
}

/**
 * The notification outbox of a scan summary or a remediation outcome: `pending` from the write that completed it
 * until it was published (then `sent`). Absent: nothing to publish.
 */
export type NotificationState = 'pending' | 'sent';

export interface SeverityCounts {
  readonly OK: number;
  readonly WARN: number;
  readonly CRITICAL: number;
  readonly ERROR: number;
}

export interface ScanRecord {
  readonly scanId: string;
  readonly commandId: string;
  /** ISO-8601 UTC. */
  readonly requestedAt: string;
  /** When the sweep collects the scan even without a completion event. ISO-8601 UTC. */
  readonly collectAfter: string;
  readonly status: ScanStatus;
  /** Human description of the targets, e.g. `tag:fleetscan=enabled`. */
  readonly targets: string;
  readonly counts?: SeverityCounts;
  readonly nodes?: number;
  /** Remediation budget slots taken by this scan (the counter the budget is enforced on). */
  readonly remediations?: number;
  readonly completedAt?: string;
  readonly worstUnusableIndex?: number | null;
  /** The summary's outbox state (absent: the scan needed no summary, or was completed before outboxes existed). */
  readonly notification?: NotificationState;
  /** Why fragmented CRITICAL nodes were left alone, by reason, as the completing collection counted them. */
  readonly notRemediated?: Readonly<Record<string, number>>;
  /** While RUNNING (and kept after): nodes collected of nodes targeted. */
  readonly progress?: ScanProgress;
  /** Finished: what changed since the nodes' previous scan, and what its message carried. */
  readonly changes?: Changes;
  readonly notificationKinds?: readonly NotificationKind[];
  /** INCOMPLETE only: why collection stopped (sanitized, one line). */
  readonly incompleteReason?: string;
  /** Gather commands the scan was sent as (one per shard; 1 when not sharded). @default 1 */
  readonly shards?: number;
  /** Sealing the scan's records into the node history: where it got to (bits of the layout, next bucket). */
  readonly seal?: SealProgress;
  /** The scan's records are in the node history. */
  readonly sealed?: boolean;
}

/** How far sealing a scan into the node history has come: the layout's bucket bits and the next bucket to write. */
export interface SealProgress {
  readonly bits: number;
  readonly next: number;
}

/** Index values of one watched zone at one watched order. */
export interface WatchedIndex {
  readonly node: number;
  readonly zone: string;
  readonly order: number;
  readonly suitableBlocks: number;
  readonly unusableIndex: number;
  readonly fragmentationIndex: number;
}

/** One node in one scan. Kept under 1 KB: counts and codes, not prose. */
export interface NodeRecord {
  readonly scanId: string;
  readonly nodeId: string;
  /** The scan's requestedAt (so a node's history sorts by scan time). */
  readonly at: string;
  readonly status: NodeStatus;
  readonly cause: Cause | null;
  /** Finding codes, worst first (e.g. `no-suitable-block@0/Normal/4`). */
  readonly findings: readonly string[];
  readonly invocationState: InvocationState;
  /** Why the node is ERROR, sanitized, at most 200 characters; null otherwise. */
  readonly error: string | null;
  readonly host: string | null;
  readonly kernel: string | null;
  readonly pageSize: number | null;
  readonly memTotalKb: number | null;
  readonly memAvailableKb: number | null;
  /** Kernel-log allocation failures: since the previous scan (report v2) or since boot (v1); null when unknown. */
  readonly allocFailures: number | null;
  /** The /proc/vmstat counters the diagnosis judges as rates (cumulative since boot); null from a v1 report. */
  readonly counters: Readonly<Record<string, number>> | null;
  /** The boot the counters belong to (the boot id's first 8 characters) and the uptime then, in seconds. */
  readonly bootId: string | null;
  readonly uptimeSeconds: number | null;
  /** Watched zones' raw counts as gather `zone` lines without the word (`0 Normal 1 2 3 ...`). */
  readonly zones: readonly string[];
  readonly indices: readonly WatchedIndex[];
  readonly worstUnusableIndex: number | null;
  readonly worstFragmentationIndex: number | null;
  readonly consecutiveBreaches: number;
}

export type RemediationStatus = 'PENDING' | 'COMPLETED';
/**
 * improved / no-effect (worse counts as no effect) as the watched order's blocks and index together say; dry-run;
 * failed; skipped: a pre-check on the node held it back (load, kcompactd busy, proactive compaction); deferred: the
 * scan fell outside the remediation windows, nothing was sent.
 */
export type RemediationEffect = 'improved' | 'no-effect' | 'dry-run' | 'failed' | 'skipped' | 'deferred';

/** One remediation: at most one per (scan, node), so its id is `<scanId>:<nodeId>`. */
export interface RemediationRecord {
  readonly remediationId: string;
  readonly nodeId: string;
  readonly scanId: string;
  readonly commandId: string | null;
  readonly action: RemediationAction;
  readonly numaNode: number | null;
  readonly dryRun: boolean;
  readonly requestedAt: string;
  readonly status: RemediationStatus;
  readonly effect?: RemediationEffect;
  readonly completedAt?: string;
  /** Watched indices before and after, from the node's own report. */
  readonly before?: readonly WatchedIndex[];
  readonly after?: readonly WatchedIndex[];
  readonly error?: string | null;
  /** Set on the outcome that made the node blocked (maxNoEffect remediations without effect in a row). */
  readonly blocked?: boolean;
  /**
   * While PENDING without a command: until when the collection that wrote this intent may still be sending it
   * (ISO-8601 UTC). After that, another collection may take it over (see remediate.ts).
   */
  readonly sendingUntil?: string;
  /** The node's host name as its remediation report gave it (untrusted; sanitized where shown). */
  readonly host?: string | null;
  /** The node's no-effect streak once this outcome was folded in. */
  readonly noEffectCount?: number;
  /** The outbox state of an outcome published alone (remediations before outcomes were grouped by command). */
  readonly notification?: NotificationState;
  /** Why this effect, one sentence (the effect judge's, a pre-check's, the window's); null when there is none. */
  readonly detail?: string | null;
}

/** Per-node state: what makes evaluation hysteretic and remediation rationed and idempotent. */
export interface NodeState {
  readonly nodeId: string;
  readonly consecutiveBreaches: number;
  /** The last scan whose verdict is folded into this state (so a re-delivered scan is not counted twice). */
  readonly lastScanId: string | null;
  /** That scan's requestedAt: an older scan collected late never overwrites a newer verdict. */
  readonly lastScanAt: string | null;
  /** consecutiveBreaches before lastScanId was folded in: what a re-collection of that scan starts from. */
  readonly previousBreaches: number;
  readonly lastRemediationAt: string | null;
  readonly lastRemediationId: string | null;
  /** The scan that claimed the last remediation: one remediation per node per scan, whatever the events. */
  readonly lastRemediationScanId: string | null;
  /** Remediations in a row that had no effect. */
  readonly noEffectCount: number;
  /** The last remediation whose outcome is folded into noEffectCount (so a duplicate event is not counted twice). */
  readonly lastOutcomeId: string | null;
  /** Set when noEffectCount reached the policy's limit; cleared by an operator (`clearNode`). */
  readonly blocked: boolean;
  /** The last remediation's cooldown end (ISO-8601 UTC): no remediation before it. Null when never remediated. */
  readonly cooldownUntil: string | null;
}

/* ---- reading the history (the CLI) ---- */

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly next?: string;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

/** Which of a scan's node records to read; absent fields do not filter. */
export interface NodeFilter {
  readonly status?: readonly NodeStatus[];
  /** Causes to keep; `null` in the list keeps records without a cause. */
  readonly cause?: readonly (Cause | null)[];
}

export interface HistoryReader {
  /** Scans, newest first, optionally only those requested at or after an ISO-8601 time. */
  listScans(page: PageRequest & { readonly since?: string }): Promise<Page<ScanRecord>>;
  getScan(scanId: string): Promise<ScanRecord | null>;
  /** Every node of a scan (or those the filter keeps), in a stable order, page by page without a cap. */
  listScanNodes(scanId: string, page: PageRequest & NodeFilter): Promise<Page<NodeRecord>>;
  /** The scan's non-OK nodes only (the sparse index), CRITICAL first, then ERROR, then WARN, worst index first. */
  listProblemNodes(scanId: string, page: PageRequest): Promise<Page<NodeRecord>>;
  /** One node's records, newest first, optionally since an ISO-8601 time. */
  nodeHistory(nodeId: string, options: PageRequest & { readonly since?: string }): Promise<Page<NodeRecord>>;
  /** Remediations, newest first; of one node when given; only those requested at or after `since` when given. */
  listRemediations(
    options: PageRequest & { readonly nodeId?: string; readonly since?: string },
  ): Promise<Page<RemediationRecord>>;
  getNodeState(nodeId: string): Promise<NodeState | null>;
  /** States of the given nodes (absent: never breached, never remediated). */
  getNodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>>;
  /**
   * The node ids a name a user typed may mean: an instance id (`i-…`) or managed-instance id (`mi-…`) as it is, a
   * host name as recorded by the nodes' gather reports (`ip-10-0-210-114.ec2.internal`, what `kubectl get nodes`
   * shows). Empty when nothing matches; several when several nodes reported that host name.
   */
  resolveNode(name: string): Promise<string[]>;
}

/* ---- writing the history (the runtime) ---- */

export type CommandKind = 'gather' | 'remediate';

/**
 * Work the sweep hands out, or a collection hands to a fresh invocation of itself:
 * - `gather`: collect one shard's gather command (RUNNING past its collectAfter, its collector's lease ended, or a
 *   hand-off — then `lease` names the lease the predecessor passed on);
 * - `remediate`: collect a remediate command (RUNNING past its collectAfter; outcomes still in the outbox);
 * - `scan`: the scan's own work once its shards are done, or left behind — finishing it (remediations, completion,
 *   summary), unsent remediations past their lease, a summary still in the outbox, sealing its history.
 */
export type WorkItem =
  | { readonly kind: 'gather'; readonly commandId: string; readonly lease?: string }
  | { readonly kind: 'remediate'; readonly commandId: string }
  | { readonly kind: 'scan'; readonly scanId: string };

/** A work item the sweep found due, and since when. */
export type DueWork = WorkItem & { readonly dueAt: string };

/** Starts a fresh collect invocation for a work item (asynchronous Lambda Invoke; a queue locally). */
export interface WorkTrigger {
  trigger(work: WorkItem): Promise<void>;
}

/** A node whose status changed since its previous scan, for the news a scan sends. */
export interface StatusChange {
  readonly nodeId: string;
  readonly status: NodeStatus;
  /** Its status in the previous scan; null when the history had none (a new node). */
  readonly from: NodeStatus | null;
}

/** What changed in a scan: nodes newly in trouble or worse, nodes recovered — counted, the first few listed. */
export interface Changes {
  /** OK (or new) → WARN/CRITICAL/ERROR, or WARN → CRITICAL, by the status reached. */
  readonly newProblems: SeverityCounts;
  /** WARN/CRITICAL/ERROR → OK. */
  readonly recovered: number;
  /** The first MAX_LISTED_CHANGES of each. */
  readonly listed: readonly StatusChange[];
}

/** Tallies of the node records a shard (or a scan) holds. */
export interface Tallies {
  readonly nodes: number;
  readonly counts: SeverityCounts;
  readonly worstUnusableIndex: number | null;
  /** CRITICAL nodes an action suits (remediation candidates, before eligibility). */
  readonly candidates: number;
  /** CRITICAL nodes no action suits, by why (`compaction futile`, `known kernel issue`, …). */
  readonly held: Readonly<Record<string, number>>;
  readonly changes: Changes;
}

export type ShardStatus = 'PLANNED' | 'RUNNING' | 'COMPLETED' | 'INCOMPLETE';

/** One gather command of a scan and the checkpoint of its collection. */
export interface ShardRecord {
  readonly scanId: string;
  /** 0-based. */
  readonly shard: number;
  /** The tag targets this shard's command was sent to. */
  readonly targets: SendCommandRequest['targets'];
  /** PLANNED until its command is sent and bound; null while PLANNED. */
  readonly commandId: string | null;
  readonly status: ShardStatus;
  /** When the sweep collects it without its completion event. */
  readonly collectAfter: string;
  /** Listing pages stored so far (the next page's number). */
  readonly page: number;
  /** Where the listing resumes; null before the first page and after the last. */
  readonly nextToken: string | null;
  /** The listing reached its end (page > 0 and no next token). */
  readonly listed: boolean;
  readonly tallies: Tallies;
  /** What SSM says the command targeted, once known. */
  readonly targeted: number | null;
  /** Collection attempts that started afresh (hand-offs do not count). */
  readonly attempts: number;
  /** The last collection failure, sanitized. */
  readonly lastError: string | null;
  /** INCOMPLETE: why. */
  readonly reason: string | null;
  /** The collection lease: who may collect now, until when. */
  readonly leaseToken: string | null;
  readonly leaseUntil: string | null;
}

/** Maps a command id to what fleetscan sent it for (events carry only the command id). */
export type CommandRecord =
  | { readonly kind: 'gather'; readonly commandId: string; readonly scanId: string; readonly shard: number }
  | ({ readonly kind: 'remediate' } & RemediationCommandRecord);

/** Maps a remediate command's id back to its scan and nodes (the completion event carries only the id). */
export interface RemediationCommandRecord {
  readonly commandId: string;
  readonly scanId: string;
  readonly requestedAt: string;
  readonly collectAfter: string;
  readonly status: 'RUNNING' | 'COMPLETED';
  readonly nodeIds: readonly string[];
  /** Its outcomes' message, once completed: pending in the outbox until published. */
  readonly notification?: NotificationState;
}

export interface ScanCompletion {
  readonly status: 'COMPLETED' | 'INCOMPLETE';
  /** What changed since the nodes' previous scan (kept for rebuilding the message). */
  readonly changes?: Changes;
  /** What the scan's message carries; empty or absent: no message. */
  readonly kinds?: readonly NotificationKind[];
  readonly completedAt: string;
  readonly counts: SeverityCounts;
  readonly nodes: number;
  readonly worstUnusableIndex: number | null;
  /** The scan needs a summary: completion puts it in the outbox (`notification: 'pending'`). */
  readonly notify?: boolean;
  readonly notRemediated?: Readonly<Record<string, number>>;
  /** INCOMPLETE: why (sanitized, one line). */
  readonly incompleteReason?: string;
}

/**
 * An item whose notification goes through the outbox: a scan (its message), a remediate command (the outcomes of
 * its nodes, one message), or — from before outcomes were grouped — one remediation.
 */
export type OutboxTarget =
  | { readonly kind: 'scan'; readonly scanId: string }
  | { readonly kind: 'command'; readonly commandId: string }
  | { readonly kind: 'remediation'; readonly scanId: string; readonly nodeId: string };

/** One scan's verdict for one node, folded into the node's state once. */
export interface VerdictUpdate {
  readonly nodeId: string;
  readonly scanId: string;
  /** The scan's requestedAt. */
  readonly at: string;
  /** The count the verdict started from. */
  readonly previousBreaches: number;
  readonly consecutiveBreaches: number;
}

export interface NodeClaim {
  readonly nodeId: string;
  readonly scanId: string;
  readonly remediationId: string;
  readonly at: string;
  /** A previous remediation at or after this time is still cooling down. */
  readonly cooldownCutoff: string;
  /** When this remediation's own cooldown ends (stored on the node state for `fleetscan nodes`). */
  readonly cooldownUntil: string;
}

/** The remediation fields a claim overwrote, so that a claim the budget then refuses can be put back. */
export interface ClaimedFrom {
  readonly lastRemediationAt: string | null;
  readonly lastRemediationId: string | null;
  readonly lastRemediationScanId: string | null;
  readonly cooldownUntil: string | null;
}

export type NodeClaimResult = { readonly claimed: true; readonly previous: ClaimedFrom } | { readonly claimed: false };

export interface RemediationOutcome {
  readonly nodeId: string;
  readonly remediationId: string;
  readonly effect: RemediationEffect;
  readonly maxNoEffect: number;
  readonly at: string;
}

export interface OutcomeResult {
  readonly noEffectCount: number;
  readonly blocked: boolean;
  /** This call is the one that blocked the node. */
  readonly newlyBlocked: boolean;
}

/** What a judged node record needs beside itself for remediation (kept with problem records, not in --json). */
export interface Candidacy {
  /** The action the evidence chose (lib/core/remedy.ts chooseAction), and where. */
  readonly action: RemediationAction;
  readonly numaNode: number | null;
}

/** A node record as the collector stores it: the record, and for a remediation candidate its candidacy. */
export interface StoredRecord {
  readonly record: NodeRecord;
  readonly candidacy?: Candidacy;
}

/** Where a listing page's records go: the scan, its request time (history sorts by it), the shard and the page. */
export interface PageRef {
  readonly scanId: string;
  readonly at: string;
  readonly shard: number;
  readonly page: number;
}

export interface PutPageOptions {
  /** Nodes whose host name is new to the history (no previous record, or another host): indexed for lookups. */
  readonly newHosts?: readonly { readonly nodeId: string; readonly host: string }[];
}

/** A scan's remediation candidate, read back from its problem records, worst first. */
export interface StoredCandidate extends Candidacy {
  readonly nodeId: string;
  readonly worstUnusableIndex: number | null;
}

/* ---- the stores, one per aggregate (DynamoDB in Lambda, dynalite locally) ---- */
/*
 * Every write is idempotent or conditional, so duplicate and concurrent collections of one command are harmless;
 * the methods returning boolean say whether this call made the change (false: someone already did, or a condition
 * refused it).
 */

/** Scans, their shards (with the collection checkpoints and leases), gather commands, and what is due. */
export interface ScanStore {
  /** Creates a RUNNING scan with its shards PLANNED. False when the scan already exists. */
  createScan(scan: ScanRecord, shards: readonly ShardRecord[]): Promise<boolean>;
  getScan(scanId: string): Promise<ScanRecord | null>;
  listScans(page: PageRequest & { readonly since?: string }): Promise<Page<ScanRecord>>;
  /**
   * Of the scans requested before `at`: the newest, sealed or not, and the newest whose records are sealed into the
   * node history (for previous records) — one walk back through the scans.
   */
  previousScans(at: string): Promise<{ readonly latest: ScanRecord | null; readonly sealed: ScanRecord | null }>;
  getShard(scanId: string, shard: number): Promise<ShardRecord | null>;
  listShards(scanId: string): Promise<ShardRecord[]>;
  /**
   * PLANNED → RUNNING with its command, and the command's `CMD#` item (command → scan and shard). Idempotent for the
   * same command; false when the shard is bound to another command.
   */
  bindShard(scanId: string, shard: number, commandId: string, collectAfter: string): Promise<boolean>;
  /** A PLANNED shard whose command was never sent: INCOMPLETE with the reason. */
  abandonShard(scanId: string, shard: number, reason: string): Promise<boolean>;
  /** What a command id was sent for (gather shard or remediate command); null when fleetscan has no record. */
  getCommand(commandId: string): Promise<CommandRecord | null>;
  /**
   * Takes the shard's collection lease until `until`: when nobody holds a live one, or when `inherit` names the lease
   * a predecessor handed over. A fresh take (not inherited) counts one attempt. Returns the shard as it now is, or
   * null when the lease is someone else's (or the shard is not RUNNING).
   */
  takeShardLease(
    scanId: string,
    shard: number,
    lease: { readonly token: string; readonly until: string; readonly now: string; readonly inherit?: string },
  ): Promise<ShardRecord | null>;
  /**
   * Records a listing step: the next page number, where the listing resumes, the tallies so far. Conditional on
   * holding the lease and on the checkpoint still being at page `from`; false otherwise (someone took over).
   */
  checkpointShard(
    scanId: string,
    shard: number,
    checkpoint: {
      readonly token: string;
      readonly from: number;
      readonly page: number;
      readonly nextToken: string | null;
      readonly listed: boolean;
      readonly tallies: Tallies;
      readonly targeted: number | null;
    },
  ): Promise<boolean>;
  /** Passes the lease on to `next` (a fresh invocation will present it) until `until`. */
  handOffShard(scanId: string, shard: number, token: string, next: string, until: string): Promise<boolean>;
  /** Gives the lease back (a failure: `error` is kept as the shard's lastError). */
  releaseShard(scanId: string, shard: number, token: string, error: string | null): Promise<void>;
  /** RUNNING → COMPLETED or INCOMPLETE (with the reason); conditional on the lease when `token` is given. */
  finishShard(
    scanId: string,
    shard: number,
    finish: { readonly token: string | null; readonly status: 'COMPLETED' | 'INCOMPLETE'; readonly reason?: string },
  ): Promise<boolean>;
  /** RUNNING → COMPLETED/INCOMPLETE with the counts; false when already finished (or no such scan). */
  completeScan(scanId: string, completion: ScanCompletion): Promise<boolean>;
  /** Where sealing the scan got to (a later call resumes there). */
  saveSealProgress(scanId: string, progress: SealProgress): Promise<void>;
  /**
   * The digest: true when no other scan sent one in the `intervalSeconds` before `now` (then `scanId` sends it).
   * Conditional, so one scan among concurrent ones wins; asking again for the same scan answers true again.
   */
  claimDigest(now: string, intervalSeconds: number, scanId: string): Promise<boolean>;
  /** The scan's records are in the node history now (with that layout): off the due list for sealing. */
  markSealed(scanId: string, progress: SealProgress): Promise<void>;
  /**
   * Takes one of the scan's `max` remediation slots for a node; false when they are all taken by other nodes. Per
   * node and idempotent: a node that already holds one of the scan's slots gets true again without taking another.
   */
  takeRemediationSlot(scanId: string, nodeId: string, max: number): Promise<boolean>;
  /**
   * What is due at `now`, oldest first, each work item once: shards RUNNING past their collectAfter or lease, scans
   * with work left (unfinished past their collectAfter, unsent remediations past their lease, a summary in the
   * outbox, records not sealed), remediate commands RUNNING past their collectAfter or with outcomes in the outbox.
   */
  listDue(now: string, limit: number): Promise<DueWork[]>;
}

/** Node records: the per-scan journal the collector writes page by page, problem records, the node history. */
export interface NodeRecordStore {
  /**
   * Stores one listing page's records, first writer wins: when the page is stored already (an earlier attempt
   * crashed before its checkpoint), returns what is stored rather than `records`. A record that cannot be stored is
   * replaced by that node's ERROR record saying why; nothing one node printed can fail the page.
   */
  putPage(ref: PageRef, records: readonly StoredRecord[], options?: PutPageOptions): Promise<StoredRecord[]>;
  /** The node ids a shard's stored pages hold (to resume a listing whose token expired). */
  shardNodeIds(scanId: string, shard: number): Promise<Set<string>>;
  /** The scan's remediation candidates, worst first, at most `limit`. */
  candidates(scanId: string, shards: number, limit: number): Promise<StoredCandidate[]>;
  /** The scan's non-OK records, CRITICAL, ERROR, WARN, worst first. */
  listProblemNodes(scanId: string, page: PageRequest, shards?: number): Promise<Page<NodeRecord>>;
  /**
   * Copies a finished scan's records from its journal into the node history, bucket by bucket from `from` (null: the
   * start, choosing the layout). Resumable: stops when the deadline comes first and says where (`done` false).
   */
  seal(
    scan: ScanRecord,
    from: SealProgress | null,
    deadline: Deadline,
  ): Promise<{ readonly done: boolean; readonly progress: SealProgress }>;
  /** Each node's record in a sealed scan (the newest one before the scan being collected); absent: none. */
  previousRecords(sealed: ScanRecord, nodeIds: readonly string[]): Promise<Map<string, NodeRecord>>;
  listScanNodes(scan: ScanRecord, page: PageRequest & NodeFilter): Promise<Page<NodeRecord>>;
  nodeHistory(nodeId: string, options: PageRequest & { readonly since?: string }): Promise<Page<NodeRecord>>;
  resolveNode(name: string): Promise<string[]>;
}

/** Per-node state: hysteresis, remediation claims and no-effect streaks. */
export interface NodeStateStore {
  getNodeState(nodeId: string): Promise<NodeState | null>;
  /** States of the given nodes (absent: never breached, never remediated). */
  getNodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>>;
  /** Folds a verdict into the node's state unless this scan or a later one is already folded in. */
  recordVerdict(update: VerdictUpdate): Promise<boolean>;
  /**
   * Claims a node for one remediation by this scan: refused when this scan already claimed it, when its last
   * remediation is not older than the cooldown cutoff, or when it is blocked.
   */
  claimNode(claim: NodeClaim): Promise<NodeClaimResult>;
  /** Puts back what a claim overwrote, if the claim is still ours (the budget refused it after the claim). */
  releaseNode(claim: NodeClaim, previous: ClaimedFrom): Promise<void>;
  /** Folds a remediation's effect into the node's no-effect streak, once; blocks the node at maxNoEffect. */
  recordRemediationOutcome(outcome: RemediationOutcome): Promise<OutcomeResult>;
  /** Operator action: unblocks a node and resets its no-effect streak. False when the node has no state. */
  clearNode(nodeId: string): Promise<boolean>;
}

/** Remediation intents and records, and remediate commands. */
export interface RemediationStore {
  /** Writes remediation records as they are (unconditionally): for seeding and tests; the runtime writes below. */
  putRemediations(records: readonly RemediationRecord[]): Promise<void>;
  /**
   * Writes the intent to remediate, before anything is sent: a PENDING record without a command and with its
   * sendingUntil lease. False when the (scan, node) already has a record: someone else owns that remediation.
   */
  createRemediationIntent(record: RemediationRecord): Promise<boolean>;
  /** Takes over an unsent intent whose lease (`expectedUntil`, null for none) has run out, moving it to `until`. */
  takeOverRemediationIntent(
    scanId: string,
    nodeId: string,
    expectedUntil: string | null,
    until: string,
  ): Promise<boolean>;
  /** Binds a PENDING remediation that has no command yet to the command that was sent; false otherwise. */
  setRemediationCommand(scanId: string, nodeId: string, commandId: string): Promise<boolean>;
  getRemediation(scanId: string, nodeId: string): Promise<RemediationRecord | null>;
  /** The remediations one scan started (a strongly consistent read). */
  listScanRemediations(scanId: string): Promise<RemediationRecord[]>;
  /** Remediations, newest first; of one node when given; only those requested at or after `since` when given. */
  listRemediations(
    options: PageRequest & { readonly nodeId?: string; readonly since?: string },
  ): Promise<Page<RemediationRecord>>;
  /**
   * PENDING → COMPLETED with its effect and indices; false when already completed, or when the record is bound to
   * a command other than `record.commandId` (a record completed without a command must have none).
   */
  completeRemediation(record: RemediationRecord): Promise<boolean>;
  /** Records a remediate command (RUNNING, due for the sweep at collectAfter). Idempotent. */
  putRemediationCommand(command: RemediationCommandRecord): Promise<void>;
  getRemediationCommand(commandId: string): Promise<RemediationCommandRecord | null>;
  /**
   * RUNNING → COMPLETED, with its outcomes' message in the outbox when `notify` (off the due list once sent); false
   * when already completed.
   */
  completeRemediationCommand(commandId: string, completedAt: string, notify?: boolean): Promise<boolean>;
}

/** The notification outbox of scan summaries and remediation outcomes. */
export interface OutboxStore {
  /**
   * The outbox lease: true when the target's notification is pending and nobody holds a live lease (one that ends
   * after `now`); the caller then holds it until `until` and should publish.
   */
  claimNotification(target: OutboxTarget, now: string, until: string): Promise<boolean>;
  /** Gives a lease back after a failed publish (only if it is still the one ending at `until`). */
  releaseNotification(target: OutboxTarget, until: string): Promise<void>;
  /** The notification was published: `sent`, off the due list. */
  markNotified(target: OutboxTarget): Promise<void>;
}

/** The history store, by aggregate. */
export interface HistoryStores {
  readonly scans: ScanStore;
  readonly records: NodeRecordStore;
  readonly states: NodeStateStore;
  readonly remediations: RemediationStore;
  readonly outbox: OutboxStore;
}

/** How much time a collect invocation has left, in milliseconds (the Lambda context's, or a test's). */
export type Deadline = () => number;

/**
 * Everything the runtime's entry points (startScan, sweep, collect) take. The Lambdas build it from AWS adapters;
 * `fleetscan demo` from a local fleet and dynalite. Nothing else is global.
 */
export interface RuntimeDeps {
  readonly gateway: CommandGateway;
  readonly store: HistoryStores;
  readonly notifier: Notifier;
  readonly optOut: OptOutSource;
  readonly clock: Clock;
  /** Hands work to a fresh collect invocation (hand-offs before the deadline). */
  readonly trigger: WorkTrigger;
  readonly logger?: RuntimeLogger;
  readonly metrics?: RuntimeMetrics;
  /** @default a real timer */
  readonly sleep?: Sleep;
  /** Generates lease tokens and scan ids. @default crypto.randomUUID */
  readonly newId?: () => string;
}
