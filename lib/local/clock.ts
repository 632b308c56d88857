/**
 * Simulated time for the demo: each scan happens one schedule interval after the previous one, so cooldowns,
 * `--since` and the history's timestamps mean what they would in a deployed fleet — in seconds of real time.
 */
import type { Clock } from '../runtime/ports.ts';

export const SCAN_INTERVAL_MS = 15 * 60 * 1000;

export class SimulatedClock implements Clock {
  private current: number;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
}
