/**
 * What both handlers do at cold start: read the environment (failing loudly), parse the configuration, and adapt
 * Powertools' Logger and Metrics to the runtime's small logging and metrics ports.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseConfig } from '../../lib/config/config.ts';
import type { FleetscanConfig } from '../../lib/config/types.ts';
import type { RuntimeLogger, RuntimeMetrics } from '../../lib/runtime/ports.ts';

export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
}

/** The named variables, all of them set and non-empty, or one error naming every missing one. */
export function readEnv<const N extends string>(
  names: readonly N[],
  env: NodeJS.ProcessEnv = process.env,
): Record<N, string> {
  const missing = names.filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    throw new MissingEnvironmentError(`missing environment variable(s): ${missing.join(', ')}`);
  }
  return Object.fromEntries(names.map((name) => [name, env[name] as string])) as Record<N, string>;
}

/** FLEETSCAN_CONFIG is the JSON the stack validated at synth; validated again here, so drift fails at cold start. */
export function configFromEnv(json: string): FleetscanConfig {
  return parseConfig(json, { keyPrefix: 'FLEETSCAN_CONFIG.' });
}

export function runtimeLogger(logger: Logger): RuntimeLogger {
  const call = (level: 'info' | 'warn' | 'error') => (message: string, attributes?: Record<string, unknown>) => {
    if (attributes === undefined) logger[level](message);
    else logger[level](message, attributes);
  };
  return { info: call('info'), warn: call('warn'), error: call('error') };
}

export function runtimeMetrics(metrics: Metrics): RuntimeMetrics {
  return {
    add: (name, unit, value) => {
      metrics.addMetric(name, unit === 'Count' ? MetricUnit.Count : MetricUnit.NoUnit, value);
    },
  };
}
