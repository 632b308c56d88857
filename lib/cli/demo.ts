/** `fleetscan demo`: the whole pipeline on this machine, against a simulated fleet, with no AWS account. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_DEMO_NODES,
  DEFAULT_DEMO_SCANS,
  DEFAULT_DEMO_SEED,
  type DemoResult,
  type DemoScan,
  DemoSetupError,
  runDemo,
} from '../local/demo.ts';
import { PROFILE_DESCRIPTIONS } from '../local/fleet.ts';
import { ReplayError, type ReplayNode, readReplayDir } from '../local/replay.ts';
import { CliError } from './errors.ts';
import { clean, type Paint, painter, ratio, utc } from './format.ts';
import { type Io, useColor } from './io.ts';
import { DEFAULT_DATA_DIR, EXIT_FAILURE, localStoreError, quietSdk, shortPath } from './table-source.ts';

const MAX_NODES = 5000;
const MAX_SCANS = 200;

export const help = `usage: fleetscan demo [--nodes N] [--scans K] [--seed S] [--data-dir DIR] [--replay DIR] [--reset] [--json]

Runs fleetscan's real pipeline K times on this machine — scan, collect, evaluate, store, remediate, notify — with
no AWS account: a simulated fleet of N nodes answers the gather and remediate documents the way SSM Run Command
does, the history goes to an embedded DynamoDB-compatible store (dynalite) in the data directory, and
notifications are printed here and appended to DIR/notifications.log. Each scan is one schedule interval
(15 minutes) of simulated time after the previous one. Run it again to continue the same fleet.

Afterwards every history command reads the demo's store with --local:
  npx fleetscan scans --local
  npx fleetscan scan SCAN_ID --local
  npx fleetscan history NODE_ID --local
  npx fleetscan remediations --local

options:
  --nodes N        nodes in the fleet (default: ${DEFAULT_DEMO_NODES}, or the saved fleet's; at most ${MAX_NODES})
  --scans K        scans to run now (default: ${DEFAULT_DEMO_SCANS}; at most ${MAX_SCANS})
  --seed S         the fleet's seed: the same seed is the same fleet (default: ${DEFAULT_DEMO_SEED}, or the saved fleet's)
  --data-dir DIR   where the demo keeps its store, fleet and notifications (default: ${DEFAULT_DATA_DIR})
  --replay DIR     one more node per file in DIR, printing that file as its gather output on every scan (node id:
                   the file name without extension; read-only, never remediated), through SSM's output limits
  --reset          forget the data directory's demo first
  --json           print a summary of the run as JSON instead of progress lines
  -h, --help       this help

the simulated nodes (node 0 is this machine, read-only):
${Object.entries(PROFILE_DESCRIPTIONS)
  .map(([profile, text]) => `  ${profile.padEnd(12)} ${text}`)
  .join('\n')}
Node 0 and every node whose index ends in 5 carry the opt-out tag fleetscan:remediate=false.
The policy is the deployed default (CRITICAL after 2 breaching scans; at most 5 remediations per scan, 6 h
cooldown per node), except that remediation is not a dry run: the simulated nodes are safe to act on.

exit status: 0 success, 1 the demo could not run, 2 usage`;

function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < min || number > max) {
    throw new CliError(`${flag}: '${clean(value, 20)}' is not a whole number from ${min} to ${max}`);
  }
  return number;
}

function parseOptions(args: readonly string[]) {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...args],
      options: {
        nodes: { type: 'string' },
        scans: { type: 'string' },
        seed: { type: 'string' },
        'data-dir': { type: 'string' },
        replay: { type: 'string' },
        reset: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    });
    values = parsed.values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`${clean(message.split(/\.\s/)[0], 200)} (see 'fleetscan demo --help')`, 2, { cause: error });
  }
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const dataDir = text('data-dir');
  if (dataDir !== undefined && dataDir.trim() === '') throw new CliError('--data-dir needs a value');
  const replay = text('replay');
  if (replay !== undefined && replay.trim() === '') throw new CliError('--replay needs a directory');
  return {
    nodes: wholeNumber('--nodes', text('nodes'), 1, MAX_NODES),
    scans: wholeNumber('--scans', text('scans'), 1, MAX_SCANS) ?? DEFAULT_DEMO_SCANS,
    seed: wholeNumber('--seed', text('seed'), 0, 2 ** 32 - 1),
    dataDir: path.resolve(dataDir ?? DEFAULT_DATA_DIR),
    reset: values.reset === true,
    json: values.json === true,
    replay: replay === undefined ? undefined : path.resolve(replay),
  };
}

function scanLine(scan: DemoScan, paint: Paint): string {
  const counts = (['OK', 'WARN', 'CRITICAL', 'ERROR'] as const)
    .map((level) => {
      const label = `${scan.counts[level]} ${level}`;
      return scan.counts[level] > 0 && level !== 'OK' ? paint.status(level, label) : label;
    })
    .join('  ');
  const effects = new Map<string, number>();
  for (const remediation of scan.remediations)
    effects.set(remediation.effect, (effects.get(remediation.effect) ?? 0) + 1);
  const remediated =
    scan.remediations.length === 0
      ? '0 remediated'
      : `${scan.remediations.length} remediated (${[...effects].map(([effect, n]) => `${n} ${effect}`).join(', ')})`;
  return (
    `scan ${scan.index}/${scan.total}  ${utc(scan.requestedAt)}  ${scan.nodes} nodes  ${counts}  ` +
    `${remediated}  worst ${ratio(scan.worstUnusableIndex)}  ${scan.notifications} notification${scan.notifications === 1 ? '' : 's'}`
  );
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
      if (!io.isTty) return;
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
  const lines = [
    '',
    `${result.continued ? 'Continued' : 'Simulated'} a fleet of ${result.nodes} nodes (seed ${result.seed}): ` +
      `${result.scans.length} scan${result.scans.length === 1 ? '' : 's'}, ${remediations} remediation${remediations === 1 ? '' : 's'}, ` +
      `${notifications} notification${notifications === 1 ? '' : 's'} (full text in ${shortPath(result.notificationsFile)}).`,
    ...(result.thisHost === null
      ? []
      : [`This machine is node ${result.thisHost}: its real /proc/buddyinfo, read each scan, never acted on.`]),
    ...(result.replayed.length === 0
      ? []
      : [
          `Replayed ${result.replayed.length} recorded output${result.replayed.length === 1 ? '' : 's'} as node${result.replayed.length === 1 ? '' : 's'} ${result.replayed
            .slice(0, 5)
            .map((id) => clean(id, 64))
            .join(', ')}${result.replayed.length > 5 ? ', …' : ''} (read-only).`,
        ]),
    `History stored in ${dir}/ — try:`,
    `  npx fleetscan scans ${local}`,
  ];
  if (last !== undefined) lines.push(`  npx fleetscan scan ${last.scanId.slice(0, 8)} ${local}`);
  if (result.suggestedNode !== null) lines.push(`  npx fleetscan history ${result.suggestedNode} ${local}`);
  lines.push(`  npx fleetscan remediations ${local}`);
  lines.push(paint.dim(`Run 'npx fleetscan demo' again to continue this fleet, or add --reset to start over.`));
  return lines;
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const options = parseOptions(args);
  quietSdk();
  const paint = painter(useColor(io));
  const spin = spinner(io);
  // A scan's notifications are shown under its progress line, which can only be printed once it is collected.
  let pending: string[] = [];
  const print = (line: string) => {
    if (options.json) return;
    spin.stop();
    io.stdout(`${[line, ...pending].join('\n')}\n`);
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
  let result: DemoResult;
  try {
    result = await runDemo({
      replay,
      dataDir: options.dataDir,
      scans: options.scans,
      reset: options.reset,
      ...(options.nodes === undefined ? {} : { nodes: options.nodes }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      onScanStart: (index, total, at) => spin.start(`scan ${index}/${total} at ${utc(at.toISOString())}…`),
      onScan: (scan) => print(scanLine(scan, paint)),
      notificationLine: (line) => pending.push(paint.dim(clean(line, 160))),
    });
  } catch (error) {
    if (error instanceof DemoSetupError) throw new CliError(error.message, EXIT_FAILURE, { cause: error });
    throw localStoreError(error, options.dataDir);
  } finally {
    spin.stop();
  }
  if (options.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  io.stdout(`${closing(result, paint).join('\n')}\n`);
  return 0;
}
