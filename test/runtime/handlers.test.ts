import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import type { ShardRecord } from '../../lib/runtime/ports.ts';
import { NO_TALLIES } from '../../lib/runtime/tallies.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { FRAGMENTED, gatherOutput } from '../support/runtime-fixtures.ts';

const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
const ec2 = mockClient(EC2Client);
const lambda = mockClient(LambdaClient);

const ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  TABLE_NAME: 'fleetscan-history',
  TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:fleetscan',
  GATHER_DOCUMENT: 'Fleetscan-Gather',
  REMEDIATE_DOCUMENT: 'Fleetscan-Remediate',
  COLLECT_FUNCTION_NAME: 'fleetscan-collect',
  FLEETSCAN_CONFIG: JSON.stringify({
    thresholds: { consecutiveBreachesForCritical: 1 },
    remediation: { dryRun: false },
  }),
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_METRICS_DISABLED: 'false',
  POWERTOOLS_METRICS_NAMESPACE: 'Fleetscan',
  POWERTOOLS_SERVICE_NAME: 'fleetscan-test',
};

let printed: string[];
let db: LocalTable;
let store: DynamoHistory;

// The handlers talk to a real DynamoDB engine (dynalite) through their own clients; SSM, SNS, EC2 and Lambda are
// mocked. A fresh table per test: the handlers' module state is reset too.
beforeAll(async () => {
  db = await startDynalite({ tableName: ENV.TABLE_NAME });
});

afterAll(async () => {
  await db.stop();
});

beforeEach(async () => {
  for (const mock of [ssm, sns, ec2, lambda]) mock.reset();
  vi.resetModules();
  for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', db.endpoint);
  vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'fleetscan-collect');
  await db.clear();
  store = db.store();
  printed = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    printed.push(String(line));
  });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function emfMetrics(): Record<string, unknown>[] {
  return printed.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return '_aws' in parsed ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

describe('Function: scan', () => {
  it('fails loudly at cold start when an environment variable is missing', async () => {
    vi.stubEnv('COLLECT_FUNCTION_NAME', '');
    await expect(import('../../lambdas/scan/handler.ts')).rejects.toThrow(
      'missing environment variable(s): COLLECT_FUNCTION_NAME',
    );
  });

  it('sends the gather document to the tag targets, records the scan and hands due work to collect', async () => {
    // Prepare: a scan an hour old whose completion event never came, and a remediate command still running.
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    await store.scans.createScan(
      {
        scanId: 'scan-old',
        commandId: '',
        requestedAt: ago(60),
        collectAfter: ago(47),
        status: 'RUNNING',
        targets: 't',
      },
      [shard('scan-old', 0)],
    );
    await store.scans.bindShard('scan-old', 0, 'gather-old', ago(46));
    await store.remediations.putRemediationCommand({
      commandId: 'rem-old',
      scanId: 'scan-old',
      requestedAt: ago(55),
      collectAfter: ago(45),
      status: 'RUNNING',
      nodeIds: ['i-1'],
    });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'gather-new' } });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const { handler } = await import('../../lambdas/scan/handler.ts');
    // Act
    const result = await handler({ source: 'fleetscan.schedule' });
    // Assess
    expect(result).toEqual({ scanId: expect.any(String), swept: 3 });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'Fleetscan-Gather',
      DocumentVersion: '$LATEST',
      Targets: [{ Key: 'tag:fleetscan', Values: ['enabled'] }],
      MaxConcurrency: '25%',
      MaxErrors: '100%',
      TimeoutSeconds: 600,
      Comment: expect.stringMatching(new RegExp(`^fleetscan gather ${result.scanId} 1/1 `)),
    });
    const scan = await store.getScan(result.scanId as string);
    expect(scan).toMatchObject({ status: 'RUNNING', commandId: 'gather-new', shards: 1 });
    expect(await store.scans.getCommand('gather-new')).toEqual({
      kind: 'gather',
      commandId: 'gather-new',
      scanId: result.scanId,
      shard: 0,
    });
    const payloads = lambda
      .commandCalls(InvokeCommand)
      .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)));
    expect(payloads).toEqual([
      { source: 'fleetscan.sweep', kind: 'scan', scanId: 'scan-old' },
      { source: 'fleetscan.sweep', kind: 'gather', commandId: 'gather-old' },
      { source: 'fleetscan.sweep', kind: 'remediate', commandId: 'rem-old' },
    ]);
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: 'fleetscan-collect',
      InvocationType: 'Event',
    });
  });

  it('tries the sweep even when starting the scan fails, then fails the invocation with a named error', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', 'http://127.0.0.1:9');
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'never' } });
    const { handler, ScanRunError } = await import('../../lambdas/scan/handler.ts');
    const error = await handler({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanRunError);
    expect((error as Error).message).toBe('scan run failed: start scan and sweep');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 0);
  });
});

