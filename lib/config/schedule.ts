/**
 * How often a schedule expression starts a scan: the shortest and the longest gap between two runs. The overlap
 * check (a scan must be able to finish before the next one starts) needs the shortest; the alarm that no scan
 * completed needs the longest, so that it stays quiet through a cron schedule's nights and weekends.
 *
 * `rate(N unit)` has one gap. `cron(minutes hours day-of-month month day-of-week year)` — EventBridge's six
 * fields, in UTC (fleetscan sets no schedule time zone) — is walked over four whole years, a leap cycle, day by
 * day: every day the date fields accept contributes its times. The year field is read as `*` (a schedule limited
 * to some years repeats its pattern in the others), so for such a schedule the shortest gap is a lower bound.
 * Field syntax as EventBridge documents it (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
 * `,` `-` `*` `/` everywhere; `?` in day-of-month or day-of-week; `L` and `W` in day-of-month; `L` and `#` in
 * day-of-week; names JAN–DEC and SUN–SAT; day-of-week counts 1 = SUN to 7 = SAT.
 *
 * No imports: the Lambdas bundle lib/config.
 */

export interface ScheduleGaps {
  /** Seconds between the two closest runs. */
  readonly shortestSeconds: number;
  /** Seconds between the two runs furthest apart. */
  readonly longestSeconds: number;
}

/** An expression this module cannot read, or a cron schedule that never fires; the message follows the expression. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86_400 } as const;
const RATE = /^rate\(([0-9]+) (minute|hour|day)s?\)$/;
const CRON = /^cron\((.*)\)$/;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The four years walked (2028 is a leap year); the first run of 2032 closes the last gap. */
const FIRST_YEAR = 2028;
const YEARS = 4;

interface Range {
  readonly min: number;
  readonly max: number;
  /** Names for 1.., e.g. JAN = 1 (months) or SUN = 1 (weekdays). */
  readonly names?: readonly string[];
}

function number(token: string, range: Range, field: string): number {
  const named = range.names?.indexOf(token.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + 1 : /^[0-9]+$/.test(token) ? Number(token) : Number.NaN;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ScheduleError(`has a bad ${field} field: '${token}' is not a value from ${range.min} to ${range.max}`);
  }
  return value;
}

