/**
 * The reports fleetscan's SSM documents print on a node, defined once here. The shell scripts
 * (lib/infra/documents/*.sh) print exactly this; test/fixtures/reports/ holds examples both sides are tested with.
 *
 * Gather report, version 1 — one `key value...` line each, in this order, `end` last:
 *
 *   fleetscan-gather 1
 *   host <hostname>                       untrusted text, at most 255 characters kept
 *   kernel <release>                      `uname -r`
 *   pagesize <bytes>                      `getconf PAGESIZE`: a power of two
 *   meminfo <MemTotal kB> <MemAvailable kB|->
 *   allocfail <count> <highest order|->   `page allocation failure: order:N` lines in the kernel log;
 *   allocfail unknown                     ... when the kernel log cannot be read
 *   zone <node> <zone> <n0> <n1> ...      one per /proc/buddyinfo row, counts indexed by order
 *   end
 *
 * Unknown keys are ignored (a v1 reader accepts additions); a missing `end` means the output was cut
 * (SSM keeps 2,500 characters in ListCommandInvocations) and raises a ParseError of kind `truncated`.
 * Anything after `end` (the SSM agent's `----------ERROR-------` stderr section) is not part of the report.
 *
 * Remediation report, version 1 — printed by the remediate document:
 *
 *   fleetscan-remediate 1
 *   host <hostname>
 *   pagesize <bytes>
 *   action <drop-caches|compact|compact-node|drop-caches-and-compact>
 *   numa <node id|all>
 *   dryrun <true|false>
 *   before
 *   zone ...                              buddyinfo before acting
 *   step <name> <ok|dry-run|failed|skipped>   one per action step (sync, drop-caches, compact, compact-node)
 *   after
 *   zone ...                              buddyinfo after acting
 *   end
 */
import { checkRowShape, parseBuddyinfo, splitLines, type ZoneCounts, ZoneRowReader } from './buddyinfo.ts';
import { ParseError } from './errors.ts';
import { sanitizeText } from './sanitize.ts';

export const GATHER_HEADER = 'fleetscan-gather';
export const REMEDIATE_HEADER = 'fleetscan-remediate';
export const REPORT_VERSION = 1;
export const END_MARKER = 'end';

export interface AllocFailures {
  /** Number of `page allocation failure` lines in the readable kernel log. */
  readonly count: number;
  /** Highest order among them; null when there were none. */
  readonly maxOrder: number | null;
}

export interface GatherReport {
  readonly host: string;
  readonly kernel: string;
  readonly pageSize: number;
  readonly memTotalKb: number | null;
  readonly memAvailableKb: number | null;
  /** null when the kernel log was not readable on the node. */
  readonly allocFailures: AllocFailures | null;
  readonly zones: ZoneCounts[];
}

export const REMEDIATION_ACTIONS = ['drop-caches', 'compact', 'compact-node', 'drop-caches-and-compact'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];
export const STEP_RESULTS = ['ok', 'dry-run', 'failed', 'skipped'] as const;
export type StepResult = (typeof STEP_RESULTS)[number];

export interface RemediationReport {
  readonly host: string;
  readonly pageSize: number;
  readonly action: RemediationAction;
  /** NUMA node acted on, or null for all of them. */
  readonly numaNode: number | null;
  readonly dryRun: boolean;
  readonly steps: readonly { readonly name: string; readonly result: StepResult }[];
  readonly before: ZoneCounts[];
  readonly after: ZoneCounts[];
}

const MAX_HOST = 255;
const MAX_KERNEL = 128;

interface Line {
  readonly no: number;
  readonly key: string;
  readonly args: string[];
  readonly raw: string;
}

/** Splits a report into keyed lines up to `end`; throws `truncated` when `end` never comes. */
function readLines(text: string, header: string): Line[] {
  const lines = splitLines(text);
  let index = lines.findIndex((line) => line.trim() !== '');
  if (index < 0) throw new ParseError('empty', 1, '', 'report is empty');
  const first = (lines[index] ?? '').trim().split(/\s+/);
  if (first[0] !== header) {
    throw new ParseError(
      'bad-header',
      index + 1,
      first[0] ?? '',
      `report must start with '${header} ${REPORT_VERSION}'`,
    );
  }
  if (first[1] !== String(REPORT_VERSION)) {
    throw new ParseError(
      'unsupported-version',
      index + 1,
      first[1] ?? '',
      `unsupported ${header} version; this fleetscan reads version ${REPORT_VERSION}`,
    );
  }
  const out: Line[] = [];
  for (index += 1; index < lines.length; index += 1) {
    const raw = lines[index] ?? '';
    const no = index + 1;
    if (raw.trim() === '') continue;
    const [key = '', ...args] = raw.trim().split(/\s+/);
    if (key === END_MARKER) return out;
    out.push({ no, key, args, raw });
  }
  throw new ParseError(
    'truncated',
    lines.length,
    (lines[lines.length - 1] ?? '').trim() || (lines[lines.length - 2] ?? '').trim(),
    `report has no '${END_MARKER}' line: the output was cut`,
  );
}

