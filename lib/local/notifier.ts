/**
 * The local `Notifier`: what SNS would deliver, as one compact line on the terminal per notification, the full
 * message appended to a log file (`<data dir>/notifications.log`), one block per notification, and one JSON object
 * per notification appended to `<data dir>/notifications.jsonl` (what it is about, by node id):
 *
 *   {"at", "kind", "kinds", "severity", "scanId", "subject", "newProblems", "recovered", "ongoing", "remediations"}
 *
 * The log's blocks:
 *
 *   --- notification severity=CRITICAL scanId=<id> at=<ISO-8601>
 *   subject: <subject>
 *   <body lines>
 *   (blank line)
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sanitizeText } from '../core/sanitize.ts';
import { MAX_BODY_BYTES, MAX_SUBJECT_LENGTH } from '../runtime/notify.ts';
import type { Clock, Notification, Notifier } from '../runtime/ports.ts';

export const NOTIFICATIONS_FILE = 'notifications.log';
export const NOTIFICATIONS_JSONL = 'notifications.jsonl';
const HEADER = '--- notification';

export interface LocalNotifierOptions {
  /** Where the full notifications are appended. */
  readonly file: string;
  /** Receives the one-line summary (the terminal); omit to stay quiet. */
  readonly line?: (text: string) => void;
  /** Stamps each block (the demo's simulated time). */
  readonly clock: Clock;
}

export class LocalNotifier implements Notifier {
  /** Notifications published through this instance, in order. */
  readonly published: Notification[] = [];

  constructor(private readonly options: LocalNotifierOptions) {}

  async publish(notification: Notification): Promise<void> {
    this.published.push(notification);
    const subject = sanitizeText(notification.subject, MAX_SUBJECT_LENGTH);
    const body = sanitizeText(notification.body, MAX_BODY_BYTES, { multiline: true }).replace(/\n+$/, '');
    const block = [
      `${HEADER} severity=${notification.severity} kind=${notification.kinds.join(',')} scanId=${sanitizeText(notification.scanId, 80)} at=${this.options.clock.now().toISOString()}`,
      `subject: ${subject}`,
      body,
      '',
      '',
    ].join('\n');
    await mkdir(path.dirname(this.options.file), { recursive: true });
    await appendFile(this.options.file, block, 'utf8');
    const facts = notification.facts;
    const json = {
      at: this.options.clock.now().toISOString(),
      // The main kind (the first it carries) and all of them.
      kind: notification.kinds[0] ?? 'change',
      kinds: notification.kinds,
      severity: notification.severity,
      scanId: sanitizeText(notification.scanId, 80),
      subject,
      newProblems: facts.newProblems.map((id) => sanitizeText(id, 80)),
      recovered: facts.recovered.map((id) => sanitizeText(id, 80)),
      ongoing: facts.ongoing.map((id) => sanitizeText(id, 80)),
      remediations: facts.remediations.map((entry) => ({ ...entry, nodeId: sanitizeText(entry.nodeId, 80) })),
    };
    await appendFile(
      path.join(path.dirname(this.options.file), NOTIFICATIONS_JSONL),
      `${JSON.stringify(json)}\n`,
      'utf8',
    );
    this.options.line?.(`  notify ${notification.severity.padEnd(8)} ${subject}`);
  }
}

export interface LoggedNotification {
  readonly severity: string;
  readonly scanId: string;
  readonly at: string;
  readonly subject: string;
  readonly body: string;
}

/** Reads the log back (the demo's tests; anyone scripting against it). */
export function parseNotificationLog(text: string): LoggedNotification[] {
  const out: LoggedNotification[] = [];
  for (const block of text.split(`${HEADER} `).slice(1)) {
    const [header = '', subjectLine = '', ...rest] = block.split('\n');
    const field = (name: string): string => new RegExp(`(?:^| )${name}=(\\S+)`).exec(header)?.[1] ?? '';
    out.push({
      severity: field('severity'),
      scanId: field('scanId'),
      at: field('at'),
      subject: subjectLine.replace(/^subject: /, ''),
      body: rest.join('\n').replace(/\n+$/, ''),
    });
  }
  return out;
}
