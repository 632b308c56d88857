import { Stack } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ISchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { TABLE_ACCESS } from '../adapters/table-access.ts';
import { CLI_ACTIONS } from '../config/contracts.ts';
import { acknowledgeFinding } from './nag.ts';
import { tableStatements } from './table-grants.ts';

export interface CliPoliciesProps {
  readonly stackName: string;
  readonly table: TableV2;
  readonly scanFunction: IFunction;
  readonly schedule: ISchedule;
  readonly topic: ITopic;
  readonly alarmArns: readonly string[];
}

/**
 * The two managed policies a person using the CLI needs, named `<stack>-<region>-ReadOnly` and `-Operator` (IAM
 * names are global to the account, the stack is not: a copy in another region must not collide):
 * read-only for the history commands and `doctor`; operator, attached beside it, for `clear` and `scan --now`.
 * Each action is granted on the one resource of this stack it reads or changes; only the two that have no
 * resource type in IAM take `*`.
 */
export class CliPolicies extends Construct {
  readonly readOnly: ManagedPolicy;
  readonly operator: ManagedPolicy;

  constructor(scope: Construct, id: string, props: CliPoliciesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = `${props.stackName}-${stack.region}`;
    const stackArn = stack.formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${props.stackName}/*`,
    });
    /** Where each of the CLI's actions applies. */
    const resourcesOf: Record<(typeof CLI_ACTIONS)[keyof typeof CLI_ACTIONS][number], string[]> = {
      'cloudformation:DescribeStacks': [stackArn],
      'lambda:GetFunctionConfiguration': [props.scanFunction.functionArn],
      'lambda:InvokeFunction': [props.scanFunction.functionArn],
      'scheduler:GetSchedule': [props.schedule.scheduleArn],
      // Neither has an IAM resource type: they accept only "*".
      'ssm:DescribeInstanceInformation': ['*'],
      'ec2:DescribeInstances': ['*'],
      // AWS's own example grants DescribeAlarms on named alarms:
      // https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_cloudwatch.html
      'cloudwatch:DescribeAlarms': [...props.alarmArns],
      'sns:ListSubscriptionsByTopic': [props.topic.topicArn],
    };
    const statements = (sid: string, actions: readonly (keyof typeof resourcesOf)[]) =>
      actions.map(
        (action, index) =>
          new PolicyStatement({ sid: `${sid}${index}`, actions: [action], resources: resourcesOf[action] }),
      );

    this.readOnly = new ManagedPolicy(this, 'ReadOnly', {
      managedPolicyName: `${prefix}-ReadOnly`,
      description: `fleetscan ${props.stackName}: the history commands and fleetscan doctor (read only)`,
      statements: [
        ...statements('FindStack', CLI_ACTIONS.findStack),
        ...tableStatements(props.table, TABLE_ACCESS.historyReader),
        ...statements('Doctor', CLI_ACTIONS.doctor),
      ],
    });
    acknowledgeFinding(
      this.readOnly,
      'AwsSolutions-IAM5[Resource::*]',
      'doctor counts the managed nodes with the target tags: ssm:DescribeInstanceInformation and ec2:DescribeInstances have no IAM resource type and accept only "*".',
    );
    acknowledgeFinding(
      this.readOnly,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${props.stackName}/*]`,
      'A stack ARN ends in the stack id CloudFormation assigns; the wildcard stands for that id of this one stack only.',
    );

    this.operator = new ManagedPolicy(this, 'Operator', {
      managedPolicyName: `${prefix}-Operator`,
      description: `fleetscan ${props.stackName}: fleetscan clear and fleetscan scan --now (attach its ReadOnly policy too)`,
      statements: [
        ...statements('FindStack', CLI_ACTIONS.findStack),
        ...tableStatements(props.table, TABLE_ACCESS.operator),
        ...statements('ScanNow', CLI_ACTIONS.scanNow),
      ],
    });
    acknowledgeFinding(
      this.operator,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${props.stackName}/*]`,
      'A stack ARN ends in the stack id CloudFormation assigns; the wildcard stands for that id of this one stack only.',
    );
  }
}
