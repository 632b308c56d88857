/**
 * Collect Lambda: an SSM command status-change event (EventBridge) or the scan Lambda's sweep payload in, one
 * collection out — lib/runtime/collect.ts does the work, with AWS adapters built once at cold start.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createClients } from '../../lib/adapters/clients.ts';
import { DynamoStore } from '../../lib/adapters/dynamo-store.ts';
import { TagOptOut } from '../../lib/adapters/ec2-tags.ts';
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
]);
const config = configFromEnv(env[FUNCTION_ENV.config]);
const documents = { gather: env[FUNCTION_ENV.gatherDocument], remediate: env[FUNCTION_ENV.remediateDocument] };
const logger = new Logger();
const metrics = new Metrics();
const clients = createClients();
const deps: RuntimeDeps = {
  gateway: new SsmGateway({ client: clients.ssm, sendClient: clients.ssmSend, documents }),
  store: new DynamoStore({
    client: clients.doc,
    tableName: env[FUNCTION_ENV.tableName],
    retentionDays: config.retentionDays,
  }),
  notifier: new SnsNotifier({ client: clients.sns, topicArn: env[FUNCTION_ENV.topicArn] }),
  optOut: new TagOptOut({ ec2: clients.ec2, ssm: clients.ssm, tag: config.remediation.optOutTag }),
  clock: { now: () => new Date() },
  logger: runtimeLogger(logger),
  metrics: runtimeMetrics(metrics),
};

export interface CollectResponse {
  readonly outcome: 'collected' | 'ignored';
  readonly commandId?: string;
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
  const { request } = decoded;
  logger.appendKeys({ commandId: request.commandId, commandKind: request.kind });
  try {
    const result = await collect(deps, config, request);
    return { outcome: 'collected', commandId: request.commandId, status: result.status };
  } finally {
    metrics.publishStoredMetrics();
    logger.removeKeys(['commandId', 'commandKind']);
  }
};
