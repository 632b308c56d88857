/**
 * Reads and validates fleetscan's configuration, once at synth (from cdk context) and once more in each Lambda at
 * cold start (from the FLEETSCAN_CONFIG environment variable, the JSON of the config validated at synth).
 *
 * Context keys are `fleetscan:<path>`, where <path> is the config field's path: `fleetscan:schedule`,
 * `fleetscan:remediation.dryRun`, `fleetscan:thresholds.orders`. A whole group may also be given as an object
 * (`fleetscan:remediation` = `{"dryRun": false}`); a dotted key wins over the same field in its group, so
 * `-c fleetscan:remediation.dryRun=false` overrides a group in cdk.json. `-c` hands every value over as a
 * string, so strings are coerced: "false", "5", "4,6", "6h", JSON.
 *
 * No AWS or CDK import here: the Lambdas bundle this file.
 */
import { DEFAULT_DIAGNOSIS, type DiagnosisThresholds } from '../core/diagnosis.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../core/policy.ts';
import { REMEDIATION_ACTIONS, type RemediationAction } from '../core/report.ts';
import { checkWindow, parseDays, parseWindow, type RemediationWindow, WindowError } from '../core/windows.ts';
import { DEFAULT_STACK_NAME } from './contracts.ts';
import { describeSeconds, ScheduleError, scheduleGaps } from './schedule.ts';
import type { FleetscanConfig, OperationsSettings, RemediationGuards, RemediationPolicy, TargetTag } from './types.ts';

export const CONTEXT_PREFIX = 'fleetscan:';

/**
 * Context keys that shape the deployment rather than the scanner; read by {@link stackNameFromContext} and
 * {@link operationsFromContext}.
 */
export const DEPLOYMENT_SETTINGS = ['stackName', 'enabled', 'alarms', 'alarms.errorPercent'] as const;

export const DEFAULT_CONFIG: FleetscanConfig = {
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
    windows: [],
    allowedActions: ['compact-node', 'compact'],
    maxLoadPerCpu: 1,
    maxProactiveness: 20,
    settleSeconds: 10,
  },
  collection: { nodesPerCommand: 10_000, maxAttempts: 5, maxMinutes: 180 },
  diagnosis: DEFAULT_DIAGNOSIS,
  retentionDays: 90,
  digestIntervalSeconds: 86_400,
  notificationEmails: [],
};

/** A setting that cannot be used. The message names the key, the bad value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The key as the user wrote it, e.g. `fleetscan:remediation.action`. */
  readonly key: string;
  readonly value: unknown;

  constructor(key: string, value: unknown, problem: string, options?: { cause?: unknown }) {
    super(`${key}: ${problem}`, options);
    this.key = key;
    this.value = value;
  }
}

type Parser<T> = (raw: unknown, key: string) => T;

function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function invalid(key: string, value: unknown, expected: string, cause?: unknown): ConfigError {
  return new ConfigError(key, value, `${show(value)} ${expected}`, cause === undefined ? undefined : { cause });
}

/** `-c` values arrive as strings; JSON-looking ones are parsed so lists and objects can be passed too. */
function fromJsonText(raw: unknown, key: string): unknown {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  if (!text.startsWith('[') && !text.startsWith('{')) return raw;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalid(key, raw, 'is not valid JSON', error);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw, key) => {
    const value = typeof raw === 'string' && /^\s*-?[0-9]+\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw invalid(key, raw, `is not an integer from ${min} to ${max}`);
    }
    return value;
  };

const boolean: Parser<boolean> = (raw, key) => {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw invalid(key, raw, 'is not true or false');
};

function oneOf<const T extends string>(allowed: readonly T[]): Parser<T> {
  return (raw, key) => {
    if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
    throw invalid(key, raw, `is not one of ${allowed.join(', ')}`);
  };
}

