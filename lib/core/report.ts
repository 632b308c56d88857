/**
 * The reports fleetscan's SSM documents print on a node, defined once here. The shell scripts
 * (lib/infra/documents/*.sh) print exactly this; test/fixtures/reports/ holds examples both sides are tested with.
 * Both formats are versioned: the scripts print version 2, and version 1 (what nodes still running an older
 * document print) is read as well. `parseGatherReport` and `parseRemediationReport` say which version they read.
 *
 * Gather report — one `key value...` line each, `end` last. Version 1:
 *
 *   fleetscan-gather 1
 *   host <hostname>                       untrusted text, at most 255 characters kept
 *   kernel <release>                      `uname -r`
 *   pagesize <bytes>                      `getconf PAGESIZE`: a power of two
 *   meminfo <MemTotal kB> <MemAvailable kB|->
 *   allocfail <count> <highest order|->   `page allocation failure: order:N` lines in the kernel log (since boot);
 *   allocfail unknown                     ... when the kernel log cannot be read
 *   zone <node> <zone> <n0> <n1> ...      one per /proc/buddyinfo row, counts indexed by order
 *   end
 *
 * Version 2 (`fleetscan-gather 2`) keeps every version-1 line and adds what explains a verdict. Any of the new lines
 * may be missing (a source the node does not have); a missing line reads as null:
 *
 *   meminfo <MemTotal> <MemAvailable|-> <MemFree|-> <SReclaimable|->      (kB)
 *   bootid <uuid>                         /proc/sys/kernel/random/boot_id: tells a reboot between two scans
 *   uptime <seconds>                      /proc/uptime, whole seconds
 *   load <1m> <5m> <15m> <online CPUs>    /proc/loadavg and the cpuN lines of /proc/stat
 *   klog <dmesg|journal|none> <complete|cut|untimed|unreadable> <since>
 *                                         which kernel log was read and whether wholly; `since` is the epoch second
 *                                         the scan passed in (0: since boot). Only `complete` gives a count.
 *   allocfail <count> <highest|-> [<process>:<order>...]
 *                                         failures logged at or after `since` (this boot only), then up to 5
 *                                         process names (kernel comm, [A-Za-z0-9_.:/@+[]-] kept, 16 characters)
 *                                         with the highest order each failed at
 *   allocfail unknown                     the log could not be read, was cut by the time bound, or lacks times
 *   allocsite <function>[<[module]>] ...  up to 6 distinct call-trace frames above the allocator, from the
 *                                         failures counted (what the known-cases table matches)
 *   vmstat <name>=<value> ...             /proc/vmstat compaction and reclaim counters, cumulative since boot
 *   sysctl <name>=<value|-> ...           compaction_proactiveness, extfrag_threshold, min_free_kbytes,
 *                                         watermark_scale_factor
 *   thp <enabled|-> <defrag|->            the selected [mode] of /sys/kernel/mm/transparent_hugepage/*
 *   kcompactd <node>:<state> ...          the state letter (R, S, D, ...) of each node's kcompactd thread
 *   zone <node> <zone> <n0> <n1> ...
 *   pagetypes <type> ...                  /proc/pagetypeinfo's migrate types, in the kernel's order
 *   pagetypes unknown                     ... when it cannot be read (not root, absent, too slow)
 *   pageblocks <node> <zone> <count per type>...   "Number of blocks type" section
 *   freepages <node> <zone> <pages per type>...    free pages on each type's free lists (Σ count·2^order);
 *                                         `>N` when the kernel capped a count at 100000 (then N is a lower bound)
 *   end
 *
 * Unknown keys are ignored (a reader accepts additions within its version); a missing `end` means the output was cut
 * (SSM keeps 2,500 characters in ListCommandInvocations) and raises a ParseError of kind `truncated`. Anything after
 * `end` (the SSM agent's `----------ERROR-------` stderr section) is not part of the report. Every number is
 * range-checked: a count above Number.MAX_SAFE_INTEGER is a ParseError naming its line and token, never a rounded
 * value.
 *
 * Remediation report — printed by the remediate document. Version 1:
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
 *
 * Version 2 adds, between `dryrun` and `before`, the checks made on the node right before acting, and after the
 * steps the time it let the kernel settle before measuring again:
 *
 *   precheck load <ok|skip|unknown> <load 1m> <CPUs> <limit per CPU>
 *   precheck kcompactd <ok|skip|unknown> <node>:<state>...
 *   precheck proactiveness <ok|skip|unknown> <value|-> <limit>
 *   step <name> skipped <reason>          a step a precheck held back names it (`precheck-load`, ...)
 *   settle <seconds>                      slept between acting and the `after` reading (0 when nothing was written)
 */
import {
  checkRowShape,
  checkZoneName,
  parseBuddyinfo,
  splitLines,
  type ZoneCounts,
  ZoneRowReader,
} from './buddyinfo.ts';
import { ParseError } from './errors.ts';
import { sanitizeText } from './sanitize.ts';

