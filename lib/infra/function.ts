import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ArnFormat, type CfnElement, Duration, Stack, Token } from 'aws-cdk-lib';
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

/**
 * Lambda's limit on a function name given as a name (not an ARN): 64 characters of [a-zA-Z0-9-_]
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html, FunctionName).
 */
export const FUNCTION_NAME_MAX_CHARS = 64;

/**
 * The name of one of a stack's functions: `<stack>-<role>`, unique in the account and region as the stack's name
 * is. A stack name too long for that (CloudFormation allows 128 characters) is cut and followed by a hash of the
 * whole name, so two long stack names that share their first characters still name different functions.
 */
export function stackFunctionName(stackName: string, role: string): string {
  if (Token.isUnresolved(stackName)) throw new Error(`a function name needs a literal stack name, not ${stackName}`);
  const whole = `${stackName}-${role}`;
  if (whole.length <= FUNCTION_NAME_MAX_CHARS) return whole;
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 8);
  const room = FUNCTION_NAME_MAX_CHARS - role.length - hash.length - 2;
  return `${stackName.slice(0, room)}-${hash}-${role}`;
}

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
  /** An explicit name ({@link stackFunctionName}), for a function whose own policy must name it. @default generated */
  readonly functionName?: string;
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
  /** The explicit name it was given, if any. */
  private readonly explicitName: string | undefined;

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
      ...(props.functionName === undefined ? {} : { functionName: props.functionName }),
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
    this.explicitName = props.functionName;
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

  /**
   * lambda:InvokeFunction on this very function, unqualified, and nothing else: a collection running out of time
   * hands its work to a fresh invocation of the function it runs in (lambdas/collect/handler.ts invokes
   * AWS_LAMBDA_FUNCTION_NAME, which Lambda sets to this name). The ARN is built from the explicit name: the
   * function's own ARN attribute would make a cycle (the function depends on its role's policy).
   */
  allowSelfInvoke(): void {
    if (this.explicitName === undefined) throw new Error(`${this.node.path}: invoking itself needs an explicit name`);
    this.addToRolePolicy(
      new PolicyStatement({
        sid: 'HandOffToItself',
        actions: ['lambda:InvokeFunction'],
        resources: [
          Stack.of(this).formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: this.explicitName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
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
