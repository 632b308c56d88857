/**
 * `fleetscan doctor` against mocked AWS (aws-sdk-client-mock): a healthy deployment, then each problem it
 * reports — one FIX line naming what to do, exit 1 — and the calls it makes, which must be exactly what the
 * stack's ReadOnly policy grants. `--local` runs against a real demo data directory.
 */
import { CloudFormationClient, DescribeStacksCommand, type StackStatus } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { scanItem, shardItem } from '../../lib/adapters/dynamo/codec.ts';
import { iamActions, TABLE_ACCESS } from '../../lib/adapters/table-access.ts';
import { type Check, lastScanChecks } from '../../lib/cli/doctor.ts';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import { CLI_ACTIONS, FUNCTION_ENV, OUTPUT_KEYS } from '../../lib/config/contracts.ts';
import type { HistoryReader, ScanRecord } from '../../lib/runtime/ports.ts';
import { NO_TALLIES } from '../../lib/runtime/tallies.ts';
import { runMain } from './buffer-io.ts';

const cloudformation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const scheduler = mockClient(SchedulerClient);
const ssm = mockClient(SSMClient);
const ec2 = mockClient(EC2Client);
const cloudwatch = mockClient(CloudWatchClient);
const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
/** What this test needs of each stub: to reset it and to list the commands it received. */
interface Stub {
  reset(): void;
  calls(): { readonly args: readonly unknown[] }[];
}
const MOCKS: Record<string, Stub> = {
  cloudformation: cloudformation as unknown as Stub,
  lambda: lambda as unknown as Stub,
  scheduler: scheduler as unknown as Stub,
  ssm: ssm as unknown as Stub,
  ec2: ec2 as unknown as Stub,
  cloudwatch: cloudwatch as unknown as Stub,
  sns: sns as unknown as Stub,
  dynamodb: dynamo as unknown as Stub,
};

const REGION = 'eu-west-1';
const TOPIC = `arn:aws:sns:${REGION}:111122223333:Fleetscan-Topic`;
/** The stack's ten alarms, as its AlarmNames output lists them. */
const ALARMS = [
  'ScanErrors',
  'CollectErrors',
  'ScanDlqDepth',
  'CollectDlqDepth',
  'DeliveryDlqDepth',
  'NoCompletedScan',
  'NoNodeScanned',
  'ScanIncomplete',
  'ErrorNodes',
  'RemediationFailed',
].map((name) => `Fleetscan-${name}`);
const NODES = ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2', 'i-0aaaaaaaaaaaaaaa3', 'mi-0aaaaaaaaaaaaaaa4'];

const OUTPUTS: Record<keyof typeof OUTPUT_KEYS, string> = {
  tableName: 'Fleetscan-HistoryTable',
  topicArn: TOPIC,
  gatherDocumentName: 'Fleetscan-Gather',
  remediateDocumentName: 'Fleetscan-Remediate',
  scanFunctionName: 'Fleetscan-ScannerScan',
  collectFunctionName: 'Fleetscan-ScannerCollect',
  scheduleName: 'Fleetscan-ScannerSchedule',
  scheduleGroupName: 'default',
  dashboardName: 'Fleetscan',
  alarmNames: ALARMS.join(','),
  readOnlyPolicyArn: 'arn:aws:iam::111122223333:policy/Fleetscan-ReadOnly',
  operatorPolicyArn: 'arn:aws:iam::111122223333:policy/Fleetscan-Operator',
};

/** The stack DescribeStacks returns: settled, with every output unless `outputs` says which it has. */
function stack(overrides: { status?: string; outputs?: Partial<typeof OUTPUTS> } = {}) {
  const outputs = overrides.outputs ?? OUTPUTS;
  return {
    Stacks: [
      {
        StackName: 'Fleetscan',
        StackStatus: (overrides.status ?? 'UPDATE_COMPLETE') as StackStatus,
        CreationTime: new Date('2026-11-20T10:00:00Z'),
        LastUpdatedTime: new Date('2026-11-26T18:00:00Z'),
        Outputs: Object.entries(outputs).map(([key, value]) => ({
          OutputKey: OUTPUT_KEYS[key as keyof typeof OUTPUT_KEYS],
          OutputValue: value,
        })),
      },
    ],
  };
}

