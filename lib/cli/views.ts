/**
 * The `-o json` / `-o yaml` views of the history: a stable, documented contract (README, "Querying the history"),
 * independent of how records are stored. Pure functions of records; every string that came from a node is cleaned
 * here, whatever the store already did. New fields may be added; none is removed or changes meaning.
 */
import { sanitizeText } from '../core/sanitize.ts';
import type {
  NodeRecord,
  NodeState,
  NodeStatus,
  RemediationRecord,
  ScanRecord,
  SeverityCounts,
  WatchedIndex,
} from '../runtime/ports.ts';

/* ---- JSON views ---- */

export interface ScanJson {
  readonly scanId: string;
  readonly commandId: string;
  readonly requestedAt: string;
  readonly completedAt: string | null;
  readonly status: string;
  readonly targets: string;
  readonly nodes: number | null;
  readonly counts: SeverityCounts | null;
  readonly remediations: number;
  readonly worstUnusableIndex: number | null;
  /** INCOMPLETE only: why collection stopped. */
  readonly incompleteReason: string | null;
  /** Nodes collected of nodes targeted (while RUNNING, and kept after). */
  readonly progress: { readonly collected: number; readonly targeted: number | null } | null;
  /** Gather commands the scan was sent as. */
  readonly shards: number;
}

export interface IndexJson {
  readonly node: number;
  readonly zone: string;
  readonly order: number;
  readonly suitableBlocks: number;
  readonly unusableIndex: number;
  readonly fragmentationIndex: number;
}

export interface NodeRecordJson {
  readonly scanId: string;
  readonly nodeId: string;
  readonly at: string;
  readonly status: NodeStatus;
  readonly cause: string | null;
  readonly findings: string[];
  readonly invocationState: string;
  readonly error: string | null;
  readonly host: string | null;
  readonly kernel: string | null;
  readonly pageSize: number | null;
  readonly memTotalKb: number | null;
  readonly memAvailableKb: number | null;
  readonly allocFailures: number | null;
  /** The /proc/vmstat counters judged as rates (cumulative since boot); null from a v1 report. */
  readonly counters: Readonly<Record<string, number>> | null;
  readonly bootId: string | null;
  readonly uptimeSeconds: number | null;
  readonly consecutiveBreaches: number;
  readonly worstUnusableIndex: number | null;
  readonly worstFragmentationIndex: number | null;
  readonly indices: IndexJson[];
  readonly zones: string[];
}

export interface NodeStateJson {
  readonly consecutiveBreaches: number;
  readonly lastScanId: string | null;
  readonly lastRemediationAt: string | null;
  readonly lastRemediationId: string | null;
  readonly noEffectCount: number;
  readonly blocked: boolean;
  /** No remediation before this time (ISO-8601 UTC); null when never remediated. */
  readonly cooldownUntil: string | null;
}

export interface RemediationJson {
  readonly remediationId: string;
  readonly nodeId: string;
  readonly scanId: string;
  readonly commandId: string | null;
  readonly action: string;
  readonly numaNode: number | null;
  readonly dryRun: boolean;
  readonly requestedAt: string;
  readonly completedAt: string | null;
  readonly status: string;
  readonly effect: string | null;
  readonly before: IndexJson[];
  readonly after: IndexJson[];
  readonly error: string | null;
  readonly blocked: boolean;
  /** Why this effect, one sentence (the effect judge's, a pre-check's, the remediation window's); null when none. */
  readonly detail: string | null;
}

const text = (value: string | null | undefined, max: number): string | null =>
  value === null || value === undefined ? null : sanitizeText(value, max);

export function scanJson(scan: ScanRecord): ScanJson {
  return {
    scanId: scan.scanId,
    commandId: scan.commandId,
    requestedAt: scan.requestedAt,
    completedAt: scan.completedAt ?? null,
    status: scan.status,
    targets: sanitizeText(scan.targets, 200),
    nodes: scan.nodes ?? null,
    counts: scan.counts ?? null,
    // The scan's remediation counter is created by the first remediation: absent means none.
    remediations: scan.remediations ?? 0,
    worstUnusableIndex: scan.worstUnusableIndex ?? null,
    incompleteReason: text(scan.incompleteReason, 200),
    progress: scan.progress ?? null,
    shards: scan.shards ?? 1,
  };
}

function indexJson(index: WatchedIndex): IndexJson {
  return {
    node: index.node,
    zone: sanitizeText(index.zone, 32),
    order: index.order,
    suitableBlocks: index.suitableBlocks,
    unusableIndex: index.unusableIndex,
    fragmentationIndex: index.fragmentationIndex,
  };
}

export function nodeRecordJson(record: NodeRecord): NodeRecordJson {
  return {
    scanId: record.scanId,
    nodeId: sanitizeText(record.nodeId, 64),
    at: record.at,
    status: record.status,
    cause: record.cause,
    findings: record.findings.map((finding) => sanitizeText(finding, 120)),
    invocationState: record.invocationState,
    error: text(record.error, 200),
    host: text(record.host, 255),
    kernel: text(record.kernel, 128),
    pageSize: record.pageSize,
    memTotalKb: record.memTotalKb,
    memAvailableKb: record.memAvailableKb,
    allocFailures: record.allocFailures,
    counters: record.counters,
    bootId: text(record.bootId, 40),
    uptimeSeconds: record.uptimeSeconds,
    consecutiveBreaches: record.consecutiveBreaches,
    worstUnusableIndex: record.worstUnusableIndex,
    worstFragmentationIndex: record.worstFragmentationIndex,
    indices: record.indices.map(indexJson),
    zones: record.zones.map((zone) => sanitizeText(zone, 400)),
  };
}

export function nodeStateJson(state: NodeState): NodeStateJson {
  return {
    consecutiveBreaches: state.consecutiveBreaches,
    lastScanId: state.lastScanId,
    lastRemediationAt: state.lastRemediationAt,
    lastRemediationId: state.lastRemediationId,
    noEffectCount: state.noEffectCount,
    blocked: state.blocked,
    cooldownUntil: state.cooldownUntil,
  };
}

export function remediationJson(record: RemediationRecord): RemediationJson {
  return {
    remediationId: record.remediationId,
    nodeId: sanitizeText(record.nodeId, 64),
    scanId: record.scanId,
    commandId: record.commandId,
    action: record.action,
    numaNode: record.numaNode,
    dryRun: record.dryRun,
    requestedAt: record.requestedAt,
    completedAt: record.completedAt ?? null,
    status: record.status,
    effect: record.effect ?? null,
    before: (record.before ?? []).map(indexJson),
    after: (record.after ?? []).map(indexJson),
    error: text(record.error, 200),
    blocked: record.blocked === true,
    detail: text(record.detail, 200),
  };
}