/** A list given as an array, a JSON array, a comma-separated string or a single value. */
function list<T>(item: Parser<T>, options: { min: number; max: number }): Parser<T[]> {
  return (raw, key) => {
    const value = fromJsonText(raw, key);
    const items = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
        : [value];
    if (items.length < options.min || items.length > options.max) {
      const size = options.min === options.max ? `${options.min}` : `${options.min} to ${options.max}`;
      throw invalid(key, raw, `must list ${size} item${options.max === 1 ? '' : 's'} (found ${items.length})`);
    }
    return items.map((element: unknown, index) => item(element, `${key}[${index}]`));
  };
}

const RATE = /^rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;
const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;

/** EventBridge Scheduler's recurring forms. `at(...)` is one-off and makes no sense for a scanner. */
const scheduleExpression: Parser<string> = (raw, key) => {
  const expected = "is not a schedule: use 'rate(N unit)' (minute(s), hour(s), day(s)) or 'cron(6 fields)'";
  if (typeof raw !== 'string') throw invalid(key, raw, expected);
  const rate = RATE.exec(raw);
  if (rate) {
    const count = Number(rate[1]);
    const unit = rate[2] ?? '';
    const singular = unit.replace(/s$/, '');
    if (count < 1) throw invalid(key, raw, 'must repeat at least once per unit: the value must be 1 or more');
    if (count === 1 && unit !== singular) throw invalid(key, raw, `must use the singular unit: rate(1 ${singular})`);
    if (count > 1 && unit === singular) {
      throw invalid(key, raw, `must use the plural unit for values above 1: rate(${count} ${singular}s)`);
    }
    return raw;
  }
  const cron = CRON.exec(raw);
  if (cron) {
    const fields = (cron[1] ?? '').trim().split(/\s+/);
    if (fields.length !== 6 || !fields.every((field) => CRON_FIELD.test(field))) {
      throw invalid(key, raw, 'must have 6 fields: cron(minutes hours day-of-month month day-of-week year)');
    }
    if (fields[2] !== '?' && fields[4] !== '?') {
      throw invalid(key, raw, "must set day-of-month or day-of-week (the 3rd or 5th field) to '?'");
    }
    return raw;
  }
  throw invalid(key, raw, expected);
};

// SendCommand's own patterns for MaxConcurrency and MaxErrors.
const MAX_CONCURRENCY = /^([1-9][0-9]{0,5}|[1-9][0-9]?%|100%)$/;
const MAX_ERRORS = /^([1-9][0-9]{0,5}|0|[1-9]?[0-9]%|100%)$/;

function countOrPercent(pattern: RegExp, expected: string): Parser<string> {
  return (raw, key) => {
    const value = typeof raw === 'number' ? String(raw) : raw;
    if (typeof value !== 'string' || !pattern.test(value)) throw invalid(key, raw, expected);
    return value;
  };
}

// Tag keys end up in SendCommand's `tag:<key>` (128 characters in all) and in IAM condition keys
// (`ssm:resourceTag/<key>`), so they are held to the plain ASCII subset of the AWS tag alphabet.
const TAG_KEY = /^[A-Za-z0-9_.:/=+@-]{1,124}$/;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,256}$/u;

const tagKey: Parser<string> = (raw, key) => {
  if (typeof raw !== 'string' || !TAG_KEY.test(raw)) {
    throw invalid(key, raw, 'is not a tag key: 1 to 124 characters of A-Z a-z 0-9 _ . : / = + @ -');
  }
  if (raw.toLowerCase().startsWith('aws:')) throw invalid(key, raw, "is not a tag key: the 'aws:' prefix is reserved");
  return raw;
};

const tagValue: Parser<string> = (raw, key) => {
  if (typeof raw !== 'string' || !TAG_VALUE.test(raw)) {
    throw invalid(key, raw, 'is not a tag value: 1 to 256 letters, digits, spaces or _ . : / = + @ -');
  }
  return raw;
};

const tagValues = list(tagValue, { min: 1, max: 50 });