/** `*`, `a`, `a-b`, `a/step`, `*\/step`, `a-b/step`, joined with commas: the set of accepted values. */
function plainField(text: string, range: Range, field: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [span = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new ScheduleError(`has a bad ${field} field: '${part}' has a bad step`);
    let from: number;
    let to: number;
    if (span === '*') {
      from = range.min;
      to = range.max;
    } else if (span.includes('-')) {
      const [low = '', high = ''] = span.split('-');
      from = number(low, range, field);
      to = number(high, range, field);
    } else {
      from = number(span, range, field);
      // `a/step` runs from a to the end of the range; a lone value is just itself.
      to = stepText === undefined ? from : range.max;
    }
    if (to < from) throw new ScheduleError(`has a bad ${field} field: '${part}' runs backwards`);
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

type DayTest = (year: number, month: number, day: number) => boolean;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
const weekdayOf = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

/** The weekday (Mon–Fri) nearest to `day`, within the month, as EventBridge's `nW` means it. */
function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysIn(year, month);
  const target = Math.min(day, last);
  const weekday = weekdayOf(year, month, target);
  if (weekday === 7) return target === 1 ? 3 : target - 1; // Saturday: Friday, or Monday the 3rd
  if (weekday === 1) return target === last ? target - 2 : target + 1; // Sunday: Monday, or Friday before
  return target;
}

function dayOfMonthField(text: string, field: string): DayTest {
  if (text === '?') return () => true;
  if (text === 'L') return (year, month, day) => day === daysIn(year, month);
  if (text === 'LW') return (year, month, day) => day === nearestWeekday(year, month, daysIn(year, month));
  const weekday = /^([0-9]+)W$/.exec(text);
  if (weekday !== null) {
    const target = number(weekday[1] ?? '', { min: 1, max: 31 }, field);
    return (year, month, day) => day === nearestWeekday(year, month, target);
  }
  const days = plainField(text, { min: 1, max: 31 }, field);
  return (_year, _month, day) => days.has(day);
}

function dayOfWeekField(text: string, field: string): DayTest {
  const range = { min: 1, max: 7, names: WEEKDAYS };
  if (text === '?') return () => true;
  if (text === 'L') return (year, month, day) => weekdayOf(year, month, day) === 7;
  const last = /^([0-9A-Za-z]+)L$/.exec(text);
  if (last !== null) {
    const weekday = number(last[1] ?? '', range, field);
    return (year, month, day) => weekdayOf(year, month, day) === weekday && day + 7 > daysIn(year, month);
  }
  const nth = /^([0-9A-Za-z]+)#([1-5])$/.exec(text);
  if (nth !== null) {
    const weekday = number(nth[1] ?? '', range, field);
    const which = Number(nth[2]);
    return (year, month, day) => weekdayOf(year, month, day) === weekday && Math.ceil(day / 7) === which;
  }
  const weekdays = plainField(text, range, field);
  return (year, month, day) => weekdays.has(weekdayOf(year, month, day));
}

function cronGaps(body: string): ScheduleGaps | null {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw new ScheduleError('must have 6 fields');
  const [minutesText = '', hoursText = '', domText = '', monthText = '', dowText = ''] = fields;
  const minutes = [...plainField(minutesText, { min: 0, max: 59 }, 'minutes')].sort((a, b) => a - b);
  const hours = [...plainField(hoursText, { min: 0, max: 23 }, 'hours')].sort((a, b) => a - b);
  const months = plainField(monthText, { min: 1, max: 12, names: MONTHS }, 'month');
  const dayOfMonth = dayOfMonthField(domText, 'day-of-month');
  const dayOfWeek = dayOfWeekField(dowText, 'day-of-week');
  const timesOfDay = hours.flatMap((hour) => minutes.map((minute) => hour * 60 + minute));

  let previous: number | null = null;
  let shortest = Number.POSITIVE_INFINITY;
  let longest = 0;
  const visit = (minute: number) => {
    if (previous !== null) {
      shortest = Math.min(shortest, minute - previous);
      longest = Math.max(longest, minute - previous);
    }
    previous = minute;
  };
  const start = Date.UTC(FIRST_YEAR, 0, 1);
  const end = Date.UTC(FIRST_YEAR + YEARS, 0, 1);
  let fired = false;
  // One day past the end: the first run of the next cycle closes the gap that ends it.
  for (let at = start; at <= end + 366 * 86_400_000; at += 86_400_000) {
    const date = new Date(at);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!months.has(month) || !dayOfMonth(year, month, day) || !dayOfWeek(year, month, day)) continue;
    const dayMinute = (at - start) / 60_000;
    if (at >= end) {
      if (fired) visit(dayMinute + (timesOfDay[0] ?? 0));
      break;
    }
    fired = true;
    for (const time of timesOfDay) visit(dayMinute + time);
  }
  if (!fired) throw new ScheduleError('never fires: no date matches its day-of-month, month and day-of-week fields');
  if (shortest === Number.POSITIVE_INFINITY) return null;
  return { shortestSeconds: shortest * 60, longestSeconds: longest * 60 };
}

/**
 * The gaps between runs of an EventBridge Scheduler expression: null for a cron schedule that fires once in four
 * years or less. Throws {@link ScheduleError}.
 */
export function scheduleGaps(expression: string): ScheduleGaps | null {
  const rate = RATE.exec(expression);
  if (rate !== null) {
    const seconds = Number(rate[1]) * UNIT_SECONDS[(rate[2] ?? 'minute') as keyof typeof UNIT_SECONDS];
    if (seconds <= 0) throw new ScheduleError('must repeat at least once');
    return { shortestSeconds: seconds, longestSeconds: seconds };
  }
  const cron = CRON.exec(expression);
  if (cron !== null) return cronGaps(cron[1] ?? '');
  throw new ScheduleError('is not a rate(...) or cron(...) expression');
}

/** 660 → '11 minutes', 5400 → '90 minutes', 7200 → '2 hours', 90 → '90 seconds'. */
export function describeSeconds(seconds: number): string {
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}
