/**
 * `fleetscan inspect`: one host's /proc/buddyinfo (or a gather/remediation report), judged on the spot.
 * Exit codes are a contract: 0 OK, 1 WARN or CRITICAL, 2 bad input or usage.
 */
import { readFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { parseArgs } from 'node:util';
import type { ZoneCounts } from '../core/buddyinfo.ts';
import { ParseError } from '../core/errors.ts';
import { type HostMetrics, hostMetrics, SUITABLE_BLOCK_EXISTS } from '../core/metrics.ts';
import { DEFAULT_THRESHOLDS, evaluate, type Thresholds, type Verdict } from '../core/policy.ts';
import { BUDDYINFO_PATH, localMeminfo, localPageSize } from '../core/read-local.ts';
import { type AllocFailures, parseAny } from '../core/report.ts';
import { sanitizeText } from '../core/sanitize.ts';
import { CliError } from './errors.ts';
import { type Io, useColor } from './io.ts';

export const help = `usage: fleetscan inspect [FILE|-] [--json] [--format table|json|prometheus] [--page-size BYTES] [--orders 4,6]

Judges one host's memory fragmentation from /proc/buddyinfo (the default), a file, or standard input ('-').
The input may be raw /proc/buddyinfo, a fleetscan gather report, or a remediation report (its 'after' state);
the kind is detected from the content.

options:
  --format table|json|prometheus   output format (default: table)
  --json                           same as --format json
  --page-size BYTES                page size for byte figures (default: this machine's when reading
                                   /proc/buddyinfo, the report's for a report, otherwise unknown)
  --orders 4,6                     orders to watch (default: ${DEFAULT_THRESHOLDS.orders.join(',')})
  --zones Normal                   zones to watch (default: ${DEFAULT_THRESHOLDS.zones.join(',')}; DMA32 when absent)
  -h, --help                       this help

A breach is reported CRITICAL at once here (a one-off look has no history to wait for).
Indices are the kernel's (mm/vmstat.c): the unusable free space index and the fragmentation index at each
order, shown as the kernel's debugfs prints them (0.000-1.000; -1.000 = a suitable block exists).

exit status: 0 OK, 1 WARN or CRITICAL, 2 bad input or usage`;

type Format = 'table' | 'json' | 'prometheus';

interface Inspected {
  readonly source: string;
  readonly kind: 'buddyinfo' | 'gather' | 'remediate';
  readonly host: string | null;
  readonly kernel: string | null;
  readonly metrics: HostMetrics;
  readonly verdict: Verdict;
  readonly thresholds: Thresholds;
}

function parseList(flag: string, value: string | undefined, pattern: RegExp): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim());
  const bad = items.find((item) => !pattern.test(item));
  if (bad !== undefined) throw new CliError(`${flag}: '${sanitizeText(bad, 40)}' is not valid (e.g. ${flag} 4,6)`);
  return items;
}

function parsePageSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const size = Number(value);
  if (!/^[0-9]+$/.test(value) || size < 512 || (size & (size - 1)) !== 0) {
    throw new CliError(`--page-size: '${sanitizeText(value, 40)}' is not a power of two in bytes (e.g. 4096)`);
  }
  return size;
}

async function readInput(file: string, io: Io): Promise<string> {
  if (file === '-') return io.readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new CliError(`${file}: ${why}`, 2, { cause: error });
  }
}