function scan(overrides: Partial<ScanRecord> = {}): ScanRecord {
  const requested = new Date(Date.now() - 5 * 60_000);
  return {
    scanId: '78de6bac-9be3-49ab-abd7-16bbf942cf11',
    commandId: '78de6bac-9be3-49ab-abd7-16bbf942cf11',
    requestedAt: requested.toISOString(),
    collectAfter: new Date(requested.getTime() + 13 * 60_000).toISOString(),
    status: 'COMPLETED',
    targets: 'tag:fleetscan=enabled',
    nodes: 4,
    counts: { OK: 3, WARN: 1, CRITICAL: 0, ERROR: 0 },
    completedAt: new Date(requested.getTime() + 60_000).toISOString(),
    worstUnusableIndex: 912,
    ...overrides,
  };
}

function config(overrides: Record<string, unknown> = {}) {
  return { Environment: { Variables: { [FUNCTION_ENV.config]: JSON.stringify({ ...DEFAULT_CONFIG, ...overrides }) } } };
}

function healthy(): void {
  for (const mock of Object.values(MOCKS)) mock.reset();
  cloudformation.on(DescribeStacksCommand).resolves(stack());
  lambda.on(GetFunctionConfigurationCommand).resolves(config());
  scheduler.on(GetScheduleCommand).resolves({ State: 'ENABLED', ScheduleExpression: 'rate(15 minutes)' });
  ssm.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: NODES.map((id) => ({ InstanceId: id, PingStatus: 'Online', PlatformType: 'Linux' })),
  });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: NODES.filter((id) => id.startsWith('i-')).map((id) => ({ InstanceId: id })) }],
  });
  cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: ALARMS.map((name) => ({ AlarmName: name, StateValue: 'OK', StateReason: 'fine' })),
  });
  sns.on(ListSubscriptionsByTopicCommand).resolves({
    Subscriptions: [{ Protocol: 'email', Endpoint: 'oncall@example.com', SubscriptionArn: `${TOPIC}:1234` }],
  });
  history({ Items: [scanItem(scan(), 90)] });
}

/**
 * The history table answers with these scan items: their keys from the byTime index (it projects keys only), the
 * items themselves from BatchGetItem.
 */
function history({ Items }: { Items: Record<string, unknown>[] }): void {
  dynamo
    .on(QueryCommand)
    .resolves({ Items: Items.map(({ pk, sk, gsi2pk, gsi2sk, ttl }) => ({ pk, sk, gsi2pk, gsi2sk, ttl })) });
  dynamo.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, unknown> }) => ({
    Responses: Object.fromEntries(Object.keys(input.RequestItems).map((table) => [table, Items])),
  }));
}

const invoke = (args: string[]) => runMain(args);

const doctor = (args: string[] = []) => invoke(['doctor', '--region', REGION, ...args]);

async function checks(args: string[] = []): Promise<{ code: number; checks: Check[]; problems: number }> {
  const result = await doctor(['--json', ...args]);
  const parsed = JSON.parse(result.stdout) as { checks: Check[]; problems: number };
  return { code: result.code, ...parsed };
}

const fixes = (list: readonly Check[]) => list.filter((entry) => entry.status === 'fix');

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  vi.stubEnv('AWS_REGION', '');
  healthy();
});