/** `key=v1,v2` per target, targets separated by `;`, or JSON `[{"tagKey":"k","tagValues":["v"]}]`. */
const targetList: Parser<TargetTag[]> = (raw, key) => {
  const value = fromJsonText(raw, key);
  const entries: unknown[] = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(';').filter((part) => part.trim() !== '')
      : [value];
  if (entries.length < 1 || entries.length > 5) {
    throw invalid(key, raw, `must list 1 to 5 tag targets, SendCommand's limit (found ${entries.length})`);
  }
  const targets = entries.map((entry, index): TargetTag => {
    const at = `${key}[${index}]`;
    if (typeof entry === 'string') {
      const split = entry.indexOf('=');
      if (split < 0) throw invalid(at, entry, "is not a target: use 'tagKey=value1,value2'");
      return {
        tagKey: tagKey(entry.slice(0, split).trim(), `${at}.tagKey`),
        tagValues: tagValues(entry.slice(split + 1), `${at}.tagValues`),
      };
    }
    if (!isRecord(entry)) throw invalid(at, entry, 'is not a target: use {"tagKey": "...", "tagValues": ["..."]}');
    const unknown = Object.keys(entry).filter((name) => name !== 'tagKey' && name !== 'tagValues');
    if (unknown.length > 0)
      throw invalid(`${at}.${unknown[0]}`, entry[unknown[0] ?? ''], 'is not a target field: use tagKey and tagValues');
    return { tagKey: tagKey(entry.tagKey, `${at}.tagKey`), tagValues: tagValues(entry.tagValues, `${at}.tagValues`) };
  });
  const seen = new Set<string>();
  for (const [index, target] of targets.entries()) {
    if (seen.has(target.tagKey)) {
      throw invalid(`${key}[${index}].tagKey`, target.tagKey, 'appears twice: list all of its values in one target');
    }
    seen.add(target.tagKey);
  }
  return targets;
};

/** `key=value` or `{"key": "...", "value": "..."}`. */
const optOutTag: Parser<{ key: string; value: string }> = (raw, key) => {
  const value = fromJsonText(raw, key);
  if (typeof value === 'string') {
    const split = value.indexOf('=');
    if (split < 0) throw invalid(key, raw, "is not a tag: use 'key=value'");
    return {
      key: tagKey(value.slice(0, split), `${key}.key`),
      value: tagValue(value.slice(split + 1), `${key}.value`),
    };
  }
  if (!isRecord(value) || Object.keys(value).some((name) => name !== 'key' && name !== 'value')) {
    throw invalid(key, raw, 'is not a tag: use \'key=value\' or {"key": "...", "value": "..."}');
  }
  return { key: tagKey(value.key, `${key}.key`), value: tagValue(value.value, `${key}.value`) };
};

const DURATION = /^([0-9]+)\s*(s|m|h|d)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Seconds, as a number or as '90s', '30m', '6h', '1d'. */
function duration(maxSeconds: number): Parser<number> {
  return (raw, key) => {
    const expected = `is not a duration from 0 to ${maxSeconds / 86_400}d: use seconds or '30m', '6h', '1d'`;
    let seconds: number | undefined;
    if (typeof raw === 'number' && Number.isInteger(raw)) seconds = raw;
    if (typeof raw === 'string') {
      const match = DURATION.exec(raw.trim());
      if (match) seconds = Number(match[1]) * UNIT_SECONDS[(match[2] ?? 's') as keyof typeof UNIT_SECONDS];
    }
    if (seconds === undefined || seconds < 0 || seconds > maxSeconds) throw invalid(key, raw, expected);
    return seconds;
  };
}

// The kernel's zone names: a typo here would silently watch nothing.
const ZONES = ['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device'] as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const email: Parser<string> = (raw, key) => {
  if (typeof raw !== 'string' || raw.length > 254 || !EMAIL.test(raw))
    throw invalid(key, raw, 'is not an e-mail address');
  return raw;
};

const orderList: Parser<number[]> = (raw, key) =>
  [...new Set(list(integer(0, 15), { min: 1, max: 16 })(raw, key))].sort((a, b) => a - b);

/* ---- Diagnosis and guard rails (issue 10): parsers and settings, kept together. ---- */