export const GATHER_HEADER = 'fleetscan-gather';
export const REMEDIATE_HEADER = 'fleetscan-remediate';
/** The versions the readers accept, oldest first; the scripts and the formatters print the last. */
export const GATHER_VERSIONS = [1, 2] as const;
export const REMEDIATE_VERSIONS = [1, 2] as const;
export type GatherVersion = (typeof GATHER_VERSIONS)[number];
export type RemediateVersion = (typeof REMEDIATE_VERSIONS)[number];
/** The gather report version the gather script prints. */
export const GATHER_VERSION: GatherVersion = 2;
/** The remediation report version the remediate script prints. */
export const REMEDIATE_VERSION: RemediateVersion = 2;
export const END_MARKER = 'end';

/** At most this many process names and call sites are kept from the kernel log. */
export const MAX_ALLOC_PROCESSES = 5;
export const MAX_ALLOC_SITES = 6;

export interface AllocProcess {
  /** The task's comm as the kernel logged it, sanitized (`mysqld`, `runc:[1:CHILD]`). */
  readonly name: string;
  /** Highest order this process failed to allocate. */
  readonly order: number;
}

export interface AllocFailures {
  /** Number of `page allocation failure` lines: since boot in v1, since the previous scan in v2. */
  readonly count: number;
  /** Highest order among them; null when there were none. */
  readonly maxOrder: number | null;
  /** v2: the processes that failed (at most {@link MAX_ALLOC_PROCESSES}); absent in v1. */
  readonly processes?: readonly AllocProcess[];
  /** v2: call-trace frames above the allocator (`veth_alloc_queues[veth]`); absent in v1. */
  readonly callSites?: readonly string[];
}

export const KERNEL_LOG_SOURCES = ['dmesg', 'journal', 'none'] as const;
export type KernelLogSource = (typeof KERNEL_LOG_SOURCES)[number];
export const KERNEL_LOG_STATES = ['complete', 'cut', 'untimed', 'unreadable'] as const;
/**
 * complete: the whole log was read; cut: the time bound (or a failing reader) stopped it part way; untimed: its lines
 * carry no time (or the boot time is unknown) while only recent ones were asked for; unreadable: no source answered.
 */
export type KernelLogState = (typeof KERNEL_LOG_STATES)[number];

export interface KernelLogScan {
  readonly source: KernelLogSource;
  readonly state: KernelLogState;
  /** The epoch second failures were counted from (0: since boot). */
  readonly since: number;
}

export interface LoadAverage {
  readonly one: number;
  readonly five: number;
  readonly fifteen: number;
  /** Online CPUs (cpuN lines of /proc/stat). */
  readonly cpus: number;
}

/** The sysctls that say how the kernel itself compacts; null where the kernel lacks the file. */
export interface CompactionSysctls {
  /** vm.compaction_proactiveness (5.9+; 0 = no proactive compaction, kernel default 20). */
  readonly compactionProactiveness: number | null;
  /** vm.extfrag_threshold (default 500). */
  readonly extfragThreshold: number | null;
  readonly minFreeKbytes: number | null;
  /** vm.watermark_scale_factor (4.6+, default 10). */
  readonly watermarkScaleFactor: number | null;
}

export interface TransparentHugepages {
  readonly enabled: string | null;
  readonly defrag: string | null;
}

export interface KcompactdState {
  readonly node: number;
  /** The state letter of /proc/PID/stat: R running, S sleeping, D uninterruptible, ... */
  readonly state: string;
}

export interface PagetypeZone {
  readonly node: number;
  readonly zone: string;
  /** Pageblocks per migrate type. */
  readonly blocks: Readonly<Record<string, number>>;
  /** Free pages on each migrate type's free lists; null when the free section lacked this zone. */
  readonly freePages: Readonly<Record<string, number>> | null;
  /** Types whose free-page figure is a lower bound (the kernel's >100000 cap on a free-list walk). */
  readonly cappedTypes: readonly string[];
}

export interface Pagetypes {
  /** Migrate type names in the kernel's order (Unmovable, Movable, Reclaimable, HighAtomic, CMA, Isolate; old kernels Reserve). */
  readonly types: readonly string[];
  readonly zones: readonly PagetypeZone[];
}

/** What version 2 adds. Every field is null when the report (v1) or the node did not provide it. */
export interface GatherDiagnostics {
  readonly memFreeKb: number | null;
  readonly slabReclaimableKb: number | null;
  readonly bootId: string | null;
  readonly uptimeSeconds: number | null;
  readonly load: LoadAverage | null;
  readonly kernelLog: KernelLogScan | null;
  /** Counter name → value, cumulative since boot. */
  readonly vmstat: Readonly<Record<string, number>> | null;
  readonly sysctls: CompactionSysctls | null;
  readonly thp: TransparentHugepages | null;
  readonly kcompactd: readonly KcompactdState[] | null;
  readonly pagetypes: Pagetypes | null;
}