describe('CLI: fleetscan doctor, a healthy deployment', () => {
  it('prints one line per check and nothing to fix, exit 0', async () => {
    const result = await doctor();

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      'fleetscan doctor: stack Fleetscan in eu-west-1',
      'ok    stack          Fleetscan in eu-west-1: UPDATE_COMPLETE, last deployed 2026-11-26 18:00:00 UTC',
      'ok    schedule       rate(15 minutes), enabled',
      'ok    nodes          4 managed nodes carry tag:fleetscan=enabled (4 online)',
      'ok    last scan      78de6bac 5 min ago: COMPLETED, 4 nodes (3 OK, 1 WARN, 0 CRITICAL, 0 ERROR)',
      'info  remediation    dry run (compact-node, at most 5 nodes per scan): measured and reported, nothing written on nodes — README: "Turn dry-run off for good"',
      'ok    alarms         10 alarms: 10 OK',
      'ok    notifications  1 confirmed subscription: email:oncall@example.com',
      'nothing to fix',
    ]);
  });

  it('asks SSM for the target tags as SendCommand would apply them, and EC2 for running instances with them', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      config({
        targets: [
          { tagKey: 'fleetscan', tagValues: ['enabled', 'canary'] },
          { tagKey: 'team', tagValues: ['storage'] },
        ],
      }),
    );
    await doctor();

    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [
        { Key: 'tag:fleetscan', Values: ['enabled', 'canary'] },
        { Key: 'tag:team', Values: ['storage'] },
      ],
    });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:fleetscan', Values: ['enabled', 'canary'] },
        { Name: 'tag:team', Values: ['storage'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
    });
    expect(lambda).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, {
      FunctionName: OUTPUTS.scanFunctionName,
    });
    expect(scheduler).toHaveReceivedCommandWith(GetScheduleCommand, {
      Name: OUTPUTS.scheduleName,
      GroupName: 'default',
    });
    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ALARMS });
    expect(sns).toHaveReceivedCommandWith(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC });
  });

  it('pages through every managed node', async () => {
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({
        InstanceInformationList: [{ InstanceId: NODES[0], PingStatus: 'Online', PlatformType: 'Linux' }],
        NextToken: 'page-2',
      })
      .resolves({ InstanceInformationList: [{ InstanceId: NODES[1], PingStatus: 'Online', PlatformType: 'Linux' }] });
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: NODES[0] }, { InstanceId: NODES[1] }] }] });

    const result = await checks();

    expect(result.checks.find((entry) => entry.check === 'nodes')?.message).toBe(
      '2 managed nodes carry tag:fleetscan=enabled (2 online)',
    );
    expect(ssm).toHaveReceivedNthCommandWith(DescribeInstanceInformationCommand, 2, { NextToken: 'page-2' });
    expect(result.code).toBe(0);
  });

  it('calls exactly what the ReadOnly policy grants: DescribeStacks, its doctor actions and the history reads', async () => {
    await doctor();
    const called = new Set<string>();
    for (const [service, mock] of Object.entries(MOCKS)) {
      for (const call of mock.calls()) {
        const name = (call.args[0] as object).constructor.name.replace(/Command$/, '');
        // The document client's commands are the table's actions (QueryCommand → dynamodb:Query, BatchGet →
        // dynamodb:BatchGetItem).
        const action = ['Get', 'Put', 'Update', 'Delete', 'BatchGet', 'BatchWrite'].includes(name)
          ? `${name}Item`
          : name;
        called.add(service === 'dynamodb' ? `dynamodb:${action}` : `${service}:${name}`);
      }
    }
    const granted = new Set([
      ...CLI_ACTIONS.findStack,
      ...CLI_ACTIONS.doctor,
      ...iamActions(TABLE_ACCESS.historyReader),
    ]);

    expect([...called].filter((action) => !granted.has(action))).toEqual([]);
    expect([...granted].filter((action) => !called.has(action) && !action.startsWith('dynamodb:'))).toEqual([]);
    expect(called.has('dynamodb:Query')).toBe(true);
  });
});

