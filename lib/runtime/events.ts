/**
 * What the collect Lambda receives, decoded: an SSM command status-change event from EventBridge, or the scan
 * Lambda's sweep payload. Pure, so that the handler stays a few lines of wiring.
 */
import { COMMAND_STATUS_DETAIL_TYPE, EVENT_SOURCES, TERMINAL_COMMAND_STATUSES } from '../config/contracts.ts';
import type { CollectRequest } from './collect.ts';
import type { CommandKind, WorkItem } from './ports.ts';

const SWEEP_SOURCE = EVENT_SOURCES.sweep;

/** What the scan Lambda (sweep) and a collection handing off send the collect Lambda: one work item. */
export type SweepPayload = { readonly source: typeof SWEEP_SOURCE } & WorkItem;

export function sweepPayload(work: WorkItem): SweepPayload {
  return { source: SWEEP_SOURCE, ...work };
}

/** A payload that is neither an SSM status event nor a sweep: a wiring mistake worth a dead letter, not a shrug. */
export class UnrecognizedEventError extends Error {
  override readonly name = 'UnrecognizedEventError';
}

export type Decoded =
  | { readonly kind: 'collect'; readonly request: CollectRequest }
  | { readonly kind: 'ignore'; readonly reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The event names the document by name; an ARN (`…:document/<name>`) names it too. */
function sameDocument(eventName: string, configured: string): boolean {
  const bare = (value: string) => value.slice(value.lastIndexOf('/') + 1);
  return eventName === configured || bare(eventName) === bare(configured);
}

export function decodeCollectEvent(
  event: unknown,
  documents: { readonly gather: string; readonly remediate: string },
): Decoded {
  if (!isRecord(event)) throw new UnrecognizedEventError('collect event is not an object');
  if (event.source === SWEEP_SOURCE) return { kind: 'collect', request: { work: workOf(event) } };
  if (event.source !== 'aws.ssm' || event['detail-type'] !== COMMAND_STATUS_DETAIL_TYPE || !isRecord(event.detail)) {
    throw new UnrecognizedEventError(
      `collect expects '${COMMAND_STATUS_DETAIL_TYPE}' events from aws.ssm or '${SWEEP_SOURCE}' payloads`,
    );
  }
  const detail = event.detail;
  const commandId = detail['command-id'];
  const documentName = detail['document-name'];
  const status = detail.status;
  if (typeof commandId !== 'string' || typeof documentName !== 'string' || typeof status !== 'string') {
    throw new UnrecognizedEventError('command status event lacks command-id, document-name or status');
  }
  const normalized = status.replace(/\s+/g, '');
  if (!(TERMINAL_COMMAND_STATUSES as readonly string[]).includes(normalized)) {
    return { kind: 'ignore', reason: `command status ${normalized} is not final` };
  }
  const kind: CommandKind | undefined = sameDocument(documentName, documents.gather)
    ? 'gather'
    : sameDocument(documentName, documents.remediate)
      ? 'remediate'
      : undefined;
  if (kind === undefined) return { kind: 'ignore', reason: 'not a fleetscan document' };
  const requested = detail['requested-date-time'];
  const requestedAt =
    typeof requested === 'string' && !Number.isNaN(Date.parse(requested))
      ? new Date(requested).toISOString()
      : undefined;
  const work: WorkItem = { kind, commandId };
  return { kind: 'collect', request: requestedAt === undefined ? { work } : { work, requestedAt } };
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

function workOf(event: Record<string, unknown>): WorkItem {
  const { kind, commandId, scanId, lease } = event;
  if (kind === 'scan') {
    if (typeof scanId !== 'string' || !ID.test(scanId)) throw new UnrecognizedEventError('scan work needs a scanId');
    return { kind, scanId };
  }
  if ((kind !== 'gather' && kind !== 'remediate') || typeof commandId !== 'string' || !ID.test(commandId)) {
    throw new UnrecognizedEventError(
      'sweep payload needs kind (gather|remediate) and commandId, or kind scan and scanId',
    );
  }
  if (kind === 'gather' && lease !== undefined) {
    if (typeof lease !== 'string' || !ID.test(lease)) throw new UnrecognizedEventError('a hand-off lease is an id');
    return { kind, commandId, lease };
  }
  return { kind, commandId };
}
