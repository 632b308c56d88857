/**
 * Notification messages, built as pure functions of what a collection found, for the Notifier port (SNS in AWS).
 * Messages are for news: a scan sends one only when a node newly got into trouble (or worse) or recovered, the scan
 * could not finish, or the periodic digest of ongoing problems is due; a remediate command sends
 * one message for all its nodes' outcomes. Each carries its kinds (`change`, `digest`, `scan-failed`, `outcome`).
 * Every string that came from a node passes through sanitizeText; subjects are one line of fewer than 100
 * characters; bodies list a bounded number of nodes and say how many more there are, so a 10,000-node scan
 * cannot exceed SNS's 256 KB.
 */
import { formatThousandths } from '../core/metrics.ts';
import { sanitizeText } from '../core/sanitize.ts';
import type {
  Changes,
  NodeRecord,
  NodeStatus,
  Notification,
  NotificationKind,
  RemediationEffect,
  RemediationRecord,
  SeverityCounts,
  StatusChange,
  WatchedIndex,
} from './ports.ts';
import { changeOf } from './tallies.ts';

export const MAX_LISTED_NODES = 20;
export const MAX_LISTED_ACTIONS = 20;
/** Watched indices an outcome message lists (a remediation record keeps at most 16). */
export const MAX_LISTED_INDICES = 10;
/** SNS takes 256 KB with attributes and subject; the body keeps well below it. */
export const MAX_BODY_BYTES = 200_000;
export const MAX_SUBJECT_LENGTH = 99;

const STATUS_ORDER: readonly NodeStatus[] = ['CRITICAL', 'ERROR', 'WARN', 'OK'];

/** Thousandths as the kernel's debugfs prints them (998 → 0.998); '-' when unknown. */
export function formatIndex(thousandths: number | null): string {
  return thousandths === null ? '-' : formatThousandths(thousandths);
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
  /** Remediations the scan started or deferred. */
  readonly remediations: readonly RemediationRecord[];
  /** Why CRITICAL nodes were left alone, by reason, when any were. */
  readonly notRemediated?: Readonly<Record<string, number>>;
  /** The scan ended INCOMPLETE: why. */
  readonly incompleteReason?: string;
  /** What changed since the nodes' previous scan. @default nothing */
  readonly changes?: Changes;
  /** This scan sends the periodic digest of ongoing problems. @default false */
  readonly digest?: boolean;
}

function newProblemCount(changes: Changes | undefined): number {
  if (changes === undefined) return 0;
  const p = changes.newProblems;
  return p.WARN + p.CRITICAL + p.ERROR;
}

/** What a scan's message carries: nothing unless there is news, a digest is due, or the scan could not finish. */
export function scanMessageKinds(
  input: Pick<ScanSummaryInput, 'changes' | 'remediations' | 'incompleteReason' | 'digest'>,
): NotificationKind[] {
  const kinds: NotificationKind[] = [];
  if (input.incompleteReason !== undefined) kinds.push('scan-failed');
  // A deferred remediation is not news by itself: it is told with the change that made the node a candidate (and in
  // the digest); a node waiting for its window is deferred again at every scan until then.
  if (newProblemCount(input.changes) > 0 || (input.changes?.recovered ?? 0) > 0) kinds.push('change');
  if (input.digest === true) kinds.push('digest');
  return kinds;
}

/** A scan is worth a message when it carries any kind (see scanMessageKinds). */
export function shouldNotifyScan(
  input: Pick<ScanSummaryInput, 'changes' | 'remediations' | 'incompleteReason' | 'digest'>,
): boolean {
  return scanMessageKinds(input).length > 0;
}

function changeLine(change: StatusChange, record: NodeRecord | undefined): string {
  const was = change.from === null ? 'new node' : `was ${change.from}`;
  if (record !== undefined) return `${nodeLine(record)} (${was})`;
  return `  ${change.status.padEnd(9)} ${clean(change.nodeId, 40)} (${was})`;
}

/** "2 new CRITICAL, 1 new WARN, 1 recovered" — what changed, for the subject. */
function changeHead(changes: Changes | undefined): string[] {
  if (changes === undefined) return [];
  const parts = (['CRITICAL', 'ERROR', 'WARN'] as const)
    .filter((status) => changes.newProblems[status] > 0)
    .map((status) => `${changes.newProblems[status]} new ${status}`);
  if (changes.recovered > 0) parts.push(`${changes.recovered} recovered`);
  return parts;
}