describe('CLI: fleetscan doctor, each problem it reports', () => {
  it.each([
    [
      'the schedule is disabled',
      () => scheduler.on(GetScheduleCommand).resolves({ State: 'DISABLED', ScheduleExpression: 'rate(15 minutes)' }),
      'schedule',
      'rate(15 minutes) is DISABLED: no scan runs — set "fleetscan:enabled": true in cdk.json and deploy',
    ],
    [
      'no managed node carries the target tags',
      () => {
        ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
        ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
      },
      'nodes',
      'no managed node carries tag:fleetscan=enabled: tag the nodes to scan (README: "Tag the fleet"), or change fleetscan:targets',
    ],
    [
      'nodes are offline',
      () =>
        ssm.on(DescribeInstanceInformationCommand).resolves({
          InstanceInformationList: NODES.map((id, n) => ({
            InstanceId: id,
            PingStatus: n < 2 ? 'ConnectionLost' : 'Online',
            PlatformType: 'Linux',
          })),
        }),
      'nodes',
      `2 nodes are not online in SSM (ConnectionLost): ${NODES[0]}, ${NODES[1]} — start them, or check the agent`,
    ],
    [
      'a node is not Linux',
      () =>
        ssm.on(DescribeInstanceInformationCommand).resolves({
          InstanceInformationList: NODES.map((id, n) => ({
            InstanceId: id,
            PingStatus: 'Online',
            PlatformType: n === 2 ? 'Windows' : 'Linux',
          })),
        }),
      'nodes',
      `1 node is not Linux: ${NODES[2]} — the documents run on Linux only; remove the target tag`,
    ],
    [
      'tagged instances have no SSM agent',
      () =>
        ec2.on(DescribeInstancesCommand).resolves({
          Reservations: [{ Instances: [{ InstanceId: NODES[0] }, { InstanceId: 'i-0bbbbbbbbbbbbbbb9' }] }],
        }),
      'nodes',
      '1 running instance carries the target tags but is not managed by SSM: i-0bbbbbbbbbbbbbbb9 — install the SSM agent and attach AmazonSSMManagedInstanceCore to the instance profile',
    ],
    [
      'no scan was ever recorded',
      () => history({ Items: [] }),
      'last scan',
      "no scan recorded yet — start one: 'fleetscan scan --now --wait'",
    ],
    [
      'the last scan is old',
      () =>
        history({ Items: [scanItem(scan({ requestedAt: new Date(Date.now() - 3 * 3600_000).toISOString() }), 90)] }),
      'last scan',
      "the last scan started 3 h ago; the schedule (rate(15 minutes)) runs at least every 15 minutes — check the schedule and the scan function's errors",
    ],
    [
      'the last scan ended INCOMPLETE',
      () => history({ Items: [scanItem(scan({ status: 'INCOMPLETE' }), 90)] }),
      'last scan',
      "78de6bac 5 min ago ended INCOMPLETE — see the collect function's errors",
    ],
    [
      'the last scan is stuck RUNNING',
      () => {
        // 20 minutes: not yet overdue for the schedule, but long past its own collectAfter + 30 minutes?
        const requested = new Date(Date.now() - 25 * 60_000);
        const stuck = scan({
          status: 'RUNNING',
          requestedAt: requested.toISOString(),
          collectAfter: new Date(requested.getTime() - 10 * 60_000).toISOString(),
        });
        // The listing (byTime, then the items by key), the scan itself and its one shard: 40 of 120 nodes collected.
        history({ Items: [scanItem(stuck, 90)] });
        dynamo.on(GetCommand).resolves({ Item: scanItem(stuck, 90) });
        dynamo.on(QueryCommand, { IndexName: undefined }).resolves({
          Items: [
            shardItem(
              {
                scanId: stuck.scanId,
                shard: 0,
                targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
                commandId: stuck.commandId,
                status: 'RUNNING',
                collectAfter: stuck.collectAfter,
                page: 1,
                nextToken: 'page-2',
                listed: false,
                tallies: { ...NO_TALLIES, nodes: 40, counts: { OK: 40, WARN: 0, CRITICAL: 0, ERROR: 0 } },
                targeted: 120,
                attempts: 1,
                lastError: null,
                reason: null,
                leaseToken: null,
                leaseUntil: null,
              },
              90,
              stuck.requestedAt,
            ),
          ],
        });
      },
      'last scan',
      /^78de6bac 25 min ago is still RUNNING, due since .* UTC, 40\/120 nodes collected — see the collect function's errors and its dead-letter queue$/,
    ],
    [
      'the last scan reached no node',
      () => history({ Items: [scanItem(scan({ nodes: 0, counts: { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 } }), 90)] }),
      'last scan',
      '78de6bac 5 min ago reached no node — no managed node carries the target tags',
    ],
    [
      'an alarm is in ALARM',
      () =>
        cloudwatch.on(DescribeAlarmsCommand).resolves({
          MetricAlarms: ALARMS.map((name) => ({
            AlarmName: name,
            StateValue: name === 'Fleetscan-NoCompletedScan' ? 'ALARM' : 'OK',
            StateReason: 'Threshold Crossed: 1 datapoint [0.0] was less than the threshold (1.0).',
          })),
        }),
      'alarms',
      'Fleetscan-NoCompletedScan is in ALARM: Threshold Crossed: 1 datapoint [0.0] was less than the threshold (1.0).',
    ],
    [
      'an alarm is missing',
      () =>
        cloudwatch.on(DescribeAlarmsCommand).resolves({
          MetricAlarms: ALARMS.slice(1).map((name) => ({ AlarmName: name, StateValue: 'OK' })),
        }),
      'alarms',
      'Fleetscan-ScanErrors does not exist: redeploy the stack',
    ],
    [
      'the only subscription is pending',
      () =>
        sns.on(ListSubscriptionsByTopicCommand).resolves({
          Subscriptions: [
            { Protocol: 'email', Endpoint: 'oncall@example.com', SubscriptionArn: 'PendingConfirmation' },
          ],
        }),
      'notifications',
      'nobody receives alarms or summaries: no confirmed subscription (1 pending confirmation: email:oncall@example.com) — confirm the e-mail SNS sent',
    ],
    [
      'nobody is subscribed',
      () => sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] }),
      'notifications',
      'nobody receives alarms or summaries: no confirmed subscription — set fleetscan:notificationEmails and deploy',
    ],
    [
      'the stack’s last deploy failed',
      () => cloudformation.on(DescribeStacksCommand).resolves(stack({ status: 'UPDATE_ROLLBACK_COMPLETE' })),
      'stack',
      "Fleetscan is UPDATE_ROLLBACK_COMPLETE: the last deploy failed — see the stack's events, fix, and deploy again",
    ],
    [
      'a check is denied',
      () =>
        scheduler.on(GetScheduleCommand).rejects(
          Object.assign(new Error('User: alice is not authorized to perform: scheduler:GetSchedule'), {
            name: 'AccessDeniedException',
          }),
        ),
      'schedule',
      "cannot check: access denied — attach the stack's ReadOnly policy (output ReadOnlyPolicyArn) (User: alice is not authorized to perform: scheduler:GetSchedule)",
    ],
  ])('%s: one FIX line, exit 1', async (_problem, arrange, check, message) => {
    arrange();

    const result = await checks();

    expect(result.code).toBe(1);
    expect(fixes(result.checks)).toHaveLength(1);
    const [found] = fixes(result.checks);
    expect(found?.check).toBe(check);
    if (typeof message === 'string') expect(found?.message).toBe(message);
    else expect(found?.message).toMatch(message);
    expect(result.problems).toBe(1);
  });

  it('prints FIX lines and a count to act on, in the terminal form too', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    scheduler.on(GetScheduleCommand).resolves({ State: 'DISABLED', ScheduleExpression: 'rate(15 minutes)' });

    const result = await doctor();

    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.filter((line) => line.startsWith('FIX '))).toHaveLength(2);
    expect(lines.at(-1)).toBe("2 things to fix: the FIX lines above, then run 'fleetscan doctor' again");
  });

  it('reports a stack that predates the outputs doctor reads, and stops there', async () => {
    const { scheduleName: _s, alarmNames: _a, ...older } = OUTPUTS;
    cloudformation.on(DescribeStacksCommand).resolves(stack({ outputs: older }));

    const result = await checks();

    expect(result.code).toBe(1);
    expect(fixes(result.checks).map((entry) => entry.message)).toEqual([
      'Fleetscan lacks outputs doctor reads (scheduleName, alarmNames): it predates this fleetscan — redeploy it (npx cdk deploy)',
    ]);
    expect(scheduler).toHaveReceivedCommandTimes(GetScheduleCommand, 0);
  });

  it('says the stack does not exist in one line naming the region, exit 1', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id Fleetscan does not exist'), { name: 'ValidationError' }));

    const result = await doctor();

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'fleetscan doctor: no such stack: Fleetscan in eu-west-1 — deploy it (npx cdk deploy), or pass --stack NAME or --region REGION\n',
    );
  });

  it('rejects unknown flags and mixing --local with --stack, exit 2', async () => {
    const unknown = await doctor(['--stacks', 'x']);
    const mixed = await invoke(['doctor', '--local', '--stack', 'x']);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "fleetscan doctor: unknown option '--stacks' — did you mean --stack? (see 'fleetscan doctor --help')\n",
    );
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toBe("fleetscan doctor: --local checks the demo's data: it cannot be combined with --stack\n");
  });

  it('answers --help with its usage, exit 0', async () => {
    const result = await invoke(['doctor', '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: fleetscan doctor \[--stack NAME\]/);
  });
});

