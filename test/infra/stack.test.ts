/**
 * The stack `cdk deploy` ships, with the default configuration: synthesized once (Lambdas bundled by the local
 * esbuild, cdk-nag run) and asserted property by property.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../lib/adapters/dynamo/schema.ts';
import { TABLE_ACCESS } from '../../lib/adapters/table-access.ts';
import { DEFAULT_CONFIG, parseConfig } from '../../lib/config/config.ts';
import { DOCUMENT_PATTERNS, FUNCTION_ENV, OUTPUT_KEYS } from '../../lib/config/contracts.ts';
import { REMEDIATION_ACTIONS } from '../../lib/core/report.ts';
import { SCRIPTS } from '../../lib/infra/documents.ts';
import { TOPIC_ACTIONS } from '../../lib/infra/notifications.ts';
import { SYNTH_TEST_TIMEOUT_MS, type Synthesized, synthesized } from './support.ts';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}
interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Json;
  readonly Sid?: string;
}

let synth: Synthesized;
let template: Template;

beforeAll(() => {
  synth = synthesized('default');
  template = Template.fromJSON(synth.template);
}, SYNTH_TEST_TIMEOUT_MS);

function resources(type: string): [string, Resource][] {
  const all = synth.template.Resources as Record<string, Resource>;
  return Object.entries(all).filter(([, resource]) => resource.Type === type);
}

function resource(id: string): Resource {
  const found = (synth.template.Resources as Record<string, Resource>)[id];
  if (found === undefined) throw new Error(`no resource ${id} in the template`);
  return found;
}

function only(type: string, match: (resource: Resource) => boolean = () => true): [string, Resource] {
  const found = resources(type).filter(([, resource]) => match(resource));
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0] as [string, Resource];
}

function documentNamed(name: string): Json {
  const [, document] = only('AWS::SSM::Document', (resource) => resource.Properties.Name === name);
  return document.Properties;
}

function functionWithService(service: string): [string, Json] {
  const [id, fn] = only('AWS::Lambda::Function', (resource) => {
    const variables = (resource.Properties.Environment as { Variables: Json }).Variables;
    return variables[FUNCTION_ENV.serviceName] === service;
  });
  return [id, fn.Properties];
}

/** Every statement of the identity policies attached to the role a function runs as. */
function statementsOf(functionId: string): Statement[] {
  const roleId = ((resource(functionId).Properties.Role as Json)['Fn::GetAtt'] as string[])[0];
  return resources('AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties.Roles as Json[]).some((role) => role.Ref === roleId))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
const resourcesOf = (statement: Statement) => [statement.Resource].flat();
const allows = (statements: Statement[], action: string) =>
  statements.filter((statement) => statement.Effect === 'Allow' && actionsOf(statement).includes(action));

function scriptFile(url: URL): string {
  return readFileSync(url, 'utf8');
}

describe('Construct: FleetscanDocuments', () => {
  it('ships the gather script byte for byte, one runCommand entry per line, Linux only', () => {
    const gather = documentNamed('Fleetscan-Gather');
    const content = gather.Content as Json;
    const [step, ...more] = content.mainSteps as Json[];
    const inputs = step?.inputs as { runCommand: string[]; timeoutSeconds: number };

    expect(gather).toMatchObject({ DocumentType: 'Command', DocumentFormat: 'JSON', UpdateMethod: 'NewVersion' });
    expect(content.schemaVersion).toBe('2.2');
    expect(content.parameters).toEqual({
      since: { type: 'String', description: expect.any(String), default: '0', allowedPattern: DOCUMENT_PATTERNS.since },
    });
    expect(more).toEqual([]);
    expect(step).toMatchObject({
      action: 'aws:runShellScript',
      precondition: { StringEquals: ['platformType', 'Linux'] },
    });
    expect(inputs.timeoutSeconds).toBe(DEFAULT_CONFIG.executionTimeoutSeconds);
    expect(`${inputs.runCommand.join('\n')}\n`).toBe(scriptFile(SCRIPTS.gather));
  });

  it('constrains every remediate parameter before the command starts', () => {
    const remediate = documentNamed('Fleetscan-Remediate');
    const content = remediate.Content as Json;
    const [step] = content.mainSteps as Json[];
    const inputs = step?.inputs as { runCommand: string[] };

    expect(remediate).toMatchObject({ DocumentType: 'Command', UpdateMethod: 'NewVersion' });
    expect(content.parameters).toEqual({
      action: { type: 'String', description: expect.any(String), allowedValues: [...REMEDIATION_ACTIONS] },
      numaNode: {
        type: 'String',
        description: expect.any(String),
        default: 'all',
        allowedPattern: DOCUMENT_PATTERNS.numaNode,
      },
      dryRun: { type: 'String', description: expect.any(String), default: 'true', allowedValues: ['true', 'false'] },
      maxLoadPerCpu: {
        type: 'String',
        description: expect.any(String),
        default: '1',
        allowedPattern: DOCUMENT_PATTERNS.maxLoadPerCpu,
      },
      maxProactiveness: {
        type: 'String',
        description: expect.any(String),
        default: '20',
        allowedPattern: DOCUMENT_PATTERNS.maxProactiveness,
      },
      settleSeconds: {
        type: 'String',
        description: expect.any(String),
        default: '10',
        allowedPattern: DOCUMENT_PATTERNS.settleSeconds,
      },
    });
    expect(step).toMatchObject({
      action: 'aws:runShellScript',
      precondition: { StringEquals: ['platformType', 'Linux'] },
    });
    expect(`${inputs.runCommand.join('\n')}\n`).toBe(scriptFile(SCRIPTS.remediate));
  });
});

describe('Construct: HistoryTable', () => {
  it('creates the keys and indexes lib/adapters/dynamo/schema.ts defines, on demand, with TTL and PITR', () => {
    const [, table] = only('AWS::DynamoDB::GlobalTable');
    const props = table.Properties;

    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.KeySchema).toEqual([
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ]);
    expect(props.GlobalSecondaryIndexes).toEqual(
      Object.values(INDEXES).map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [TTL_ATTRIBUTE] },
      })),
    );
    const keyAttributes = [TABLE_KEYS, ...Object.values(INDEXES)].flatMap((k) => [k.partitionKey, k.sortKey]);
    expect(props.AttributeDefinitions).toEqual(
      keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    );
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    expect(props.Replicas).toEqual([
      expect.objectContaining({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    ]);
  });

  it('keeps the table when the stack is deleted or the table replaced', () => {
    const [, table] = only('AWS::DynamoDB::GlobalTable');

    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('Construct: Notifications', () => {
  it('encrypts the topic with a rotated customer-managed key', () => {
    const [keyId, key] = only('AWS::KMS::Key');
    const [, topic] = only('AWS::SNS::Topic');

    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('lets the key be used by a service principal only under an aws:SourceAccount and aws:SourceArn condition', () => {
    const [, key] = only('AWS::KMS::Key');
    const statements = (key.Properties.KeyPolicy as { Statement: (Statement & { Principal: Json })[] }).Statement;
    const forServices = statements.filter((statement) => 'Service' in statement.Principal);

    expect(forServices.map((statement) => statement.Principal.Service)).toEqual(['cloudwatch.amazonaws.com']);
    for (const statement of forServices) {
      expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(statement.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
      expect(((statement.Condition?.ArnLike ?? {}) as Json)['aws:SourceArn']).toHaveLength(10);
    }
  });

  it('refuses every topic action without TLS, not only Publish', () => {
    const [topicId] = only('AWS::SNS::Topic');
    const [, policy] = only('AWS::SNS::TopicPolicy');
    const denies = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
      (statement) => statement.Effect === 'Deny',
    );

    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    expect(denies).toEqual([
      {
        Sid: 'DenyWithoutTls',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: [...TOPIC_ACTIONS],
        Resource: { Ref: topicId },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    expect(TOPIC_ACTIONS).toHaveLength(11);
  });

  it('subscribes no e-mail address by default', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('Construct: Scanner functions', () => {
  it.each([
    ['fleetscan-scan', 60, 256],
    ['fleetscan-collect', 300, 512],
  ])('runs %s on Node.js 24, arm64, with its handler export, timeout %s s and %s MB', (service, timeout, memory) => {
    const [, fn] = functionWithService(service);

    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: timeout,
      MemorySize: memory,
    });
  });

  it('gives scan and collect exactly the environment the runtime reads', () => {
    const [, scan] = functionWithService('fleetscan-scan');
    const [collectId, collect] = functionWithService('fleetscan-collect');
    const [tableId] = only('AWS::DynamoDB::GlobalTable');
    const [topicId] = only('AWS::SNS::Topic');
    const shared = {
      [FUNCTION_ENV.tableName]: { Ref: tableId },
      [FUNCTION_ENV.topicArn]: { Ref: topicId },
      [FUNCTION_ENV.gatherDocument]: 'Fleetscan-Gather',
      [FUNCTION_ENV.remediateDocument]: 'Fleetscan-Remediate',
      [FUNCTION_ENV.config]: expect.any(String),
      [FUNCTION_ENV.metricsNamespace]: 'Fleetscan',
      NODE_OPTIONS: '--enable-source-maps',
    };

    expect((scan.Environment as Json).Variables).toEqual({
      ...shared,
      [FUNCTION_ENV.serviceName]: 'fleetscan-scan',
      [FUNCTION_ENV.collectFunctionName]: { Ref: collectId },
    });
    expect((collect.Environment as Json).Variables).toEqual({
      ...shared,
      [FUNCTION_ENV.serviceName]: 'fleetscan-collect',
    });
  });

  it('hands the Lambdas a FLEETSCAN_CONFIG that parseConfig reads back as the synthesized configuration', () => {
    const [, scan] = functionWithService('fleetscan-scan');
    const json = ((scan.Environment as Json).Variables as Json)[FUNCTION_ENV.config] as string;

    expect(parseConfig(JSON.parse(json))).toEqual(DEFAULT_CONFIG);
  });

  it.each([
    ['fleetscan-scan', 'lambdas/scan/handler.ts'],
    ['fleetscan-collect', 'lambdas/collect/handler.ts'],
  ])('bundles %s from %s, minified, with a source map, leaving the AWS SDK to the runtime', (service, entry) => {
    const [, fn] = functionWithService(service);
    const hash = ((fn.Code as Json).S3Key as string).replace(/\.zip$/, '');
    const bundle = join(synth.directory, `asset.${hash}`);
    const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
    const map = JSON.parse(readFileSync(join(bundle, 'index.mjs.map'), 'utf8')) as { sources: string[] };

    expect(map.sources.some((source) => source.endsWith(entry))).toBe(true);
    expect(map.sources.filter((source) => /node_modules\/@(aws-sdk|smithy)\//.test(source))).toEqual([]);
    // Minified: a handful of lines (esbuild keeps the legal comments) for tens of kilobytes.
    expect(code.split('\n').length).toBeLessThan(50);
  });

  it('writes logs to a log group of its own, kept one month', () => {
    for (const service of ['fleetscan-scan', 'fleetscan-collect']) {
      const [, fn] = functionWithService(service);
      const logGroupId = ((fn.LoggingConfig as Json).LogGroup as Json).Ref as string;

      expect(resource(logGroupId).Properties.RetentionInDays).toBe(30);
    }
  });

  it('sends failed asynchronous invocations to a dead-letter queue; scan is not retried within its period', () => {
    const [scanId, scan] = functionWithService('fleetscan-scan');
    const [collectId, collect] = functionWithService('fleetscan-collect');

    expect(scan.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/ScanDlq/), 'Arn'] } });
    expect(collect.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/CollectDlq/), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: scanId },
      MaximumRetryAttempts: 0,
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: collectId },
      MaximumRetryAttempts: 2,
    });
  });

  it('keeps every queue encrypted and TLS-only', () => {
    const queues = resources('AWS::SQS::Queue');

    expect(queues).toHaveLength(3);
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});

describe('Construct: Scanner triggers', () => {
  it('starts scan on the configured EventBridge Scheduler expression, with retries and a dead-letter queue', () => {
    const [scanId] = functionWithService('fleetscan-scan');
    const [, schedule] = only('AWS::Scheduler::Schedule');
    const target = schedule.Properties.Target as Json;

    expect(schedule.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect(schedule.Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [scanId, 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 });
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/DeliveryDlq/), 'Arn'] } });
    expect(JSON.parse(target.Input as string)).toEqual({
      source: 'fleetscan.schedule',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      executionId: '<aws.scheduler.execution-id>',
    });
  });

  it("runs collect when one of our two documents' commands reaches a terminal status, and only then", () => {
    const [collectId] = functionWithService('fleetscan-collect');
    const [, rule] = only('AWS::Events::Rule');

    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ssm'],
      'detail-type': ['EC2 Command Status-change Notification'],
      detail: {
        'document-name': ['Fleetscan-Gather', 'Fleetscan-Remediate'],
        status: ['Success', 'Failed', 'TimedOut', 'Cancelled'],
      },
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [collectId, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/DeliveryDlq/), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
      }),
    ]);
  });
});

