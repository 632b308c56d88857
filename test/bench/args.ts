/** `npm run bench` flags: parsed here, each bad one reported as one line naming the flag and what it takes. */
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

export const USAGE =
  'npm run bench -- [--nodes N[,N...]] [--scans K] [--shard-size N] [--deadline-ms MS] [--ssm-rate CALLS_PER_SECOND] [--no-naive] [--no-extras] [--json]';

export const DEFAULT_SIZES: readonly number[] = [100, 1000, 10_000];
/**
 * The first scan finds every node new (host names, first records); the second meets its CRITICAL nodes for the first
 * time (state changes, notifications): the steady state is the average of scans 2–4.
 */
export const DEFAULT_SCANS = 4;
/** The collect function's timeout (lib/infra/scanner.ts): a deployed invocation's whole budget. */
export const DEFAULT_DEADLINE_MS = 5 * 60 * 1000;

export interface BenchArgs {
  readonly sizes: readonly number[];
  /** Scans per run: the first, then steady state (node state read, remediation, notification). */
  readonly scans: number;
  /** Nodes per gather command (collection.nodesPerCommand). */
  readonly shardSize: number;
  /** The collect invocation's time budget, in ms. */
  readonly deadlineMs: number;
  /** Whether --deadline-ms was given (hand-offs are then expected). */
  readonly deadlineGiven: boolean;
  /** SSM read calls per second (token bucket, burst of the same size); unset: no rate limit. */
  readonly ssmRate: number | undefined;
  readonly json: boolean;
  /** Run the simple collector beside fleetscan (the baseline). */
  readonly baseline: boolean;
  /** Bundles, cold import, gather.sh timing. */
  readonly extras: boolean;
}

function positiveInteger(flag: string, text: string | undefined, what: string): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < 1) {
    throw new BenchUsageError(`${flag} takes ${what}, got ${text === undefined ? 'nothing' : `'${text}'`}`);
  }
  return value;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const sizes: number[] = [];
  let scans = DEFAULT_SCANS;
  let shardSize = DEFAULT_CONFIG.collection.nodesPerCommand;
  let deadlineMs = DEFAULT_DEADLINE_MS;
  let deadlineGiven = false;
  let ssmRate: number | undefined;
  let json = false;
  let baseline = true;
  let extras = true;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--json':
        json = true;
        break;
      // Named after the strawman baseline it replaced (the issue's commands use it): no simple collector run.
      case '--no-naive':
        baseline = false;
        break;
      case '--no-extras':
        extras = false;
        break;
      case '--nodes':
        for (const part of (value() ?? '').split(',')) {
          sizes.push(positiveInteger('--nodes', part, 'positive integers, comma-separated (e.g. 1000,10000)'));
        }
        break;
      case '--scans':
        scans = positiveInteger('--scans', value(), 'a positive integer (scans per run, e.g. 4)');
        break;
      case '--shard-size':
        shardSize = positiveInteger('--shard-size', value(), 'a positive integer (nodes per gather command)');
        break;
      case '--deadline-ms':
        deadlineMs = positiveInteger('--deadline-ms', value(), 'a positive integer (ms per collect invocation)');
        if (deadlineMs < 1000) throw new BenchUsageError(`--deadline-ms takes at least 1000 ms, got ${deadlineMs}`);
        deadlineGiven = true;
        break;
      case '--ssm-rate': {
        const text = value();
        ssmRate = Number(text);
        if (text === undefined || !(ssmRate > 0)) {
          throw new BenchUsageError(
            `--ssm-rate takes a positive number of calls per second, got ${text === undefined ? 'nothing' : `'${text}'`}`,
          );
        }
        break;
      }
      default:
        throw new BenchUsageError(`unknown argument '${arg}' (usage: ${USAGE})`);
    }
  }
  return {
    sizes: sizes.length > 0 ? sizes : DEFAULT_SIZES,
    scans,
    shardSize,
    deadlineMs,
    deadlineGiven,
    ssmRate,
    json,
    baseline,
    extras,
  };
}

/**
 * The target tag's values for a fleet of `nodes` sharded at `shardSize`: one value per gather command, as the
 * user's launch templates would write them (`pool-0` … `pool-<k-1>`), so that every scan — the first, which has no
 * previous node count, included — is ⌈nodes / shardSize⌉ commands.
 */
export function tagValues(nodes: number, shardSize: number): string[] {
  const count = Math.max(1, Math.ceil(nodes / shardSize));
  return Array.from({ length: count }, (_, index) => `pool-${index}`);
}