/**
 * A gather report as producers build it: the version-1 fields, and the version-2 ones where known (a producer that
 * does not know them, like today's simulated fleet, leaves them out).
 */
export interface GatherReport extends Partial<GatherDiagnostics> {
  readonly host: string;
  readonly kernel: string;
  readonly pageSize: number;
  readonly memTotalKb: number | null;
  readonly memAvailableKb: number | null;
  /** null when the kernel log was not readable (or, in v2, not wholly) on the node. */
  readonly allocFailures: AllocFailures | null;
  readonly zones: ZoneCounts[];
}

/** A gather report as the parser returns it: every field present, and the version it was read from. */
export interface ParsedGatherReport extends Omit<GatherReport, keyof GatherDiagnostics>, GatherDiagnostics {
  readonly version: GatherVersion;
}

export const REMEDIATION_ACTIONS = ['drop-caches', 'compact', 'compact-node', 'drop-caches-and-compact'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];
export const STEP_RESULTS = ['ok', 'dry-run', 'failed', 'skipped'] as const;
export type StepResult = (typeof STEP_RESULTS)[number];
export const PRECHECK_NAMES = ['load', 'kcompactd', 'proactiveness'] as const;
export type PrecheckName = (typeof PRECHECK_NAMES)[number];
export const PRECHECK_RESULTS = ['ok', 'skip', 'unknown'] as const;
export type PrecheckResult = (typeof PRECHECK_RESULTS)[number];

export interface RemediationStep {
  readonly name: string;
  readonly result: StepResult;
  /** v2: why a step was skipped (`precheck-load`); absent otherwise. */
  readonly reason?: string;
}

export interface Precheck {
  readonly name: PrecheckName;
  readonly result: PrecheckResult;
  /** What the node showed, as printed (`3.52 2 1.50`, `0:R 1:S`, `20 20`). */
  readonly observed: readonly string[];
}

export interface RemediationReport {
  readonly host: string;
  readonly pageSize: number;
  readonly action: RemediationAction;
  /** NUMA node acted on, or null for all of them. */
  readonly numaNode: number | null;
  readonly dryRun: boolean;
  readonly steps: readonly RemediationStep[];
  readonly before: ZoneCounts[];
  readonly after: ZoneCounts[];
  /** v2: the checks made right before acting; absent from a v1 report. */
  readonly prechecks?: readonly Precheck[];
  /** v2: seconds slept before the `after` reading; absent from a v1 report. */
  readonly settleSeconds?: number;
}

export interface ParsedRemediationReport extends RemediationReport {
  readonly version: RemediateVersion;
}

const MAX_HOST = 255;
const MAX_KERNEL = 128;
const MAX_PROCESS_NAME = 16;
/** /proc/vmstat counters are unsigned long: at most 20 digits, held to the safe-integer range below. */
const DIGITS = /^[0-9]{1,20}$/;

interface Line {
  readonly no: number;
  readonly key: string;
  readonly args: string[];
  readonly raw: string;
}

/** Splits a report into keyed lines up to `end`; throws `truncated` when `end` never comes. */
function readLines(text: string, header: string, versions: readonly number[]): { version: number; lines: Line[] } {
  const lines = splitLines(text);
  let index = lines.findIndex((line) => line.trim() !== '');
  if (index < 0) throw new ParseError('empty', 1, '', 'report is empty');
  const first = (lines[index] ?? '').trim().split(/\s+/);
  const newest = versions[versions.length - 1];
  if (first[0] !== header) {
    throw new ParseError('bad-header', index + 1, first[0] ?? '', `report must start with '${header} ${newest}'`);
  }
  const version = versions.find((v) => String(v) === first[1]);
  if (version === undefined) {
    throw new ParseError(
      'unsupported-version',
      index + 1,
      first[1] ?? '',
      `unsupported ${header} version; this fleetscan reads versions ${versions.join(' and ')}`,
    );
  }
  const out: Line[] = [];
  for (index += 1; index < lines.length; index += 1) {
    const raw = lines[index] ?? '';
    const no = index + 1;
    if (raw.trim() === '') continue;
    const [key = '', ...args] = raw.trim().split(/\s+/);
    if (key === END_MARKER) return { version, lines: out };
    out.push({ no, key, args, raw });
  }
  throw new ParseError(
    'truncated',
    lines.length,
    (lines[lines.length - 1] ?? '').trim() || (lines[lines.length - 2] ?? '').trim(),
    `report has no '${END_MARKER}' line: the output was cut`,
  );
}

