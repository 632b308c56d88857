/**
 * The small interfaces the runtime's plain modules (scan, collect, remediate, notify) take as arguments.
 * AWS adapters (lib/adapters/ssm.ts, dynamo-store.ts, sns.ts, ec2-tags.ts) implement them for the Lambdas;
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
  readonly targets:
    | { readonly kind: 'tags'; readonly tags: readonly { readonly key: string; readonly values: readonly string[] }[] }
    | { readonly kind: 'instances'; readonly instanceIds: readonly string[] };
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly deliveryTimeoutSeconds: number;
  /** Short text shown in the SSM console (≤ 100 characters). */
  readonly comment: string;
}

/** The fleet, as SSM Run Command reaches it. */
export interface CommandGateway {
  /** Sends a command; returns its id. */
  send(request: SendCommandRequest): Promise<{ readonly commandId: string }>;
  /** Every invocation of a command, page by page (50 per page), with outputs. */
  listInvocations(commandId: string): AsyncIterable<readonly Invocation[]>;
  /** The full stdout of one invocation (up to 24,000 characters), for outputs the listing cut. */
  getFullOutput(commandId: string, instanceId: string): Promise<string>;
}

/** Where notifications go (SNS; a terminal and a file locally). */
export interface Notification {
  /** Fewer than 100 characters, one line, sanitized. */
  readonly subject: string;
  readonly body: string;
  readonly severity: Level;
  readonly scanId: string;
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

/* ---- what is stored ---- */

export type ScanStatus = 'RUNNING' | 'COMPLETED';

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
  readonly remediations?: number;
  readonly completedAt?: string;
  readonly worstUnusableIndex?: number | null;
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
  readonly allocFailures: number | null;
  /** Watched zones' raw counts as gather `zone` lines without the word (`0 Normal 1 2 3 ...`). */
  readonly zones: readonly string[];
  readonly indices: readonly WatchedIndex[];
  readonly worstUnusableIndex: number | null;
  readonly worstFragmentationIndex: number | null;
  readonly consecutiveBreaches: number;
}

export type RemediationStatus = 'PENDING' | 'COMPLETED';
export type RemediationEffect = 'improved' | 'no-effect' | 'dry-run' | 'failed';

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
}

/** Per-node state: what makes evaluation hysteretic and remediation rationed and idempotent. */
export interface NodeState {
  readonly nodeId: string;
  readonly consecutiveBreaches: number;
  /** The last scan whose verdict is folded into this state (so a re-delivered scan is not counted twice). */
  readonly lastScanId: string | null;
  readonly lastRemediationAt: string | null;
  readonly lastRemediationId: string | null;
  /** Remediations in a row that had no effect. */
  readonly noEffectCount: number;
  /** Set when noEffectCount reached the policy's limit; cleared by an operator. */
  readonly blocked: boolean;
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

export interface HistoryReader {
  /** Scans, newest first. */
  listScans(page: PageRequest): Promise<Page<ScanRecord>>;
  getScan(scanId: string): Promise<ScanRecord | null>;
  /** Every node of a scan, in node id order. */
  listScanNodes(scanId: string, page: PageRequest): Promise<Page<NodeRecord>>;
  /** The scan's non-OK nodes only (the sparse index), CRITICAL first, then ERROR, then WARN, worst index first. */
  listProblemNodes(scanId: string, page: PageRequest): Promise<Page<NodeRecord>>;
  /** One node's records, newest first, optionally since an ISO-8601 time. */
  nodeHistory(nodeId: string, options: PageRequest & { readonly since?: string }): Promise<Page<NodeRecord>>;
  /** Remediations, newest first; of one node when given. */
  listRemediations(options: PageRequest & { readonly nodeId?: string }): Promise<Page<RemediationRecord>>;
  getNodeState(nodeId: string): Promise<NodeState | null>;
}
