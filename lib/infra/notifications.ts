import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  readonly emails: readonly string[];
}

/**
 * The one topic scan summaries, remediation outcomes and alarms go to. Encrypted with a customer-managed key
 * because CloudWatch alarms cannot publish to a topic under the AWS-managed alias/aws/sns key (its policy cannot
 * be changed to let cloudwatch.amazonaws.com use it).
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
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'fleetscan',
      enforceSSL: true,
      masterKey: this.key,
    });
    for (const email of props.emails) this.topic.addSubscription(new EmailSubscription(email));
  }
}
