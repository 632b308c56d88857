/** `--since WHEN`: a duration back from now or an ISO-8601 time, as the history's sort keys spell times. */
import { CliError } from '../errors.ts';
import { shown } from './args.ts';

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since` as an ISO-8601 UTC time (the form the history's sort keys use). */
export function parseSince(value: string, now: Date): string {
  const relative = /^([0-9]{1,6})(m|h|d|w)$/.exec(value);
  if (relative) {
    const [, amount = '0', unit = 'h'] = relative;
    return new Date(now.getTime() - Number(amount) * (UNITS[unit] ?? 0)).toISOString();
  }
  if (
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(value)
  ) {
    const time = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (!Number.isNaN(time)) return new Date(time).toISOString();
  }
  throw new CliError(`--since: '${shown(value, 40)}' is neither a duration (30m, 24h, 7d, 2w) nor an ISO-8601 time`);
}
