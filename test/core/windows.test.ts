/** Remediation windows: days and hours in an IANA zone, across daylight-saving changes. */
import { describe, expect, it } from 'vitest';
import { inWindow, nextWindowStart, parseWindow, WindowError } from '../../lib/core/windows.ts';

const at = (iso: string) => new Date(iso);

describe('Function: parseWindow', () => {
  it.each([
    [
      'Mon-Fri 02:00-05:00 Europe/Paris',
      { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '02:00', end: '05:00', timeZone: 'Europe/Paris' },
    ],
    ['Sat,Sun 00:00-24:00', { days: ['Sat', 'Sun'], start: '00:00', end: '24:00', timeZone: 'UTC' }],
    [
      'Fri-Mon 22:00-06:00 America/New_York',
      { days: ['Mon', 'Fri', 'Sat', 'Sun'], start: '22:00', end: '06:00', timeZone: 'America/New_York' },
    ],
    [
      'daily 01:00-01:00 UTC',
      { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '01:00', end: '01:00', timeZone: 'UTC' },
    ],
  ])('reads %s', (text, expected) => {
    expect(parseWindow(text)).toEqual(expected);
  });

  it.each([
    ['Someday 02:00-05:00', /'Someday' is not a day/],
    ['Mon 2:00-05:00', /start '2:00'/],
    ['Mon 02:00-25:00', /end '25:00'/],
    ['Mon 02:00-05:00 Mars/Olympus', /not an IANA time zone/],
    ['Mon', /not a window/],
    ['Mon 02:00', /not an hour range/],
  ])('rejects %s, saying which part is wrong', (text, message) => {
    expect(() => parseWindow(text)).toThrow(WindowError);
    expect(() => parseWindow(text)).toThrow(message);
  });
});

describe('Function: inWindow', () => {
  const paris = parseWindow('Mon-Fri 02:00-05:00 Europe/Paris');

  it('is always true without windows', () => {
    expect(inWindow(at('2026-01-14T12:00:00Z'), [])).toBe(true);
  });

  it('follows the zone’s wall clock in winter (UTC+1) and in summer (UTC+2)', () => {
    expect(inWindow(at('2026-01-14T01:30:00Z'), [paris])).toBe(true); // Wed 02:30 CET
    expect(inWindow(at('2026-01-14T04:30:00Z'), [paris])).toBe(false); // Wed 05:30 CET
    expect(inWindow(at('2026-07-15T00:30:00Z'), [paris])).toBe(true); // Wed 02:30 CEST
    expect(inWindow(at('2026-07-15T03:30:00Z'), [paris])).toBe(false); // Wed 05:30 CEST
    expect(inWindow(at('2026-07-18T00:30:00Z'), [paris])).toBe(false); // Sat 02:30 CEST
  });

  it('never opens a window made of the hour that does not exist when clocks go forward (Paris, 29 March 2026)', () => {
    const lost = parseWindow('daily 02:00-03:00 Europe/Paris');
    const minutes = Array.from({ length: 180 }, (_, i) => new Date(Date.UTC(2026, 2, 28, 23, 30) + i * 60_000));

    expect(minutes.filter((minute) => inWindow(minute, [lost]))).toEqual([]);
    expect(inWindow(at('2026-03-30T00:30:00Z'), [lost])).toBe(true); // the next night, 02:30 CEST
  });

  it('is open both times through the hour that repeats when clocks go back (Paris, 25 October 2026)', () => {
    const repeated = parseWindow('daily 02:00-03:00 Europe/Paris');

    expect(inWindow(at('2026-10-25T00:30:00Z'), [repeated])).toBe(true); // 02:30 CEST
    expect(inWindow(at('2026-10-25T01:30:00Z'), [repeated])).toBe(true); // 02:30 CET
    expect(inWindow(at('2026-10-25T02:30:00Z'), [repeated])).toBe(false); // 03:30 CET
  });

  it('runs a window past midnight into the next day only from the days it opens on', () => {
    const weekend = parseWindow('Fri 22:00-06:00 America/New_York');

    expect(inWindow(at('2026-01-17T10:00:00Z'), [weekend])).toBe(true); // Sat 05:00 EST
    expect(inWindow(at('2026-01-17T12:30:00Z'), [weekend])).toBe(false); // Sat 07:30 EST
    expect(inWindow(at('2026-01-17T02:30:00Z'), [weekend])).toBe(false); // Fri 21:30 EST
    expect(inWindow(at('2026-01-18T04:00:00Z'), [weekend])).toBe(false); // Sat 23:00 EST: Saturday has no window
  });

  it('is open in any of several windows', () => {
    const windows = [paris, parseWindow('Sat,Sun 00:00-24:00 UTC')];
    expect(inWindow(at('2026-01-17T15:00:00Z'), windows)).toBe(true);
    expect(inWindow(at('2026-01-14T15:00:00Z'), windows)).toBe(false);
  });
});

describe('Function: nextWindowStart', () => {
  const paris = parseWindow('Mon-Fri 02:00-05:00 Europe/Paris');

  it('is now when inside a window', () => {
    const now = at('2026-01-14T01:30:00Z');
    expect(nextWindowStart(now, [paris])).toEqual(now);
  });

  it('is the first minute of the next window, in UTC', () => {
    expect(nextWindowStart(at('2026-01-16T12:00:00Z'), [paris])).toEqual(at('2026-01-19T01:00:00Z')); // Fri noon → Mon 02:00 CET
  });

  it('is null when no window ever opens', () => {
    const never = parseWindow('daily 02:00-03:00 Europe/Paris');
    const cut = { ...never, days: [] };
    expect(nextWindowStart(at('2026-01-16T12:00:00Z'), [cut])).toBeNull();
  });
});