describe('Construct: least-privilege IAM', () => {
  const documentArn = (name: string) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':ssm:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:document/${name}`,
      ],
    ],
  });
  const nodeArn = (service: string, type: string) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:${service}:`,
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${type}/*`,
      ],
    ],
  });
  const NODES = [nodeArn('ec2', 'instance'), nodeArn('ssm', 'managed-instance')];
  const TARGET_TAG = { StringEquals: { 'ssm:resourceTag/fleetscan': 'enabled' } };

  /** Every statement in the template: identity policies, inline role policies, resource policies. */
  function everyStatement(): Statement[] {
    const found: Statement[] = [];
    const walk = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        const record = value as Json;
        if (Array.isArray(record.Statement)) found.push(...(record.Statement as Statement[]));
        Object.values(record).forEach(walk);
      }
    };
    walk(synth.template.Resources);
    return found;
  }

  it('grants ssm:SendCommand on "*" nowhere', () => {
    const sendCommand = everyStatement().filter(
      (statement) =>
        statement.Effect === 'Allow' &&
        actionsOf(statement).some((a) => a === 'ssm:SendCommand' || a === 'ssm:*' || a === '*'),
    );

    expect(sendCommand.length).toBeGreaterThan(0);
    for (const statement of sendCommand) expect(resourcesOf(statement)).not.toContain('*');
  });

  it('lets scan send only the gather document, to nodes with the target tag, and invoke only collect', () => {
    const [scanId] = functionWithService('fleetscan-scan');
    const [collectId] = functionWithService('fleetscan-collect');
    const statements = statementsOf(scanId);
    const send = allows(statements, 'ssm:SendCommand');

    expect(send.map((s) => ({ resources: resourcesOf(s), condition: normalize(s.Condition) }))).toEqual(
      expect.arrayContaining([
        { resources: [documentArn('Fleetscan-Gather')], condition: undefined },
        { resources: NODES, condition: TARGET_TAG },
      ]),
    );
    expect(send.flatMap(resourcesOf)).not.toContainEqual(documentArn('Fleetscan-Remediate'));
    expect(allows(statements, 'lambda:InvokeFunction').flatMap(resourcesOf)).toEqual([
      { 'Fn::GetAtt': [collectId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [collectId, 'Arn'] }, ':*']] },
    ]);
    expect(allows(statements, 'sns:Publish')).toEqual([]);
    expect(allows(statements, 'ssm:ListCommandInvocations')).toEqual([]);
    expect(allows(statements, 'ssm:ListCommands')).toEqual([]);
  });

  it('lets collect send only the remediate document, never to an opted-out node', () => {
    const [collectId] = functionWithService('fleetscan-collect');
    const statements = statementsOf(collectId);
    const send = allows(statements, 'ssm:SendCommand');

    expect(send.map((s) => ({ resources: resourcesOf(s), condition: normalize(s.Condition) }))).toEqual(
      expect.arrayContaining([
        { resources: [documentArn('Fleetscan-Remediate')], condition: undefined },
        { resources: NODES, condition: TARGET_TAG },
      ]),
    );
    expect(send.flatMap(resourcesOf)).not.toContainEqual(documentArn('Fleetscan-Gather'));
    expect(
      statements
        .filter((s) => s.Effect === 'Deny')
        .map((s) => ({ actions: actionsOf(s), resources: resourcesOf(s), condition: s.Condition })),
    ).toEqual([
      {
        actions: ['ssm:SendCommand'],
        resources: NODES,
        condition: { StringEquals: { 'ssm:resourceTag/fleetscan:remediate': 'false' } },
      },
    ]);
  });

  it('gives collect "*" only for the actions that have no resource type', () => {
    const [collectId] = functionWithService('fleetscan-collect');
    const [topicId] = only('AWS::SNS::Topic');
    const statements = statementsOf(collectId);

    const onStar = statements.filter((s) => s.Effect === 'Allow' && resourcesOf(s).includes('*')).flatMap(actionsOf);
    expect(onStar.sort()).toEqual([
      'ec2:DescribeInstances',
      'ssm:GetCommandInvocation',
      'ssm:ListCommandInvocations',
      'ssm:ListCommands',
    ]);
    expect(allows(statements, 'ssm:ListTagsForResource').flatMap(resourcesOf)).toEqual([NODES[1]]);
    expect(allows(statements, 'sns:Publish').flatMap(resourcesOf)).toEqual([{ Ref: topicId }]);
    // Invoking itself, to hand off: test/infra/collect-handoff.test.ts.
    expect(allows(statements, 'lambda:InvokeFunction').flatMap(resourcesOf)).toHaveLength(1);
  });

  it.each([
    ['fleetscan-scan', TABLE_ACCESS.scanFunction],
    ['fleetscan-collect', TABLE_ACCESS.collectFunction],
  ])('gives %s exactly its declared table actions, Query only on the indexes it reads', (service, access) => {
    const [tableId] = only('AWS::DynamoDB::GlobalTable');
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const [id] = functionWithService(service);
    const statements = statementsOf(id).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    const byAction = (a: { action: string }, b: { action: string }) => a.action.localeCompare(b.action);
    const granted = statements.flatMap((s) => actionsOf(s).map((action) => ({ action, resources: resourcesOf(s) })));
    const index = (name: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${name}`]] });

    expect(granted.sort(byAction)).toEqual(
      [
        ...access.items.map((action) => ({ action: `dynamodb:${action}`, resources: [tableArn] })),
        {
          action: 'dynamodb:Query',
          resources: access.queries.map((target) => (target === 'table' ? tableArn : index(INDEXES[target].name))),
        },
      ].sort(byAction),
    );
    for (const action of [
      'DeleteItem',
      'Scan',
      'ConditionCheckItem',
      'DescribeStream',
      'GetRecords',
      'PartiQLSelect',
    ]) {
      expect(allows(statementsOf(id), `dynamodb:${action}`), action).toEqual([]);
    }
  });

  it('uses no AWS managed policy (each function writes only to its own log group)', () => {
    for (const [id, role] of resources('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
  });
});

describe('Construct: Alarms', () => {
  it('alarms to the topic on any error of either function and any message in a dead-letter queue', () => {
    const [topicId] = only('AWS::SNS::Topic');
    const alarms = resources('AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((alarm) => alarm.Namespace !== 'Fleetscan' && alarm.Metrics === undefined);
    const watched = alarms.map((alarm) => `${alarm.Namespace} ${alarm.MetricName}`).sort();

    expect(watched).toEqual([
      'AWS/Lambda Errors',
      'AWS/Lambda Errors',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
    ]);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });
});

describe('Stack: Fleetscan', () => {
  it('outputs what the CLI reads from DescribeStacks', () => {
    const [tableId] = only('AWS::DynamoDB::GlobalTable');
    const [topicId] = only('AWS::SNS::Topic');
    const [scanId] = functionWithService('fleetscan-scan');
    const [collectId] = functionWithService('fleetscan-collect');
    const [scheduleId] = only('AWS::Scheduler::Schedule');
    const [dashboardId] = only('AWS::CloudWatch::Dashboard');
    const alarmIds = resources('AWS::CloudWatch::Alarm').map(([id]) => ({ Ref: id }));
    const policy = (kind: string) =>
      only('AWS::IAM::ManagedPolicy', (resource) =>
        JSON.stringify(resource.Properties.ManagedPolicyName).endsWith(`-${kind}"]]}`),
      )[0];

    expect(synth.template.Outputs).toEqual({
      [OUTPUT_KEYS.tableName]: { Value: { Ref: tableId } },
      [OUTPUT_KEYS.topicArn]: { Value: { Ref: topicId } },
      [OUTPUT_KEYS.gatherDocumentName]: { Value: 'Fleetscan-Gather' },
      [OUTPUT_KEYS.remediateDocumentName]: { Value: 'Fleetscan-Remediate' },
      [OUTPUT_KEYS.scanFunctionName]: { Value: { Ref: scanId } },
      [OUTPUT_KEYS.collectFunctionName]: { Value: { Ref: collectId } },
      [OUTPUT_KEYS.scheduleName]: { Value: { Ref: scheduleId } },
      [OUTPUT_KEYS.scheduleGroupName]: { Value: 'default' },
      [OUTPUT_KEYS.dashboardName]: { Value: { Ref: dashboardId } },
      [OUTPUT_KEYS.alarmNames]: { Value: { 'Fn::Join': [',', alarmIds] } },
      [OUTPUT_KEYS.readOnlyPolicyArn]: { Value: { Ref: policy('ReadOnly') } },
      [OUTPUT_KEYS.operatorPolicyArn]: { Value: { Ref: policy('Operator') } },
    });
    expect(Object.keys(synth.template.Outputs as Json)).toEqual(Object.values(OUTPUT_KEYS));
  });

  it('is environment-agnostic: no region and no account number in the template', () => {
    expect(synth.stackName).toBe('Fleetscan');
    expect(synth.templateText).not.toContain('us-east-1');
    expect(synth.templateText).not.toMatch(/(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])/);
    expect(synth.templateText).toContain('"Ref": "AWS::Region"');
  });

  it('holds exactly these resources', () => {
    const counts: Record<string, number> = {};
    for (const resource of Object.values(synth.template.Resources as Record<string, Resource>)) {
      counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
    }

    expect(counts).toEqual({
      'AWS::CloudWatch::Alarm': 10,
      'AWS::CloudWatch::Dashboard': 1,
      'AWS::DynamoDB::GlobalTable': 1,
      'AWS::Events::Rule': 1,
      'AWS::IAM::ManagedPolicy': 2,
      'AWS::IAM::Policy': 3,
      'AWS::IAM::Role': 3,
      'AWS::KMS::Key': 1,
      'AWS::Lambda::EventInvokeConfig': 2,
      'AWS::Lambda::Function': 2,
      'AWS::Lambda::Permission': 1,
      'AWS::Logs::LogGroup': 2,
      'AWS::SNS::Topic': 1,
      'AWS::SNS::TopicPolicy': 1,
      'AWS::SQS::Queue': 3,
      'AWS::SQS::QueuePolicy': 3,
      'AWS::SSM::Document': 2,
      'AWS::Scheduler::Schedule': 1,
    });
  });
});