function parsePageSize(line: Line): number {
  const token = line.args[0] ?? '';
  const value = Number(token);
  if (!/^[0-9]+$/.test(token) || value < 512 || value > 1 << 24 || (value & (value - 1)) !== 0) {
    throw new ParseError('bad-value', line.no, token, 'pagesize must be a power of two in bytes');
  }
  return value;
}

function parseKb(line: Line, token: string | undefined, allowDash: boolean): number | null {
  if (allowDash && token === '-') return null;
  if (token === undefined || !/^[0-9]+$/.test(token) || !Number.isSafeInteger(Number(token))) {
    throw new ParseError('bad-value', line.no, token ?? line.raw.trim(), `${line.key} value is not a number of kB`);
  }
  return Number(token);
}

function parseAllocFail(line: Line): AllocFailures | null {
  const [count, maxOrder] = line.args;
  if (count === 'unknown') return null;
  if (count === undefined || !/^[0-9]+$/.test(count)) {
    throw new ParseError('bad-value', line.no, count ?? '', "allocfail count must be a number or 'unknown'");
  }
  if (maxOrder === '-' || (maxOrder === undefined && count === '0')) return { count: Number(count), maxOrder: null };
  if (maxOrder === undefined || !/^[0-9]{1,2}$/.test(maxOrder)) {
    throw new ParseError('bad-value', line.no, maxOrder ?? '', "allocfail highest order must be a number or '-'");
  }
  return { count: Number(count), maxOrder: Number(maxOrder) };
}

function text(line: Line, max: number): string {
  const value = line.raw.trim().slice(line.key.length).trim();
  return sanitizeText(value, max);
}

function addZone(reader: ZoneRowReader, line: Line): void {
  const [node = '', zone, ...counts] = line.args;
  if (zone === undefined) {
    throw new ParseError('too-few-fields', line.no, line.raw.trim(), "expected 'zone <node> <zone> <counts...>'");
  }
  reader.addRow(line.no, node, zone, counts, line.raw);
}

function required<T>(value: T | undefined, key: string, lines: readonly Line[]): T {
  if (value === undefined) {
    const last = lines[lines.length - 1];
    throw new ParseError('missing-field', last?.no ?? 1, '', `report has no '${key}' line`);
  }
  return value;
}

/** Parses a gather report (see the module comment). Throws only {@link ParseError}. */
export function parseGatherReport(input: string): GatherReport {
  const lines = readLines(input, GATHER_HEADER);
  const reader = new ZoneRowReader();
  let host: string | undefined;
  let kernel: string | undefined;
  let pageSize: number | undefined;
  let memTotalKb: number | null = null;
  let memAvailableKb: number | null = null;
  let allocFailures: AllocFailures | null = null;
  for (const line of lines) {
    switch (line.key) {
      case 'host':
        host = text(line, MAX_HOST);
        break;
      case 'kernel':
        kernel = text(line, MAX_KERNEL);
        break;
      case 'pagesize':
        pageSize = parsePageSize(line);
        break;
      case 'meminfo':
        memTotalKb = parseKb(line, line.args[0], true);
        memAvailableKb = parseKb(line, line.args[1], true);
        break;
      case 'allocfail':
        allocFailures = parseAllocFail(line);
        break;
      case 'zone':
        addZone(reader, line);
        break;
      default:
        checkRowShape(line.no, line.raw, 'a key');
    }
  }
  if (reader.zones.length === 0) {
    throw new ParseError('missing-field', lines[lines.length - 1]?.no ?? 1, '', "report has no 'zone' line");
  }
  return {
    host: required(host, 'host', lines),
    kernel: kernel ?? '',
    pageSize: required(pageSize, 'pagesize', lines),
    memTotalKb,
    memAvailableKb,
    allocFailures,
    zones: reader.zones,
  };
}

function isAction(value: string): value is RemediationAction {
  return (REMEDIATION_ACTIONS as readonly string[]).includes(value);
}

function isStepResult(value: string): value is StepResult {
  return (STEP_RESULTS as readonly string[]).includes(value);
}

