/**
 * Notification messages, built as pure functions of what a collection found, for the Notifier port (SNS in AWS).
 * Every string that came from a node passes through sanitizeText; subjects are one line of fewer than 100
 * characters; bodies list a bounded number of nodes and say how many more there are, so a 10,000-node scan
 * cannot exceed SNS's 256 KB.
 */
import { sanitizeText } from '../core/sanitize.ts';
import type { NodeRecord, NodeStatus, Notification, RemediationRecord, SeverityCounts, WatchedIndex } from './ports.ts';

export const MAX_LISTED_NODES = 20;
export const MAX_LISTED_ACTIONS = 20;
/** Watched indices an outcome message lists (a remediation record keeps at most 16). */
export const MAX_LISTED_INDICES = 10;
/** SNS takes 256 KB with attributes and subject; the body keeps well below it. */
export const MAX_BODY_BYTES = 200_000;
export const MAX_SUBJECT_LENGTH = 99;

const STATUS_ORDER: readonly NodeStatus[] = ['CRITICAL', 'ERROR', 'WARN', 'OK'];

/** Thousandths as the kernel's debugfs prints them: 998 → 0.998, −1000 → -1.000. */
export function formatIndex(thousandths: number | null): string {
  return thousandths === null ? '-' : (thousandths / 1000).toFixed(3);
}

/** The scan's severity: its worst node. ERROR (a node that could not be judged) ranks below CRITICAL only. */
export function worstStatus(counts: SeverityCounts): NodeStatus {
  return STATUS_ORDER.find((status) => counts[status] > 0) ?? 'OK';
}

function rank(record: NodeRecord): number {
  return STATUS_ORDER.indexOf(record.status);
}

/** Worst first: CRITICAL, ERROR, WARN; then the highest unusable index; then node id (stable output). */
export function byWorst(a: NodeRecord, b: NodeRecord): number {
  return (
    rank(a) - rank(b) ||
    (b.worstUnusableIndex ?? -1) - (a.worstUnusableIndex ?? -1) ||
    (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
  );
}

function clean(text: string, max: number): string {
  return sanitizeText(text, max);
}

function subject(text: string): string {
  return sanitizeText(text, MAX_SUBJECT_LENGTH);
}

function describeIndex(index: WatchedIndex): string {
  return `node ${index.node} ${clean(index.zone, 16)} order ${index.order}: unusable ${formatIndex(index.unusableIndex)}, fragmentation ${formatIndex(index.fragmentationIndex)}, ${index.suitableBlocks} suitable block${index.suitableBlocks === 1 ? '' : 's'}`;
}

function nodeLine(record: NodeRecord): string {
  const who = `${clean(record.nodeId, 40)}${record.host === null ? '' : ` (${clean(record.host, 64)})`}`;
  if (record.status === 'ERROR') {
    return `  ERROR     ${who}: ${record.invocationState}${record.error === null ? '' : ` - ${clean(record.error, 200)}`}`;
  }
  const worst = record.indices[0];
  const parts = [
    worst === undefined ? 'no watched zone' : describeIndex(worst),
    record.cause === null ? null : `cause ${record.cause}`,
    record.findings[0] === undefined ? null : clean(record.findings[0], 60),
    record.consecutiveBreaches > 0 ? `breach ${record.consecutiveBreaches} in a row` : null,
  ].filter((part): part is string => part !== null);
  return `  ${record.status.padEnd(9)} ${who}: ${parts.join('; ')}`;
}

function actionLine(record: RemediationRecord): string {
  const where = record.numaNode === null ? 'all NUMA nodes' : `NUMA node ${record.numaNode}`;
  const state =
    record.status === 'PENDING'
      ? record.commandId === null
        ? 'being sent'
        : `sent (command ${clean(record.commandId, 40)})`
      : `${record.effect ?? 'done'}${record.error ? `: ${clean(record.error, 120)}` : ''}`;
  return `  ${clean(record.nodeId, 40)}: ${record.action} on ${where}${record.dryRun ? ' (dry run)' : ''} - ${state}`;
}

/** Cuts a body to the byte bound at a line boundary, saying so. */
function bounded(lines: readonly string[]): string {
  const out: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (bytes + size > MAX_BODY_BYTES - 100) {
      out.push('(message cut to stay within the SNS size limit)');
      break;
    }
    out.push(line);
    bytes += size;
  }
  return out.join('\n');
}

