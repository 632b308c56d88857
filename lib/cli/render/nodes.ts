/**
 * How nodes print: a scan's node records (`scan SCAN_ID`, `scan --now --wait`) and the state of every node
 * (`nodes`). Everything that came from a node is cleaned here.
 */
import type { NodeRecord, NodeState } from '../../runtime/ports.ts';
import { clean, count, type Paint, ratio, utc } from '../format.ts';
import type { Column } from '../kit/table.ts';

/** `no-suitable-block@0/Normal/6, ...` for a record, or its error when it has no verdict. */
export function detail(record: NodeRecord, shown = 3): string {
  if (record.status === 'ERROR') {
    const why = clean(record.error, 200);
    if (why === '') return record.invocationState;
    return why.includes(record.invocationState) ? why : `${record.invocationState}: ${why}`;
  }
  const listed = record.findings.slice(0, shown).map((finding) => clean(finding, 60));
  const more = record.findings.length - listed.length;
  return `${listed.join(', ')}${more > 0 ? ` (+${more} more)` : ''}`;
}

const status = (paint: Paint): Column<{ readonly status: string }> => ({
  header: 'STATUS',
  cell: (row) => row.status,
  keep: true,
  paint: (padded, row) => paint.status(row.status, padded),
});

export function nodeRecordColumns(paint: Paint): Column<NodeRecord>[] {
  return [
    { header: 'NODE', cell: (record) => clean(record.nodeId, 64), keep: true },
    status(paint),
    { header: 'CAUSE', cell: (record) => record.cause ?? '-', tsv: (record) => record.cause, rank: 2 },
    {
      header: 'UNUSABLE',
      cell: (record) => ratio(record.worstUnusableIndex),
      tsv: (record) => record.worstUnusableIndex,
      align: 'right',
      rank: 3,
    },
    {
      header: 'FRAG',
      cell: (record) => ratio(record.worstFragmentationIndex),
      tsv: (record) => record.worstFragmentationIndex,
      align: 'right',
      view: 'wide',
    },
    {
      header: 'BREACHES',
      cell: (record) => (record.status === 'ERROR' ? '-' : String(record.consecutiveBreaches)),
      tsv: (record) => (record.status === 'ERROR' ? null : record.consecutiveBreaches),
      align: 'right',
      view: 'wide',
    },
    { header: 'HOST', cell: (record) => clean(record.host, 80) || '-', shrink: 12, view: 'wide' },
    { header: 'KERNEL', cell: (record) => clean(record.kernel, 64) || '-', shrink: 12, view: 'wide' },
    {
      header: 'ALLOC FAILURES',
      cell: (record) => count(record.allocFailures),
      tsv: (record) => record.allocFailures,
      align: 'right',
      view: 'wide',
    },
    // The narrow table names the worst finding and counts the rest; -o wide lists three.
    { header: 'FINDINGS / ERROR', cell: (record) => detail(record, 1), shrink: 16, rank: 4, view: 'narrow' },
    { header: 'FINDINGS / ERROR', cell: (record) => detail(record), shrink: 16, view: 'wide' },
  ];
}

/** A node of the latest scan with its state (absent: never breached, never remediated). */
export interface NodeRow {
  readonly record: NodeRecord;
  readonly state: NodeState | null;
}

/** Whether a node is within its cooldown at `now`. */
export function coolingDown(state: NodeState | null, now: Date): boolean {
  return (
    state?.cooldownUntil !== null &&
    state?.cooldownUntil !== undefined &&
    Date.parse(state.cooldownUntil) > now.getTime()
  );
}

export function nodeStateColumns(paint: Paint, now: Date): Column<NodeRow>[] {
  return [
    { header: 'NODE', cell: (row) => clean(row.record.nodeId, 64), keep: true },
    {
      header: 'STATUS',
      cell: (row) => row.record.status,
      keep: true,
      paint: (padded, row) => paint.status(row.record.status, padded),
    },
    {
      header: 'UNUSABLE',
      cell: (row) => ratio(row.record.worstUnusableIndex),
      tsv: (row) => row.record.worstUnusableIndex,
      align: 'right',
      rank: 3,
    },
    {
      header: 'BREACHES',
      cell: (row) => String(row.state?.consecutiveBreaches ?? row.record.consecutiveBreaches),
      align: 'right',
      rank: 2,
    },
    {
      header: 'BLOCKED',
      cell: (row) => (row.state?.blocked === true ? 'blocked' : '-'),
      tsv: (row) => (row.state?.blocked === true ? 'true' : 'false'),
      paint: (padded, row) => (row.state?.blocked === true ? paint.status('CRITICAL', padded) : padded),
      rank: 5,
    },
    {
      header: 'COOLDOWN UNTIL (UTC)',
      cell: (row) => (coolingDown(row.state, now) ? utc(row.state?.cooldownUntil) : '-'),
      tsv: (row) => row.state?.cooldownUntil ?? null,
      rank: 4,
    },
    {
      header: 'LAST REMEDIATION (UTC)',
      cell: (row) => utc(row.state?.lastRemediationAt),
      tsv: (row) => row.state?.lastRemediationAt ?? null,
      rank: 1,
    },
    {
      header: 'NO-EFFECT',
      cell: (row) => String(row.state?.noEffectCount ?? 0),
      align: 'right',
      view: 'wide',
    },
    { header: 'HOST', cell: (row) => clean(row.record.host, 80) || '-', shrink: 12, view: 'wide' },
    { header: 'FINDINGS / ERROR', cell: (row) => detail(row.record), shrink: 16, view: 'wide' },
  ];
}
