import { Duration, Stack } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE_ACCESS } from '../adapters/table-access.ts';
import { COMMAND_STATUS_DETAIL_TYPE, EVENT_SOURCES, TERMINAL_COMMAND_STATUSES } from '../config/contracts.ts';
import type { FleetscanConfig } from '../config/types.ts';
import type { FleetscanDocuments } from './documents.ts';
import { arnInFinding, FleetscanFunction, stackFunctionName } from './function.ts';
import { acknowledgeFinding } from './nag.ts';

export interface ScannerProps {
  readonly config: FleetscanConfig;
  readonly documents: FleetscanDocuments;
  readonly table: TableV2;
  readonly topic: ITopic;
  /** Whether the schedule starts scans (fleetscan:enabled). */
  readonly enabled: boolean;
}

/**
 * scan on a schedule, collect on each of our commands' completion. scan also sweeps: it invokes collect for
 * scans whose completion event never came (SSM sends those events best effort).
 */
export class Scanner extends Construct {
  readonly scan: FleetscanFunction;
  readonly collect: FleetscanFunction;
  /** Schedule and event deliveries that failed after their retries. */
  readonly deliveryDlq: Queue;
  readonly schedule: Schedule;
  readonly commandStatusRule: Rule;

  constructor(scope: Construct, id: string, props: ScannerProps) {
    super(scope, id);
    const { config, documents, table, topic } = props;

    this.collect = new FleetscanFunction(this, 'Collect', {
      entry: 'lambdas/collect/handler.ts',
      serviceName: 'fleetscan-collect',
      description: 'fleetscan: collects command outputs, evaluates, stores history, remediates, notifies',
      config,
      timeout: Duration.minutes(5),
      memorySize: 512,
      // Collection is idempotent (conditional writes), so a retry only costs time.
      retryAttempts: 2,
      // Named, so that its own policy can name it: it invokes itself to hand off (allowSelfInvoke).
      functionName: stackFunctionName(Stack.of(this).stackName, 'collect'),
    });
    this.collect.allowSelfInvoke();
    this.collect.bindTable(table, TABLE_ACCESS.collectFunction);
    this.collect.bindTopic(topic, 'publish');
    this.collect.bindDocuments(documents, documents.remediate, config.targets);
    this.collect.denySendToOptedOut(config.remediation.optOutTag);
    this.allowCommandResults(this.collect);

    this.scan = new FleetscanFunction(this, 'Scan', {
      entry: 'lambdas/scan/handler.ts',
      serviceName: 'fleetscan-scan',
      description: 'fleetscan: sends the gather document to the target nodes and sweeps unfinished scans',
      config,
      timeout: Duration.minutes(1),
      // A retry could send a second gather command in the same period; the next schedule tick is the retry.
      retryAttempts: 0,
    });
    this.scan.bindTable(table, TABLE_ACCESS.scanFunction);
    this.scan.bindTopic(topic, 'reference');
    this.scan.bindDocuments(documents, documents.gather, config.targets);
    this.scan.bindCollector(this.collect);

    this.deliveryDlq = new Queue(this, 'DeliveryDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeFinding(
      this.deliveryDlq,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the scan schedule and the command-status rule; an alarm watches its depth.',
    );

    const scheduleRole = new Role(this, 'ScheduleRole', {
      description: 'fleetscan: lets EventBridge Scheduler start the scan function',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    acknowledgeFinding(
      scheduleRole,
      `AwsSolutions-IAM5[Resource::${arnInFinding(this.scan)}:*]`,
      'Invoke is granted on the scan function and its versions/aliases; no other function is reachable.',
    );
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'fleetscan: starts a scan',
      enabled: props.enabled,
      schedule: ScheduleExpression.expression(config.schedule),
      target: new LambdaInvoke(this.scan, {
        input: ScheduleTargetInput.fromObject({
          source: EVENT_SOURCES.schedule,
          scheduledTime: ContextAttribute.scheduledTime,
          executionId: ContextAttribute.executionId,
        }),
        role: scheduleRole,
        deadLetterQueue: this.deliveryDlq,
        retryAttempts: 2,
        // A scan that starts much later than planned overlaps the next one; drop it instead.
        maxEventAge: Duration.minutes(10),
      }),
    });

    this.commandStatusRule = new Rule(this, 'CommandStatus', {
      description: 'fleetscan: a gather or remediate command finished',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: [COMMAND_STATUS_DETAIL_TYPE],
        detail: {
          'document-name': [documents.gather.name, documents.remediate.name],
          status: [...TERMINAL_COMMAND_STATUSES],
        },
      },
      targets: [
        new LambdaFunction(this.collect, {
          deadLetterQueue: this.deliveryDlq,
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }

  /**
   * Reading command results. ListCommandInvocations, GetCommandInvocation and ListCommands (what SSM remembers of
   * a remediate command a crashed collection sent but did not record: lib/runtime/remediate.ts) have no resource
   * type in IAM, and DescribeInstances has no resource-level permissions (used for the opt-out tag), so they can
   * only take `*`. Tags of hybrid nodes come from ssm:ListTagsForResource, which does take the managed-instance
   * resource.
   */
  private allowCommandResults(fn: FleetscanFunction): void {
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadCommandResults',
        actions: [
          'ssm:ListCommandInvocations',
          'ssm:GetCommandInvocation',
          'ssm:ListCommands',
          'ec2:DescribeInstances',
        ],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadHybridNodeTags',
        actions: ['ssm:ListTagsForResource'],
        resources: [stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' })],
      }),
    );
    acknowledgeFinding(
      fn.executionRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ssm:ListCommandInvocations, ssm:GetCommandInvocation and ssm:ListCommands have no IAM resource type and ec2:DescribeInstances has no resource-level permissions: they only accept "*".',
    );
  }
}
