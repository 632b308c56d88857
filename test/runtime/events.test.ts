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
      request: { work: { kind: 'gather', commandId: 'cmd-1' }, requestedAt: '2025-03-01T12:00:00.123Z' },
    });
  });

  it('recognizes the remediate document, also by ARN', () => {
    const event = statusEvent({
      'document-name': 'arn:aws:ssm:eu-west-1:123456789012:document/Fleetscan-Remediate',
      status: 'Failed',
    });
    expect(decodeCollectEvent(event, documents)).toMatchObject({
      kind: 'collect',
      request: { work: { kind: 'remediate', commandId: 'cmd-1' } },
    });
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

  it.each([
    { kind: 'remediate', commandId: 'cmd-7' },
    { kind: 'gather', commandId: 'cmd-8' },
    { kind: 'gather', commandId: 'cmd-8', lease: '3f0c2a9e-6f6b-4cc8-9f0e-0a5f7d2c1b11' },
    { kind: 'scan', scanId: 'b0a7c3e2-0d9f-4a51-8f3e-1c2d3e4f5a6b' },
  ] as const)('accepts the sweep and hand-off payload of %o', (work) => {
    expect(decodeCollectEvent(sweepPayload(work), documents)).toEqual({ kind: 'collect', request: { work } });
  });

  it.each([
    ['a string', 'hello'],
    ['another event type', { source: 'aws.ec2', 'detail-type': 'x', detail: {} }],
    ['a status event without a command id', statusEvent({ 'command-id': 3 })],
    ['a sweep payload without a kind', { source: 'fleetscan.sweep', commandId: 'c' }],
    ['scan work without a scan id', { source: 'fleetscan.sweep', kind: 'scan', commandId: 'c' }],
    ['a hand-off lease that is not an id', { source: 'fleetscan.sweep', kind: 'gather', commandId: 'c', lease: 'a b' }],
    ['a command id with a space', { source: 'fleetscan.sweep', kind: 'gather', commandId: 'c d' }],
  ])('rejects %s with a named error', (_name, event) => {
    expect(() => decodeCollectEvent(event, documents)).toThrow(UnrecognizedEventError);
  });
});