interface ValidationReport {
  readonly pluginReports: {
    readonly pluginName: string;
    readonly conclusion: string;
    readonly violations: { readonly ruleName: string; readonly severity: string }[];
    readonly suppressedViolations?: {
      readonly ruleName: string;
      readonly reason?: string;
      readonly acknowledgedAt?: string;
      readonly violatingConstructs: { readonly constructPath: string }[];
    }[];
  }[];
}

describe('cdk-nag: AwsSolutionsChecks on the real stack', () => {
  const report = () =>
    JSON.parse(readFileSync(join(synth.directory, 'validation-report.json'), 'utf8')) as ValidationReport;

  it('leaves no unacknowledged finding, error or warning', () => {
    const nag = report().pluginReports.filter((plugin) => plugin.pluginName === 'AwsSolutions');

    expect(nag).toHaveLength(1);
    expect(nag[0]?.conclusion).toBe('success');
    expect(report().pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  it('acknowledges exactly these findings, each where it occurs and with a specific reason', () => {
    const suppressed = report().pluginReports.flatMap((plugin) => plugin.suppressedViolations ?? []);
    const found = suppressed.map((finding) => `${finding.acknowledgedAt} ${finding.ruleName}`).sort();
    const [scanId] = functionWithService('fleetscan-scan');
    const [collectId] = functionWithService('fleetscan-collect');
    const instances = 'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*';
    const managed = 'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/*';

    const stackArn = 'arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/Fleetscan/*';

    expect(found).toEqual(
      [
        `Fleetscan/CliPolicies/Operator AwsSolutions-IAM5[Resource::${stackArn}]`,
        'Fleetscan/CliPolicies/ReadOnly AwsSolutions-IAM5[Resource::*]',
        `Fleetscan/CliPolicies/ReadOnly AwsSolutions-IAM5[Resource::${stackArn}]`,
        `Fleetscan/Scanner/CollectRole AwsSolutions-IAM5[Action::kms:GenerateDataKey*]`,
        `Fleetscan/Scanner/CollectRole AwsSolutions-IAM5[Resource::*]`,
        `Fleetscan/Scanner/CollectRole AwsSolutions-IAM5[Resource::${instances}]`,
        `Fleetscan/Scanner/CollectRole AwsSolutions-IAM5[Resource::${managed}]`,
        'Fleetscan/Scanner/DeliveryDlq AwsSolutions-SQS3',
        `Fleetscan/Scanner/ScanRole AwsSolutions-IAM5[Resource::<${collectId}.Arn>:*]`,
        `Fleetscan/Scanner/ScanRole AwsSolutions-IAM5[Resource::${instances}]`,
        `Fleetscan/Scanner/ScanRole AwsSolutions-IAM5[Resource::${managed}]`,
        `Fleetscan/Scanner/ScheduleRole AwsSolutions-IAM5[Resource::<${scanId}.Arn>:*]`,
      ].sort(),
    );
    for (const finding of suppressed) expect(finding.reason?.length, finding.ruleName).toBeGreaterThan(60);
  });
});

/** IAM accepts a one-element list or a string for a condition value; compare them as lists. */
function normalize(condition: Json | undefined): Json | undefined {
  if (condition === undefined) return undefined;
  const out: Json = {};
  for (const [operator, keys] of Object.entries(condition)) {
    out[operator] = Object.fromEntries(
      Object.entries(keys as Json).map(([key, value]) => [
        key,
        Array.isArray(value) && value.length === 1 ? value[0] : value,
      ]),
    );
  }
  return out;
}
