/**
 * What `fleetscan inspect` prints: the `-o json` contract, the tables (free blocks per order; the kernel's indices
 * at the watched orders), per-order bars of where a zone's free memory is, the v2 evidence (kernel log, compaction
 * counters, pageblocks) and the verdict; and node_exporter's exposition for `-o prometheus`.
 * Zone names are validated at parse time; they are still cleaned here, as everything that came from a node is.
 */
import { IMMOVABLE_TYPES, zoneMobility } from '../../core/diagnosis.ts';
import { type HostMetrics, SUITABLE_BLOCK_EXISTS, type ZoneMetrics } from '../../core/metrics.ts';
import type { Thresholds, Verdict } from '../../core/policy.ts';
import type { ActionChoice } from '../../core/remedy.ts';
import type { ParsedGatherReport } from '../../core/report.ts';
import { bar, bytes, clean, type Paint, plural, ratio } from '../format.ts';
import { fitted } from '../kit/emit.ts';
import type { OutputOptions } from '../kit/output.ts';
import { type Column, renderTable } from '../kit/table.ts';

export interface Inspected {
  /** What was read: a file name, `stdin`, or `/proc` for this machine. */
  readonly source: string;
  /** `local`: this machine, read the way the gather document reads a node. */
  readonly kind: 'local' | 'buddyinfo' | 'gather' | 'remediate';
  readonly host: string | null;
  readonly kernel: string | null;
  readonly metrics: HostMetrics;
  readonly verdict: Verdict;
  readonly thresholds: Thresholds;
  /** The gather report's evidence (this machine's, or a report's); null for raw buddyinfo and remediation reports. */
  readonly report: ParsedGatherReport | null;
  /** What fleetscan would do about it. */
  readonly action: ActionChoice;
}

const zoneName = (zone: string) => clean(zone, 16);

/** The `-o json` contract (README "Look at one host"): zones in input order, arrays indexed by order, thousandths. */
export function inspectJson(result: Inspected) {
  const { metrics, verdict, report } = result;
  return {
    source: clean(result.source, 255),
    input: result.kind,
    host: result.host === null ? null : clean(result.host, 255),
    kernel: result.kernel === null ? null : clean(result.kernel, 128),
    pageSize: metrics.pageSize,
    zones: metrics.zones.map((zone) => ({
      node: zone.node,
      zone: zoneName(zone.zone),
      freeBlocks: zone.freeBlocks,
      freePages: zone.freePages,
      freeBytes: zone.freeBytes,
      highestFreeOrder: zone.highestFreeOrder,
      suitableBlocks: zone.suitableBlocks,
      unusableIndex: zone.unusableIndex,
      fragmentationIndex: zone.fragmentationIndex,
    })),
    numaNodes: metrics.numaNodes,
    total: metrics.host,
    /** /proc/vmstat counters, cumulative since boot; null when not read (raw buddyinfo, a v1 report). */
    vmstat: report?.vmstat ?? null,
    /** Pageblocks per migrate type, per zone (/proc/pagetypeinfo, root only); null when not read. */
    pageblocks:
      report?.pagetypes?.zones.map((zone) => ({
        node: zone.node,
        zone: zoneName(zone.zone),
        blocks: zone.blocks,
        freePages: zone.freePages,
      })) ?? null,
    kernelLog:
      report === null
        ? null
        : {
            source: report.kernelLog?.source ?? null,
            state: report.kernelLog?.state ?? null,
            since: report.kernelLog?.since ?? null,
            allocFailures: report.allocFailures?.count ?? null,
            maxOrder: report.allocFailures?.maxOrder ?? null,
            processes: (report.allocFailures?.processes ?? []).map((p) => ({
              name: clean(p.name, 64),
              order: p.order,
            })),
            callSites: (report.allocFailures?.callSites ?? []).map((site) => clean(site, 80)),
          },
    sysctls: report?.sysctls ?? null,
    load: report?.load ?? null,
    kcompactd: report?.kcompactd ?? null,
    verdict: {
      level: verdict.level,
      cause: verdict.cause,
      reasons: verdict.reasons.map((reason) => clean(reason, 300)),
      watchedOrders: result.thresholds.orders,
      watchedZones: verdict.watchedZones.map(zoneName),
      worstUnusableIndex: verdict.worstUnusableIndex,
      worstFragmentationIndex: verdict.worstFragmentationIndex,
      fragmentedNumaNodes: verdict.fragmentedNumaNodes,
      findings: verdict.findings.map((finding) => ({
        ...finding,
        zone: finding.zone === null ? null : zoneName(finding.zone),
        message: clean(finding.message, 300),
      })),
      compaction: {
        canHelp: verdict.compaction.canHelp,
        reasons: verdict.compaction.reasons.map((r) => clean(r, 300)),
      },
      knownIssues: verdict.knownIssues.map((known) => ({ ...known, evidence: clean(known.evidence, 200) })),
      recommendation: verdict.recommendation,
      action: {
        action: result.action.action,
        numaNode: result.action.numaNode,
        reason: clean(result.action.reason, 300),
      },
    },
  };
}