/** Parses a remediation report (see the module comment). Throws only {@link ParseError}. */
export function parseRemediationReport(input: string): RemediationReport {
  const lines = readLines(input, REMEDIATE_HEADER);
  const readers = { before: new ZoneRowReader(), after: new ZoneRowReader() };
  let section: 'before' | 'after' | undefined;
  let host: string | undefined;
  let pageSize: number | undefined;
  let action: RemediationAction | undefined;
  let numaNode: number | null | undefined;
  let dryRun: boolean | undefined;
  const steps: { name: string; result: StepResult }[] = [];
  for (const line of lines) {
    const [first = ''] = line.args;
    switch (line.key) {
      case 'host':
        host = text(line, MAX_HOST);
        break;
      case 'pagesize':
        pageSize = parsePageSize(line);
        break;
      case 'action':
        if (!isAction(first)) {
          throw new ParseError('bad-value', line.no, first, `action must be one of ${REMEDIATION_ACTIONS.join(', ')}`);
        }
        action = first;
        break;
      case 'numa':
        if (first !== 'all' && !/^[0-9]{1,4}$/.test(first)) {
          throw new ParseError('bad-value', line.no, first, "numa must be a node id or 'all'");
        }
        numaNode = first === 'all' ? null : Number(first);
        break;
      case 'dryrun':
        if (first !== 'true' && first !== 'false') {
          throw new ParseError('bad-value', line.no, first, "dryrun must be 'true' or 'false'");
        }
        dryRun = first === 'true';
        break;
      case 'before':
      case 'after':
        section = line.key;
        break;
      case 'step': {
        const result = line.args[1] ?? '';
        if (!/^[a-z-]{1,32}$/.test(first) || !isStepResult(result)) {
          throw new ParseError(
            'bad-value',
            line.no,
            `${first} ${result}`,
            `step must be '<name> <${STEP_RESULTS.join('|')}>'`,
          );
        }
        steps.push({ name: first, result });
        break;
      }
      case 'zone':
        if (section === undefined) {
          throw new ParseError('bad-value', line.no, 'zone', "zone line outside a 'before' or 'after' section");
        }
        addZone(readers[section], line);
        break;
      default:
        checkRowShape(line.no, line.raw, 'a key');
    }
  }
  return {
    host: required(host, 'host', lines),
    pageSize: required(pageSize, 'pagesize', lines),
    action: required(action, 'action', lines),
    numaNode: required(numaNode, 'numa', lines),
    dryRun: required(dryRun, 'dryrun', lines),
    steps,
    before: readers.before.zones,
    after: readers.after.zones,
  };
}

export function formatZoneLine(zone: ZoneCounts): string {
  return `zone ${zone.node} ${zone.zone} ${zone.freeBlocks.join(' ')}`;
}

/** Prints a gather report exactly as the gather script does (used by the simulated fleet and tests). */
export function formatGatherReport(report: GatherReport): string {
  const alloc = report.allocFailures;
  return [
    `${GATHER_HEADER} ${REPORT_VERSION}`,
    `host ${report.host}`,
    `kernel ${report.kernel}`,
    `pagesize ${report.pageSize}`,
    `meminfo ${report.memTotalKb ?? '-'} ${report.memAvailableKb ?? '-'}`,
    alloc === null ? 'allocfail unknown' : `allocfail ${alloc.count} ${alloc.maxOrder ?? '-'}`,
    ...report.zones.map(formatZoneLine),
    END_MARKER,
    '',
  ].join('\n');
}

/** Prints a remediation report exactly as the remediate script does (used by the simulated fleet and tests). */
export function formatRemediationReport(report: RemediationReport): string {
  return [
    `${REMEDIATE_HEADER} ${REPORT_VERSION}`,
    `host ${report.host}`,
    `pagesize ${report.pageSize}`,
    `action ${report.action}`,
    `numa ${report.numaNode ?? 'all'}`,
    `dryrun ${report.dryRun}`,
    'before',
    ...report.before.map(formatZoneLine),
    ...report.steps.map((step) => `step ${step.name} ${step.result}`),
    'after',
    ...report.after.map(formatZoneLine),
    END_MARKER,
    '',
  ].join('\n');
}

export type DetectedInput =
  | { readonly kind: 'gather'; readonly report: GatherReport }
  | { readonly kind: 'remediate'; readonly report: RemediationReport }
  | { readonly kind: 'buddyinfo'; readonly zones: ZoneCounts[] };

/** Parses raw /proc/buddyinfo, a gather report or a remediation report, told apart by their first line. */
export function parseAny(input: string): DetectedInput {
  const firstWord = input.trimStart().split(/\s+/, 1)[0];
  if (firstWord === GATHER_HEADER) return { kind: 'gather', report: parseGatherReport(input) };
  if (firstWord === REMEDIATE_HEADER) return { kind: 'remediate', report: parseRemediationReport(input) };
  return { kind: 'buddyinfo', zones: parseBuddyinfo(input) };
}
