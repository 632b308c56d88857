/**
 * Remediation windows: the days and hours, in an IANA time zone, when fleetscan may act on nodes (outside them it
 * records and notifies `deferred`). Like kured's --start-time/--end-time/--reboot-days or an SSM maintenance window.
 *
 * Wall-clock time is read with Intl in the window's own zone, so daylight-saving changes need no arithmetic here:
 * 02:00-05:00 Europe/Paris is 01:00-04:00 UTC in winter and 00:00-03:00 UTC in summer. On the day the clocks go
 * forward, wall-clock times that do not exist are never "now" (a 02:00-03:00 window is empty that night); on the day
 * they go back, the repeated hour is inside the window both times.
 */

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface RemediationWindow {
  /** The days the window opens on (an overnight window runs into the next day). */
  readonly days: readonly Weekday[];
  /** `HH:MM`, 00:00 to 23:59. */
  readonly start: string;
  /** `HH:MM`, 00:01 to 24:00; before `start` for a window that runs past midnight; equal to it for all day. */
  readonly end: string;
  /** IANA zone name, e.g. `Europe/Paris`, `UTC`. */
  readonly timeZone: string;
}

/** A window that cannot be used; the message says what is wrong with which part. */
export class WindowError extends Error {
  override readonly name = 'WindowError';
}

const TIME = /^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$/;

function minutes(time: string): number {
  if (time === '24:00') return 1440;
  const [h = '0', m = '0'] = time.split(':');
  return Number(h) * 60 + Number(m);
}

/** Throws {@link WindowError} unless the zone is one Intl knows. */
export function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new WindowError(`'${timeZone}' is not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York)`);
  }
  return timeZone;
}

/** `Mon-Fri`, `Sat,Sun`, `Mon,Wed-Fri`, `daily`. */
export function parseDays(text: string): Weekday[] {
  if (text.toLowerCase() === 'daily') return [...WEEKDAYS];
  const index = (name: string): number => {
    const i = WEEKDAYS.findIndex((day) => day.toLowerCase() === name.toLowerCase());
    if (i < 0) throw new WindowError(`'${name}' is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun or daily`);
    return i;
  };
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from = '', to] = part.trim().split('-');
    const a = index(from);
    const b = to === undefined ? a : index(to);
    for (let i = a; ; i = (i + 1) % 7) {
      days.add(i);
      if (i === b) break;
    }
  }
  return [...days].sort((a, b) => a - b).map((i) => WEEKDAYS[i] as Weekday);
}

/** Checks a window given as an object. Throws {@link WindowError}. */
export function checkWindow(window: RemediationWindow): RemediationWindow {
  if (window.days.length === 0) throw new WindowError('a window needs at least one day');
  for (const day of window.days) parseDays(day);
  if (!TIME.test(window.start) || window.start === '24:00') {
    throw new WindowError(`start '${window.start}' is not a time from 00:00 to 23:59`);
  }
  if (!TIME.test(window.end) || window.end === '00:00') {
    throw new WindowError(`end '${window.end}' is not a time from 00:01 to 24:00`);
  }
  checkTimeZone(window.timeZone);
  return window;
}

/** `Mon-Fri 02:00-05:00 Europe/Paris` (the zone defaults to UTC). Throws {@link WindowError}. */
export function parseWindow(text: string): RemediationWindow {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) {
    throw new WindowError(
      `'${text}' is not a window: use 'DAYS HH:MM-HH:MM [TIME_ZONE]', e.g. 'Mon-Fri 02:00-05:00 Europe/Paris'`,
    );
  }
  const [days = '', hours = '', timeZone = 'UTC'] = parts;
  const [start = '', end = '', ...rest] = hours.split('-');
  if (rest.length > 0 || end === '') throw new WindowError(`'${hours}' is not an hour range: use HH:MM-HH:MM`);
  return checkWindow({ days: parseDays(days), start, end, timeZone });
}

interface WallClock {
  readonly day: number;
  readonly minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(now: Date, timeZone: string): WallClock {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  let weekday = '';
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(now)) {
    if (part.type === 'weekday') weekday = part.value;
    if (part.type === 'hour') hour = Number(part.value) % 24;
    if (part.type === 'minute') minute = Number(part.value);
  }
  return { day: WEEKDAYS.indexOf(weekday as Weekday), minute: hour * 60 + minute };
}

function opens(window: RemediationWindow, now: Date): boolean {
  const { day, minute } = wallClock(now, window.timeZone);
  const start = minutes(window.start);
  const end = minutes(window.end);
  const on = (d: number) => window.days.includes(WEEKDAYS[(d + 7) % 7] as Weekday);
  if (start === end) return on(day);
  if (start < end) return on(day) && minute >= start && minute < end;
  // Past midnight: the evening part belongs to today's window, the morning part to yesterday's.
  return (on(day) && minute >= start) || (on(day - 1) && minute < end);
}

/** Whether `now` is inside one of the windows. No windows at all means any time. */
export function inWindow(now: Date, windows: readonly RemediationWindow[]): boolean {
  return windows.length === 0 || windows.some((window) => opens(window, now));
}

/**
 * The first minute at or after `now` when a window is open (to say "deferred until ..."): `now` itself when inside,
 * null when no window opens within 8 days (none can, for windows that are all empty).
 */
export function nextWindowStart(now: Date, windows: readonly RemediationWindow[]): Date | null {
  if (inWindow(now, windows)) return now;
  const first = new Date(Math.ceil(now.getTime() / 60_000) * 60_000);
  for (let step = 0; step <= 8 * 1440; step += 1) {
    const at = new Date(first.getTime() + step * 60_000);
    if (inWindow(at, windows)) return at;
  }
  return null;
}
