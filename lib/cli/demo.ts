/** `fleetscan demo`: the whole pipeline on this machine, against a simulated fleet, with no AWS account. */
import path from 'node:path';
import type { DemoResult, DemoScan } from '../local/demo.ts';
import { DEFAULT_DEMO_SCANS, MAX_DEMO_NODES, MAX_DEMO_SCANS } from '../local/demo-defaults.ts';
import { ReplayError, type ReplayNode, readReplayDir } from '../local/replay.ts';
import { allFlags, commandSpec, DEFAULT_DATA_DIR } from './commands.ts';
import { CliError } from './errors.ts';
import { clean, type Paint, painter, plural, ratio, utc } from './format.ts';
import { EXIT_INTERRUPTED, type Io } from './io.ts';
import { parseFlags, stringFlag, wholeNumber } from './kit/args.ts';
import { fitted } from './kit/emit.ts';
import { isStructured, resolveOutput, structured } from './kit/output.ts';
import { wrap } from './kit/text.ts';
import { SHORT_ID } from './render/scans.ts';
import { EXIT_FAILURE, localStoreError, quietSdk, shortPath } from './table-source.ts';

/** The simulated nodes, for `fleetscan demo --help`. */
export async function profileHelp(): Promise<string> {
  const { PROFILE_DESCRIPTIONS } = await import('../local/fleet.ts');
  return [
    'the simulated nodes (node 0 is this machine, read-only):',
    ...Object.entries(PROFILE_DESCRIPTIONS).flatMap(([profile, text]) =>
      wrap(`  ${profile.padEnd(12)} ${text}`, 100, ' '.repeat(13)),
    ),
    'Node 0 and every node whose index ends in 5 carry the opt-out tag fleetscan:remediate=false.',
    ...wrap(
      'The policy is the deployed default (CRITICAL after 2 breaching scans; at most 5 remediations per scan, 6 h ' +
        'cooldown per node), except that remediation is not a dry run: the simulated nodes are safe to act on.',
      100,
    ),
  ].join('\n');
}

function parseOptions(args: readonly string[], io: Io) {
  const spec = commandSpec('demo');
  const { flags } = parseFlags(spec.name, args, allFlags(spec), spec.positionals);
  const output = resolveOutput(flags, io, ['table', 'json', 'yaml']);
  const replay = stringFlag(flags.replay);
  return {
    nodes: wholeNumber('nodes', flags.nodes, 1, MAX_DEMO_NODES),
    scans: wholeNumber('scans', flags.scans, 1, MAX_DEMO_SCANS) ?? DEFAULT_DEMO_SCANS,
    seed: wholeNumber('seed', flags.seed, 0, 2 ** 32 - 1),
    dataDir: path.resolve(stringFlag(flags['data-dir']) ?? DEFAULT_DATA_DIR),
    reset: flags.reset === true,
    output,
    replay: replay === undefined ? undefined : path.resolve(replay),
  };
}

/** A scan's progress: one line of counts, then what was remediated (its notifications follow). */
function scanLines(scan: DemoScan, paint: Paint): string[] {
  const counts = (['OK', 'WARN', 'CRITICAL', 'ERROR'] as const)
    .map((level) => {
      const label = `${scan.counts[level]} ${level}`;
      return scan.counts[level] > 0 && level !== 'OK' ? paint.status(level, label) : label;
    })
    .join(', ');
  const lines = [
    `scan ${scan.index}/${scan.total}  ${utc(scan.requestedAt).slice(0, 16)}  ${plural(scan.nodes, 'node')}: ${counts}; ` +
      `worst ${ratio(scan.worstUnusableIndex)}`,
  ];
  if (scan.remediations.length > 0) {
    const effects = new Map<string, number>();
    for (const { effect } of scan.remediations) effects.set(effect, (effects.get(effect) ?? 0) + 1);
    lines.push(
      `  remediated ${scan.remediations.length}: ${[...effects].map(([effect, n]) => paint.status(effect, `${n} ${effect}`)).join(', ')}`,
    );
  }
  return lines;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A one-line spinner on a terminal; nothing elsewhere. */
function spinner(io: Io) {
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  let label = '';
  const clear = () => io.stdout('\r\u001b[K');
  return {
    start(text: string) {
      if (!io.isTty || io.env.TERM === 'dumb') return;
      label = text;
      timer ??= setInterval(() => {
        frame = (frame + 1) % SPINNER.length;
        io.stdout(`\r${SPINNER[frame]} ${label}`);
      }, 80);
    },
    stop() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      clear();
    },
  };
}