describe('doctor: the last scan, from the fields the collector fills', () => {
  // As the store answers: a listing without progress, the scan itself with it.
  const reader = (record: ScanRecord) => {
    const { progress: _progress, ...listed } = record;
    return {
      listScans: async () => ({ items: [listed] }),
      getScan: async (scanId: string) => (scanId === record.scanId ? record : null),
    } as unknown as HistoryReader;
  };
  const judge = (record: ScanRecord) =>
    lastScanChecks(reader(record), { config: DEFAULT_CONFIG, judgeAge: true, now: new Date() });

  it('names why a scan ended INCOMPLETE when the collector said', async () => {
    const [check] = await judge(scan({ status: 'INCOMPLETE', incompleteReason: 'gave up after 8 attempts' }));
    expect(check).toEqual({
      check: 'last scan',
      status: 'fix',
      message: "78de6bac 5 min ago ended INCOMPLETE: gave up after 8 attempts — see the collect function's errors",
    });
  });

  it('shows a running scan’s progress, collected of targeted, or collected alone until SSM said', async () => {
    const running = { status: 'RUNNING' as const, collectAfter: new Date(Date.now() + 600_000).toISOString() };
    expect(await judge(scan({ ...running, progress: { collected: 120, targeted: 400 } }))).toEqual([
      { check: 'last scan', status: 'info', message: '78de6bac 5 min ago: RUNNING, 120/400 nodes collected' },
    ]);
    expect(await judge(scan({ ...running, progress: { collected: 50, targeted: null } }))).toEqual([
      { check: 'last scan', status: 'info', message: '78de6bac 5 min ago: RUNNING, 50 nodes collected' },
    ]);
    expect(await judge(scan(running))).toEqual([
      { check: 'last scan', status: 'info', message: '78de6bac 5 min ago: RUNNING' },
    ]);
  });

  it('points at the ERROR nodes of a completed scan without calling them a problem of the deployment', async () => {
    const checks = await judge(scan({ counts: { OK: 2, WARN: 0, CRITICAL: 0, ERROR: 2 } }));
    expect(checks.map((entry) => entry.status)).toEqual(['ok', 'info']);
    expect(checks[1]?.message).toBe("2 nodes could not be judged (ERROR): 'fleetscan scan 78de6bac' lists why");
  });
});