export interface ScanSummaryInput {
  readonly scanId: string;
  readonly requestedAt: string;
  readonly targets: string;
  readonly counts: SeverityCounts;
  readonly nodes: number;
  readonly worstUnusableIndex: number | null;
  /** The scan's non-OK node records, in any order (only the worst are listed). */
  readonly problems: readonly NodeRecord[];
  /** How many non-OK nodes the scan has, when `problems` holds only the worst of them. @default problems.length */
  readonly problemCount?: number;
  /** Remediations the scan started. */
  readonly remediations: readonly RemediationRecord[];
  /** Why fragmented CRITICAL nodes were left alone, by reason, when any were. */
  readonly notRemediated?: Readonly<Record<string, number>>;
  /** The scan ended INCOMPLETE: why. */
  readonly incompleteReason?: string;
}

/** A scan is worth a message when it found anything that is not OK, acted, or could not finish. */
export function shouldNotifyScan(
  input: Pick<ScanSummaryInput, 'counts' | 'remediations' | 'incompleteReason'>,
): boolean {
  return (
    input.counts.WARN + input.counts.CRITICAL + input.counts.ERROR > 0 ||
    input.remediations.length > 0 ||
    input.incompleteReason !== undefined
  );
}

export function scanSummary(input: ScanSummaryInput): Notification {
  const { counts } = input;
  const severity = worstStatus(counts);
  const found = (['CRITICAL', 'ERROR', 'WARN'] as const)
    .filter((status) => counts[status] > 0)
    .map((status) => `${counts[status]} ${status}`);
  const acted =
    input.remediations.length > 0
      ? `, ${input.remediations.length} remediation${input.remediations.length === 1 ? '' : 's'}`
      : '';
  const incomplete = input.incompleteReason === undefined ? '' : 'INCOMPLETE scan, ';
  const head = `${incomplete}${found.length > 0 ? found.join(', ') : 'all OK'}`;

  const listed = [...input.problems].sort(byWorst).slice(0, MAX_LISTED_NODES);
  const problemCount = Math.max(input.problemCount ?? input.problems.length, listed.length);
  const more = problemCount - listed.length;
  const actions = input.remediations.slice(0, MAX_LISTED_ACTIONS);
  const skipped = Object.entries(input.notRemediated ?? {}).filter(([, count]) => count > 0);

  const lines = [
    `fleetscan scan ${input.scanId}`,
    `requested ${input.requestedAt}, targets ${clean(input.targets, 200)}`,
    `nodes: ${input.nodes} (OK ${counts.OK}, WARN ${counts.WARN}, CRITICAL ${counts.CRITICAL}, ERROR ${counts.ERROR})`,
    `worst unusable free space index: ${formatIndex(input.worstUnusableIndex)}`,
    '',
  ];
  if (input.incompleteReason !== undefined) {
    lines.push(
      `INCOMPLETE: collection stopped before every node was recorded (${clean(input.incompleteReason, 500)}).`,
      'What was collected is kept; nodes not recorded are missing from this scan.',
      '',
    );
  }
  if (listed.length > 0) {
    lines.push(`Worst nodes (${listed.length} of ${problemCount}):`, ...listed.map(nodeLine));
    if (more > 0) lines.push(`  ... and ${more} more: fleetscan scan ${input.scanId}`);
    lines.push('');
  }
  if (actions.length > 0) {
    lines.push(`Remediations (${input.remediations.length}):`, ...actions.map(actionLine));
    if (input.remediations.length > actions.length)
      lines.push(`  ... and ${input.remediations.length - actions.length} more`);
    lines.push('');
  }
  if (skipped.length > 0) {
    lines.push(`Not remediated: ${skipped.map(([reason, count]) => `${count} ${reason}`).join(', ')}`, '');
  }
  lines.push(
    'Query:',
    `  fleetscan scan ${input.scanId}`,
    `  fleetscan history <node>${listed[0] === undefined ? '' : `   e.g. fleetscan history ${clean(listed[0].nodeId, 40)}`}`,
  );
  return {
    subject: subject(`fleetscan: ${head} of ${input.nodes} node${input.nodes === 1 ? '' : 's'}${acted}`),
    body: bounded(lines),
    severity: input.incompleteReason !== undefined && severity === 'OK' ? 'ERROR' : severity,
    scanId: input.scanId,
  };
}