/** A non-negative integer token, never beyond Number.MAX_SAFE_INTEGER. */
function integer(line: Line, token: string | undefined, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (token === undefined || !DIGITS.test(token)) {
    throw new ParseError('bad-value', line.no, token ?? line.raw.trim(), `${what} is not a non-negative integer`);
  }
  const value = Number(token);
  if (!Number.isSafeInteger(value) || value > max) {
    throw new ParseError('count-too-large', line.no, token, `${what} is above ${max.toLocaleString('en-US')}`);
  }
  return value;
}

function integerOrDash(line: Line, token: string | undefined, what: string, max?: number): number | null {
  return token === '-' ? null : integer(line, token, what, max);
}

function parsePageSize(line: Line): number {
  const token = line.args[0] ?? '';
  const value = Number(token);
  if (!/^[0-9]+$/.test(token) || value < 512 || value > 1 << 24 || (value & (value - 1)) !== 0) {
    throw new ParseError('bad-value', line.no, token, 'pagesize must be a power of two in bytes');
  }
  return value;
}

function parseKb(line: Line, token: string | undefined): number | null {
  if (token === '-') return null;
  if (token === undefined || !/^[0-9]+$/.test(token)) {
    throw new ParseError('bad-value', line.no, token ?? line.raw.trim(), `${line.key} value is not a number of kB`);
  }
  return integer(line, token, `${line.key} value`);
}

const ORDER = /^[0-9]{1,2}$/;
const PROCESS_NAME = /^[A-Za-z0-9_.:/@+[\]-]{1,16}$/;
const CALL_SITE = /^[A-Za-z_][A-Za-z0-9_]{0,63}(\[[A-Za-z0-9_-]{1,32}\])?$/;

function parseOrder(line: Line, token: string | undefined, what: string): number {
  if (token === undefined || !ORDER.test(token)) {
    throw new ParseError('bad-value', line.no, token ?? '', `${what} must be a page order (0 to 99)`);
  }
  return Number(token);
}

function parseAllocFail(line: Line, version: number): AllocFailures | null {
  const [count, maxOrder, ...processes] = line.args;
  if (count === 'unknown') return null;
  if (count === undefined || !/^[0-9]+$/.test(count)) {
    throw new ParseError('bad-value', line.no, count ?? '', "allocfail count must be a number or 'unknown'");
  }
  const total = integer(line, count, 'allocfail count');
  const highest =
    maxOrder === '-' || (maxOrder === undefined && count === '0')
      ? null
      : parseOrder(line, maxOrder, "allocfail highest order (or '-')");
  if (version === 1) return { count: total, maxOrder: highest };
  if (processes.length > MAX_ALLOC_PROCESSES) {
    throw new ParseError(
      'bad-value',
      line.no,
      processes[MAX_ALLOC_PROCESSES] ?? '',
      `allocfail lists at most ${MAX_ALLOC_PROCESSES} processes`,
    );
  }
  const named = processes.map((token): AllocProcess => {
    const split = token.lastIndexOf(':');
    const name = split > 0 ? token.slice(0, split) : '';
    if (!PROCESS_NAME.test(name)) {
      throw new ParseError('bad-value', line.no, token, "allocfail process must be '<name>:<order>'");
    }
    return { name: sanitizeText(name, MAX_PROCESS_NAME), order: parseOrder(line, token.slice(split + 1), 'order') };
  });
  return { count: total, maxOrder: highest, processes: named, callSites: [] };
}

function parseAllocSites(line: Line): string[] {
  if (line.args.length > MAX_ALLOC_SITES) {
    throw new ParseError(
      'bad-value',
      line.no,
      line.args[MAX_ALLOC_SITES] ?? '',
      `allocsite lists at most ${MAX_ALLOC_SITES}`,
    );
  }
  for (const site of line.args) {
    if (!CALL_SITE.test(site)) {
      throw new ParseError('bad-value', line.no, site, "allocsite must be a kernel function name, '[module]' optional");
    }
  }
  return line.args;
}

function isOneOf<T extends string>(allowed: readonly T[], value: string | undefined): value is T {
  return value !== undefined && (allowed as readonly string[]).includes(value);
}

function parseKernelLog(line: Line): KernelLogScan {
  const [source, state, since] = line.args;
  if (!isOneOf(KERNEL_LOG_SOURCES, source)) {
    throw new ParseError(
      'bad-value',
      line.no,
      source ?? '',
      `klog source must be one of ${KERNEL_LOG_SOURCES.join(', ')}`,
    );
  }
  if (!isOneOf(KERNEL_LOG_STATES, state)) {
    throw new ParseError(
      'bad-value',
      line.no,
      state ?? '',
      `klog state must be one of ${KERNEL_LOG_STATES.join(', ')}`,
    );
  }
  return { source, state, since: integer(line, since, 'klog since') };
}

const LOAD = /^[0-9]{1,6}\.[0-9]{2}$/;