export async function inspectText(
  text: string,
  source: string,
  options: { pageSize?: number; thresholds: Thresholds; local: boolean },
): Promise<Inspected> {
  const input = parseAny(text);
  let zones: ZoneCounts[];
  let pageSize: number | null = options.pageSize ?? null;
  let host: string | null = null;
  let kernel: string | null = null;
  let mem: { memTotalKb: number | null; memAvailableKb: number | null } = { memTotalKb: null, memAvailableKb: null };
  let allocFailures: AllocFailures | null = null;
  if (input.kind === 'buddyinfo') {
    zones = input.zones;
    if (options.local) {
      pageSize ??= await localPageSize();
      mem = await localMeminfo();
      host = sanitizeText(hostname(), 255);
      kernel = sanitizeText(release(), 128);
    }
  } else if (input.kind === 'gather') {
    zones = input.report.zones;
    pageSize ??= input.report.pageSize;
    host = input.report.host;
    kernel = input.report.kernel;
    mem = input.report;
    allocFailures = input.report.allocFailures;
  } else {
    zones = input.report.after.length > 0 ? input.report.after : input.report.before;
    pageSize ??= input.report.pageSize;
    host = input.report.host;
  }
  const verdict = evaluate(
    { zones, ...mem, allocFailures, previousBreaches: options.thresholds.consecutiveBreachesForCritical - 1 },
    options.thresholds,
  );
  return {
    source,
    kind: input.kind,
    host,
    kernel,
    metrics: hostMetrics(zones, pageSize),
    verdict,
    thresholds: options.thresholds,
  };
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${(error as Error).message.split('\n')[0]} (see 'fleetscan inspect --help')`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new CliError(`expected at most one FILE, got ${positionals.length}`);
  const format: Format = values.json ? 'json' : (values.format ?? 'table');
  const orders = parseList('--orders', values.orders, /^[0-9]{1,2}$/)?.map(Number);
  const zones = parseList('--zones', values.zones, /^[A-Za-z0-9_]{1,16}$/);
  const thresholds: Thresholds = {
    ...DEFAULT_THRESHOLDS,
    consecutiveBreachesForCritical: 1,
    ...(orders ? { orders } : {}),
    ...(zones ? { zones } : {}),
  };
  const file = positionals[0] ?? BUDDYINFO_PATH;
  const text = await readInput(file, io);
  let result: Inspected;
  try {
    result = await inspectText(text, file === '-' ? 'stdin' : file, {
      ...(values['page-size'] === undefined ? {} : { pageSize: parsePageSize(values['page-size']) }),
      thresholds,
      local: file === BUDDYINFO_PATH,
    });
  } catch (error) {
    if (error instanceof ParseError) throw new CliError(`${file === '-' ? 'stdin' : file}: ${error.message}`, 2);
    throw error;
  }
  io.stdout(render(result, format, useColor(io)));
  return result.verdict.level === 'OK' ? 0 : 1;
}

function parseOptions(args: readonly string[]) {
  const parsed = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      format: { type: 'string' },
      'page-size': { type: 'string' },
      orders: { type: 'string' },
      zones: { type: 'string' },
    },
  });
  const format = parsed.values.format;
  if (format !== undefined && format !== 'table' && format !== 'json' && format !== 'prometheus') {
    throw new CliError(`--format: '${sanitizeText(format, 40)}' is not one of table, json, prometheus`);
  }
  return { values: { ...parsed.values, format: format as Format | undefined }, positionals: parsed.positionals };
}

function render(result: Inspected, format: Format, color: boolean): string {
  if (format === 'json') return `${JSON.stringify(toJson(result), null, 2)}\n`;
  if (format === 'prometheus') return toPrometheus(result);
  return toTable(result, color);
}

/** The `--json` contract: zones in input order, arrays indexed by order, indices in integer thousandths. */
export function toJson(result: Inspected) {
  const { metrics, verdict } = result;
  return {
    source: result.source,
    input: result.kind,
    host: result.host,
    kernel: result.kernel,
    pageSize: metrics.pageSize,
    zones: metrics.zones.map((zone) => ({
      node: zone.node,
      zone: zone.zone,
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
    verdict: {
      level: verdict.level,
      cause: verdict.cause,
      reasons: verdict.reasons,
      watchedOrders: result.thresholds.orders,
      watchedZones: verdict.watchedZones,
      worstUnusableIndex: verdict.worstUnusableIndex,
      worstFragmentationIndex: verdict.worstFragmentationIndex,
      fragmentedNumaNodes: verdict.fragmentedNumaNodes,
      findings: verdict.findings,
    },
  };
}

function ratio(thousandths: number): string {
  return (thousandths / 1000).toFixed(3);
}

function labels(pairs: Record<string, string | number>): string {
  const quote = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${Object.entries(pairs)
    .map(([key, value]) => `${key}="${quote(String(value))}"`)
    .join(',')}}`;
}

