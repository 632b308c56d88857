/**
 * `npm run bench:startup [-- --runs N] [--json]`
 *
 * How long the CLI takes to start, beside Node itself: `node -e 0`, `fleetscan --help` and `fleetscan inspect FILE`
 * (a buddyinfo sample), each spawned N times as a user's shell would, the whole process timed from the outside.
 * The three run in turn, round after round, so that a machine getting busier slows all three alike, and the ratio
 * inspect / node is taken round by round. Target: `fleetscan inspect FILE` within 1.5 × `node -e 0`.
 *
 * It builds the bundle first (scripts/build.ts), so it measures what `npm ci` leaves, from the sources as they are.
 * test/bench/bench.ts calls {@link measureStartup}.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../../scripts/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/fleetscan.mjs');
const SAMPLE = join(ROOT, 'test/fixtures/buddyinfo/01-procfs-fixture-x86-single-node.txt');
const DEFAULT_RUNS = 15;

/** `fleetscan inspect FILE` may take at most this many times `node -e 0`. */
export const TARGET_STARTUP_RATIO = 1.5;

/** Milliseconds over the runs. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export interface StartupResult {
  readonly kind: 'startup';
  readonly runs: number;
  /** Wall-clock milliseconds of each whole process, spawned. */
  readonly node: Spread;
  readonly help: Spread;
  readonly inspect: Spread;
  /** inspect / node, round by round. */
  readonly ratio: Spread;
  readonly target: number;
  /** Whether the median ratio is within the target. */
  readonly pass: boolean;
}

const COMMANDS = {
  node: ['-e', '0'],
  help: [BIN, '--help'],
  inspect: [BIN, 'inspect', SAMPLE],
} as const;

function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { min: sorted[0] ?? 0, median: median ?? 0, max: sorted.at(-1) ?? 0 };
}

/** Wall-clock milliseconds of one spawned `node ARGS`; throws when it does not exit 0 or 1 (inspect's CRITICAL). */
function timeOnce(args: readonly string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - started;
  if (run.error !== undefined || (run.status !== 0 && run.status !== 1)) {
    throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.error?.message ?? run.stderr}`);
  }
  return ms;
}

/** Builds the CLI, then times the three commands `runs` rounds (after one round not counted). */
export async function measureStartup(options: { readonly runs?: number } = {}): Promise<StartupResult> {
  const runs = options.runs ?? DEFAULT_RUNS;
  await buildCli();
  const times = { node: [] as number[], help: [] as number[], inspect: [] as number[] };
  const ratios: number[] = [];
  for (let round = 0; round <= runs; round += 1) {
    const node = timeOnce(COMMANDS.node);
    const help = timeOnce(COMMANDS.help);
    const inspect = timeOnce(COMMANDS.inspect);
    if (round === 0) continue;
    times.node.push(node);
    times.help.push(help);
    times.inspect.push(inspect);
    ratios.push(inspect / node);
  }
  const ratio = spread(ratios);
  return {
    kind: 'startup',
    runs,
    node: spread(times.node),
    help: spread(times.help),
    inspect: spread(times.inspect),
    ratio,
    target: TARGET_STARTUP_RATIO,
    pass: ratio.median <= TARGET_STARTUP_RATIO,
  };
}

/** The result as a table, one line per command, and the verdict. */
export function formatStartup(result: StartupResult): string {
  const ms = (value: number) => `${value.toFixed(0)} ms`.padStart(7);
  const row = (name: string, { min, median, max }: Spread) => `${name.padEnd(34)} ${ms(min)} ${ms(median)} ${ms(max)}`;
  const times = (value: number) => `${value.toFixed(2)}×`.padStart(7);
  return [
    `start-up: each command spawned ${result.runs} times, the whole process timed (wall)`,
    `${''.padEnd(34)} ${'min'.padStart(7)} ${'median'.padStart(7)} ${'max'.padStart(7)}`,
    row('node -e 0', result.node),
    row('fleetscan --help', result.help),
    row('fleetscan inspect FILE', result.inspect),
    `${'inspect / node'.padEnd(34)} ${times(result.ratio.min)} ${times(result.ratio.median)} ${times(result.ratio.max)}`,
    `${result.pass ? 'PASS' : 'FAIL'} inspect within ${result.target}× node -e 0 (median ratio ${result.ratio.median.toFixed(2)}×)`,
  ].join('\n');
}

function parseArgs(argv: readonly string[]): { runs: number; json: boolean } {
  let runs = DEFAULT_RUNS;
  let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive whole number');
    } else throw new Error(`unknown argument '${arg}' (use --runs N, --json)`);
  }
  return { runs, json };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = parseArgs(process.argv.slice(2));
  const result = await measureStartup({ runs: args.runs });
  console.log(args.json ? JSON.stringify(result) : formatStartup(result));
}