/** A number with at most two decimals, as the remediate document's allowedPattern takes it. */
function decimal(min: number, max: number): Parser<number> {
  return (raw, key) => {
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (!/^[0-9]{1,7}(\.[0-9]{1,2})?$/.test(text) || Number(text) < min || Number(text) > max) {
      throw invalid(key, raw, `is not a number from ${min} to ${max} with at most two decimals`);
    }
    return Number(text);
  };
}

/** `Mon-Fri 02:00-05:00 Europe/Paris` or {"days": "Mon-Fri", "start": "02:00", "end": "05:00", "timeZone": "Europe/Paris"}. */
const remediationWindow: Parser<RemediationWindow> = (raw, key) => {
  try {
    if (typeof raw === 'string') return parseWindow(raw);
    if (isRecord(raw)) {
      const unknown = Object.keys(raw).find((name) => !['days', 'start', 'end', 'timeZone'].includes(name));
      if (unknown !== undefined)
        throw new WindowError(`'${unknown}' is not a window field: use days, start, end, timeZone`);
      const days = Array.isArray(raw.days) ? raw.days.map(String).join(',') : String(raw.days ?? '');
      return checkWindow({
        days: parseDays(days),
        start: String(raw.start ?? ''),
        end: String(raw.end ?? ''),
        timeZone: String(raw.timeZone ?? 'UTC'),
      });
    }
  } catch (error) {
    if (error instanceof WindowError) throw new ConfigError(key, raw, error.message, { cause: error });
    throw error;
  }
  throw invalid(key, raw, "is not a window: use 'Mon-Fri 02:00-05:00 Europe/Paris'");
};

/** Windows separated by `;`, or a JSON list of strings or objects. */
const windowList: Parser<RemediationWindow[]> = (raw, key) => {
  const value = fromJsonText(raw, key);
  const entries: unknown[] = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(';').filter((part) => part.trim() !== '')
      : [value];
  if (entries.length > 20) throw invalid(key, raw, `must list at most 20 windows (found ${entries.length})`);
  return entries.map((entry, index) => remediationWindow(entry, `${key}[${index}]`));
};

const GUARD_AND_DIAGNOSIS_SETTINGS = {
  'remediation.windows': windowList,
  'remediation.allowedActions': list(oneOf(REMEDIATION_ACTIONS), { min: 1, max: REMEDIATION_ACTIONS.length }),
  'remediation.maxLoadPerCpu': decimal(0, 999.99),
  'remediation.maxProactiveness': integer(0, 100),
  'remediation.settleSeconds': duration(300),
  'diagnosis.futileUnmovablePercent': integer(1, 100),
  'diagnosis.futileCompactFailPercent': integer(1, 100),
  'diagnosis.minCompactStalls': integer(1, 1_000_000),
  'diagnosis.compactStallsPerMinute': decimal(0.01, 1_000_000),
  'diagnosis.reclaimStallsPerMinute': decimal(0.01, 1_000_000),
  'diagnosis.futileAfterNoEffect': integer(1, 100),
  'diagnosis.dropCachesMinReclaimablePercent': integer(0, 100),
} as const satisfies Record<string, Parser<unknown>>;

