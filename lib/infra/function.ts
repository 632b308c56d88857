import { fileURLToPath } from 'node:url';
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type IFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TableAccess } from '../adapters/table-access.ts';
import { FUNCTION_ENV, metricsNamespace } from '../config/contracts.ts';
import type { FleetscanConfig, TargetTag } from '../config/types.ts';
import type { CommandDocument } from './documents.ts';
import { acknowledgeFinding } from './nag.ts';
import { tableStatements } from './table-grants.ts';

export const LOG_RETENTION = RetentionDays.ONE_MONTH;

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FleetscanFunctionProps {
  /** Handler file relative to the project root; it must export `handler`. */
  readonly entry: string;
  /** POWERTOOLS_SERVICE_NAME, e.g. `fleetscan-scan`. */
  readonly serviceName: string;
  readonly description: string;
  readonly config: FleetscanConfig;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Retries of a failed asynchronous invocation before it goes to the dead-letter queue. */
  readonly retryAttempts: number;
}

/**
 * A fleetscan Lambda: runtime, architecture, bundling, log group with retention, dead-letter queue and a role of
 * its own, set once. The `bind*` methods pair each grant with the environment variable that names the resource,
 * so neither can be forgotten.
 */
export class FleetscanFunction extends NodejsFunction {
  /** Where asynchronous invocations go after their last retry. */
  readonly dlq: Queue;
  /** The function's own role: acknowledgements of its policy's findings are made here. */
  readonly executionRole: Role;
  /** POWERTOOLS_SERVICE_NAME: also the `service` dimension of every metric it emits. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: FleetscanFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: LOG_RETENTION });
    // An own role without AWSLambdaBasicExecutionRole: the function writes only to its own log group.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.serviceName} Lambda function`,
    });
    const dlq = new Queue(scope, `${id}Dlq`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    super(scope, id, {
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      role,
      logGroup,
      deadLetterQueue: dlq,
      retryAttempts: props.retryAttempts,
      environment: {
        [FUNCTION_ENV.serviceName]: props.serviceName,
        [FUNCTION_ENV.metricsNamespace]: metricsNamespace(Stack.of(scope).stackName),
        [FUNCTION_ENV.config]: JSON.stringify(props.config),
        // Stack traces point into the TypeScript sources rather than the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        externalModules: ['@aws-sdk/*'],
        // Some CommonJS dependencies call require(); ESM output needs it defined.
        banner: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
        mainFields: ['module', 'main'],
      },
    });
    this.dlq = dlq;
    this.executionRole = role;
    this.serviceName = props.serviceName;
    logGroup.grantWrite(role);
  }

  /** TABLE_NAME, and exactly the DynamoDB actions `access` declares (lib/adapters/table-access.ts). */
  bindTable(table: TableV2, access: TableAccess): void {
    for (const statement of tableStatements(table, access)) this.addToRolePolicy(statement);
    this.addEnvironment(FUNCTION_ENV.tableName, table.tableName);
  }

  /** TOPIC_ARN; `publish` also grants sns:Publish and the use of the topic's key. */
  bindTopic(topic: ITopic, access: 'publish' | 'reference'): void {
    this.addEnvironment(FUNCTION_ENV.topicArn, topic.topicArn);
    if (access === 'reference') return;
    topic.grantPublish(this);
    if (topic.masterKey) {
      acknowledgeFinding(
        this.executionRole,
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'Publishing to the encrypted topic needs GenerateDataKey on its key; the statement names that one key only.',
      );
    }
  }

  /**
   * GATHER_DOCUMENT and REMEDIATE_DOCUMENT (each function tells the two apart by name), and ssm:SendCommand of
   * `send` only: on the document itself and on instances and hybrid managed instances that carry one of the
   * target tags. Statements are per target so that an instance matching any one of them may receive the command.
   */
  bindDocuments(
    documents: { readonly gather: CommandDocument; readonly remediate: CommandDocument },
    send: CommandDocument,
    targets: readonly TargetTag[],
  ): void {
    this.addEnvironment(FUNCTION_ENV.gatherDocument, documents.gather.name);
    this.addEnvironment(FUNCTION_ENV.remediateDocument, documents.remediate.name);
    this.addToRolePolicy(
      new PolicyStatement({ sid: 'SendOurDocument', actions: ['ssm:SendCommand'], resources: [send.arn] }),
    );
    for (const [index, target] of targets.entries()) {
      this.addToRolePolicy(
        new PolicyStatement({
          sid: `SendToTargets${index}`,
          actions: ['ssm:SendCommand'],
          resources: nodeArns(this),
          conditions: { StringEquals: { [`ssm:resourceTag/${target.tagKey}`]: [...target.tagValues] } },
        }),
      );
    }
    for (const arn of NODE_ARNS_IN_FINDINGS) {
      acknowledgeFinding(
        this.executionRole,
        `AwsSolutions-IAM5[Resource::${arn}]`,
        'SendCommand must name the nodes it reaches; any node is allowed only with a target tag (ssm:resourceTag condition).',
      );
    }
  }

  /** An opted-out node can never be sent a command by this function, whatever the code decides. */
  denySendToOptedOut(tag: { readonly key: string; readonly value: string }): void {
    this.addToRolePolicy(
      new PolicyStatement({
        sid: 'NeverSendToOptedOutNodes',
        effect: Effect.DENY,
        actions: ['ssm:SendCommand'],
        resources: nodeArns(this),
        conditions: { StringEquals: { [`ssm:resourceTag/${tag.key}`]: tag.value } },
      }),
    );
  }

  /** COLLECT_FUNCTION_NAME with lambda:InvokeFunction on that function. */
  bindCollector(collector: IFunction): void {
    collector.grantInvoke(this);
    this.addEnvironment(FUNCTION_ENV.collectFunctionName, collector.functionName);
    acknowledgeFinding(
      this.executionRole,
      `AwsSolutions-IAM5[Resource::${arnInFinding(collector)}:*]`,
      'Invoke is granted on the collect function and its versions/aliases; no other function is reachable.',
    );
  }
}

function nodeArns(scope: Construct): string[] {
  const stack = Stack.of(scope);
  return [
    stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
    stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
  ];
}

/** The node ARNs as cdk-nag spells them in finding ids. */
const NODE_ARNS_IN_FINDINGS = [
  'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*',
  'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/*',
];

/** A resource's `Fn::GetAtt [<id>, Arn]` as cdk-nag spells it in finding ids: `<LogicalId.Arn>`. */
export function arnInFinding(resource: Construct): string {
  return `<${Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnElement)}.Arn>`;
}
