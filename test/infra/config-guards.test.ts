/** The configuration keys of the diagnosis and the remediation guard rails (issue 10). */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, parseConfig, remediateGuardParameters } from '../../lib/config/config.ts';
import { DEFAULT_DIAGNOSIS } from '../../lib/core/diagnosis.ts';

const context = (settings: Record<string, unknown>) => parseConfig(settings, { keyPrefix: 'fleetscan:' });

function errorOf(settings: Record<string, unknown>): ConfigError {
  try {
    context(settings);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Configuration: remediation guard rails', () => {
  it('defaults to any time, the configured action (compact-node, else compact), load 1 per CPU, proactiveness 20, 10 s', () => {
    const config = context({});

    expect(config.remediation).toMatchObject({
      windows: [],
      allowedActions: ['compact-node', 'compact'],
      maxLoadPerCpu: 1,
      maxProactiveness: 20,
      settleSeconds: 10,
    });
    expect(config.diagnosis).toEqual(DEFAULT_DIAGNOSIS);
    expect(context({}).remediation).toEqual(DEFAULT_CONFIG.remediation);
  });

  it('derives the allowed actions from remediation.action unless they are given', () => {
    expect(context({ 'remediation.action': 'drop-caches' }).remediation.allowedActions).toEqual(['drop-caches']);
    expect(
      context({ 'remediation.action': 'compact', 'remediation.allowedActions': 'drop-caches,compact' }).remediation
        .allowedActions,
    ).toEqual(['drop-caches', 'compact']);
  });

  it('reads windows as text separated by ; or as JSON objects', () => {
    const text = context({ 'remediation.windows': 'Mon-Fri 02:00-05:00 Europe/Paris; Sat,Sun 00:00-24:00' });
    const json = context({
      remediation: { windows: [{ days: ['Sat', 'Sun'], start: '01:00', end: '04:00', timeZone: 'America/New_York' }] },
    });

    expect(text.remediation.windows).toEqual([
      { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '02:00', end: '05:00', timeZone: 'Europe/Paris' },
      { days: ['Sat', 'Sun'], start: '00:00', end: '24:00', timeZone: 'UTC' },
    ]);
    expect(json.remediation.windows).toEqual([
      { days: ['Sat', 'Sun'], start: '01:00', end: '04:00', timeZone: 'America/New_York' },
    ]);
  });

  it.each([
    [
      { 'remediation.windows': 'Mon-Fri 02:00-05:00 UTC; Mon 02:00-05:00 Mars/Olympus' },
      'fleetscan:remediation.windows[1]',
      /not an IANA time zone/,
    ],
    [
      { 'remediation.windows': [{ days: 'Mon', start: '2', end: '05:00' }] },
      'fleetscan:remediation.windows[0]',
      /start '2'/,
    ],
    [{ 'remediation.windows': [{ day: 'Mon' }] }, 'fleetscan:remediation.windows[0]', /'day' is not a window field/],
    [{ 'remediation.allowedActions': 'compact,nuke' }, 'fleetscan:remediation.allowedActions[1]', /is not one of/],
    [{ 'remediation.maxLoadPerCpu': '1.234' }, 'fleetscan:remediation.maxLoadPerCpu', /at most two decimals/],
    [{ 'remediation.maxProactiveness': 101 }, 'fleetscan:remediation.maxProactiveness', /from 0 to 100/],
    [
      { 'remediation.settleSeconds': '2m' },
      'fleetscan:remediation.settleSeconds',
      /leaves less than 30 s of executionTimeoutSeconds \(60\)/,
    ],
    [{ 'diagnosis.futileUnmovablePercent': 0 }, 'fleetscan:diagnosis.futileUnmovablePercent', /from 1 to 100/],
    [
      { 'diagnosis.futileUnmovablePercnt': 50 },
      'fleetscan:diagnosis.futileUnmovablePercnt',
      /did you mean fleetscan:diagnosis.futileUnmovablePercent/,
    ],
  ])('rejects %j naming %s', (settings, key, message) => {
    const error = errorOf(settings);

    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
  });

  it('accepts a longer settle time when the execution timeout leaves room for it', () => {
    expect(context({ 'remediation.settleSeconds': '2m', executionTimeoutSeconds: 300 }).remediation.settleSeconds).toBe(
      120,
    );
  });

  it('reads the diagnosis group whole, and a dotted key over it', () => {
    const config = context({
      diagnosis: '{"futileUnmovablePercent": 60, "compactStallsPerMinute": 2}',
      'diagnosis.compactStallsPerMinute': '0.5',
    });

    expect(config.diagnosis).toEqual({ ...DEFAULT_DIAGNOSIS, futileUnmovablePercent: 60, compactStallsPerMinute: 0.5 });
  });

  it('hands the remediate document its guard parameters as the strings its allowedPattern admits', () => {
    const policy = context({ 'remediation.maxLoadPerCpu': '1.5', 'remediation.settleSeconds': '20s' }).remediation;

    expect(remediateGuardParameters(policy)).toEqual({
      maxLoadPerCpu: '1.5',
      maxProactiveness: '20',
      settleSeconds: '20',
    });
  });
});
