/**
 * Collect Lambda: an SSM command status-change event (EventBridge), or a work item from the sweep or from a
 * collection handing off, in; one collection out — lib/runtime/collect.ts does the work, with AWS adapters built
 * once at cold start. The invocation's remaining time is the collection's deadline.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createClients } from '../../lib/adapters/clients.ts';
import { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import { TagOptOut } from '../../lib/adapters/ec2-tags.ts';
import { LambdaCollectTrigger } from '../../lib/adapters/lambda-trigger.ts';
import { SnsNotifier } from '../../lib/adapters/sns.ts';
import { SsmGateway } from '../../lib/adapters/ssm.ts';
import { FUNCTION_ENV } from '../../lib/config/contracts.ts';
import { collect } from '../../lib/runtime/collect.ts';
import { decodeCollectEvent } from '../../lib/runtime/events.ts';
import type { RuntimeDeps } from '../../lib/runtime/ports.ts';
import { configFromEnv, readEnv, runtimeLogger, runtimeMetrics } from '../shared/wiring.ts';

const env = readEnv([
  FUNCTION_ENV.tableName,
  FUNCTION_ENV.topicArn,
  FUNCTION_ENV.gatherDocument,
  FUNCTION_ENV.remediateDocument,
  FUNCTION_ENV.config,
  // Set by Lambda itself: a collection hands off to a fresh invocation of this function.
  'AWS_LAMBDA_FUNCTION_NAME',
]);
const config = configFromEnv(env[FUNCTION_ENV.config]);
const documents = { gather: env[FUNCTION_ENV.gatherDocument], remediate: env[FUNCTION_ENV.remediateDocument] };
const logger = new Logger();
const metrics = new Metrics();
const clients = createClients();
const deps: RuntimeDeps = {
  gateway: new SsmGateway({ client: clients.ssm, sendClient: clients.ssmSend, documents }),
  store: new DynamoHistory({
    client: clients.doc,
    tableName: env[FUNCTION_ENV.tableName],
    retentionDays: config.retentionDays,
    orders: config.thresholds.orders,
  }),
  notifier: new SnsNotifier({ client: clients.sns, topicArn: env[FUNCTION_ENV.topicArn] }),
  optOut: new TagOptOut({ ec2: clients.ec2, ssm: clients.ssm, tag: config.remediation.optOutTag }),
  clock: { now: () => new Date() },
  trigger: new LambdaCollectTrigger({ client: clients.lambda, functionName: env.AWS_LAMBDA_FUNCTION_NAME }),
  logger: runtimeLogger(logger),
  metrics: runtimeMetrics(metrics),
};

export interface CollectResponse {
  readonly outcome: 'collected' | 'ignored';
  readonly work?: string;
  readonly status?: string;
  readonly reason?: string;
}

export const handler = async (event: unknown, context?: Context): Promise<CollectResponse> => {
  if (context !== undefined) logger.addContext(context);
  // Throws UnrecognizedEventError for payloads that are neither: the async invocation's DLQ keeps them.
  const decoded = decodeCollectEvent(event, documents);
  if (decoded.kind === 'ignore') {
    logger.info('event ignored', { reason: decoded.reason });
    return { outcome: 'ignored', reason: decoded.reason };
  }
  const { work } = decoded.request;
  const id = work.kind === 'scan' ? work.scanId : work.commandId;
  logger.appendKeys({ workKind: work.kind, workId: id });
  try {
    const result = await collect(deps, config, work, {
      ...(decoded.request.requestedAt === undefined ? {} : { requestedAt: decoded.request.requestedAt }),
      ...(context === undefined ? {} : { deadline: () => context.getRemainingTimeInMillis() }),
    });
    return { outcome: 'collected', work: `${work.kind}:${id}`, status: result.status };
  } finally {
    metrics.publishStoredMetrics();
    logger.removeKeys(['workKind', 'workId']);
  }
};
