import type { Notification, Notifier } from '../../../lib/runtime/ports.ts';

/** Keeps every notification, in order; `failNext` makes the next publishes throw (SNS down). */
export class RecordingNotifier implements Notifier {
  readonly sent: Notification[] = [];
  failNext = 0;

  async publish(notification: Notification): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('simulated SNS outage');
    }
    this.sent.push(notification);
  }
}