export function scanSummary(input: ScanSummaryInput): Notification {
  const { counts, changes } = input;
  const kinds = scanMessageKinds(input);
  const problemCount = Math.max(input.problemCount ?? input.problems.length, input.problems.length);
  const listed = [...input.problems].sort(byWorst).slice(0, MAX_LISTED_NODES);
  const byId = new Map(input.problems.map((record) => [record.nodeId, record]));
  const newOnes = (changes?.listed ?? []).filter((change) => changeOf(change.from, change.status) === 'new');
  const recovered = (changes?.listed ?? []).filter((change) => changeOf(change.from, change.status) === 'recovered');
  const deferred = input.remediations.filter((record) => record.effect === 'deferred');
  const acted = input.remediations.filter((record) => record.effect !== 'deferred');
  const skipped = Object.entries(input.notRemediated ?? {}).filter(([, count]) => count > 0);

  const ongoing = (['CRITICAL', 'ERROR', 'WARN'] as const)
    .filter((status) => counts[status] > 0)
    .map((status) => `${counts[status]} ${status}`);
  const heads: string[] = [];
  if (input.incompleteReason !== undefined) heads.push('INCOMPLETE scan');
  const changed = changeHead(changes);
  if (changed.length > 0) heads.push(changed.join(', '));
  if (deferred.length > 0) heads.push(`${deferred.length} remediation${deferred.length === 1 ? '' : 's'} deferred`);
  if (input.digest === true || input.incompleteReason !== undefined || heads.length === 0) {
    heads.push(
      `${ongoing.length > 0 ? ongoing.join(', ') : 'all OK'} of ${input.nodes} node${input.nodes === 1 ? '' : 's'}`,
    );
  }

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
  const newTotal = newProblemCount(changes);
  if (newTotal > 0) {
    lines.push(
      `Newly in trouble since their previous scan (${newTotal}):`,
      ...newOnes.slice(0, MAX_LISTED_NODES).map((change) => changeLine(change, byId.get(change.nodeId))),
    );
    if (newTotal > Math.min(newOnes.length, MAX_LISTED_NODES))
      lines.push(`  ... and ${newTotal - Math.min(newOnes.length, MAX_LISTED_NODES)} more`);
    lines.push('');
  }
  if ((changes?.recovered ?? 0) > 0) {
    lines.push(
      `Recovered (${changes?.recovered}): ${recovered
        .slice(0, MAX_LISTED_NODES)
        .map((change) => clean(change.nodeId, 40))
        .join(', ')}${(changes?.recovered ?? 0) > recovered.length ? ', ...' : ''}`,
      '',
    );
  }
  if (input.digest === true && listed.length > 0) {
    lines.push(`Ongoing problems, worst first (${listed.length} of ${problemCount}):`, ...listed.map(nodeLine));
    if (problemCount > listed.length)
      lines.push(`  ... and ${problemCount - listed.length} more: fleetscan scan ${input.scanId}`);
    lines.push('');
  }
  if (acted.length > 0 || deferred.length > 0) {
    const shown = [...deferred, ...acted].slice(0, MAX_LISTED_ACTIONS);
    lines.push(`Remediations (${acted.length + deferred.length}):`, ...shown.map(actionLine));
    if (acted.length + deferred.length > shown.length)
      lines.push(`  ... and ${acted.length + deferred.length - shown.length} more`);
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
  const severity = worstStatus(
    input.digest === true
      ? counts
      : {
          OK: 0,
          WARN: changes?.newProblems.WARN ?? 0,
          CRITICAL: changes?.newProblems.CRITICAL ?? 0,
          ERROR: changes?.newProblems.ERROR ?? 0,
        },
  );
  return {
    subject: subject(`fleetscan: ${heads.join('; ')}`),
    body: bounded(lines),
    severity: input.incompleteReason !== undefined && (severity === 'OK' || severity === 'WARN') ? 'ERROR' : severity,
    scanId: input.scanId,
    kinds: kinds.length > 0 ? kinds : ['change'],
    facts: {
      newProblems: newOnes.map((change) => change.nodeId),
      recovered: recovered.map((change) => change.nodeId),
      ongoing: input.digest === true ? listed.map((record) => record.nodeId) : [],
      remediations: input.remediations.map((record) => ({
        nodeId: record.nodeId,
        action: record.action,
        effect: record.effect ?? (record.status === 'PENDING' ? 'pending' : 'done'),
      })),
    },
  };
}

export interface CommandOutcomeInput {
  readonly commandId: string;
  readonly scanId: string;
  /** The COMPLETED records bound to the command (effect, before/after indices, streaks). */
  readonly records: readonly RemediationRecord[];
  readonly maxNoEffect: number;
}

function worstOf(indices: readonly WatchedIndex[] | undefined): number | null {
  return indices === undefined || indices.length === 0
    ? null
    : Math.max(...indices.map((index) => index.unusableIndex));
}

const EFFECT_SEVERITY: Record<RemediationEffect, NodeStatus> = {
  improved: 'OK',
  'dry-run': 'OK',
  skipped: 'OK',
  deferred: 'OK',
  'no-effect': 'WARN',
  failed: 'ERROR',
};

const EFFECT_ORDER: readonly RemediationEffect[] = [
  'improved',
  'no-effect',
  'failed',
  'skipped',
  'dry-run',
  'deferred',
];

function outcomeLine(record: RemediationRecord): string {
  const effect = record.effect ?? 'failed';
  const before = worstOf(record.before);
  const after = worstOf(record.after);
  const change = before === null || after === null ? '' : ` (unusable ${formatIndex(before)} -> ${formatIndex(after)})`;
  const why = record.error ? ` - ${clean(record.error, 200)}` : record.detail ? ` - ${clean(record.detail, 200)}` : '';
  const host = record.host === null || record.host === undefined ? '' : ` (${clean(record.host, 64)})`;
  return `  ${effect.padEnd(9)} ${clean(record.nodeId, 40)}${host}${change}${why}`;
}

/** One message for a remediate command: each node's outcome, and which nodes that made blocked. */
export function commandOutcome(input: CommandOutcomeInput): Notification {
  const records = [...input.records].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  const [first] = records;
  const action = first?.action ?? 'compact';
  const where = first?.numaNode === null || first === undefined ? 'all NUMA nodes' : `NUMA node ${first.numaNode}`;
  const dryRun = first?.dryRun === true;
  const byEffect = new Map<RemediationEffect, number>();
  for (const record of records)
    byEffect.set(record.effect ?? 'failed', (byEffect.get(record.effect ?? 'failed') ?? 0) + 1);
  const tally = EFFECT_ORDER.filter((effect) => byEffect.has(effect)).map(
    (effect) => `${byEffect.get(effect)} ${effect}`,
  );
  const blocked = records.filter((record) => record.blocked === true);
  const single = records.length === 1 ? first : undefined;
  const lines = [
    `fleetscan remediation: command ${clean(input.commandId, 40)} of scan ${input.scanId}`,
    `action ${action} on ${where}${dryRun ? ' (dry run: nothing was written on the nodes)' : ''}, ${records.length} node${records.length === 1 ? '' : 's'}: ${tally.join(', ')}`,
    '',
    ...records.slice(0, MAX_LISTED_ACTIONS).map(outcomeLine),
  ];
  if (records.length > MAX_LISTED_ACTIONS) lines.push(`  ... and ${records.length - MAX_LISTED_ACTIONS} more`);
  if (single !== undefined) {
    const pairs = (single.before ?? []).map((b) => {
      const a = (single.after ?? []).find((x) => x.node === b.node && x.zone === b.zone && x.order === b.order);
      return `  node ${b.node} ${clean(b.zone, 16)} order ${b.order}: unusable ${formatIndex(b.unusableIndex)} -> ${formatIndex(a?.unusableIndex ?? null)}, suitable blocks ${b.suitableBlocks} -> ${a?.suitableBlocks ?? '-'}`;
    });
    if (pairs.length > 0) {
      lines.push('', 'Watched indices before -> after:', ...pairs.slice(0, MAX_LISTED_INDICES));
      if (pairs.length > MAX_LISTED_INDICES) lines.push(`  ... and ${pairs.length - MAX_LISTED_INDICES} more`);
    }
  }
  const streaking = records.filter((record) => record.effect === 'no-effect' && record.blocked !== true);
  for (const record of streaking.slice(0, MAX_LISTED_ACTIONS)) {
    lines.push(
      '',
      `${clean(record.nodeId, 40)}: no effect ${record.noEffectCount ?? 1} time(s) in a row; blocked after ${input.maxNoEffect}.`,
    );
  }
  for (const record of blocked.slice(0, MAX_LISTED_ACTIONS)) {
    const node = clean(record.nodeId, 40);
    lines.push(
      '',
      `BLOCKED: ${node} had no effect from ${input.maxNoEffect} remediations in a row. fleetscan will not remediate it again until an operator clears it: fleetscan clear ${node}`,
    );
  }
  lines.push('', `Query: fleetscan remediations   fleetscan scan ${input.scanId}`);
  const severity = blocked.length > 0 ? 'CRITICAL' : worstStatus(countsOf(records));
  const who =
    single === undefined ? `${records.length} node${records.length === 1 ? '' : 's'}` : clean(single.nodeId, 40);
  const change =
    single === undefined || worstOf(single.before) === null || worstOf(single.after) === null
      ? ''
      : ` (unusable ${formatIndex(worstOf(single.before))} -> ${formatIndex(worstOf(single.after))})`;
  return {
    subject: subject(
      `fleetscan: ${who} ${action}${dryRun ? ' (dry run)' : ''} ${single === undefined ? tally.join(', ') : (single.effect ?? 'failed')}${change}${blocked.length > 0 ? `, ${blocked.length === 1 && single !== undefined ? 'node' : `${blocked.length} node${blocked.length === 1 ? '' : 's'}`} blocked` : ''}`,
    ),
    body: bounded(lines),
    severity,
    scanId: input.scanId,
    kinds: ['outcome'],
    facts: {
      newProblems: [],
      recovered: [],
      ongoing: [],
      remediations: records.map((record) => ({
        nodeId: record.nodeId,
        action: record.action,
        effect: record.effect ?? 'failed',
      })),
    },
  };
}

function countsOf(records: readonly RemediationRecord[]): SeverityCounts {
  const counts = { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };
  for (const record of records) counts[EFFECT_SEVERITY[record.effect ?? 'failed']] += 1;
  return counts;
}
