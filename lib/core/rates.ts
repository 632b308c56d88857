/**
 * /proc/vmstat counters as rates. The kernel's counters are cumulative since boot (canonical/hotsos warns in
 * hotsos/core/plugins/kernel/memory.py that they are "rolling" and say little about now), so a verdict judges what
 * they did since the node's previous scan: deltas over the time between the two samples.
 *
 * A reboot resets every counter. It shows as a different boot id, an uptime that went down, or a counter that went
 * down; the rates then run from boot (every counter started at 0) when the uptime is known, and there are none when it
 * is not. A rate is never negative, and the first sample of a node has none.
 */
import type { GatherReport } from './report.ts';

export interface CounterSample {
  /** When the sample was taken, epoch milliseconds (the scan's time). */
  readonly at: number;
  readonly bootId: string | null;
  /** The node's uptime when sampled: a more exact clock between two samples than the scan times. */
  readonly uptimeSeconds: number | null;
  /** Counter name → cumulative value (the gather report's `vmstat`). */
  readonly counters: Readonly<Record<string, number>>;
}

/**
 * first-sample: no previous sample, no rate. same-boot: deltas since the previous sample. since-boot: the node
 * rebooted in between and the rates run from boot. reset: the counters cannot be compared (went down without a
 * reboot to show for it, or no usable elapsed time): no rate.
 */
export type RateBasis = 'first-sample' | 'same-boot' | 'since-boot' | 'reset';

export interface CounterRates {
  readonly basis: RateBasis;
  /** Seconds the deltas cover; null when there are none. */
  readonly elapsedSeconds: number | null;
  /** Increase of each counter over elapsedSeconds (empty without a rate). */
  readonly deltas: Readonly<Record<string, number>>;
  /** The same, per minute. */
  readonly perMinute: Readonly<Record<string, number>>;
  /** One sentence on how the rates were obtained (for the verdict's reasons). */
  readonly note: string;
}

/** The counter sample in a gather report, or null when it has no vmstat (a v1 report, or unreadable). */
export function sampleOf(
  report: Pick<GatherReport, 'vmstat' | 'bootId' | 'uptimeSeconds'>,
  at: number,
): CounterSample | null {
  if (report.vmstat === undefined || report.vmstat === null) return null;
  return { at, bootId: report.bootId ?? null, uptimeSeconds: report.uptimeSeconds ?? null, counters: report.vmstat };
}

function none(basis: RateBasis, note: string): CounterRates {
  return { basis, elapsedSeconds: null, deltas: {}, perMinute: {}, note };
}

function rates(basis: RateBasis, elapsedSeconds: number, deltas: Record<string, number>, note: string): CounterRates {
  const perMinute: Record<string, number> = {};
  for (const [name, delta] of Object.entries(deltas)) perMinute[name] = (delta * 60) / elapsedSeconds;
  return { basis, elapsedSeconds, deltas, perMinute, note };
}

/** Deltas and rates of `current` since `previous` (the node's previous scan); see the module comment. */
export function counterRates(previous: CounterSample | null, current: CounterSample): CounterRates {
  if (previous === null)
    return none('first-sample', 'first sample of this node: counters are judged from the next scan on');
  const rebootedBy =
    previous.bootId !== null && current.bootId !== null && previous.bootId !== current.bootId
      ? 'its boot id changed'
      : previous.uptimeSeconds !== null &&
          current.uptimeSeconds !== null &&
          current.uptimeSeconds < previous.uptimeSeconds
        ? 'its uptime went down'
        : null;
  const fell = Object.keys(current.counters).find((name) => {
    const before = previous.counters[name];
    return before !== undefined && (current.counters[name] ?? 0) < before;
  });
  const sameBootKnown = previous.bootId !== null && previous.bootId === current.bootId;
  const rebooted = rebootedBy ?? (fell !== undefined && !sameBootKnown ? `${fell} went down` : null);
  if (rebooted !== null) {
    const uptime = current.uptimeSeconds;
    if (uptime === null || uptime <= 0)
      return none('reset', `the node rebooted since the previous scan (${rebooted}): no rate`);
    return rates(
      'since-boot',
      uptime,
      { ...current.counters },
      `the node rebooted since the previous scan (${rebooted}): rates since boot`,
    );
  }
  if (fell !== undefined) {
    return none('reset', `${fell} went down without a reboot: counters not comparable, no rate`);
  }
  const byUptime =
    previous.uptimeSeconds !== null && current.uptimeSeconds !== null
      ? current.uptimeSeconds - previous.uptimeSeconds
      : null;
  const elapsed = byUptime !== null && byUptime > 0 ? byUptime : (current.at - previous.at) / 1000;
  if (!(elapsed > 0)) return none('reset', 'no time passed between the two samples: no rate');
  const deltas: Record<string, number> = {};
  for (const [name, value] of Object.entries(current.counters)) {
    const before = previous.counters[name];
    if (before !== undefined) deltas[name] = value - before;
  }
  return rates('same-boot', elapsed, deltas, `since the previous scan (${Math.round(elapsed)} s)`);
}

/** Sum of the direct-reclaim stall counters: `allocstall` before 4.8, `allocstall_<zone>` since. */
export function allocstalls(counters: Readonly<Record<string, number>>): number | null {
  const names = Object.keys(counters).filter((name) => name === 'allocstall' || name.startsWith('allocstall_'));
  return names.length === 0 ? null : names.reduce((sum, name) => sum + (counters[name] ?? 0), 0);
}