/** Every setting, by its path in {@link FleetscanConfig}. The keys are the documented context keys. */
const SETTINGS = {
  ...GUARD_AND_DIAGNOSIS_SETTINGS,
  schedule: scheduleExpression,
  targets: targetList,
  maxConcurrency: countOrPercent(MAX_CONCURRENCY, 'is not a number of nodes (1 or more) or a percentage (1% to 100%)'),
  maxErrors: countOrPercent(MAX_ERRORS, 'is not a number of errors (0 or more) or a percentage (0% to 100%)'),
  deliveryTimeoutSeconds: integer(30, 2_592_000),
  executionTimeoutSeconds: integer(10, 172_800),
  'thresholds.orders': orderList,
  'thresholds.zones': list(oneOf(ZONES), { min: 1, max: ZONES.length }),
  'thresholds.warnUnusableIndex': integer(0, 1000),
  'thresholds.criticalUnusableIndex': integer(0, 1000),
  'thresholds.minSuitableBlocks': integer(0, 1_000_000),
  'thresholds.extfragThreshold': integer(0, 1000),
  'thresholds.consecutiveBreachesForCritical': integer(1, 100),
  'thresholds.lowMemoryPercent': integer(0, 100),
  'remediation.enabled': boolean,
  'remediation.action': oneOf(REMEDIATION_ACTIONS),
  'remediation.dryRun': boolean,
  'remediation.cooldownSeconds': duration(30 * 86_400),
  'remediation.maxNodesPerScan': integer(1, 1000),
  'remediation.maxNoEffect': integer(1, 100),
  'remediation.optOutTag': optOutTag,
  'collection.nodesPerCommand': integer(0, 10_000_000),
  'collection.maxAttempts': integer(1, 100),
  'collection.maxMinutes': integer(10, 7 * 24 * 60),
  retentionDays: integer(1, 3650),
  digestIntervalSeconds: duration(30 * 86_400),
  notificationEmails: list(email, { min: 0, max: 100 }),
} as const satisfies Record<string, Parser<unknown>>;

export type SettingPath = keyof typeof SETTINGS;
export const SETTING_PATHS = Object.keys(SETTINGS) as SettingPath[];
const GROUPS = ['thresholds', 'remediation', 'collection', 'diagnosis'] as const;