export interface RemediationOutcomeInput {
  /** The COMPLETED record (effect, before/after indices). */
  readonly record: RemediationRecord;
  readonly host: string | null;
  readonly noEffectCount: number;
  readonly maxNoEffect: number;
  /** The node is blocked now (this outcome, or an earlier one, reached maxNoEffect). */
  readonly blocked: boolean;
}

function worstOf(indices: readonly WatchedIndex[] | undefined): number | null {
  return indices === undefined || indices.length === 0
    ? null
    : Math.max(...indices.map((index) => index.unusableIndex));
}

const EFFECT_SEVERITY: Record<NonNullable<RemediationRecord['effect']>, NodeStatus> = {
  improved: 'OK',
  'dry-run': 'OK',
  'no-effect': 'WARN',
  failed: 'ERROR',
};

export function remediationOutcome(input: RemediationOutcomeInput): Notification {
  const { record } = input;
  const effect = record.effect ?? 'failed';
  const before = worstOf(record.before);
  const after = worstOf(record.after);
  const change = before === null || after === null ? '' : ` (unusable ${formatIndex(before)} -> ${formatIndex(after)})`;
  const node = clean(record.nodeId, 40);
  const lines = [
    `fleetscan remediation ${record.remediationId}`,
    `node ${node}${input.host === null ? '' : ` (${clean(input.host, 64)})`}`,
    `action ${record.action} on ${record.numaNode === null ? 'all NUMA nodes' : `NUMA node ${record.numaNode}`}${record.dryRun ? ' (dry run: nothing was written on the node)' : ''}`,
    `effect: ${effect}${record.error ? ` - ${clean(record.error, 200)}` : ''}`,
    `requested ${record.requestedAt}, completed ${record.completedAt ?? '-'}, scan ${record.scanId}`,
  ];
  const pairs = (record.before ?? []).map((b) => {
    const a = (record.after ?? []).find((x) => x.node === b.node && x.zone === b.zone && x.order === b.order);
    return `  node ${b.node} ${clean(b.zone, 16)} order ${b.order}: unusable ${formatIndex(b.unusableIndex)} -> ${formatIndex(a?.unusableIndex ?? null)}, suitable blocks ${b.suitableBlocks} -> ${a?.suitableBlocks ?? '-'}`;
  });
  if (pairs.length > 0) {
    lines.push('', 'Watched indices before -> after:', ...pairs.slice(0, MAX_LISTED_INDICES));
    if (pairs.length > MAX_LISTED_INDICES) lines.push(`  ... and ${pairs.length - MAX_LISTED_INDICES} more`);
  }
  if (effect === 'no-effect' && !input.blocked) {
    lines.push(
      '',
      `No effect ${input.noEffectCount} time(s) in a row; the node is blocked after ${input.maxNoEffect}.`,
    );
  }
  if (input.blocked) {
    lines.push(
      '',
      `BLOCKED: ${node} had no effect from ${input.maxNoEffect} remediations in a row. fleetscan will not remediate it again until an operator clears it: fleetscan clear ${node}`,
    );
  }
  lines.push('', `Query: fleetscan history ${node}   fleetscan scan ${record.scanId}`);
  const blocked = input.blocked ? ', node blocked' : '';
  return {
    subject: subject(
      `fleetscan: ${node} ${record.action}${record.dryRun ? ' (dry run)' : ''} ${effect}${change}${blocked}`,
    ),
    body: bounded(lines),
    severity: input.blocked ? 'CRITICAL' : EFFECT_SEVERITY[effect],
    scanId: record.scanId,
  };
}
