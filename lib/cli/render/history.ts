/** How one node's history prints: what is known of the node, its state, a trend line, then its scans. */
import type { NodeRecord, NodeState, WatchedIndex } from '../../runtime/ports.ts';
import { bytes, clean, type Paint, plural, ratio, sparkline, utc } from '../format.ts';
import type { Column } from '../kit/table.ts';
import { detail } from './nodes.ts';

export function indexKey(index: Pick<WatchedIndex, 'node' | 'zone' | 'order'>): string {
  return `${index.node}/${index.zone}/${index.order}`;
}

/** The watched indices a node's records carry, in a stable order: NUMA node, zone, order. */
function watchedKeys(records: readonly NodeRecord[]): WatchedIndex[] {
  const seen = new Map<string, WatchedIndex>();
  for (const record of records) for (const index of record.indices) seen.set(indexKey(index), index);
  return [...seen.values()].sort((a, b) => a.node - b.node || a.zone.localeCompare(b.zone) || a.order - b.order);
}

/** Watched-index columns: two in the default table, four with -o wide (the JSON has them all). */
const INDEX_COLUMNS = { narrow: 2, wide: 4 } as const;

/** The lines above the table: the node, its state, the trend of its worst unusable index. */
export function renderNodeHeader(
  nodeId: string,
  records: readonly NodeRecord[],
  state: NodeState | null,
  paint: Paint,
): string[] {
  const newest = records[0];
  const lines = [paint.bold(`node ${clean(nodeId, 64)}${newest?.host ? ` (${clean(newest.host, 80)})` : ''}`)];
  const about = [
    newest?.kernel ? `kernel ${clean(newest.kernel, 80)}` : null,
    newest?.pageSize ? `page size ${bytes(newest.pageSize)}` : null,
  ].filter((part): part is string => part !== null);
  if (about.length > 0) lines.push(about.join(', '));
  if (state !== null) {
    const facts = [
      `${plural(state.consecutiveBreaches, 'consecutive breach', 'consecutive breaches')}`,
      state.lastRemediationAt ? `last remediation ${utc(state.lastRemediationAt)} UTC` : 'never remediated',
      state.noEffectCount > 0 ? `${state.noEffectCount} without effect in a row` : null,
      state.blocked ? paint.status('CRITICAL', "blocked from remediation until 'fleetscan clear'") : null,
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
  return lines;
}

export function historyColumns(records: readonly NodeRecord[], paint: Paint): Column<NodeRecord>[] {
  const watched = watchedKeys(records).slice(0, INDEX_COLUMNS.wide);
  const indexColumn = (key: WatchedIndex, position: number): Column<NodeRecord> => ({
    header: `${key.node}/${clean(key.zone, 16)} o${key.order}`,
    cell: (record) => {
      const index = record.indices.find((entry) => indexKey(entry) === indexKey(key));
      return index === undefined ? '-' : `${ratio(index.unusableIndex)} (${index.suitableBlocks})`;
    },
    tsv: (record) => record.indices.find((entry) => indexKey(entry) === indexKey(key))?.unusableIndex ?? null,
    align: 'right',
    rank: 2,
    ...(position < INDEX_COLUMNS.narrow ? {} : { view: 'wide' as const }),
  });
  return [
    { header: 'SCANNED (UTC)', cell: (record) => utc(record.at), tsv: (record) => record.at, keep: true },
    {
      header: 'STATUS',
      cell: (record) => record.status,
      keep: true,
      paint: (padded, record) => paint.status(record.status, padded),
    },
    { header: 'CAUSE', cell: (record) => record.cause ?? '-', tsv: (record) => record.cause, rank: 1, view: 'wide' },
    {
      header: 'WORST',
      cell: (record) => ratio(record.worstUnusableIndex),
      tsv: (record) => record.worstUnusableIndex,
      align: 'right',
      rank: 3,
    },
    ...watched.map(indexColumn),
    {
      header: 'ALLOC FAILURES',
      cell: (record) => (record.allocFailures === null ? '-' : String(record.allocFailures)),
      tsv: (record) => record.allocFailures,
      align: 'right',
      view: 'wide',
    },
    { header: 'SCAN', cell: (record) => record.scanId, view: 'wide' },
    { header: 'FINDINGS / ERROR', cell: (record) => detail(record, 1), shrink: 16, rank: 4, view: 'narrow' },
    { header: 'FINDINGS / ERROR', cell: (record) => detail(record), shrink: 16, view: 'wide' },
  ];
}

/** The legend under the table when it shows watched-index columns. */
export const HISTORY_LEGEND = 'per watched zone and order: unusable free space index (suitable blocks left)';
