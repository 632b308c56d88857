import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  readonly emails: readonly string[];
}

/**
 * Every action a topic's resource policy can name ("Valid Amazon SNS policy actions",
 * https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html): the TLS
 * deny covers them all, not only Publish.
 */
export const TOPIC_ACTIONS = [
  'sns:AddPermission',
  'sns:DeleteTopic',
  'sns:GetDataProtectionPolicy',
  'sns:GetTopicAttributes',
  'sns:ListSubscriptionsByTopic',
  'sns:ListTagsForResource',
  'sns:Publish',
  'sns:PutDataProtectionPolicy',
  'sns:RemovePermission',
  'sns:SetTopicAttributes',
  'sns:Subscribe',
] as const;

const CLOUDWATCH = 'cloudwatch.amazonaws.com';

/**
 * The one topic scan summaries, remediation outcomes and alarms go to. Encrypted with a customer-managed key
 * because CloudWatch alarms cannot publish to a topic under the AWS-managed alias/aws/sns key (its policy cannot
 * be changed to let cloudwatch.amazonaws.com use it).
 *
 * An explicit topic policy replaces SNS's default one, so the CloudWatch service principal needs its own Allow —
 * without it an alarm "deploys cleanly and silently delivers nothing". Both that Allow and the key statement are
 * scoped with aws:SourceAccount and aws:SourceArn to this account's alarms of this stack (SNS's guide to keys for
 * AWS event sources: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). No other AWS service
 * publishes here; EventBridge in particular is not given the key, and must never get it under those conditions:
 * its deliveries to an encrypted topic do not carry them.
 */
export class Notifications extends Construct {
  readonly topic: Topic;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'fleetscan notifications topic',
      enableKeyRotation: true,
      // The key protects messages in flight only; nothing stays encrypted under it once the topic is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // enforceSSL would deny Publish only; the statement below denies every topic action.
    this.topic = new Topic(this, 'Topic', { displayName: 'fleetscan', masterKey: this.key });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyWithoutTls',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: [...TOPIC_ACTIONS],
        resources: [this.topic.topicArn],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    for (const email of props.emails) this.topic.addSubscription(new EmailSubscription(email));
  }

  /**
   * Lets these CloudWatch alarms, and no others, publish: sns:Publish on the topic and the two key actions SNS
   * needs for an encrypted message. ARNs, not references: the key's policy is part of the key, which the topic and
   * so the alarms depend on.
   */
  allowAlarms(alarmArns: readonly string[]): void {
    const source = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: { 'aws:SourceArn': [...alarmArns] },
    };
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal(CLOUDWATCH)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: source,
      }),
    );
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal(CLOUDWATCH)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: source,
      }),
    );
  }
}