function parseLoad(line: Line): LoadAverage | null {
  if (line.args[0] === '-') return null;
  const values = line.args.slice(0, 3).map((token) => {
    if (!LOAD.test(token)) throw new ParseError('bad-value', line.no, token, 'load average must look like 0.52');
    return Number(token);
  });
  const [one, five, fifteen] = values;
  if (one === undefined || five === undefined || fifteen === undefined) {
    throw new ParseError('too-few-fields', line.no, line.raw.trim(), "expected 'load <1m> <5m> <15m> <cpus>'");
  }
  const cpus = integer(line, line.args[3], 'load CPU count', 1_000_000);
  if (cpus === 0) throw new ParseError('bad-value', line.no, '0', 'load CPU count must be at least 1');
  return { one, five, fifteen, cpus };
}

const COUNTER_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** `name=value` pairs; `-` alone for an empty set. */
function parsePairs(line: Line, allowDash: boolean): Map<string, number | null> {
  const pairs = new Map<string, number | null>();
  for (const token of line.args) {
    if (token === '-' && line.args.length === 1) break;
    const split = token.indexOf('=');
    const name = split > 0 ? token.slice(0, split) : '';
    if (!COUNTER_NAME.test(name)) {
      throw new ParseError('bad-value', line.no, token, `${line.key} entries must be '<name>=<value>'`);
    }
    const value = token.slice(split + 1);
    pairs.set(name, allowDash && value === '-' ? null : integer(line, value, `${line.key} ${name}`));
  }
  return pairs;
}

function parseVmstat(line: Line): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of parsePairs(line, false)) if (value !== null) out[name] = value;
  return out;
}

function parseSysctls(line: Line): CompactionSysctls {
  const pairs = parsePairs(line, true);
  return {
    compactionProactiveness: pairs.get('compaction_proactiveness') ?? null,
    extfragThreshold: pairs.get('extfrag_threshold') ?? null,
    minFreeKbytes: pairs.get('min_free_kbytes') ?? null,
    watermarkScaleFactor: pairs.get('watermark_scale_factor') ?? null,
  };
}

const THP_MODE = /^[a-z+]{1,24}$/;

function parseThp(line: Line): TransparentHugepages {
  const [enabled, defrag] = line.args.map((token) => {
    if (token === '-') return null;
    if (!THP_MODE.test(token))
      throw new ParseError('bad-value', line.no, token, 'thp mode must be a word like madvise');
    return token;
  });
  return { enabled: enabled ?? null, defrag: defrag ?? null };
}

function parseKcompactd(line: Line): KcompactdState[] | null {
  if (line.args[0] === '-') return null;
  return line.args.map((token) => {
    const match = /^([0-9]{1,4}):([A-Za-z?])$/.exec(token);
    if (match === null) throw new ParseError('bad-value', line.no, token, "kcompactd entries must be '<node>:<state>'");
    return { node: Number(match[1]), state: match[2] ?? '?' };
  });
}

/** What a migrate type name may look like (mm/page_alloc.c `migratetype_names`: Unmovable, Movable, ...). */
export const MIGRATE_TYPE_NAME = /^[A-Za-z<>]{1,16}$/;

class PagetypeReader {
  types: string[] | null = null;
  private readonly zones = new Map<string, { node: number; zone: string; blocks?: Line; free?: Line }>();

  setTypes(line: Line): void {
    if (line.args[0] === 'unknown') return;
    for (const type of line.args) {
      if (!MIGRATE_TYPE_NAME.test(type))
        throw new ParseError('bad-value', line.no, type, 'pagetypes must be migrate type names');
    }
    this.types = line.args;
  }

  add(line: Line, kind: 'blocks' | 'free'): void {
    if (this.types === null) {
      throw new ParseError('bad-value', line.no, line.key, `${line.key} line before a 'pagetypes' line`);
    }
    const [nodeToken, zone] = line.args;
    const node = integer(line, nodeToken, `${line.key} NUMA node`, 9999);
    if (zone === undefined) {
      throw new ParseError(
        'too-few-fields',
        line.no,
        line.raw.trim(),
        `expected '${line.key} <node> <zone> <values...>'`,
      );
    }
    checkZoneName(line.no, zone);
    if (line.args.length - 2 !== this.types.length) {
      throw new ParseError(
        'column-mismatch',
        line.no,
        line.args[line.args.length - 1] ?? '',
        `${line.key} has ${line.args.length - 2} values for ${this.types.length} migrate types`,
      );
    }
    const key = `${node}/${zone}`;
    const entry = this.zones.get(key) ?? { node, zone };
    if (entry[kind] !== undefined) {
      throw new ParseError(
        'duplicate-zone',
        line.no,
        zone,
        `${line.key} for zone ${zone} of node ${node} appears twice`,
      );
    }
    entry[kind] = line;
    this.zones.set(key, entry);
  }