/** node_exporter's buddyinfo metric (same name, labels and values), plus the kernel's two indices as gauges. */
function toPrometheus(result: Inspected): string {
  const { zones } = result.metrics;
  const lines = [
    '# HELP node_buddyinfo_blocks Count of free blocks according to size.',
    '# TYPE node_buddyinfo_blocks gauge',
    ...zones.flatMap((zone) =>
      zone.freeBlocks.map(
        (count, order) => `node_buddyinfo_blocks${labels({ node: zone.node, size: order, zone: zone.zone })} ${count}`,
      ),
    ),
    '# HELP fleetscan_unusable_free_space_index Share of free memory in blocks smaller than the order (kernel extfrag/unusable_index).',
    '# TYPE fleetscan_unusable_free_space_index gauge',
    ...zones.flatMap((zone) =>
      zone.unusableIndex.map(
        (value, order) =>
          `fleetscan_unusable_free_space_index${labels({ node: zone.node, order, zone: zone.zone })} ${ratio(value)}`,
      ),
    ),
    '# HELP fleetscan_fragmentation_index Kernel fragmentation index (extfrag/extfrag_index): near 0 lack of memory, near 1 fragmentation, -1 a suitable block exists.',
    '# TYPE fleetscan_fragmentation_index gauge',
    ...zones.flatMap((zone) =>
      zone.fragmentationIndex.map(
        (value, order) =>
          `fleetscan_fragmentation_index${labels({ node: zone.node, order, zone: zone.zone })} ${ratio(value)}`,
      ),
    ),
    '# HELP fleetscan_verdict_level Policy verdict: 0 OK, 1 WARN, 2 CRITICAL.',
    '# TYPE fleetscan_verdict_level gauge',
    `fleetscan_verdict_level ${['OK', 'WARN', 'CRITICAL'].indexOf(result.verdict.level)}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function pad(cells: readonly string[], widths: readonly number[], rightAlignFrom: number): string {
  return cells
    .map((cell, index) =>
      index >= rightAlignFrom ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0),
    )
    .join('  ')
    .trimEnd();
}

function table(rows: readonly (readonly string[])[], rightAlignFrom: number): string[] {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => pad(row, widths, rightAlignFrom));
}

const PAINT = { OK: '\u001b[32m', WARN: '\u001b[33m', CRITICAL: '\u001b[31m' } as const;

function toTable(result: Inspected, color: boolean): string {
  const { metrics, verdict, thresholds } = result;
  const width = Math.max(...metrics.zones.map((zone) => zone.freeBlocks.length));
  const watched = new Set(verdict.watchedZones);
  const out: string[] = [];
  const about = [
    result.host === null ? null : `host ${result.host}`,
    result.kernel ? `kernel ${result.kernel}` : null,
    `page size ${metrics.pageSize === null ? 'unknown' : formatBytes(metrics.pageSize)}`,
  ].filter((part) => part !== null);
  out.push(`${result.source}: ${about.join(', ')}`, '');

  out.push(
    ...table(
      [
        ['NODE', 'ZONE', 'FREE', ...Array.from({ length: width }, (_, order) => `o${order}`)],
        ...metrics.zones.map((zone) => [
          String(zone.node),
          `${zone.zone}${watched.has(zone.zone) ? '*' : ''}`,
          metrics.pageSize === null ? `${zone.freePages} pages` : formatBytes(zone.freeBytes),
          ...Array.from({ length: width }, (_, order) => String(zone.freeBlocks[order] ?? '')),
        ]),
      ],
      2,
    ),
  );
  out.push('');

  const header = ['NODE', 'ZONE', 'TOP ORDER'];
  for (const order of thresholds.orders) header.push(`o${order} BLOCKS`, `o${order} UNUSABLE`, `o${order} FRAG`);
  out.push(
    ...table(
      [
        header,
        ...metrics.zones.map((zone) => [
          String(zone.node),
          `${zone.zone}${watched.has(zone.zone) ? '*' : ''}`,
          zone.highestFreeOrder === null ? '-' : String(zone.highestFreeOrder),
          ...thresholds.orders.flatMap((order) => {
            const frag = zone.fragmentationIndex[order];
            if (frag === undefined) return ['-', '-', '-'];
            return [
              String(zone.suitableBlocks[order] ?? ''),
              ratio(zone.unusableIndex[order] ?? 0),
              frag === SUITABLE_BLOCK_EXISTS ? '-1.000' : ratio(frag),
            ];
          }),
        ]),
      ],
      2,
    ),
  );
  out.push(`* watched zone. BLOCKS: free blocks of that order or larger; UNUSABLE/FRAG: the kernel's indices.`, '');

  const summaries = [
    ...metrics.numaNodes.map((node) => ({ label: `NUMA node ${node.node}`, ...node })),
    ...(metrics.numaNodes.length > 1 ? [{ label: 'host', ...metrics.host }] : []),
  ];
  for (const summary of summaries) {
    const free = metrics.pageSize === null ? `${summary.freePages} pages` : formatBytes(summary.freeBytes);
    const indices = thresholds.orders
      .filter((order) => summary.unusableIndex[order] !== undefined)
      .map((order) => `order ${order} unusable ${ratio(summary.unusableIndex[order] ?? 0)}`);
    out.push(
      `${summary.label}: ${free} free in ${summary.zones} zone${summary.zones === 1 ? '' : 's'}, top order ${summary.highestFreeOrder ?? '-'}${indices.length > 0 ? `, ${indices.join(', ')}` : ''}`,
    );
  }
  out.push('');

  const level = color ? `${PAINT[verdict.level]}${verdict.level}\u001b[0m` : verdict.level;
  const cause = verdict.cause === null ? '' : ` (${verdict.cause})`;
  const first = verdict.reasons[0];
  const summary =
    verdict.level === 'OK'
      ? `watched orders ${thresholds.orders.join(', ')} in ${verdict.watchedZones.join(', ') || 'no zone'} have contiguous memory to spare`
      : first;
  out.push(`verdict: ${level}${cause}: ${summary}`);
  for (const reason of verdict.reasons.slice(1)) out.push(`  - ${reason}`);
  return `${out.join('\n')}\n`;
}
