/**
 * What the collect Lambda receives, decoded: an SSM command status-change event from EventBridge, or the scan
 * Lambda's sweep payload. Pure, so that the handler stays a few lines of wiring.
 */
import { COMMAND_STATUS_DETAIL_TYPE, EVENT_SOURCES, TERMINAL_COMMAND_STATUSES } from '../config/contracts.ts';
import type { CollectRequest } from './collect.ts';
import type { CommandKind } from './ports.ts';

const SWEEP_SOURCE = EVENT_SOURCES.sweep;

/** What the scan Lambda sends the collect Lambda for an overdue command. */
export interface SweepPayload {
  readonly source: typeof SWEEP_SOURCE;
  readonly kind: CommandKind;
  readonly commandId: string;
}

export function sweepPayload(kind: CommandKind, commandId: string): SweepPayload {
  return { source: SWEEP_SOURCE, kind, commandId };
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
  if (event.source === SWEEP_SOURCE) {
    const { kind, commandId } = event;
    if ((kind !== 'gather' && kind !== 'remediate') || typeof commandId !== 'string' || commandId === '') {
      throw new UnrecognizedEventError('sweep payload needs kind (gather|remediate) and commandId');
    }
    return { kind: 'collect', request: { kind, commandId } };
  }
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
  return {
    kind: 'collect',
    request: requestedAt === undefined ? { kind, commandId } : { kind, commandId, requestedAt },
  };
}