function isSetting(path: string): path is SettingPath {
  return Object.hasOwn(SETTINGS, path);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function unknownSetting(prefix: string, path: string, value: unknown): ConfigError {
  const known = [...SETTING_PATHS, ...GROUPS, ...(prefix === CONTEXT_PREFIX ? DEPLOYMENT_SETTINGS : [])];
  const lower = path.toLowerCase();
  const near = known
    .map((candidate) => ({ candidate, distance: editDistance(lower, candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= 3)
    .sort((a, b) => a.distance - b.distance)[0];
  const hint = near ? `did you mean ${prefix}${near.candidate}?` : 'see the Configuration section of the README';
  return new ConfigError(`${prefix}${path}`, value, `unknown setting (${hint})`);
}

/**
 * Flattens nested input into setting paths. Groups come first and dotted keys after, so that a dotted key wins
 * over the same field inside its group.
 */
function flatten(input: Record<string, unknown>, prefix: string): Map<SettingPath, unknown> {
  const flat = new Map<SettingPath, unknown>();
  const keys = Object.keys(input).sort((a, b) => a.split('.').length - b.split('.').length);
  for (const path of keys) {
    const raw = input[path];
    if (raw === undefined) continue;
    if (isSetting(path)) {
      flat.set(path, raw);
    } else if ((GROUPS as readonly string[]).includes(path)) {
      const group = fromJsonText(raw, `${prefix}${path}`);
      if (!isRecord(group)) throw invalid(`${prefix}${path}`, raw, 'is not an object of settings');
      for (const [name, value] of Object.entries(group)) {
        const nested = `${path}.${name}`;
        if (!isSetting(nested)) throw unknownSetting(prefix, nested, value);
        if (value !== undefined) flat.set(nested, value);
      }
    } else {
      throw unknownSetting(prefix, path, raw);
    }
  }
  return flat;
}

export interface ParseConfigOptions {
  /** Put before each path in error messages: `fleetscan:` for context keys. @default '' */
  readonly keyPrefix?: string;
}

/**
 * Validates a (possibly partial) configuration and fills in the defaults. Accepts the nested shape of
 * {@link FleetscanConfig}, dotted paths (`{"remediation.dryRun": "false"}`) and strings for every value.
 * Throws {@link ConfigError}.
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): FleetscanConfig {
  const prefix = options.keyPrefix ?? '';
  const root = fromJsonText(input ?? {}, prefix || 'configuration');
  if (!isRecord(root)) throw invalid(prefix || 'configuration', input, 'is not an object of settings');
  const flat = flatten(root, prefix);
  const read = <P extends SettingPath>(path: P, fallback: ReturnType<(typeof SETTINGS)[P]>) =>
    (flat.has(path) ? SETTINGS[path](flat.get(path), `${prefix}${path}`) : fallback) as ReturnType<
      (typeof SETTINGS)[P]
    >;

  const d = DEFAULT_CONFIG;
  const thresholds: Thresholds = {
    orders: read('thresholds.orders', [...d.thresholds.orders]),
    zones: read('thresholds.zones', [...d.thresholds.zones] as (typeof ZONES)[number][]),
    warnUnusableIndex: read('thresholds.warnUnusableIndex', d.thresholds.warnUnusableIndex),
    criticalUnusableIndex: read('thresholds.criticalUnusableIndex', d.thresholds.criticalUnusableIndex),
    minSuitableBlocks: read('thresholds.minSuitableBlocks', d.thresholds.minSuitableBlocks),
    extfragThreshold: read('thresholds.extfragThreshold', d.thresholds.extfragThreshold),
    consecutiveBreachesForCritical: read(
      'thresholds.consecutiveBreachesForCritical',
      d.thresholds.consecutiveBreachesForCritical,
    ),
    lowMemoryPercent: read('thresholds.lowMemoryPercent', d.thresholds.lowMemoryPercent),
  };
  if (thresholds.criticalUnusableIndex < thresholds.warnUnusableIndex) {
    throw invalid(
      `${prefix}thresholds.criticalUnusableIndex`,
      thresholds.criticalUnusableIndex,
      `is below thresholds.warnUnusableIndex (${thresholds.warnUnusableIndex}): critical must be at least warn`,
    );
  }
  const remediation: RemediationPolicy = {
    enabled: read('remediation.enabled', d.remediation.enabled),
    action: read('remediation.action', d.remediation.action),
    dryRun: read('remediation.dryRun', d.remediation.dryRun),
    cooldownSeconds: read('remediation.cooldownSeconds', d.remediation.cooldownSeconds),
    maxNodesPerScan: read('remediation.maxNodesPerScan', d.remediation.maxNodesPerScan),
    maxNoEffect: read('remediation.maxNoEffect', d.remediation.maxNoEffect),
    optOutTag: read('remediation.optOutTag', { ...d.remediation.optOutTag }),
    ...readGuards(read),
  };
  const config: FleetscanConfig = {
    schedule: read('schedule', d.schedule),
    targets: read(
      'targets',
      d.targets.map((target) => ({ tagKey: target.tagKey, tagValues: [...target.tagValues] })),
    ),
    maxConcurrency: read('maxConcurrency', d.maxConcurrency),
    maxErrors: read('maxErrors', d.maxErrors),
    deliveryTimeoutSeconds: read('deliveryTimeoutSeconds', d.deliveryTimeoutSeconds),
    executionTimeoutSeconds: read('executionTimeoutSeconds', d.executionTimeoutSeconds),
    thresholds,
    remediation,
    collection: {
      nodesPerCommand: read('collection.nodesPerCommand', d.collection.nodesPerCommand),
      maxAttempts: read('collection.maxAttempts', d.collection.maxAttempts),
      maxMinutes: read('collection.maxMinutes', d.collection.maxMinutes),
    },
    diagnosis: readDiagnosis(read),
    retentionDays: read('retentionDays', d.retentionDays),
    digestIntervalSeconds: read('digestIntervalSeconds', d.digestIntervalSeconds),
    notificationEmails: read('notificationEmails', [...d.notificationEmails]),
  };
  checkGuards(config, prefix);
  checkSize(config, prefix);
  checkScheduleLeavesTime(config, prefix);
  return config;
}

/* ---- Diagnosis and guard rails (issue 10): reading and cross-checks. ---- */

type Reader = <P extends SettingPath>(
  path: P,
  fallback: ReturnType<(typeof SETTINGS)[P]>,
) => ReturnType<(typeof SETTINGS)[P]>;

function readGuards(
  read: Reader,
): Pick<RemediationPolicy, 'windows' | 'allowedActions' | 'maxLoadPerCpu' | 'maxProactiveness' | 'settleSeconds'> {
  const d = DEFAULT_CONFIG.remediation;
  const action = read('remediation.action', d.action);
  const derived: RemediationAction[] = action === 'compact-node' ? ['compact-node', 'compact'] : [action];
  return {
    windows: read('remediation.windows', []),
    allowedActions: [...new Set(read('remediation.allowedActions', derived))],
    maxLoadPerCpu: read('remediation.maxLoadPerCpu', d.maxLoadPerCpu),
    maxProactiveness: read('remediation.maxProactiveness', d.maxProactiveness),
    settleSeconds: read('remediation.settleSeconds', d.settleSeconds),
  };
}

function readDiagnosis(read: Reader): DiagnosisThresholds {
  const d = DEFAULT_CONFIG.diagnosis;
  return {
    futileUnmovablePercent: read('diagnosis.futileUnmovablePercent', d.futileUnmovablePercent),
    futileCompactFailPercent: read('diagnosis.futileCompactFailPercent', d.futileCompactFailPercent),
    minCompactStalls: read('diagnosis.minCompactStalls', d.minCompactStalls),
    compactStallsPerMinute: read('diagnosis.compactStallsPerMinute', d.compactStallsPerMinute),
    reclaimStallsPerMinute: read('diagnosis.reclaimStallsPerMinute', d.reclaimStallsPerMinute),
    futileAfterNoEffect: read('diagnosis.futileAfterNoEffect', d.futileAfterNoEffect),
    dropCachesMinReclaimablePercent: read(
      'diagnosis.dropCachesMinReclaimablePercent',
      d.dropCachesMinReclaimablePercent,
    ),
  };
}

/** The remediate document waits settleSeconds inside its execution timeout, after acting: leave it room. */
export const SETTLE_MARGIN_SECONDS = 30;

function checkGuards(config: FleetscanConfig, prefix: string): void {
  const { settleSeconds } = config.remediation;
  if (settleSeconds + SETTLE_MARGIN_SECONDS > config.executionTimeoutSeconds) {
    throw invalid(
      `${prefix}remediation.settleSeconds`,
      settleSeconds,
      `leaves less than ${SETTLE_MARGIN_SECONDS} s of executionTimeoutSeconds (${config.executionTimeoutSeconds}) to act and measure: lower it or raise the timeout`,
    );
  }
}

/** The remediate document's guard parameters for a policy, as SendCommand takes them (strings). */
export function remediateGuardParameters(policy: RemediationGuards): {
  maxLoadPerCpu: string;
  maxProactiveness: string;
  settleSeconds: string;
} {
  return {
    maxLoadPerCpu: String(policy.maxLoadPerCpu),
    maxProactiveness: String(policy.maxProactiveness),
    settleSeconds: String(policy.settleSeconds),
  };
}

/** Lambda holds 4 KB of environment variables in all; FLEETSCAN_CONFIG may take this much of it. */
export const MAX_CONFIG_BYTES = 3072;

function bytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

function checkSize(config: FleetscanConfig, prefix: string): void {
  const size = bytes(config);
  if (size <= MAX_CONFIG_BYTES) return;
  const lists = { targets: config.targets, notificationEmails: config.notificationEmails };
  const [largest = 'targets', value] = Object.entries(lists).sort((a, b) => bytes(b[1]) - bytes(a[1]))[0] ?? [];
  throw new ConfigError(
    `${prefix}${largest}`,
    value,
    `makes the configuration ${size} bytes of JSON; the Lambdas receive it in an environment variable, ` +
      `which holds at most ${MAX_CONFIG_BYTES}: use fewer or shorter entries`,
  );
}

/** What `node.getAllContext()` offers; a structural type so this file needs no CDK import. */
export interface ContextSource {
  getAllContext(): Record<string, unknown>;
}

function fleetscanContext(node: ContextSource): Record<string, unknown> {
  const entries = Object.entries(node.getAllContext() ?? {}).filter(([key]) => key.startsWith(CONTEXT_PREFIX));
  return Object.fromEntries(entries.map(([key, value]) => [key.slice(CONTEXT_PREFIX.length), value]));
}

/** The configuration from `fleetscan:*` context keys (cdk.json and `-c`). Throws {@link ConfigError}. */
export function configFromContext(node: ContextSource): FleetscanConfig {
  const settings = fleetscanContext(node);
  for (const key of DEPLOYMENT_SETTINGS) delete settings[key];
  return parseConfig(settings, { keyPrefix: CONTEXT_PREFIX });
}

// CloudFormation's stack-name rule, and the documents are named `<stack>-Gather`: SSM refuses document names
// that start with aws, amazon or amzn.
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,99}$/;

/** `fleetscan:stackName`, default {@link DEFAULT_STACK_NAME}. Throws {@link ConfigError}. */
export function stackNameFromContext(node: ContextSource): string {
  const raw = fleetscanContext(node).stackName;
  if (raw === undefined) return DEFAULT_STACK_NAME;
  const key = `${CONTEXT_PREFIX}stackName`;
  if (typeof raw !== 'string' || !STACK_NAME.test(raw)) {
    throw invalid(key, raw, 'is not a stack name: a letter, then up to 99 letters, digits or hyphens');
  }
  if (/^(aws|amazon|amzn)/i.test(raw)) {
    throw invalid(key, raw, 'cannot start with aws, amazon or amzn: SSM reserves those prefixes for document names');
  }
  return raw;
}

/* ---- operations (issue 11): the schedule switch, the alarms' settings, and the schedule/timeouts check ---- */

export const DEFAULT_OPERATIONS: OperationsSettings = { enabled: true, alarmErrorPercent: 10 };

/**
 * A scan must be able to end before the next one starts: SSM may deliver a command up to deliveryTimeoutSeconds
 * after it was sent, and the script may run executionTimeoutSeconds after that. A schedule whose shortest gap is
 * shorter would start overlapping scans (each one's nodes judged against a state the other is still writing).
 */
function checkScheduleLeavesTime(config: FleetscanConfig, prefix: string): void {
  let gaps: ReturnType<typeof scheduleGaps>;
  try {
    gaps = scheduleGaps(config.schedule);
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    throw invalid(`${prefix}schedule`, config.schedule, error.message, error);
  }
  const needed = config.deliveryTimeoutSeconds + config.executionTimeoutSeconds;
  if (gaps === null || gaps.shortestSeconds >= needed) return;
  throw new ConfigError(
    `${prefix}schedule`,
    config.schedule,
    `${show(config.schedule)} starts a scan every ${describeSeconds(gaps.shortestSeconds)}, before the previous ` +
      `one can end: ${prefix}deliveryTimeoutSeconds (${config.deliveryTimeoutSeconds}) + ` +
      `${prefix}executionTimeoutSeconds (${config.executionTimeoutSeconds}) give a scan ` +
      `${describeSeconds(needed)}; schedule scans at least that far apart, or lower those timeouts`,
  );
}

/** `fleetscan:enabled` and `fleetscan:alarms.*` (a group or dotted keys; a dotted key wins). Throws {@link ConfigError}. */
export function operationsFromContext(node: ContextSource): OperationsSettings {
  const context = fleetscanContext(node);
  const key = (path: string) => `${CONTEXT_PREFIX}${path}`;
  const alarms = context.alarms === undefined ? {} : fromJsonText(context.alarms, key('alarms'));
  if (!isRecord(alarms)) throw invalid(key('alarms'), context.alarms, 'is not an object of settings');
  const unknown = Object.keys(alarms).find((name) => name !== 'errorPercent');
  if (unknown !== undefined) throw unknownSetting(CONTEXT_PREFIX, `alarms.${unknown}`, alarms[unknown]);
  const errorPercent = context['alarms.errorPercent'] ?? alarms.errorPercent;
  return {
    enabled: context.enabled === undefined ? DEFAULT_OPERATIONS.enabled : boolean(context.enabled, key('enabled')),
    alarmErrorPercent:
      errorPercent === undefined
        ? DEFAULT_OPERATIONS.alarmErrorPercent
        : integer(0, 100)(errorPercent, key('alarms.errorPercent')),
  };
}
