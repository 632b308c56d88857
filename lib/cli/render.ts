/**
 * What the history commands print: the `--json` views (a stable, documented contract, independent of how records
 * are stored) and the terminal tables. Pure functions of records; every string that came from a node is cleaned
 * here, whatever the store already did.
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
import { type CellInput, clean, columns, type Paint, ratio, sparkline, utc } from './format.ts';

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
  };
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/* ---- terminal tables ---- */

const statusCell = (paint: Paint, status: string): CellInput => ({
  text: status,
  show: (padded) => paint.status(status, padded),
});

const right = (value: string): CellInput => ({ text: value, right: true });

function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : String(value);
}

export function renderScans(scans: readonly ScanRecord[], paint: Paint): string[] {
  const header = [
    'SCAN',
    'REQUESTED (UTC)',
    'STATUS',
    'NODES',
    'OK',
    'WARN',
    'CRITICAL',
    'ERROR',
    'REMEDIATED',
    'WORST',
  ];
  const rows = scans.map((scan): CellInput[] => {
    const counts = scan.counts;
    const severity = (level: keyof SeverityCounts): CellInput => {
      const value = counts?.[level];
      const shown = count(value);
      return {
        text: shown,
        right: true,
        show: (padded) => (value !== undefined && value > 0 && level !== 'OK' ? paint.status(level, padded) : padded),
      };
    };
    return [
      scan.scanId,
      utc(scan.requestedAt),
      scan.status,
      right(count(scan.nodes)),
      severity('OK'),
      severity('WARN'),
      severity('CRITICAL'),
      severity('ERROR'),
      right(String(scan.remediations ?? 0)),
      right(ratio(scan.worstUnusableIndex)),
    ];
  });
  const [head = '', ...body] = columns([header, ...rows]);
  return [paint.bold(head), ...body];
}