function labels(pairs: Record<string, string | number>): string {
  const quote = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${Object.entries(pairs)
    .map(([key, value]) => `${key}="${quote(typeof value === 'string' ? clean(value, 64) : String(value))}"`)
    .join(',')}}`;
}

/** node_exporter's buddyinfo metric (same name, labels and values), plus the kernel's two indices as gauges. */
export function toPrometheus(result: Inspected): string {
  const { zones } = result.metrics;
  const gauge = (
    name: string,
    help: string,
    value: (zone: ZoneMetrics) => readonly number[],
    show: (v: number) => string,
  ) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...zones.flatMap((zone) =>
      value(zone).map(
        (v, order) =>
          `${name}${labels(name === 'node_buddyinfo_blocks' ? { node: zone.node, size: order, zone: zone.zone } : { node: zone.node, order, zone: zone.zone })} ${show(v)}`,
      ),
    ),
  ];
  const lines = [
    ...gauge('node_buddyinfo_blocks', 'Count of free blocks according to size.', (z) => z.freeBlocks, String),
    ...gauge(
      'fleetscan_unusable_free_space_index',
      'Share of free memory in blocks smaller than the order (kernel extfrag/unusable_index).',
      (z) => z.unusableIndex,
      (v) => ratio(v),
    ),
    ...gauge(
      'fleetscan_fragmentation_index',
      'Kernel fragmentation index (extfrag/extfrag_index): near 0 lack of memory, near 1 fragmentation, -1 a suitable block exists.',
      (z) => z.fragmentationIndex,
      (v) => ratio(v),
    ),
    '# HELP fleetscan_verdict_level Policy verdict: 0 OK, 1 WARN, 2 CRITICAL.',
    '# TYPE fleetscan_verdict_level gauge',
    `fleetscan_verdict_level ${['OK', 'WARN', 'CRITICAL'].indexOf(result.verdict.level)}`,
  ];
  return `${lines.join('\n')}\n`;
}

const watchedMark = (result: Inspected, zone: ZoneMetrics) =>
  `${zoneName(zone.zone)}${result.verdict.watchedZones.includes(zone.zone) ? '*' : ''}`;

/** Free blocks per order, one row per zone. */
function countColumns(result: Inspected): Column<ZoneMetrics>[] {
  const { metrics } = result;
  const orders = Math.max(...metrics.zones.map((zone) => zone.freeBlocks.length));
  return [
    { header: 'NODE', cell: (zone) => String(zone.node), keep: true },
    { header: 'ZONE', cell: (zone) => watchedMark(result, zone), tsv: (zone) => zoneName(zone.zone), keep: true },
    {
      header: 'FREE',
      cell: (zone) => (metrics.pageSize === null ? plural(zone.freePages, 'page') : bytes(zone.freeBytes)),
      tsv: (zone) => zone.freePages,
      align: 'right',
      keep: true,
    },
    ...Array.from(
      { length: orders },
      (_, order): Column<ZoneMetrics> => ({
        header: `o${order}`,
        cell: (zone) => (zone.freeBlocks[order] === undefined ? '' : String(zone.freeBlocks[order])),
        align: 'right',
        // On a narrow terminal the highest orders go first; -o wide or json has them all.
        rank: -order,
      }),
    ),
  ];
}

/** The kernel's indices at each watched order, one row per zone. */
function indexColumns(result: Inspected): Column<ZoneMetrics>[] {
  const columns: Column<ZoneMetrics>[] = [
    { header: 'NODE', cell: (zone) => String(zone.node), keep: true },
    { header: 'ZONE', cell: (zone) => watchedMark(result, zone), tsv: (zone) => zoneName(zone.zone), keep: true },
    {
      header: 'TOP ORDER',
      cell: (zone) => (zone.highestFreeOrder === null ? '-' : String(zone.highestFreeOrder)),
      tsv: (zone) => zone.highestFreeOrder,
      align: 'right',
      rank: 1,
    },
  ];
  for (const order of result.thresholds.orders) {
    const known = (zone: ZoneMetrics) => zone.fragmentationIndex[order] !== undefined;
    columns.push(
      {
        header: `o${order} BLOCKS`,
        cell: (zone) => (known(zone) ? String(zone.suitableBlocks[order]) : '-'),
        tsv: (zone) => zone.suitableBlocks[order] ?? null,
        align: 'right',
        keep: true,
      },
      {
        header: `o${order} UNUSABLE`,
        cell: (zone) => (known(zone) ? ratio(zone.unusableIndex[order]) : '-'),
        tsv: (zone) => zone.unusableIndex[order] ?? null,
        align: 'right',
        keep: true,
      },
      {
        header: `o${order} FRAG`,
        cell: (zone) => {
          const frag = zone.fragmentationIndex[order];
          return frag === undefined || frag === SUITABLE_BLOCK_EXISTS ? '-' : ratio(frag);
        },
        tsv: (zone) => zone.fragmentationIndex[order] ?? null,
        align: 'right',
        rank: 2,
      },
    );
  }
  return columns;
}

const INDEX_LEGEND = [
  '* watched zone. BLOCKS: order-k blocks the free lists can hand out (a free block of a higher order counts as',
  "  several); UNUSABLE: share of free memory in blocks too small for order k; FRAG: the kernel's fragmentation",
  "  index when no order-k block is left (near 0: lack of memory, near 1: fragmentation); '-': a block is left.",
];

/** Most zones the bars are drawn for: the watched ones, worst first. */
const MAX_BAR_ZONES = 4;
const BAR_WIDTH = 30;

/** Where a zone's free memory is, per order: share of free pages in blocks of that order, as a bar. */
function barLines(result: Inspected, paint: Paint, width: number | null): string[] {
  // The label takes 14 columns and the mark 11: the bar gets the rest, up to BAR_WIDTH.
  const barWidth = Math.max(8, Math.min(BAR_WIDTH, (width ?? 80) - 25));
  const watched = result.metrics.zones
    .filter((zone) => result.verdict.watchedZones.includes(zone.zone) && zone.freePages > 0)
    .sort(
      (a, b) =>
        Math.max(...result.thresholds.orders.map((o) => b.unusableIndex[o] ?? 0)) -
        Math.max(...result.thresholds.orders.map((o) => a.unusableIndex[o] ?? 0)),
    )
    .slice(0, MAX_BAR_ZONES);
  const lowest = Math.min(...result.thresholds.orders);
  const lines: string[] = [];
  for (const zone of watched) {
    const free = result.metrics.pageSize === null ? plural(zone.freePages, 'page') : bytes(zone.freeBytes);
    lines.push(`free memory by block order, node ${zone.node} ${zoneName(zone.zone)} (${free} free):`);
    const shares = zone.freeBlocks.map((count, order) => (count * 2 ** order) / zone.freePages);
    const largest = Math.max(...shares);
    for (const [order, share] of shares.entries()) {
      const label = `  o${String(order).padEnd(2)} ${`${(share * 100).toFixed(1)}%`.padStart(6)}  `;
      // Scaled to the largest share, so that the shape shows even when memory is spread over many orders.
      const drawn = bar(largest === 0 ? 0 : share / largest, barWidth);
      // Orders at or above the lowest watched one can serve it: drawn bold, the rest dim.
      const shown = order >= lowest ? paint.bold(drawn) : paint.dim(drawn);
      const mark = result.thresholds.orders.includes(order)
        ? `${' '.repeat(barWidth - drawn.length + 1)}◀ watched`
        : '';
      lines.push(`${label}${shown}${mark}`.trimEnd());
    }
    lines.push('');
  }
  return lines;
}

/** The v2 evidence, one line each: kernel log, compaction counters, pageblocks. Empty without a gather report. */
function evidenceLines(result: Inspected): string[] {
  const report = result.report;
  if (report === null) return [];
  const lines: string[] = [];
  const log = report.kernelLog;
  if (log !== null) {
    const window =
      log.since === 0 ? 'since boot' : `since ${new Date(log.since * 1000).toISOString().slice(0, 19)} UTC`;
    const failures = report.allocFailures;
    const what =
      failures === null
        ? `allocation failures unknown (${log.state === 'cut' ? 'the read was cut by its time bound' : 'not readable'})`
        : failures.count === 0
          ? `no page allocation failure ${window}`
          : `${plural(failures.count, 'page allocation failure')} ${window}, up to order ${failures.maxOrder}` +
            ((failures.processes ?? []).length > 0
              ? ` (${(failures.processes ?? []).map((p) => `${clean(p.name, 32)} at ${p.order}`).join(', ')})`
              : '');
    lines.push(`kernel log (${log.source}): ${what}`);
  }
  const vm = report.vmstat;
  if (vm !== null) {
    const stalls = vm.compact_stall;
    const parts = [
      stalls === undefined
        ? null
        : `${stalls} direct compaction stalls, ${vm.compact_fail ?? 0} failed, ${vm.compact_success ?? 0} succeeded`,
      Object.keys(vm).some((name) => name.startsWith('allocstall'))
        ? `${Object.entries(vm)
            .filter(([name]) => name.startsWith('allocstall'))
            .reduce((sum, [, value]) => sum + value, 0)} direct reclaim stalls`
        : null,
    ].filter((part): part is string => part !== null);
    if (parts.length > 0) lines.push(`since boot (/proc/vmstat): ${parts.join('; ')}`);
  }
  for (const zone of result.metrics.zones) {
    if (!result.verdict.watchedZones.includes(zone.zone)) continue;
    const entry = report.pagetypes?.zones.find((z) => z.node === zone.node && z.zone === zone.zone);
    if (entry === undefined) continue;
    const blocks = Object.entries(entry.blocks)
      .filter(([, value]) => value > 0)
      .map(([type, value]) => `${value} ${clean(type, 16).toLowerCase()}`)
      .join(', ');
    const mobility = zoneMobility({ node: zone.node, zone: zone.zone, freeBlocks: zone.freeBlocks }, report.pagetypes);
    const share =
      mobility === null
        ? ''
        : `; ${mobility.lowerBound ? 'at least ' : ''}${mobility.immovablePercent}% of its free memory is ${IMMOVABLE_TYPES.join('/').toLowerCase()}`;
    lines.push(`pageblocks node ${zone.node} ${zoneName(zone.zone)}: ${blocks}${share}`);
  }
  if (report.pagetypes === null && report.version === 2) {
    lines.push('pageblocks: /proc/pagetypeinfo not read (it is root-only): run as root for the compaction outlook');
  }
  return lines;
}

function verdictLines(result: Inspected, paint: Paint): string[] {
  const { verdict, thresholds } = result;
  const cause = verdict.cause === null ? '' : ` (${verdict.cause})`;
  const summary =
    verdict.level === 'OK'
      ? `watched orders ${thresholds.orders.join(', ')} in ${verdict.watchedZones.map(zoneName).join(', ') || 'no zone'} have contiguous memory to spare`
      : clean(verdict.reasons[0], 300);
  const lines = [`verdict: ${paint.status(verdict.level)}${cause}: ${summary}`];
  for (const reason of verdict.reasons.slice(1)) lines.push(`  - ${clean(reason, 600)}`);
  if (verdict.level !== 'OK') {
    const outlook = verdict.compaction;
    const can =
      outlook.canHelp === null
        ? 'whether compaction can help is unknown'
        : outlook.canHelp
          ? 'compaction can help'
          : 'compaction cannot help';
    lines.push(`${can}: ${clean(outlook.reasons[0], 300)}`);
    lines.push(
      result.action.action === null
        ? `fleetscan would not act: ${clean(result.action.reason, 300)}`
        : `fleetscan would run ${result.action.action}${result.action.numaNode === null ? '' : ` on NUMA node ${result.action.numaNode}`}: ${clean(result.action.reason, 300)}`,
    );
    if (verdict.recommendation !== null) lines.push(`recommendation: ${clean(verdict.recommendation, 600)}`);
  }
  return lines;
}

/** The table, wide and tsv formats. */
export function renderInspect(result: Inspected, output: OutputOptions, paint: Paint): string[] {
  const { metrics } = result;
  if (output.format === 'tsv') {
    return renderTable([...countColumns(result), ...indexColumns(result).slice(3)], metrics.zones, output);
  }
  const about = [
    result.host === null ? null : `host ${clean(result.host, 80)}`,
    result.kernel ? `kernel ${clean(result.kernel, 80)}` : null,
    `page size ${metrics.pageSize === null ? 'unknown' : bytes(metrics.pageSize)}`,
  ].filter((part) => part !== null);
  const table = { ...output, bold: paint.bold };
  const prose = (text: readonly string[]) => fitted(text, output);
  const lines = [...prose([`${clean(result.source, 200)}: ${about.join(', ')}`]), ''];
  lines.push(...renderTable(countColumns(result), metrics.zones, table), '');
  lines.push(...renderTable(indexColumns(result), metrics.zones, table));
  if (output.headers) lines.push(...prose(INDEX_LEGEND).map((line) => paint.dim(line)));
  lines.push('', ...barLines(result, paint, output.width));
  const summaries = [
    ...metrics.numaNodes.map((node) => ({ label: `NUMA node ${node.node}`, ...node })),
    ...(metrics.numaNodes.length > 1 ? [{ label: 'host', ...metrics.host }] : []),
  ];
  for (const summary of summaries) {
    const free = metrics.pageSize === null ? plural(summary.freePages, 'page') : bytes(summary.freeBytes);
    const indices = result.thresholds.orders
      .filter((order) => summary.unusableIndex[order] !== undefined)
      .map((order) => `order ${order} unusable ${ratio(summary.unusableIndex[order])}`);
    lines.push(
      ...prose([
        `${summary.label}: ${free} free in ${plural(summary.zones, 'zone')}, top order ${summary.highestFreeOrder ?? '-'}` +
          (indices.length > 0 ? `, ${indices.join(', ')}` : ''),
      ]),
    );
  }
  const evidence = evidenceLines(result);
  if (evidence.length > 0) lines.push('', ...prose(evidence));
  lines.push('', ...prose(verdictLines(result, paint)));
  return lines;
}