  result(): Pagetypes | null {
    const types = this.types;
    if (types === null) return null;
    const zones: PagetypeZone[] = [];
    for (const entry of this.zones.values()) {
      if (entry.blocks === undefined) {
        const line = entry.free as Line;
        throw new ParseError(
          'missing-field',
          line.no,
          entry.zone,
          `freepages for ${entry.zone} without a pageblocks line`,
        );
      }
      const blocks: Record<string, number> = {};
      const blockLine = entry.blocks;
      types.forEach((type, i) => {
        blocks[type] = integer(blockLine, blockLine.args[i + 2], `pageblocks ${type}`);
      });
      let freePages: Record<string, number> | null = null;
      const cappedTypes: string[] = [];
      const freeLine = entry.free;
      if (freeLine !== undefined) {
        const free: Record<string, number> = {};
        types.forEach((type, i) => {
          const token = freeLine.args[i + 2] ?? '';
          const capped = token.startsWith('>');
          if (capped) cappedTypes.push(type);
          free[type] = integer(freeLine, capped ? token.slice(1) : token, `freepages ${type}`);
        });
        freePages = free;
      }
      zones.push({ node: entry.node, zone: entry.zone, blocks, freePages, cappedTypes });
    }
    return { types, zones };
  }
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

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const NO_DIAGNOSTICS: GatherDiagnostics = {
  memFreeKb: null,
  slabReclaimableKb: null,
  bootId: null,
  uptimeSeconds: null,
  load: null,
  kernelLog: null,
  vmstat: null,
  sysctls: null,
  thp: null,
  kcompactd: null,
  pagetypes: null,
};

/** Parses a gather report of either version (see the module comment). Throws only {@link ParseError}. */
export function parseGatherReport(input: string): ParsedGatherReport {
  const { version: read, lines } = readLines(input, GATHER_HEADER, GATHER_VERSIONS);
  const version = read as GatherVersion;
  const reader = new ZoneRowReader();
  const pagetypes = new PagetypeReader();
  let host: string | undefined;
  let kernel: string | undefined;
  let pageSize: number | undefined;
  let memTotalKb: number | null = null;
  let memAvailableKb: number | null = null;
  let allocFailures: AllocFailures | null = null;
  let callSites: string[] = [];
  const d: { -readonly [K in keyof GatherDiagnostics]: GatherDiagnostics[K] } = { ...NO_DIAGNOSTICS };
  let sawPagetypes = false;
  for (const line of lines) {
    const v2 = version >= 2;
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
        memTotalKb = parseKb(line, line.args[0]);
        memAvailableKb = parseKb(line, line.args[1]);
        if (v2) {
          d.memFreeKb = parseKb(line, line.args[2] ?? '-');
          d.slabReclaimableKb = parseKb(line, line.args[3] ?? '-');
        }
        break;
      case 'allocfail':
        allocFailures = parseAllocFail(line, version);
        break;
      case 'zone':
        addZone(reader, line);
        break;
      default:
        if (v2 && parseDiagnosticLine(line, d, pagetypes, (sites) => (callSites = sites))) {
          sawPagetypes ||= line.key === 'pagetypes';
          break;
        }
        checkRowShape(line.no, line.raw, 'a key');
    }
  }
  if (reader.zones.length === 0) {
    throw new ParseError('missing-field', lines[lines.length - 1]?.no ?? 1, '', "report has no 'zone' line");
  }
  if (sawPagetypes) d.pagetypes = pagetypes.result();
  if (allocFailures !== null && version >= 2) allocFailures = { ...allocFailures, callSites };
  return {
    version,
    host: required(host, 'host', lines),
    kernel: kernel ?? '',
    pageSize: required(pageSize, 'pagesize', lines),
    memTotalKb,
    memAvailableKb,
    allocFailures,
    zones: reader.zones,
    ...d,
  };
}

/** Reads one of the lines version 2 adds into `d`; false for a key it does not know. */
function parseDiagnosticLine(
  line: Line,
  d: { -readonly [K in keyof GatherDiagnostics]: GatherDiagnostics[K] },
  pagetypes: PagetypeReader,
  setSites: (sites: string[]) => void,
): boolean {
  switch (line.key) {
    case 'bootid': {
      const id = line.args[0] ?? '';
      if (id === '-') break;
      if (!BOOT_ID.test(id)) throw new ParseError('bad-value', line.no, id, 'bootid must be a lower-case UUID');
      d.bootId = id;
      break;
    }
    case 'uptime':
      d.uptimeSeconds = integerOrDash(line, line.args[0], 'uptime');
      break;
    case 'load':
      d.load = parseLoad(line);
      break;
    case 'klog':
      d.kernelLog = parseKernelLog(line);
      break;
    case 'allocsite':
      setSites(parseAllocSites(line));
      break;
    case 'vmstat':
      d.vmstat = line.args[0] === '-' ? null : parseVmstat(line);
      break;
    case 'sysctl':
      d.sysctls = parseSysctls(line);
      break;
    case 'thp':
      d.thp = parseThp(line);
      break;
    case 'kcompactd':
      d.kcompactd = parseKcompactd(line);
      break;
    case 'pagetypes':
      pagetypes.setTypes(line);
      break;
    case 'pageblocks':
      pagetypes.add(line, 'blocks');
      break;
    case 'freepages':
      pagetypes.add(line, 'free');
      break;
    default:
      return false;
  }
  return true;
}

