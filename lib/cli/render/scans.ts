/** How scans print: the `scans` table and the header `scan SCAN_ID` and `scan --now --wait` print above a scan's nodes. */
import type { ScanRecord, SeverityCounts } from '../../runtime/ports.ts';
import { clean, count, type Paint, plural, ratio, utc } from '../format.ts';
import type { Column } from '../kit/table.ts';

const LEVELS = ['OK', 'WARN', 'CRITICAL', 'ERROR'] as const;

/** A scan id as tables show it by default: like git's short hashes, long enough to be a unique prefix. */
export const SHORT_ID = 8;

function severityColumn(level: keyof SeverityCounts, header: string, paint: Paint): Column<ScanRecord> {
  return {
    header,
    cell: (scan) => count(scan.counts?.[level]),
    tsv: (scan) => scan.counts?.[level] ?? null,
    align: 'right',
    rank: 3,
    paint: (padded, scan) => ((scan.counts?.[level] ?? 0) > 0 && level !== 'OK' ? paint.status(level, padded) : padded),
  };
}

export function scanColumns(scans: readonly ScanRecord[], paint: Paint): Column<ScanRecord>[] {
  const columns: Column<ScanRecord>[] = [
    {
      header: 'SCAN',
      cell: (scan) => scan.scanId.slice(0, SHORT_ID),
      tsv: (scan) => scan.scanId,
      keep: true,
      view: 'narrow',
    },
    { header: 'SCAN ID', cell: (scan) => scan.scanId, view: 'wide', keep: true },
    { header: 'REQUESTED (UTC)', cell: (scan) => utc(scan.requestedAt), tsv: (scan) => scan.requestedAt, rank: 4 },
    {
      header: 'COMPLETED (UTC)',
      cell: (scan) => utc(scan.completedAt),
      tsv: (scan) => scan.completedAt ?? null,
      view: 'wide',
    },
    {
      header: 'STATUS',
      cell: (scan) => scan.status,
      keep: true,
      paint: (padded, scan) =>
        scan.status === 'COMPLETED'
          ? padded
          : paint.status(scan.status === 'INCOMPLETE' ? 'INCOMPLETE' : 'WARN', padded),
    },
    { header: 'NODES', cell: (scan) => count(scan.nodes), tsv: (scan) => scan.nodes ?? null, align: 'right', rank: 5 },
    severityColumn('OK', 'OK', paint),
    severityColumn('WARN', 'WARN', paint),
    severityColumn('CRITICAL', 'CRIT', paint),
    severityColumn('ERROR', 'ERR', paint),
    {
      header: 'REMEDIATED',
      cell: (scan) => String(scan.remediations ?? 0),
      tsv: (scan) => scan.remediations ?? 0,
      align: 'right',
      rank: 1,
    },
    {
      header: 'WORST',
      cell: (scan) => ratio(scan.worstUnusableIndex),
      tsv: (scan) => scan.worstUnusableIndex ?? null,
      align: 'right',
      rank: 2,
    },
    { header: 'SHARDS', cell: (scan) => String(scan.shards ?? 1), align: 'right', view: 'wide' },
    { header: 'TARGETS', cell: (scan) => clean(scan.targets, 120), view: 'wide', shrink: 12 },
  ];
  if (scans.some((scan) => scan.incompleteReason !== undefined)) {
    columns.push({ header: 'WHY INCOMPLETE', cell: (scan) => clean(scan.incompleteReason, 200), shrink: 14, rank: 0 });
  }
  return columns;
}

/** The lines above a scan's nodes: id and status, times and targets, the counts. */
export function renderScanHeader(scan: ScanRecord, paint: Paint): string[] {
  const counts = scan.counts;
  const parts = counts
    ? LEVELS.map((level) => {
        const label = `${counts[level]} ${level}`;
        return counts[level] > 0 && level !== 'OK' ? paint.status(level, label) : label;
      })
    : [];
  const status =
    scan.status === 'COMPLETED'
      ? scan.status
      : paint.status(scan.status === 'INCOMPLETE' ? 'INCOMPLETE' : 'WARN', scan.status);
  const lines = [
    `${paint.bold(`scan ${scan.scanId}`)}  ${status}`,
    `requested ${utc(scan.requestedAt)} UTC` +
      (scan.completedAt ? `, completed ${utc(scan.completedAt)} UTC` : '') +
      `, targets ${clean(scan.targets, 120)}${(scan.shards ?? 1) > 1 ? ` in ${scan.shards} shards` : ''}`,
  ];
  if (scan.status === 'INCOMPLETE') {
    lines.push(
      `ended INCOMPLETE: ${clean(scan.incompleteReason, 200) || 'collection gave up'} — what was collected is kept`,
    );
  }
  if (scan.nodes !== undefined) {
    lines.push(
      `${plural(scan.nodes, 'node')}: ${parts.join(', ')}; ${plural(scan.remediations ?? 0, 'remediation')}; ` +
        `worst unusable index ${ratio(scan.worstUnusableIndex)}`,
    );
  } else if (scan.progress !== undefined) {
    const { collected, targeted } = scan.progress;
    lines.push(`collecting: ${collected}${targeted === null ? '' : `/${targeted}`} nodes collected so far`);
  } else {
    lines.push('not collected yet: its nodes appear once the collector has run');
  }
  return lines;
}
