/**
 * Notifier over SNS: one Publish per notification, with `severity` and `scanId` as String message attributes and
 * `kind` (change, outcome, digest, scan-failed) as a String.Array, so that subscription filter policies can select
 * (only CRITICAL; only digests — a filter matches a String.Array when any of its values does).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { sanitizeText } from '../core/sanitize.ts';
import { MAX_BODY_BYTES, MAX_SUBJECT_LENGTH } from '../runtime/notify.ts';
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
        // SNS rejects subjects of 100 characters or more, or with line breaks or control characters. The message
        // builders sanitize what came from a node; the last step before a mail client does so as well.
        Subject: sanitizeText(notification.subject, MAX_SUBJECT_LENGTH),
        Message: sanitizeText(notification.body, MAX_BODY_BYTES, { multiline: true }),
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: notification.severity },
          scanId: { DataType: 'String', StringValue: sanitizeText(notification.scanId, 80) },
          kind: { DataType: 'String.Array', StringValue: JSON.stringify(notification.kinds) },
        },
      }),
    );
  }
}