function parsePrecheck(line: Line): Precheck {
  const [name, result, ...observed] = line.args;
  if (!isOneOf(PRECHECK_NAMES, name)) {
    throw new ParseError('bad-value', line.no, name ?? '', `precheck must be one of ${PRECHECK_NAMES.join(', ')}`);
  }
  if (!isOneOf(PRECHECK_RESULTS, result)) {
    throw new ParseError(
      'bad-value',
      line.no,
      result ?? '',
      `precheck result must be one of ${PRECHECK_RESULTS.join(', ')}`,
    );
  }
  for (const token of observed) {
    if (!/^[A-Za-z0-9.:?-]{1,24}$/.test(token)) {
      throw new ParseError('bad-value', line.no, token, 'precheck observation is not a number or a node:state');
    }
  }
  return { name, result, observed };
}

/** Parses a remediation report of either version (see the module comment). Throws only {@link ParseError}. */
export function parseRemediationReport(input: string): ParsedRemediationReport {
  const { version: read, lines } = readLines(input, REMEDIATE_HEADER, REMEDIATE_VERSIONS);
  const version = read as RemediateVersion;
  const readers = { before: new ZoneRowReader(), after: new ZoneRowReader() };
  let section: 'before' | 'after' | undefined;
  let host: string | undefined;
  let pageSize: number | undefined;
  let action: RemediationAction | undefined;
  let numaNode: number | null | undefined;
  let dryRun: boolean | undefined;
  const steps: RemediationStep[] = [];
  const prechecks: Precheck[] = [];
  let settleSeconds: number | undefined;
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
        if (!isOneOf(REMEDIATION_ACTIONS, first)) {
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
        const reason = version >= 2 ? line.args[2] : undefined;
        if (!/^[a-z-]{1,32}$/.test(first) || !isOneOf(STEP_RESULTS, result)) {
          throw new ParseError(
            'bad-value',
            line.no,
            `${first} ${result}`,
            `step must be '<name> <${STEP_RESULTS.join('|')}>'`,
          );
        }
        if (reason !== undefined && !/^[a-z-]{1,32}$/.test(reason)) {
          throw new ParseError('bad-value', line.no, reason, 'step reason must be a word like precheck-load');
        }
        steps.push(reason === undefined ? { name: first, result } : { name: first, result, reason });
        break;
      }
      case 'precheck':
        if (version < 2) {
          checkRowShape(line.no, line.raw, 'a key');
          break;
        }
        prechecks.push(parsePrecheck(line));
        break;
      case 'settle':
        if (version >= 2) settleSeconds = integer(line, first, 'settle seconds', 3600);
        break;
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
  const common = {
    version,
    host: required(host, 'host', lines),
    pageSize: required(pageSize, 'pagesize', lines),
    action: required(action, 'action', lines),
    numaNode: required(numaNode, 'numa', lines),
    dryRun: required(dryRun, 'dryrun', lines),
    steps,
    before: readers.before.zones,
    after: readers.after.zones,
  };
  return version >= 2 ? { ...common, prechecks, settleSeconds: settleSeconds ?? 0 } : common;
}

export function formatZoneLine(zone: ZoneCounts): string {
  return `zone ${zone.node} ${zone.zone} ${zone.freeBlocks.join(' ')}`;
}

const dash = (value: number | string | null | undefined): string =>
  value === null || value === undefined ? '-' : String(value);

function formatAllocFail(alloc: AllocFailures | null): string[] {
  if (alloc === null) return ['allocfail unknown'];
  const processes = (alloc.processes ?? []).map((p) => ` ${p.name}:${p.order}`).join('');
  const line = `allocfail ${alloc.count} ${alloc.maxOrder ?? '-'}${processes}`;
  const sites = alloc.callSites ?? [];
  return sites.length === 0 ? [line] : [line, `allocsite ${sites.join(' ')}`];
}

function formatPagetypes(pagetypes: Pagetypes | null | undefined): string[] {
  if (pagetypes === undefined) return [];
  if (pagetypes === null) return ['pagetypes unknown'];
  const out = [`pagetypes ${pagetypes.types.join(' ')}`];
  for (const zone of pagetypes.zones) {
    out.push(`pageblocks ${zone.node} ${zone.zone} ${pagetypes.types.map((t) => zone.blocks[t] ?? 0).join(' ')}`);
  }
  for (const zone of pagetypes.zones) {
    const free = zone.freePages;
    if (free === null) continue;
    const values = pagetypes.types.map((t) => `${zone.cappedTypes.includes(t) ? '>' : ''}${free[t] ?? 0}`);
    out.push(`freepages ${zone.node} ${zone.zone} ${values.join(' ')}`);
  }
  return out;
}

