/**
 * `fleetscan inspect`: one host judged on the spot — this machine read as the gather document reads a fleet node
 * (so its verdict is the fleet's), or a file: raw /proc/buddyinfo, a gather report, a remediation report.
 * Exit codes are a contract: 0 OK, 1 WARN or CRITICAL, 2 bad input or usage.
 */
import { readFile } from 'node:fs/promises';
import { ZONE_NAME } from '../core/buddyinfo.ts';
import { DEFAULT_DIAGNOSIS } from '../core/diagnosis.ts';
import { ParseError } from '../core/errors.ts';
import { hostMetrics } from '../core/metrics.ts';
import { DEFAULT_THRESHOLDS, evaluate, type Thresholds } from '../core/policy.ts';
import { chooseAction } from '../core/remedy.ts';
import { type ParsedGatherReport, parseAny, REMEDIATION_ACTIONS } from '../core/report.ts';
import { allFlags, commandSpec } from './commands.ts';
import { CliError } from './errors.ts';
import { painter } from './format.ts';
import type { Io } from './io.ts';
import { type ParsedArgs, parseFlags, shown, stringFlag } from './kit/args.ts';
import { isStructured, OUTPUT_FORMATS, resolveOutput, structured } from './kit/output.ts';
import { parseSince } from './kit/since.ts';
import { type Inspected, inspectJson, renderInspect, toPrometheus } from './render/inspect.ts';

/** What a user wrote with --orders / --zones, checked against the input once it is read. */
interface Watch {
  readonly orders?: number[];
  readonly zones?: string[];
}

function parseWatch(flags: ParsedArgs['flags']): Watch {
  const list = (name: string, pattern: RegExp, example: string): string[] | undefined => {
    const value = stringFlag(flags[name]);
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim());
    const bad = items.find((item) => !pattern.test(item));
    if (bad !== undefined)
      throw new CliError(`--${name}: '${shown(bad, 40)}' is not valid: give a list such as ${example}`);
    return [...new Set(items)];
  };
  const orders = list('orders', /^[0-9]{1,2}$/, '4,6')?.map(Number);
  const zones = list('zones', ZONE_NAME, 'Normal,DMA32');
  return { ...(orders ? { orders } : {}), ...(zones ? { zones } : {}) };
}

/** Unknown orders and zones are usage errors naming what this input has (a typo must not read as OK). */
function checkWatch(watch: Watch, zones: readonly { zone: string; freeBlocks: readonly number[] }[]): void {
  const orders = Math.max(0, ...zones.map((zone) => zone.freeBlocks.length));
  const beyond = watch.orders?.find((order) => order >= orders);
  if (beyond !== undefined) {
    throw new CliError(`--orders: this input has orders 0 to ${orders - 1}; ${beyond} is not one of them`);
  }
  const present = [...new Set(zones.map((zone) => zone.zone))];
  const missing = watch.zones?.find((zone) => !present.includes(zone));
  if (missing !== undefined) {
    throw new CliError(`--zones: '${shown(missing, 16)}' is not a zone of this input (it has ${present.join(', ')})`);
  }
}

function parsePageSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const size = Number(value);
  if (!/^[0-9]+$/.test(value) || size < 512 || size > 2 ** 30 || (size & (size - 1)) !== 0) {
    throw new CliError(`--page-size: '${shown(value, 40)}' is not a power of two in bytes from 512 (e.g. 4096)`);
  }
  return size;
}

const IO_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'there is no such file',
  EISDIR: 'it is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
};

async function readInput(file: string, io: Io): Promise<string> {
  if (file === '-') return io.readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new CliError(`cannot read ${shown(file, 200)}: ${IO_ERRORS[code] ?? `the system said ${code || 'no'}`}`, 2, {
      cause: error,
    });
  }
}

