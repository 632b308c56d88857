import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromContext,
  DEFAULT_CONFIG,
  DEFAULT_OPERATIONS,
  operationsFromContext,
  parseConfig,
} from '../../lib/config/config.ts';

const context = (values: Record<string, unknown>) => ({ getAllContext: () => values });

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('Config: fleetscan:enabled and fleetscan:alarms', () => {
  it('default to a running schedule and a 10 % error share', () => {
    expect(operationsFromContext(context({}))).toEqual({ enabled: true, alarmErrorPercent: 10 });
    expect(DEFAULT_OPERATIONS).toEqual({ enabled: true, alarmErrorPercent: 10 });
  });

  it('read -c strings, a group object and JSON; a dotted key wins over its group', () => {
    expect(operationsFromContext(context({ 'fleetscan:enabled': 'false' })).enabled).toBe(false);
    expect(operationsFromContext(context({ 'fleetscan:enabled': false })).enabled).toBe(false);
    expect(operationsFromContext(context({ 'fleetscan:alarms': { errorPercent: 25 } })).alarmErrorPercent).toBe(25);
    expect(operationsFromContext(context({ 'fleetscan:alarms': '{"errorPercent": "30"}' })).alarmErrorPercent).toBe(30);
    expect(
      operationsFromContext(context({ 'fleetscan:alarms': { errorPercent: 25 }, 'fleetscan:alarms.errorPercent': '5' }))
        .alarmErrorPercent,
    ).toBe(5);
  });

  it('are not scanner settings: the configuration the Lambdas get stays the default', () => {
    expect(configFromContext(context({ 'fleetscan:enabled': 'false', 'fleetscan:alarms.errorPercent': '20' }))).toEqual(
      DEFAULT_CONFIG,
    );
  });

  it.each([
    [{ 'fleetscan:enabled': 'off' }, 'fleetscan:enabled', "fleetscan:enabled: 'off' is not true or false"],
    [
      { 'fleetscan:alarms.errorPercent': '120' },
      'fleetscan:alarms.errorPercent',
      "fleetscan:alarms.errorPercent: '120' is not an integer from 0 to 100",
    ],
    [
      { 'fleetscan:alarms': { errorPercnt: 5 } },
      'fleetscan:alarms.errorPercnt',
      'fleetscan:alarms.errorPercnt: unknown setting (did you mean fleetscan:alarms.errorPercent?)',
    ],
    [{ 'fleetscan:alarms': '5' }, 'fleetscan:alarms', "fleetscan:alarms: '5' is not an object of settings"],
  ])('reject %j naming %s', (values, key, message) => {
    const error = configError(() => operationsFromContext(context(values)));
    expect(error.key).toBe(key);
    expect(error.message).toBe(message);
  });

  it('suggest the right key for a near miss among the scanner settings', () => {
    const error = configError(() => configFromContext(context({ 'fleetscan:enable': 'false' })));
    expect(error.message).toBe('fleetscan:enable: unknown setting (did you mean fleetscan:enabled?)');
  });
});

describe('Config: the schedule leaves each scan time to end', () => {
  it('refuses a schedule shorter than delivery + execution timeout, naming the three keys', () => {
    const error = configError(() => configFromContext(context({ 'fleetscan:schedule': 'rate(1 minute)' })));

    expect(error.key).toBe('fleetscan:schedule');
    expect(error.message).toBe(
      "fleetscan:schedule: 'rate(1 minute)' starts a scan every 1 minute, before the previous one can end: " +
        'fleetscan:deliveryTimeoutSeconds (600) + fleetscan:executionTimeoutSeconds (60) give a scan 11 minutes; ' +
        'schedule scans at least that far apart, or lower those timeouts',
    );
  });

  it('judges a cron schedule by its shortest gap', () => {
    // 10:00 and 10:05 every day: 5 minutes apart once a day is enough to overlap.
    const error = configError(() => parseConfig({ schedule: 'cron(0,5 10 * * ? *)' }));
    expect(error.message).toMatch(/^schedule: 'cron\(0,5 10 \* \* \? \*\)' starts a scan every 5 minutes/);
  });

  it('accepts the default, a schedule exactly as long as the timeouts, and shorter timeouts', () => {
    expect(parseConfig({}).schedule).toBe('rate(15 minutes)');
    expect(parseConfig({ schedule: 'rate(11 minutes)' }).schedule).toBe('rate(11 minutes)');
    expect(
      // The execution timeout also leaves the remediate document its settle time (remediation.settleSeconds + 30 s).
      parseConfig({ schedule: 'rate(2 minutes)', deliveryTimeoutSeconds: 30, executionTimeoutSeconds: 90 }).schedule,
    ).toBe('rate(2 minutes)');
  });

  it('names the schedule for a cron expression that never fires', () => {
    const error = configError(() => parseConfig({ schedule: 'cron(0 0 30 2 ? *)' }, { keyPrefix: 'fleetscan:' }));
    expect(error.key).toBe('fleetscan:schedule');
    expect(error.message).toBe(
      "fleetscan:schedule: 'cron(0 0 30 2 ? *)' never fires: no date matches its day-of-month, month and day-of-week fields",
    );
  });
});

describe('README: turning dry-run off for good', () => {
  it('shows a cdk.json diff whose added context turns the dry run off and subscribes the e-mail', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### 5. Turn dry-run off for good'));
    const diff = /```diff\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const added = diff
      .split('\n')
      .filter((line) => line.startsWith('+'))
      .map((line) => line.slice(1).trim().replace(/,$/, ''));
    const context = JSON.parse(`{${added.join(',')}}`) as Record<string, unknown>;

    expect(added).toHaveLength(2);
    const config = configFromContext({ getAllContext: () => context });
    expect(config.remediation.dryRun).toBe(false);
    expect(config.notificationEmails).toEqual(['oncall@example.com']);
  });
});