function pairs(values: Readonly<Record<string, number | null>>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${dash(value)}`)
    .join(' ');
}

/**
 * Prints a gather report, version 2, exactly as the gather script does (used by the simulated fleet and tests).
 * Version-2 fields the report leaves out (undefined) are not printed; null ones print as the script prints an
 * unavailable source.
 */
export function formatGatherReport(report: GatherReport): string {
  const r = report;
  const lines = [
    `${GATHER_HEADER} ${GATHER_VERSION}`,
    `host ${r.host}`,
    `kernel ${r.kernel}`,
    `pagesize ${r.pageSize}`,
    `meminfo ${dash(r.memTotalKb)} ${dash(r.memAvailableKb)} ${dash(r.memFreeKb)} ${dash(r.slabReclaimableKb)}`,
  ];
  if (r.bootId !== undefined) lines.push(`bootid ${dash(r.bootId)}`);
  if (r.uptimeSeconds !== undefined) lines.push(`uptime ${dash(r.uptimeSeconds)}`);
  if (r.load !== undefined) {
    const l = r.load;
    lines.push(
      l === null ? 'load -' : `load ${l.one.toFixed(2)} ${l.five.toFixed(2)} ${l.fifteen.toFixed(2)} ${l.cpus}`,
    );
  }
  if (r.kernelLog !== undefined && r.kernelLog !== null) {
    lines.push(`klog ${r.kernelLog.source} ${r.kernelLog.state} ${r.kernelLog.since}`);
  }
  lines.push(...formatAllocFail(r.allocFailures));
  if (r.vmstat !== undefined)
    lines.push(r.vmstat === null || Object.keys(r.vmstat).length === 0 ? 'vmstat -' : `vmstat ${pairs(r.vmstat)}`);
  if (r.sysctls !== undefined && r.sysctls !== null) {
    const s = r.sysctls;
    lines.push(
      `sysctl ${pairs({
        compaction_proactiveness: s.compactionProactiveness,
        extfrag_threshold: s.extfragThreshold,
        min_free_kbytes: s.minFreeKbytes,
        watermark_scale_factor: s.watermarkScaleFactor,
      })}`,
    );
  }
  if (r.thp !== undefined && r.thp !== null) lines.push(`thp ${dash(r.thp.enabled)} ${dash(r.thp.defrag)}`);
  if (r.kcompactd !== undefined) {
    const k = r.kcompactd;
    lines.push(
      k === null || k.length === 0 ? 'kcompactd -' : `kcompactd ${k.map((t) => `${t.node}:${t.state}`).join(' ')}`,
    );
  }
  lines.push(...r.zones.map(formatZoneLine), ...formatPagetypes(r.pagetypes), END_MARKER, '');
  return lines.join('\n');
}

function formatPrecheck(check: Precheck): string {
  return ['precheck', check.name, check.result, ...check.observed].join(' ');
}

/**
 * Prints a remediation report exactly as the remediate script does (used by the simulated fleet and tests): version
 * 2 when the report carries prechecks or a settle time, else version 1.
 */
export function formatRemediationReport(report: RemediationReport): string {
  const v2 = report.prechecks !== undefined || report.settleSeconds !== undefined;
  return [
    `${REMEDIATE_HEADER} ${v2 ? 2 : 1}`,
    `host ${report.host}`,
    `pagesize ${report.pageSize}`,
    `action ${report.action}`,
    `numa ${report.numaNode ?? 'all'}`,
    `dryrun ${report.dryRun}`,
    ...(report.prechecks ?? []).map(formatPrecheck),
    'before',
    ...report.before.map(formatZoneLine),
    ...report.steps.map((step) => `step ${step.name} ${step.result}${v2 && step.reason ? ` ${step.reason}` : ''}`),
    ...(v2 ? [`settle ${report.settleSeconds ?? 0}`] : []),
    'after',
    ...report.after.map(formatZoneLine),
    END_MARKER,
    '',
  ].join('\n');
}

export type DetectedInput =
  | { readonly kind: 'gather'; readonly report: ParsedGatherReport }
  | { readonly kind: 'remediate'; readonly report: ParsedRemediationReport }
  | { readonly kind: 'buddyinfo'; readonly zones: ZoneCounts[] };

/** Parses raw /proc/buddyinfo, a gather report or a remediation report, told apart by their first line. */
export function parseAny(input: string): DetectedInput {
  const firstWord = input.trimStart().split(/\s+/, 1)[0];
  if (firstWord === GATHER_HEADER) return { kind: 'gather', report: parseGatherReport(input) };
  if (firstWord === REMEDIATE_HEADER) return { kind: 'remediate', report: parseRemediationReport(input) };
  return { kind: 'buddyinfo', zones: parseBuddyinfo(input) };
}
