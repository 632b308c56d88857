import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromContext,
  DEFAULT_CONFIG,
  MAX_CONFIG_BYTES,
  parseConfig,
  SETTING_PATHS,
  stackNameFromContext,
} from '../../lib/config/config.ts';
import { DEFAULT_STACK_NAME } from '../../lib/config/contracts.ts';
import { DEFAULT_THRESHOLDS } from '../../lib/core/policy.ts';

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

describe('Config: defaults', () => {
  it('are the safe ones types.ts documents', () => {
    expect(DEFAULT_CONFIG).toMatchObject({
      schedule: 'rate(15 minutes)',
      targets: [{ tagKey: 'fleetscan', tagValues: ['enabled'] }],
      maxConcurrency: '25%',
      maxErrors: '100%',
      deliveryTimeoutSeconds: 600,
      executionTimeoutSeconds: 60,
      thresholds: DEFAULT_THRESHOLDS,
      remediation: {
        enabled: true,
        action: 'compact-node',
        dryRun: true,
        cooldownSeconds: 6 * 3600,
        maxNodesPerScan: 5,
        maxNoEffect: 2,
        optOutTag: { key: 'fleetscan:remediate', value: 'false' },
      },
      retentionDays: 90,
      notificationEmails: [],
    });
  });

  it('are what an empty context gives', () => {
    expect(configFromContext(context({}))).toEqual(DEFAULT_CONFIG);
  });

  it('survive the trip through FLEETSCAN_CONFIG (JSON) unchanged', () => {
    expect(parseConfig(JSON.parse(JSON.stringify(DEFAULT_CONFIG)))).toEqual(DEFAULT_CONFIG);
  });

  it('are themselves valid', () => {
    expect(parseConfig(DEFAULT_CONFIG)).toEqual(DEFAULT_CONFIG);
  });
});

