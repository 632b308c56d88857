/**
 * Fault injection for the simulator: throttling (a share of calls, storms of consecutive calls, or a token
 * bucket), server errors, latency, and eventual consistency after SendCommand. Everything but the token bucket
 * (which follows the wall clock, as SSM's does) is a pure function of the seed and the call sequence.
 */
import { Rng } from './rng.ts';

/** A run of `length` consecutive throttled calls, after the first `afterCalls` calls (of `operation`, or of all). */
export interface Storm {
  readonly operation?: string;
  readonly afterCalls: number;
  readonly length: number;
}

export interface FaultConfig {
  /** Seeds the share-based decisions and latency jitter. @default 1 */
  readonly seed?: number;
  readonly throttle?: {
    /** Probability that a call is answered with ThrottlingException. */
    readonly share?: number;
    /** Operations `share` applies to. @default every operation */
    readonly operations?: readonly string[];
    readonly storms?: readonly Storm[];
    /** Per-operation token bucket: calls beyond it are throttled, as a real rate limit would. */
    readonly bucket?: {
      readonly ratePerSecond: number;
      readonly burst: number;
      readonly operations?: readonly string[];
    };
  };
  /** HTTP 500 InternalServerError runs (transient: the SDK retries them). */
  readonly serverErrors?: readonly Storm[];
  /** Added before every answer: a constant or a seeded uniform range. */
  readonly latencyMs?: number | { readonly min: number; readonly max: number };
  /**
   * The first `reads` reads of a command (ListCommandInvocations / GetCommandInvocation naming it) answer as if
   * SendCommand had not happened yet: an empty list, or InvocationDoesNotExist.
   */
  readonly eventualConsistency?: { readonly reads: number };
}

export interface CallDecision {
  readonly fault: 'throttle' | 'server-error' | null;
  readonly latencyMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class FaultEngine {
  private config: FaultConfig;
  private rng: Rng;
  private readonly perOperation = new Map<string, number>();
  private total = 0;
  private readonly buckets = new Map<string, Bucket>();

  constructor(config: FaultConfig = {}) {
    this.config = config;
    this.rng = new Rng(config.seed ?? 1);
  }

  get current(): FaultConfig {
    return this.config;
  }

  /** Replaces the configuration; call counters (which storms count from) are kept unless `resetCounters`. */
  set(config: FaultConfig, resetCounters = false): void {
    this.config = config;
    this.rng = new Rng(config.seed ?? 1);
    this.buckets.clear();
    if (resetCounters) {
      this.perOperation.clear();
      this.total = 0;
    }
  }

  /** Decides the fate of the next call of `operation`. */
  next(operation: string): CallDecision {
    this.total += 1;
    const opCount = (this.perOperation.get(operation) ?? 0) + 1;
    this.perOperation.set(operation, opCount);
    const inRun = (runs: readonly Storm[] | undefined): boolean =>
      (runs ?? []).some((run) => {
        const n = run.operation === undefined ? this.total : run.operation === operation ? opCount : -1;
        return n > run.afterCalls && n <= run.afterCalls + run.length;
      });
    const throttle = this.config.throttle;
    let fault: CallDecision['fault'] = null;
    // Draw every call, throttled or not, so one decision never shifts the ones after it.
    const draw = this.rng.next();
    if (inRun(this.config.serverErrors)) fault = 'server-error';
    else if (inRun(throttle?.storms)) fault = 'throttle';
    else if (
      throttle?.share !== undefined &&
      (throttle.operations === undefined || throttle.operations.includes(operation)) &&
      draw < throttle.share
    ) {
      fault = 'throttle';
    } else if (throttle?.bucket !== undefined && !this.take(operation, throttle.bucket)) fault = 'throttle';
    const latency = this.config.latencyMs;
    const jitter = this.rng.next();
    const latencyMs =
      latency === undefined
        ? 0
        : typeof latency === 'number'
          ? latency
          : latency.min + jitter * (latency.max - latency.min);
    return { fault, latencyMs };
  }

  private take(
    operation: string,
    bucket: { readonly ratePerSecond: number; readonly burst: number; readonly operations?: readonly string[] },
  ): boolean {
    if (bucket.operations !== undefined && !bucket.operations.includes(operation)) return true;
    const now = performance.now();
    const state = this.buckets.get(operation) ?? { tokens: bucket.burst, at: now };
    state.tokens = Math.min(bucket.burst, state.tokens + ((now - state.at) / 1000) * bucket.ratePerSecond);
    state.at = now;
    this.buckets.set(operation, state);
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }
}
