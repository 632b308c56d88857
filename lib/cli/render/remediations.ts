/** How remediations print: the action, dry run, the effect, and what it measurably changed on the node. */
import type { RemediationRecord } from '../../runtime/ports.ts';
import { clean, type Paint, ratio, utc } from '../format.ts';
import type { Column } from '../kit/table.ts';
import { indexKey } from './history.ts';

/** The watched index that was worst before, and the same one after; `short` leaves out its NUMA node and zone. */
export function measuredEffect(record: RemediationRecord, short = false): string {
  const before = record.before ?? [];
  const after = record.after ?? [];
  const worst = [...before].sort((a, b) => b.unusableIndex - a.unusableIndex)[0];
  if (worst === undefined) return record.error ? clean(record.error, 80) : clean(record.detail, 80) || '-';
  const matched = after.find((index) => indexKey(index) === indexKey(worst));
  const where = short ? `o${worst.order}` : `${worst.node}/${clean(worst.zone, 16)} o${worst.order}`;
  if (matched === undefined) return `${where} ${ratio(worst.unusableIndex)} → -`;
  return (
    `${where} ${ratio(worst.unusableIndex)} → ${ratio(matched.unusableIndex)}` +
    ` (${worst.suitableBlocks} → ${matched.suitableBlocks} blocks)`
  );
}

const effectOf = (record: RemediationRecord) => record.effect ?? (record.status === 'PENDING' ? 'pending' : '-');

export function remediationColumns(paint: Paint): Column<RemediationRecord>[] {
  return [
    {
      header: 'REQUESTED (UTC)',
      cell: (record) => utc(record.requestedAt),
      tsv: (record) => record.requestedAt,
      rank: 3,
    },
    { header: 'NODE', cell: (record) => clean(record.nodeId, 64), keep: true },
    { header: 'ACTION', cell: (record) => record.action, rank: 2 },
    {
      header: 'NUMA',
      cell: (record) => (record.numaNode === null ? 'all' : String(record.numaNode)),
      align: 'right',
      view: 'wide',
    },
    { header: 'DRY RUN', cell: (record) => (record.dryRun ? 'yes' : 'no'), view: 'wide' },
    { header: 'STATUS', cell: (record) => record.status, view: 'wide' },
    {
      header: 'EFFECT',
      cell: effectOf,
      keep: true,
      paint: (padded, record) => paint.status(effectOf(record), padded),
    },
    {
      header: 'BEFORE → AFTER',
      cell: (record) => measuredEffect(record, true) + (record.blocked ? '; node now blocked' : ''),
      shrink: 16,
      rank: 4,
      view: 'narrow',
    },
    {
      header: 'BEFORE → AFTER',
      cell: (record) => measuredEffect(record) + (record.blocked ? '; node now blocked' : ''),
      shrink: 16,
      view: 'wide',
    },
    { header: 'WHY', cell: (record) => clean(record.detail ?? record.error, 200) || '-', shrink: 12, view: 'wide' },
  ];
}
