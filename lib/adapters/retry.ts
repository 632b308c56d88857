/**
 * Backoff for the retries the SDK does not do for us: DynamoDB's UnprocessedItems/UnprocessedKeys (a success
 * response with work left), SSM's eventual consistency right after SendCommand (InvocationDoesNotExist, an empty
 * first listing), and throttling that outlasted the SDK's own adaptive retries in the middle of a long collection.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Sleep } from '../runtime/ports.ts';

export const realSleep: Sleep = async (ms) => {
  await delay(ms);
};

export interface BackoffOptions {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly sleep: Sleep;
  /** Source of jitter in [0, 1); injectable so that tests are deterministic. */
  readonly random?: () => number;
}

/** "Full jitter": a random wait up to base·2^attempt, capped, so that many retrying callers spread out. */
export function backoffDelay(retry: number, options: Pick<BackoffOptions, 'baseMs' | 'maxMs' | 'random'>): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** retry);
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

const THROTTLING = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottledException',
  'SlowDown',
]);

/** Throttling by name or by the SDK's own classification. */
export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const retryable = (error as { $retryable?: { throttling?: boolean } }).$retryable;
  return THROTTLING.has(error.name) || retryable?.throttling === true;
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Runs `operation`, retrying with backoff while `retryable(error)` holds, at most `attempts` times in all. */
export async function withRetry<T>(
  operation: () => Promise<T>,
  retryable: (error: unknown) => boolean,
  options: BackoffOptions,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt + 1 >= options.attempts || !retryable(error)) throw error;
      await options.sleep(backoffDelay(attempt, options));
    }
  }
}