describe('Function: collect', () => {
  const statusEvent = (status: string, documentName = 'Fleetscan-Gather') => ({
    version: '0',
    id: 'e-1',
    source: 'aws.ssm',
    'detail-type': 'EC2 Command Status-change Notification',
    detail: {
      'command-id': 'gather-1',
      'document-name': documentName,
      'requested-date-time': '2025-03-01T12:00:00.000Z',
      status,
    },
  });

  it('collects a finished gather command: stores, remediates, notifies and emits metrics', async () => {
    // Prepare
    const now = new Date().toISOString();
    await store.scans.createScan(
      {
        scanId: 'scan-1',
        commandId: '',
        requestedAt: now,
        collectAfter: now,
        status: 'RUNNING',
        targets: 'tag:fleetscan=enabled',
      },
      [shard('scan-1', 0)],
    );
    await store.scans.bindShard('scan-1', 0, 'gather-1', now);
    ssm.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        {
          InstanceId: 'i-0abc',
          Status: 'Success',
          StatusDetails: 'Success',
          CommandPlugins: [{ Name: 'gather', Output: gatherOutput({ numa: [FRAGMENTED] }), ResponseCode: 0 }],
        },
      ],
    });
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'rem-1' } });
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const { handler } = await import('../../lambdas/collect/handler.ts');
    // Act
    const result = await handler(statusEvent('Success'), context(300_000));
    // Assess
    expect(result).toEqual({ outcome: 'collected', work: 'gather:gather-1', status: 'collected' });
    expect(ssm).toHaveReceivedCommandWith(ListCommandInvocationsCommand, {
      CommandId: 'gather-1',
      Details: true,
      MaxResults: 50,
    });
    const nodes = await store.listScanNodes('scan-1', { limit: 10 });
    expect(nodes.items.map((record) => [record.nodeId, record.status])).toEqual([['i-0abc', 'CRITICAL']]);
    expect(await store.getScan('scan-1')).toMatchObject({ status: 'COMPLETED', nodes: 1, sealed: true });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'Fleetscan-Remediate',
      InstanceIds: ['i-0abc'],
      Parameters: { action: ['compact-node'], numaNode: ['0'], dryRun: ['false'] },
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: ENV.TOPIC_ARN,
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'CRITICAL' },
        scanId: { DataType: 'String', StringValue: 'scan-1' },
      },
    });
    const metrics = emfMetrics();
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({
      ScansCompleted: 1,
      NodesScanned: 1,
      NodesCRITICAL: 1,
      WorstUnusableIndex: 1000,
      Remediations: 1,
    });
    // The opt-out lookup went through the lazily loaded EC2 client, filtered by the node and the opt-out tag.
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: expect.arrayContaining([{ Name: 'tag:fleetscan:remediate', Values: ['false'] }]),
    });
  });

  it('hands the rest of a long collection to a fresh invocation of itself before its deadline', async () => {
    const now = new Date().toISOString();
    await store.scans.createScan(
      { scanId: 'scan-2', commandId: '', requestedAt: now, collectAfter: now, status: 'RUNNING', targets: 't' },
      [shard('scan-2', 0)],
    );
    await store.scans.bindShard('scan-2', 0, 'gather-2', now);
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'gather-2', TargetCount: 1 }] });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const { handler } = await import('../../lambdas/collect/handler.ts');
    // Five seconds left: under the hand-off margin before the first page.
    const result = await handler(
      { ...statusEvent('Success'), detail: { ...statusEvent('Success').detail, 'command-id': 'gather-2' } },
      context(5_000),
    );
    expect(result).toEqual({ outcome: 'collected', work: 'gather:gather-2', status: 'handed-off' });
    const [payload] = lambda
      .commandCalls(InvokeCommand)
      .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)));
    expect(payload).toEqual({
      source: 'fleetscan.sweep',
      kind: 'gather',
      commandId: 'gather-2',
      lease: expect.any(String),
    });
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: 'fleetscan-collect',
      InvocationType: 'Event',
    });
    expect(await store.scans.getShard('scan-2', 0)).toMatchObject({ leaseToken: payload.lease, page: 0 });
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 0);
  });

  it('ignores a command that has not finished', async () => {
    const { handler } = await import('../../lambdas/collect/handler.ts');
    expect(await handler(statusEvent('InProgress'))).toEqual({
      outcome: 'ignored',
      reason: 'command status InProgress is not final',
    });
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 0);
  });

  it('rejects a payload it does not recognize, so that the dead-letter queue keeps it', async () => {
    const { handler } = await import('../../lambdas/collect/handler.ts');
    await expect(handler({ hello: 'world' })).rejects.toMatchObject({ name: 'UnrecognizedEventError' });
  });
});

function shard(scanId: string, index: number): ShardRecord {
  return {
    scanId,
    shard: index,
    targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
    commandId: null,
    status: 'PLANNED',
    collectAfter: '2025-03-01T11:05:00.000Z',
    page: 0,
    nextToken: null,
    listed: false,
    tallies: NO_TALLIES,
    targeted: null,
    attempts: 0,
    lastError: null,
    reason: null,
    leaseToken: null,
    leaseUntil: null,
  };
}

/** The Lambda context the handlers read: only the remaining time matters to them. */
function context(remainingMs: number) {
  const started = Date.now();
  return {
    getRemainingTimeInMillis: () => remainingMs - (Date.now() - started),
    functionName: 'fleetscan-collect',
    awsRequestId: 'req-1',
  } as unknown as import('aws-lambda').Context;
}
