import { describe, expect, it } from 'vitest';
import { describeSeconds, ScheduleError, scheduleGaps } from '../../lib/config/schedule.ts';

const HOUR = 3600;
const DAY = 86_400;

describe('scheduleGaps: rate()', () => {
  it.each([
    ['rate(1 minute)', 60],
    ['rate(15 minutes)', 900],
    ['rate(2 hours)', 2 * HOUR],
    ['rate(1 day)', DAY],
  ])('%s repeats every %i seconds', (expression, seconds) => {
    expect(scheduleGaps(expression)).toEqual({ shortestSeconds: seconds, longestSeconds: seconds });
  });
});

describe('scheduleGaps: cron()', () => {
  it.each([
    // expression, shortest, longest
    ['cron(0/15 * * * ? *)', 900, 900],
    ['cron(*/10 * * * ? *)', 600, 600],
    ['cron(0 * * * ? *)', HOUR, HOUR],
    ['cron(0 3 * * ? *)', DAY, DAY],
    // Every 30 minutes on weekdays 08:00-18:30: the weekend gap is Friday 18:30 to Monday 08:00.
    ['cron(0/30 8-18 ? * MON-FRI *)', 1800, 2 * DAY + 13.5 * HOUR],
    ['cron(0,5 12 * * ? *)', 300, DAY - 300],
    ['cron(0 22,2 * * ? *)', 4 * HOUR, 20 * HOUR],
    // Once a week, by name and by number (1 = SUN).
    ['cron(0 6 ? * SUN *)', 7 * DAY, 7 * DAY],
    ['cron(0 6 ? * 1 *)', 7 * DAY, 7 * DAY],
  ])('%s: shortest %i s, longest %i s', (expression, shortest, longest) => {
    expect(scheduleGaps(expression)).toEqual({ shortestSeconds: shortest, longestSeconds: longest });
  });

  it('reads day-of-month lists and the last day of the month (L), months with their lengths', () => {
    // From the last day of one month to the last of the next: 28 days (31 January to 28 February) to 31.
    expect(scheduleGaps('cron(0 0 L * ? *)')).toEqual({ shortestSeconds: 28 * DAY, longestSeconds: 31 * DAY });
    expect(scheduleGaps('cron(0 0 1,15 * ? *)')).toEqual({ shortestSeconds: 14 * DAY, longestSeconds: 17 * DAY });
    // February only, the 1st: once a year.
    expect(scheduleGaps('cron(0 0 1 FEB ? *)')).toEqual({ shortestSeconds: 365 * DAY, longestSeconds: 366 * DAY });
  });

  it('reads the nearest weekday (15W), the last given weekday (6L) and the nth one (2#1)', () => {
    const nearest = scheduleGaps('cron(0 0 15W * ? *)');
    const lastFriday = scheduleGaps('cron(0 0 ? * 6L *)');
    const firstMonday = scheduleGaps('cron(0 0 ? * 2#1 *)');

    // Monthly: gaps between 28 and 35 days (a weekend moves the run by a day or two).
    for (const gaps of [nearest, lastFriday, firstMonday]) {
      expect(gaps?.shortestSeconds).toBeGreaterThanOrEqual(26 * DAY);
      expect(gaps?.longestSeconds).toBeLessThanOrEqual(35 * DAY);
    }
    // A monthly run on a fixed weekday is always 4 or 5 weeks after the previous one.
    expect([28 * DAY, 35 * DAY]).toContain(lastFriday?.shortestSeconds);
    expect([28 * DAY, 35 * DAY]).toContain(firstMonday?.longestSeconds);
  });

  it('has no gap for a schedule that fires once in the four years it walks', () => {
    expect(scheduleGaps('cron(0 0 29 2 ? *)')).toEqual({
      shortestSeconds: 4 * 365 * DAY + DAY,
      longestSeconds: 4 * 365 * DAY + DAY,
    });
  });

  it.each([
    ['cron(0 0 31 2 ? *)', 'never fires'],
    ['cron(60 * * * ? *)', "has a bad minutes field: '60' is not a value from 0 to 59"],
    ['cron(0 25 * * ? *)', "has a bad hours field: '25' is not a value from 0 to 23"],
    ['cron(0 0 ? * FUNDAY *)', "has a bad day-of-week field: 'FUNDAY' is not a value from 1 to 7"],
    ['cron(0 10-2 * * ? *)', "has a bad hours field: '10-2' runs backwards"],
    ['cron(0/0 * * * ? *)', "has a bad minutes field: '0/0' has a bad step"],
    ['at(2026-01-01T00:00:00)', 'not a rate(...) or cron(...) expression'],
  ])('rejects %s: %s', (expression, message) => {
    expect(() => scheduleGaps(expression)).toThrow(ScheduleError);
    expect(() => scheduleGaps(expression)).toThrow(message);
  });
});

describe('describeSeconds', () => {
  it.each([
    [60, '1 minute'],
    [660, '11 minutes'],
    [5400, '90 minutes'],
    [7200, '2 hours'],
    [86_400, '1 day'],
    [90, '90 seconds'],
  ])('%i → %s', (seconds, text) => {
    expect(describeSeconds(seconds)).toBe(text);
  });
});
