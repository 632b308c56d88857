import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ListCommandInvocationsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandItem, scanItem } from '../../lib/runtime/items.ts';
import { FRAGMENTED, gatherOutput } from '../support/runtime-fixtures.ts';

const ssm = mockClient(SSMClient);
const doc = mockClient(DynamoDBDocumentClient);
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

beforeEach(() => {
  for (const mock of [ssm, doc, sns, ec2, lambda]) mock.reset();
  vi.resetModules();
  for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
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

  it('sends the gather document to the tag targets, records the scan and hands overdue commands to collect', async () => {
    // Prepare
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'scan-new' } });
    doc.on(PutCommand).resolves({});
    doc.on(QueryCommand).resolves({
      Items: [
        scanItem(
          {
            scanId: 'scan-old',
            commandId: 'scan-old',
            requestedAt: '2025-03-01T11:00:00.000Z',
            collectAfter: '2025-03-01T11:13:00.000Z',
            status: 'RUNNING',
            targets: 't',
          },
          90,
        ),
        commandItem(
          {
            commandId: 'rem-old',
            scanId: 'scan-old',
            requestedAt: '2025-03-01T11:05:00.000Z',
            collectAfter: '2025-03-01T11:18:00.000Z',
            status: 'RUNNING',
            nodeIds: ['i-1'],
          },
          90,
        ),
      ],
    });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const { handler } = await import('../../lambdas/scan/handler.ts');
    // Act
    const result = await handler({ source: 'fleetscan.schedule' });
    // Assess
    expect(result).toEqual({ scanId: 'scan-new', swept: 2 });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'Fleetscan-Gather',
      DocumentVersion: '$LATEST',
      Targets: [{ Key: 'tag:fleetscan', Values: ['enabled'] }],
      MaxConcurrency: '25%',
      MaxErrors: '100%',
      TimeoutSeconds: 600,
    });
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'fleetscan-history',
      Item: expect.objectContaining({ pk: 'SCAN#scan-new', status: 'RUNNING' }),
    });
    const payloads = lambda
      .commandCalls(InvokeCommand)
      .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)));
    expect(payloads).toEqual([
      { source: 'fleetscan.sweep', kind: 'gather', commandId: 'scan-old' },
      { source: 'fleetscan.sweep', kind: 'remediate', commandId: 'rem-old' },
    ]);
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: 'fleetscan-collect',
      InvocationType: 'Event',
    });
  });

  it('still sweeps when starting the scan fails, then fails the invocation with a named error', async () => {
    ssm.on(SendCommandCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    doc.on(QueryCommand).resolves({ Items: [] });
    const { handler, ScanRunError } = await import('../../lambdas/scan/handler.ts');
    const error = await handler({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanRunError);
    expect((error as Error).cause).toMatchObject({ name: 'AccessDeniedException' });
    expect(doc).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'due' });
  });
});

describe('Function: collect', () => {
  const statusEvent = (status: string, documentName = 'Fleetscan-Gather') => ({
    version: '0',
    id: 'e-1',
    source: 'aws.ssm',
    'detail-type': 'EC2 Command Status-change Notification',
    detail: {
      'command-id': 'scan-1',
      'document-name': documentName,
      'requested-date-time': '2025-03-01T12:00:00.000Z',
      status,
    },
  });

  it('collects a finished gather command: stores, remediates, notifies and emits metrics', async () => {
    // Prepare
    doc.on(GetCommand).resolves({
      Item: scanItem(
        {
          scanId: 'scan-1',
          commandId: 'scan-1',
          requestedAt: new Date().toISOString(),
          collectAfter: new Date().toISOString(),
          status: 'RUNNING',
          targets: 'tag:fleetscan=enabled',
        },
        90,
      ),
    });
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
    doc.on(BatchGetCommand).resolves({ Responses: {} });
    doc.on(BatchWriteCommand).resolves({});
    doc.on(UpdateCommand).resolves({});
    doc.on(PutCommand).resolves({});
    doc.on(QueryCommand).resolves({ Items: [] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'rem-1' } });
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const { handler } = await import('../../lambdas/collect/handler.ts');
    // Act
    const result = await handler(statusEvent('Success'));
    // Assess
    expect(result).toEqual({ outcome: 'collected', commandId: 'scan-1', status: 'completed' });
    expect(ssm).toHaveReceivedCommandWith(ListCommandInvocationsCommand, {
      CommandId: 'scan-1',
      Details: true,
      MaxResults: 50,
    });
    const written = doc
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.['fleetscan-history'] ?? []);
    expect(written.map((request) => request.PutRequest?.Item?.sk)).toContain('NODE#i-0abc');
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
    expect(metrics[0]).toMatchObject({ NodesScanned: 1, NodesCRITICAL: 1, WorstUnusableIndex: 1000, Remediations: 1 });
    // The opt-out lookup went through the lazily loaded EC2 client, filtered by the node and the opt-out tag.
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: expect.arrayContaining([{ Name: 'tag:fleetscan:remediate', Values: ['false'] }]),
    });
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
