/**
 * Scan Lambda (EventBridge Scheduler): starts a scan — the gather document to the target tags — and hands
 * every scan or remediation whose completion event is overdue to the collect Lambda (asynchronous Invoke).
 * One failing step does not skip the other; the invocation still fails so that the alarm sees it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createClients } from '../../lib/adapters/clients.ts';
import { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import { LambdaCollectTrigger } from '../../lib/adapters/lambda-trigger.ts';
import { SsmGateway } from '../../lib/adapters/ssm.ts';
import { FUNCTION_ENV, METRIC_NAMES } from '../../lib/config/contracts.ts';
import { startScan, sweep, workOf } from '../../lib/runtime/scan.ts';
import { configFromEnv, readEnv, runtimeLogger } from '../shared/wiring.ts';

const env = readEnv([
  FUNCTION_ENV.tableName,
  FUNCTION_ENV.gatherDocument,
  FUNCTION_ENV.remediateDocument,
  FUNCTION_ENV.config,
  FUNCTION_ENV.collectFunctionName,
]);
const config = configFromEnv(env[FUNCTION_ENV.config]);
const logger = new Logger();
const metrics = new Metrics();
const clients = createClients();
const deps = {
  gateway: new SsmGateway({
    client: clients.ssm,
    sendClient: clients.ssmSend,
    documents: { gather: env[FUNCTION_ENV.gatherDocument], remediate: env[FUNCTION_ENV.remediateDocument] },
  }),
  store: new DynamoHistory({
    client: clients.doc,
    tableName: env[FUNCTION_ENV.tableName],
    retentionDays: config.retentionDays,
    orders: config.thresholds.orders,
  }),
  clock: { now: () => new Date() },
  logger: runtimeLogger(logger),
};
const trigger = new LambdaCollectTrigger({
  client: clients.lambda,
  functionName: env[FUNCTION_ENV.collectFunctionName],
});

/** Starting the scan or sweeping failed (the first failure is the cause; both are logged). */
export class ScanRunError extends Error {
  override readonly name = 'ScanRunError';
}

export interface ScanResponse {
  readonly scanId: string | null;
  /** Overdue commands handed to the collect Lambda. */
  readonly swept: number;
}

export const handler = async (_event: unknown, context?: Context): Promise<ScanResponse> => {
  if (context !== undefined) logger.addContext(context);
  const failures: { step: string; error: unknown }[] = [];
  let scanId: string | null = null;
  try {
    scanId = (await startScan(deps, config)).scanId;
    metrics.addMetric(METRIC_NAMES.scansStarted, 'Count', 1);
  } catch (error) {
    failures.push({ step: 'start scan', error });
    logger.error('starting the scan failed', { error: error instanceof Error ? error : String(error) });
  }
  let swept = 0;
  try {
    for (const due of await sweep(deps)) {
      if (due.kind === 'scan' && due.scanId === scanId) continue;
      await trigger.trigger(workOf(due));
      swept += 1;
    }
    metrics.addMetric(METRIC_NAMES.commandsSwept, 'Count', swept);
  } catch (error) {
    failures.push({ step: 'sweep', error });
    logger.error('sweeping overdue commands failed', { swept, error: error instanceof Error ? error : String(error) });
  } finally {
    metrics.publishStoredMetrics();
  }
  const [first] = failures;
  if (first !== undefined) {
    throw new ScanRunError(`scan run failed: ${failures.map((failure) => failure.step).join(' and ')}`, {
      cause: first.error,
    });
  }
  return { scanId, swept };
};
