import { describe, expect, it } from 'vitest';
import { decodeCollectEvent, sweepPayload, UnrecognizedEventError } from '../../lib/runtime/events.ts';

const documents = { gather: 'Fleetscan-Gather', remediate: 'Fleetscan-Remediate' };

function statusEvent(detail: Record<string, unknown>) {
  return {
    version: '0',
    source: 'aws.ssm',
    'detail-type': 'EC2 Command Status-change Notification',
    detail: {
      'command-id': 'cmd-1',
      'document-name': 'Fleetscan-Gather',
      'expire-after': '2025-03-01T14:00:00.000Z',
      parameters: {},
      'requested-date-time': '2025-03-01T12:00:00.123Z',
      status: 'Success',
      ...detail,
    },
  };
}

describe('decodeCollectEvent', () => {
  it('turns a final gather status event into a gather collection with its requested time', () => {
    expect(decodeCollectEvent(statusEvent({}), documents)).toEqual({
      kind: 'collect',
      request: { kind: 'gather', commandId: 'cmd-1', requestedAt: '2025-03-01T12:00:00.123Z' },
    });
  });

  it('recognizes the remediate document, also by ARN', () => {
    const event = statusEvent({
      'document-name': 'arn:aws:ssm:eu-west-1:123456789012:document/Fleetscan-Remediate',
      status: 'Failed',
    });
    expect(decodeCollectEvent(event, documents)).toMatchObject({ kind: 'collect', request: { kind: 'remediate' } });
  });

  it.each(['InProgress', 'Pending', 'Cancelling'])('ignores the non-final status %s', (status) => {
    expect(decodeCollectEvent(statusEvent({ status }), documents)).toMatchObject({ kind: 'ignore' });
  });

  it('ignores other documents', () => {
    expect(decodeCollectEvent(statusEvent({ 'document-name': 'AWS-RunShellScript' }), documents)).toEqual({
      kind: 'ignore',
      reason: 'not a fleetscan document',
    });
  });

  it('accepts the sweep payload', () => {
    expect(decodeCollectEvent(sweepPayload('remediate', 'cmd-7'), documents)).toEqual({
      kind: 'collect',
      request: { kind: 'remediate', commandId: 'cmd-7' },
    });
  });

  it.each([
    ['a string', 'hello'],
    ['another event type', { source: 'aws.ec2', 'detail-type': 'x', detail: {} }],
    ['a status event without a command id', statusEvent({ 'command-id': 3 })],
    ['a sweep payload without a kind', { source: 'fleetscan.sweep', commandId: 'c' }],
  ])('rejects %s with a named error', (_name, event) => {
    expect(() => decodeCollectEvent(event, documents)).toThrow(UnrecognizedEventError);
  });
});