describe('Config: from context (-c values are strings)', () => {
  it.each([
    ['fleetscan:remediation.dryRun', 'false', (c: typeof DEFAULT_CONFIG) => c.remediation.dryRun, false],
    ['fleetscan:remediation.enabled', false, (c: typeof DEFAULT_CONFIG) => c.remediation.enabled, false],
    ['fleetscan:remediation.maxNodesPerScan', '10', (c: typeof DEFAULT_CONFIG) => c.remediation.maxNodesPerScan, 10],
    ['fleetscan:remediation.cooldownSeconds', '30m', (c: typeof DEFAULT_CONFIG) => c.remediation.cooldownSeconds, 1800],
    ['fleetscan:remediation.cooldownSeconds', '1d', (c: typeof DEFAULT_CONFIG) => c.remediation.cooldownSeconds, 86400],
    ['fleetscan:remediation.cooldownSeconds', 900, (c: typeof DEFAULT_CONFIG) => c.remediation.cooldownSeconds, 900],
    ['fleetscan:remediation.action', 'drop-caches', (c: typeof DEFAULT_CONFIG) => c.remediation.action, 'drop-caches'],
    [
      'fleetscan:remediation.optOutTag',
      'maintenance=frozen',
      (c: typeof DEFAULT_CONFIG) => c.remediation.optOutTag,
      { key: 'maintenance', value: 'frozen' },
    ],
    ['fleetscan:thresholds.orders', '6,4', (c: typeof DEFAULT_CONFIG) => c.thresholds.orders, [4, 6]],
    ['fleetscan:thresholds.orders', '9', (c: typeof DEFAULT_CONFIG) => c.thresholds.orders, [9]],
    ['fleetscan:thresholds.orders', '[3, 5]', (c: typeof DEFAULT_CONFIG) => c.thresholds.orders, [3, 5]],
    [
      'fleetscan:thresholds.zones',
      'Normal,Movable',
      (c: typeof DEFAULT_CONFIG) => c.thresholds.zones,
      ['Normal', 'Movable'],
    ],
    [
      'fleetscan:thresholds.warnUnusableIndex',
      '800',
      (c: typeof DEFAULT_CONFIG) => c.thresholds.warnUnusableIndex,
      800,
    ],
    ['fleetscan:schedule', 'rate(1 hour)', (c: typeof DEFAULT_CONFIG) => c.schedule, 'rate(1 hour)'],
    ['fleetscan:schedule', 'cron(0 3 * * ? *)', (c: typeof DEFAULT_CONFIG) => c.schedule, 'cron(0 3 * * ? *)'],
    ['fleetscan:maxConcurrency', '10', (c: typeof DEFAULT_CONFIG) => c.maxConcurrency, '10'],
    ['fleetscan:maxErrors', 0, (c: typeof DEFAULT_CONFIG) => c.maxErrors, '0'],
    ['fleetscan:retentionDays', '365', (c: typeof DEFAULT_CONFIG) => c.retentionDays, 365],
    [
      'fleetscan:notificationEmails',
      'a@example.com, b@example.org',
      (c: typeof DEFAULT_CONFIG) => c.notificationEmails,
      ['a@example.com', 'b@example.org'],
    ],
    [
      'fleetscan:targets',
      'fleetscan=enabled,canary;team=storage',
      (c: typeof DEFAULT_CONFIG) => c.targets,
      [
        { tagKey: 'fleetscan', tagValues: ['enabled', 'canary'] },
        { tagKey: 'team', tagValues: ['storage'] },
      ],
    ],
    [
      'fleetscan:targets',
      '[{"tagKey":"Role","tagValues":["k8s worker"]}]',
      (c: typeof DEFAULT_CONFIG) => c.targets,
      [{ tagKey: 'Role', tagValues: ['k8s worker'] }],
    ],
  ])('reads %s = %j', (key, value, pick, expected) => {
    expect(pick(configFromContext(context({ [key]: value })))).toEqual(expected);
  });

  it('takes a whole group as an object, and lets a dotted key override a field of it', () => {
    const config = configFromContext(
      context({
        'fleetscan:remediation': { dryRun: true, maxNodesPerScan: 3 },
        'fleetscan:remediation.dryRun': 'false',
      }),
    );

    expect(config.remediation).toMatchObject({ dryRun: false, maxNodesPerScan: 3, action: 'compact-node' });
  });

  it('takes a group as a JSON string, as -c passes it', () => {
    const config = configFromContext(context({ 'fleetscan:thresholds': '{"orders":[2],"minSuitableBlocks":"4"}' }));

    expect(config.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, orders: [2], minSuitableBlocks: 4 });
  });

  it('ignores context that is not fleetscan’s (feature flags, CDK internals)', () => {
    const config = configFromContext(
      context({ '@aws-cdk/aws-iam:minimizePolicies': true, 'aws:cdk:enable-path-metadata': true, fleetscan: 'x' }),
    );

    expect(config).toEqual(DEFAULT_CONFIG);
  });

  it.each(SETTING_PATHS)('accepts %s given its default as a -c string', (path) => {
    const value = path
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], DEFAULT_CONFIG);
    const asTyped =
      Array.isArray(value) && value.every((item) => typeof item !== 'object')
        ? value.join(',')
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);

    expect(configFromContext(context({ [`fleetscan:${path}`]: asTyped }))).toEqual(DEFAULT_CONFIG);
  });
});