function closing(result: DemoResult, paint: Paint): string[] {
  const dir = shortPath(result.dataDir);
  const local = dir === DEFAULT_DATA_DIR ? '--local' : `--local --data-dir ${dir}`;
  const last = result.scans[result.scans.length - 1];
  const remediations = result.scans.reduce((sum, scan) => sum + scan.remediations.length, 0);
  const notifications = result.scans.reduce((sum, scan) => sum + scan.notifications, 0);
  const replayed = result.replayed.slice(0, 3).map((id) => clean(id, 40));
  const lines = [
    '',
    `${result.continued ? 'Continued' : 'Simulated'} a fleet of ${plural(result.nodes, 'node')} (seed ${result.seed}): ` +
      `${plural(result.scans.length, 'scan')}, ${plural(remediations, 'remediation')}, ${plural(notifications, 'notification')}.`,
    `Notifications in full: ${shortPath(result.notificationsFile)} (and .jsonl beside it, as data).`,
    ...(result.thisHost === null
      ? []
      : [`This machine is node ${result.thisHost}: read live each scan, never acted on.`]),
    ...(result.replayed.length === 0
      ? []
      : [
          `Replayed ${plural(result.replayed.length, 'recorded output')} as read-only ` +
            `${result.replayed.length === 1 ? 'node' : 'nodes'}: ${replayed.join(', ')}` +
            `${result.replayed.length > replayed.length ? ', …' : ''}.`,
        ]),
    `History stored in ${dir}/ — try:`,
    `  npx fleetscan scans ${local}`,
  ];
  if (last !== undefined) lines.push(`  npx fleetscan scan ${last.scanId.slice(0, SHORT_ID)} ${local}`);
  lines.push(`  npx fleetscan nodes ${local}`);
  if (result.suggestedNode !== null) lines.push(`  npx fleetscan history ${clean(result.suggestedNode, 64)} ${local}`);
  lines.push(`  npx fleetscan remediations ${local}`);
  lines.push(paint.dim(`Run 'npx fleetscan demo' again to continue this fleet, or add --reset to start over.`));
  return lines;
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const options = parseOptions(args, io);
  quietSdk();
  const { format } = options.output;
  const table = !isStructured(format);
  const paint = painter(options.output.color);
  const spin = spinner(io);
  // A scan's notifications are shown under its progress line, which can only be printed once it is collected.
  let pending: string[] = [];
  const print = (lines: readonly string[]) => {
    if (!table) return;
    spin.stop();
    io.stdout(`${fitted([...lines, ...pending], options.output).join('\n')}\n`);
    pending = [];
  };
  let replay: ReplayNode[] = [];
  if (options.replay !== undefined) {
    try {
      replay = await readReplayDir(options.replay);
    } catch (error) {
      if (error instanceof ReplayError) throw new CliError(error.message, EXIT_FAILURE, { cause: error });
      throw error;
    }
  }
  const signal = io.graceful?.();
  // The demo, its store and the AWS SDK load only now: not for a usage error.
  const { DemoSetupError, runDemo } = await import('../local/demo.ts');
  let result: DemoResult;
  try {
    result = await runDemo({
      replay,
      dataDir: options.dataDir,
      scans: options.scans,
      reset: options.reset,
      ...(options.nodes === undefined ? {} : { nodes: options.nodes }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(signal === undefined ? {} : { signal }),
      onScanStart: (index, total, at) => spin.start(`scan ${index}/${total} at ${utc(at.toISOString())}…`),
      onScan: (scan) => print(scanLines(scan, paint)),
      notificationLine: (line) => pending.push(paint.dim(clean(line, 160))),
    });
  } catch (error) {
    if (error instanceof DemoSetupError) throw new CliError(error.message, EXIT_FAILURE, { cause: error });
    throw localStoreError(error, options.dataDir);
  } finally {
    spin.stop();
  }
  if (!table) io.stdout(structured(result, format));
  else io.stdout(`${fitted(closing(result, paint), options.output).join('\n')}\n`);
  if (result.interrupted) {
    io.stderr(
      `fleetscan demo: interrupted after ${plural(result.scans.length, 'scan')} of ${options.scans}; the store is consistent\n`,
    );
    return EXIT_INTERRUPTED;
  }
  return 0;
}