/** Judges a host as the collector judges a fleet node's first scan, but CRITICAL at once (no history here). */
export function judge(
  input: Pick<Inspected, 'source' | 'kind' | 'host' | 'kernel' | 'report'> & {
    readonly zones: Parameters<typeof hostMetrics>[0];
    readonly pageSize: number | null;
    readonly memTotalKb: number | null;
    readonly memAvailableKb: number | null;
  },
  thresholds: Thresholds,
): Inspected {
  const report = input.report;
  const verdict = evaluate(
    {
      zones: input.zones,
      memTotalKb: input.memTotalKb,
      memAvailableKb: input.memAvailableKb,
      allocFailures: report?.allocFailures ?? null,
      previousBreaches: thresholds.consecutiveBreachesForCritical - 1,
      ...(input.kernel === null ? {} : { kernel: input.kernel }),
      pagetypes: report?.pagetypes ?? null,
      rates: null,
      noEffectStreak: 0,
    },
    thresholds,
    DEFAULT_DIAGNOSIS,
  );
  const action = chooseAction({
    verdict,
    report: report ?? { zones: input.zones, memTotalKb: input.memTotalKb, memAvailableKb: input.memAvailableKb },
    allowed: REMEDIATION_ACTIONS,
    thresholds,
    diagnosis: DEFAULT_DIAGNOSIS,
  });
  return {
    source: input.source,
    kind: input.kind,
    host: input.host,
    kernel: input.kernel,
    metrics: hostMetrics(input.zones, input.pageSize),
    verdict,
    thresholds,
    report,
    action,
  };
}

async function inspectInput(
  file: string | undefined,
  io: Io,
  options: { readonly pageSize?: number; readonly since: number; readonly watch: Watch },
): Promise<Inspected> {
  const thresholds = (zones: Parameters<typeof checkWatch>[1]): Thresholds => {
    checkWatch(options.watch, zones);
    return { ...DEFAULT_THRESHOLDS, consecutiveBreachesForCritical: 1, ...options.watch };
  };
  if (file === undefined) {
    // This machine's sources are read only here: a FILE's inspection loads none of that code.
    const { readLocalGather } = await import('../core/read-local.ts');
    let report: ParsedGatherReport;
    try {
      report = await readLocalGather({
        since: options.since,
        ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      });
    } catch (error) {
      if (error instanceof ParseError) throw new CliError(`/proc/buddyinfo: ${error.message}`, 2, { cause: error });
      throw error;
    }
    if (report.zones.length === 0)
      throw new CliError('/proc/buddyinfo: this machine has none to read (is /proc mounted?)');
    return judge(
      { ...report, source: '/proc', kind: 'local', report, pageSize: report.pageSize > 0 ? report.pageSize : null },
      thresholds(report.zones),
    );
  }
  const name = file === '-' ? 'stdin' : file;
  const text = await readInput(file, io);
  let input: ReturnType<typeof parseAny>;
  try {
    input = parseAny(text);
  } catch (error) {
    if (error instanceof ParseError) throw new CliError(`${shown(name, 200)}: ${error.message}`, 2, { cause: error });
    throw error;
  }
  if (input.kind === 'gather') {
    const { report } = input;
    return judge(
      { ...report, source: name, kind: 'gather', report, pageSize: options.pageSize ?? report.pageSize },
      thresholds(report.zones),
    );
  }
  if (input.kind === 'remediate') {
    const { report } = input;
    const zones = report.after.length > 0 ? report.after : report.before;
    return judge(
      {
        source: name,
        kind: 'remediate',
        host: report.host,
        kernel: null,
        report: null,
        zones,
        pageSize: options.pageSize ?? report.pageSize,
        memTotalKb: null,
        memAvailableKb: null,
      },
      thresholds(zones),
    );
  }
  return judge(
    {
      source: name,
      kind: 'buddyinfo',
      host: null,
      kernel: null,
      report: null,
      zones: input.zones,
      pageSize: options.pageSize ?? null,
      memTotalKb: null,
      memAvailableKb: null,
    },
    thresholds(input.zones),
  );
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const spec = commandSpec('inspect');
  const { flags, positionals } = parseFlags(spec.name, args, allFlags(spec), spec.positionals);
  if (flags.format !== undefined && (flags.output !== undefined || flags.json === true)) {
    throw new CliError('--format is the older name of -o/--output: give one of them');
  }
  const output = resolveOutput({ ...flags, output: flags.output ?? flags.format }, io, [
    ...OUTPUT_FORMATS,
    'prometheus',
  ]);
  const since = stringFlag(flags.since);
  const result = await inspectInput(positionals[0], io, {
    ...(flags['page-size'] === undefined ? {} : { pageSize: parsePageSize(stringFlag(flags['page-size'])) }),
    since: since === undefined ? 0 : Math.floor(Date.parse(parseSince(since, new Date())) / 1000),
    watch: parseWatch(flags),
  });
  const format = output.format as string;
  if (format === 'prometheus') io.stdout(toPrometheus(result));
  else if (isStructured(output.format)) io.stdout(structured(inspectJson(result), output.format));
  else {
    const lines = renderInspect(result, output, painter(output.color));
    io.stdout(`${lines.join('\n')}\n`);
  }
  return result.verdict.level === 'OK' ? 0 : 1;
}
