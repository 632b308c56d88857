/**
 * Notifier over SNS: one Publish per notification, with `severity` and `scanId` as String message attributes and
 * `kind` (change, outcome, digest, scan-failed) as a String.Array, so that subscription filter policies can select
 * (only CRITICAL; only digests — a filter matches a String.Array when any of its values does).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { sanitizeText } from '../core/sanitize.ts';
import type { Notification, Notifier } from '../runtime/ports.ts';

export interface SnsNotifierOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
}

export class SnsNotifier implements Notifier {
  constructor(private readonly options: SnsNotifierOptions) {}

  async publish(notification: Notification): Promise<void> {
    await this.options.client.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        // SNS rejects subjects of 100 characters or more, or with line breaks: enforce it here as well.
        Subject: sanitizeText(notification.subject, 99),
        Message: notification.body,
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: notification.severity },
          scanId: { DataType: 'String', StringValue: notification.scanId },
          kind: { DataType: 'String.Array', StringValue: JSON.stringify(notification.kinds) },
        },
      }),
    );
  }
}