describe('Config: rejected with the key, the value and what is allowed', () => {
  it.each([
    [
      'fleetscan:remediation.action',
      'nuke',
      "fleetscan:remediation.action: 'nuke' is not one of drop-caches, compact, compact-node, drop-caches-and-compact",
    ],
    ['fleetscan:remediation.dryRun', 'yes', "fleetscan:remediation.dryRun: 'yes' is not true or false"],
    [
      'fleetscan:schedule',
      'rate(5 minute)',
      "fleetscan:schedule: 'rate(5 minute)' must use the plural unit for values above 1: rate(5 minutes)",
    ],
    [
      'fleetscan:schedule',
      'rate(1 hours)',
      "fleetscan:schedule: 'rate(1 hours)' must use the singular unit: rate(1 hour)",
    ],
    [
      'fleetscan:schedule',
      'rate(0 minutes)',
      "fleetscan:schedule: 'rate(0 minutes)' must repeat at least once per unit",
    ],
    ['fleetscan:schedule', 'cron(0 12 * * *)', "fleetscan:schedule: 'cron(0 12 * * *)' must have 6 fields"],
    [
      'fleetscan:schedule',
      'cron(0 12 * * MON *)',
      "fleetscan:schedule: 'cron(0 12 * * MON *)' must set day-of-month or day-of-week",
    ],
    [
      'fleetscan:schedule',
      'every 15 minutes',
      "fleetscan:schedule: 'every 15 minutes' is not a schedule: use 'rate(N unit)'",
    ],
    [
      'fleetscan:schedule',
      'at(2030-01-01T00:00:00)',
      "fleetscan:schedule: 'at(2030-01-01T00:00:00)' is not a schedule",
    ],
    [
      'fleetscan:targets',
      'a=1;b=1;c=1;d=1;e=1;f=1',
      "fleetscan:targets: 'a=1;b=1;c=1;d=1;e=1;f=1' must list 1 to 5 tag targets",
    ],
    ['fleetscan:targets', '[]', "fleetscan:targets: '[]' must list 1 to 5 tag targets"],
    ['fleetscan:targets', 'fleetscan', "fleetscan:targets[0]: 'fleetscan' is not a target: use 'tagKey=value1,value2'"],
    [
      'fleetscan:targets',
      'aws:cloudformation:stack-name=x',
      "fleetscan:targets[0].tagKey: 'aws:cloudformation:stack-name'",
    ],
    ['fleetscan:targets', 'env=prod;env=dev', "fleetscan:targets[1].tagKey: 'env' appears twice"],
    ['fleetscan:targets', '[{"key":"env","values":["x"]}]', "fleetscan:targets[0].key: 'env' is not a target field"],
    ['fleetscan:targets', '[{"tagKey":', 'fleetscan:targets: \'[{"tagKey":\' is not valid JSON'],
    [
      'fleetscan:maxConcurrency',
      '0',
      "fleetscan:maxConcurrency: '0' is not a number of nodes (1 or more) or a percentage",
    ],
    ['fleetscan:maxConcurrency', '101%', "fleetscan:maxConcurrency: '101%'"],
    [
      'fleetscan:maxErrors',
      'some',
      "fleetscan:maxErrors: 'some' is not a number of errors (0 or more) or a percentage",
    ],
    [
      'fleetscan:deliveryTimeoutSeconds',
      '10',
      "fleetscan:deliveryTimeoutSeconds: '10' is not an integer from 30 to 2592000",
    ],
    [
      'fleetscan:executionTimeoutSeconds',
      '1.5',
      "fleetscan:executionTimeoutSeconds: '1.5' is not an integer from 10 to 172800",
    ],
    ['fleetscan:thresholds.orders', '4,16', "fleetscan:thresholds.orders[1]: '16' is not an integer from 0 to 15"],
    ['fleetscan:thresholds.orders', '', "fleetscan:thresholds.orders: '' must list 1 to 16 items (found 0)"],
    [
      'fleetscan:thresholds.zones',
      'normal',
      "fleetscan:thresholds.zones[0]: 'normal' is not one of DMA, DMA32, Normal",
    ],
    [
      'fleetscan:thresholds.warnUnusableIndex',
      '1001',
      "fleetscan:thresholds.warnUnusableIndex: '1001' is not an integer from 0 to 1000",
    ],
    [
      'fleetscan:thresholds.criticalUnusableIndex',
      '800',
      'fleetscan:thresholds.criticalUnusableIndex: 800 is below thresholds.warnUnusableIndex (900)',
    ],
    [
      'fleetscan:thresholds.lowMemoryPercent',
      '-1',
      "fleetscan:thresholds.lowMemoryPercent: '-1' is not an integer from 0 to 100",
    ],
    [
      'fleetscan:remediation.cooldownSeconds',
      '2w',
      "fleetscan:remediation.cooldownSeconds: '2w' is not a duration from 0 to 30d",
    ],
    [
      'fleetscan:remediation.maxNodesPerScan',
      '0',
      "fleetscan:remediation.maxNodesPerScan: '0' is not an integer from 1 to 1000",
    ],
    [
      'fleetscan:remediation.optOutTag',
      'frozen',
      "fleetscan:remediation.optOutTag: 'frozen' is not a tag: use 'key=value'",
    ],
    ['fleetscan:retentionDays', '0', "fleetscan:retentionDays: '0' is not an integer from 1 to 3650"],
    [
      'fleetscan:notificationEmails',
      'ops@example.com,ops',
      "fleetscan:notificationEmails[1]: 'ops' is not an e-mail address",
    ],
    [
      'fleetscan:remediation.dryrun',
      'false',
      'fleetscan:remediation.dryrun: unknown setting (did you mean fleetscan:remediation.dryRun?)',
    ],
    ['fleetscan:shedule', 'rate(1 hour)', 'fleetscan:shedule: unknown setting (did you mean fleetscan:schedule?)'],
    ['fleetscan:colour', 'blue', 'fleetscan:colour: unknown setting (see the Configuration section of the README)'],
    [
      'fleetscan:thresholds',
      '{"order":[4]}',
      'fleetscan:thresholds.order: unknown setting (did you mean fleetscan:thresholds.orders?)',
    ],
    ['fleetscan:remediation', 'true', "fleetscan:remediation: 'true' is not an object of settings"],
  ])('%s = %j', (key, value, message) => {
    const error = configError(() => configFromContext(context({ [key]: value })));

    expect(error.message.startsWith(message)).toBe(true);
    expect(error.key.startsWith(key)).toBe(true);
  });

  it('keeps the JSON parser’s error as the cause', () => {
    const error = configError(() => configFromContext(context({ 'fleetscan:targets': '[' })));

    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('names the list that makes FLEETSCAN_CONFIG too large for the Lambda environment', () => {
    const emails = Array.from({ length: 100 }, (_, index) => `someone-with-a-long-name-${index}@example.com`);

    const error = configError(() => configFromContext(context({ 'fleetscan:notificationEmails': emails.join(',') })));

    expect(error.key).toBe('fleetscan:notificationEmails');
    expect(error.message).toContain(`at most ${MAX_CONFIG_BYTES}`);
  });

  it('names the path without the context prefix when the Lambda reads FLEETSCAN_CONFIG', () => {
    const error = configError(() => parseConfig({ ...DEFAULT_CONFIG, retentionDays: 0 }));

    expect(error.message).toBe('retentionDays: 0 is not an integer from 1 to 3650');
  });
});

describe('Config: fleetscan:stackName', () => {
  it.each([
    [{}, DEFAULT_STACK_NAME],
    [{ 'fleetscan:stackName': 'FleetscanStaging' }, 'FleetscanStaging'],
  ])('reads %j as %s', (values, expected) => {
    expect(stackNameFromContext(context(values))).toBe(expected);
  });

  it.each([
    ['1fleet', 'is not a stack name'],
    ['Fleet_scan', 'is not a stack name'],
    ['AwsFleet', 'cannot start with aws, amazon or amzn'],
    ['amazon-scan', 'cannot start with aws, amazon or amzn'],
  ])('rejects %s', (name, message) => {
    const error = configError(() => stackNameFromContext(context({ 'fleetscan:stackName': name })));

    expect(error.message).toContain(`fleetscan:stackName: '${name}' ${message}`);
  });

  it('is not mistaken for a scanner setting', () => {
    expect(configFromContext(context({ 'fleetscan:stackName': 'FleetscanStaging' }))).toEqual(DEFAULT_CONFIG);
  });
});