/** `no-suitable-block@0/Normal/6, ...` for a record, or its error when it has no verdict. */
function detail(record: NodeRecord, width = 3): string {
  if (record.status === 'ERROR') {
    const why = clean(record.error, 120);
    if (why === '') return record.invocationState;
    return why.includes(record.invocationState) ? why : `${record.invocationState}: ${why}`;
  }
  const shown = record.findings.slice(0, width).map((finding) => clean(finding, 60));
  const more = record.findings.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` (+${more} more)` : ''}`;
}

export function renderScanHeader(scan: ScanRecord, paint: Paint): string[] {
  const counts = scan.counts;
  const parts = counts
    ? (['OK', 'WARN', 'CRITICAL', 'ERROR'] as const).map((level) => {
        const value = counts[level];
        const label = `${value} ${level}`;
        return value > 0 && level !== 'OK' ? paint.status(level, label) : label;
      })
    : [];
  const lines = [
    `${paint.bold(`scan ${scan.scanId}`)}  ${scan.status}`,
    `requested ${utc(scan.requestedAt)} UTC` +
      (scan.completedAt ? `, completed ${utc(scan.completedAt)} UTC` : '') +
      `, targets ${clean(scan.targets, 120)}`,
  ];
  if (scan.nodes !== undefined) {
    lines.push(
      `${scan.nodes} node${scan.nodes === 1 ? '' : 's'}: ${parts.join(', ')}; ` +
        `${scan.remediations ?? 0} remediation${scan.remediations === 1 ? '' : 's'}; ` +
        `worst unusable index ${ratio(scan.worstUnusableIndex)}`,
    );
  } else {
    lines.push('not collected yet: its nodes appear once the collector has run');
  }
  return lines;
}

export function renderScanNodes(records: readonly NodeRecord[], paint: Paint): string[] {
  const header = ['NODE', 'STATUS', 'CAUSE', 'UNUSABLE', 'FRAG', 'BREACHES', 'HOST', 'FINDINGS / ERROR'];
  const rows = records.map((record): CellInput[] => [
    clean(record.nodeId, 64),
    statusCell(paint, record.status),
    record.cause ?? '-',
    right(ratio(record.worstUnusableIndex)),
    right(ratio(record.worstFragmentationIndex)),
    right(record.status === 'ERROR' ? '-' : String(record.consecutiveBreaches)),
    clean(record.host, 40) || '-',
    detail(record),
  ]);
  const [head = '', ...body] = columns([header, ...rows]);
  return [paint.bold(head), ...body];
}

function indexKey(index: WatchedIndex): string {
  return `${index.node}/${index.zone}/${index.order}`;
}

/** The watched indices a node's records carry, in a stable order: NUMA node, zone, order. */
function watchedKeys(records: readonly NodeRecord[]): WatchedIndex[] {
  const seen = new Map<string, WatchedIndex>();
  for (const record of records) for (const index of record.indices) seen.set(indexKey(index), index);
  return [...seen.values()].sort((a, b) => a.node - b.node || a.zone.localeCompare(b.zone) || a.order - b.order);
}

/** Most watched-index columns the history table shows; the JSON has them all. */
const MAX_INDEX_COLUMNS = 4;

export function renderHistory(
  nodeId: string,
  records: readonly NodeRecord[],
  state: NodeState | null,
  paint: Paint,
): string[] {
  const newest = records[0];
  const lines: string[] = [];
  const about = [
    `node ${clean(nodeId, 64)}`,
    newest?.host ? `host ${clean(newest.host, 80)}` : null,
    newest?.kernel ? `kernel ${clean(newest.kernel, 80)}` : null,
    newest?.pageSize ? `page size ${newest.pageSize / 1024} KiB` : null,
  ].filter((part): part is string => part !== null);
  lines.push(paint.bold(about.join('  ')));
  if (state !== null) {
    const facts = [
      `${state.consecutiveBreaches} consecutive breach${state.consecutiveBreaches === 1 ? '' : 'es'}`,
      state.lastRemediationAt ? `last remediation ${utc(state.lastRemediationAt)} UTC` : 'never remediated',
      state.noEffectCount > 0 ? `${state.noEffectCount} without effect in a row` : null,
      state.blocked ? paint.status('CRITICAL', 'blocked from remediation until cleared') : null,
    ].filter((part): part is string => part !== null);
    lines.push(`state: ${facts.join(', ')}`);
  }
  const trend = [...records].reverse().map((record) => record.worstUnusableIndex);
  const known = trend.filter((value): value is number => value !== null);
  if (known.length > 0) {
    lines.push(
      `worst unusable index, oldest → newest: ${sparkline(trend)}  ${ratio(known[0])} → ${ratio(known[known.length - 1])}` +
        ` (min ${ratio(Math.min(...known))}, max ${ratio(Math.max(...known))})`,
    );
  }
  lines.push('');
  const watched = watchedKeys(records).slice(0, MAX_INDEX_COLUMNS);
  const header = [
    'SCANNED (UTC)',
    'STATUS',
    'CAUSE',
    'WORST',
    ...watched.map((index) => `${index.node}/${index.zone} o${index.order}`),
    'FINDINGS / ERROR',
  ];
  const rows = records.map((record): CellInput[] => {
    const byKey = new Map(record.indices.map((index) => [indexKey(index), index]));
    return [
      utc(record.at),
      statusCell(paint, record.status),
      record.cause ?? '-',
      right(ratio(record.worstUnusableIndex)),
      ...watched.map((key) => {
        const index = byKey.get(indexKey(key));
        return right(index === undefined ? '-' : `${ratio(index.unusableIndex)} (${index.suitableBlocks})`);
      }),
      detail(record, 2),
    ];
  });
  const [head = '', ...body] = columns([header, ...rows]);
  lines.push(paint.bold(head), ...body);
  if (watched.length > 0) {
    lines.push(paint.dim('per watched zone and order: unusable free space index (suitable blocks left)'));
  }
  return lines;
}

/** The watched index that was worst before, and the same one after. */
export function measuredEffect(record: RemediationRecord): string {
  const before = record.before ?? [];
  const after = record.after ?? [];
  const worst = [...before].sort((a, b) => b.unusableIndex - a.unusableIndex)[0];
  if (worst === undefined) return record.error ? clean(record.error, 80) : '-';
  const matched = after.find((index) => indexKey(index) === indexKey(worst));
  const where = `${worst.node}/${clean(worst.zone, 16)} o${worst.order}`;
  if (matched === undefined) return `${where} ${ratio(worst.unusableIndex)} → -`;
  return (
    `${where} ${ratio(worst.unusableIndex)} → ${ratio(matched.unusableIndex)}` +
    ` (${worst.suitableBlocks} → ${matched.suitableBlocks} blocks)`
  );
}

export function renderRemediations(records: readonly RemediationRecord[], paint: Paint): string[] {
  const header = ['REQUESTED (UTC)', 'NODE', 'ACTION', 'NUMA', 'DRY RUN', 'STATUS', 'EFFECT', 'BEFORE → AFTER'];
  const rows = records.map((record): CellInput[] => {
    const effect = record.effect ?? (record.status === 'PENDING' ? 'pending' : '-');
    return [
      utc(record.requestedAt),
      clean(record.nodeId, 64),
      record.action,
      right(record.numaNode === null ? 'all' : String(record.numaNode)),
      record.dryRun ? 'yes' : 'no',
      record.status,
      { text: effect, show: (padded) => paint.status(effect, padded) },
      measuredEffect(record) + (record.blocked ? '; node now blocked' : ''),
    ];
  });
  const [head = '', ...body] = columns([header, ...rows]);
  return [paint.bold(head), ...body];
}
