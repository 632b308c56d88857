import {
  type CommandInvocation,
  type CommandInvocationStatus,
  GetCommandInvocationCommand,
  InvalidCommandId,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  invokedAfterValue,
  normalizeInvocationState,
  SsmGateway,
  SsmResponseError,
  toInvocation,
} from '../../lib/adapters/ssm.ts';
import { parseGatherReport } from '../../lib/core/report.ts';
import { readReport } from '../../lib/runtime/evaluation.ts';
import type { Invocation } from '../../lib/runtime/ports.ts';
import { ListingExpiredError } from '../../lib/runtime/ports.ts';
import { allPages } from '../../lib/runtime/remediate.ts';
import { gatherOutput } from '../support/runtime-fixtures.ts';

const ssm = mockClient(SSMClient);
const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
let delays: number[];

function gateway(overrides: Partial<ConstructorParameters<typeof SsmGateway>[0]> = {}): SsmGateway {
  return new SsmGateway({
    client,
    documents: { gather: 'Fleetscan-Gather', remediate: 'Fleetscan-Remediate' },
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
}

function invocation(instanceId: string, status = 'Success', details = status, output = 'out'): CommandInvocation {
  return {
    InstanceId: instanceId,
    Status: status as CommandInvocationStatus,
    StatusDetails: details,
    CommandPlugins: [{ Name: 'gather', Output: output, ResponseCode: 0 }],
  };
}

function throttled(): ThrottlingException {
  return new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} });
}

async function collectPages(source: AsyncIterable<readonly Invocation[]>): Promise<Invocation[][]> {
  const pages: Invocation[][] = [];
  for await (const page of source) pages.push([...page]);
  return pages;
}

/** Every page of a command, as the runtime walks them: listPage from each page's NextToken. */
function listAll(g: SsmGateway, commandId: string): AsyncIterable<readonly Invocation[]> {
  return allPages(g, commandId);
}

beforeEach(() => {
  ssm.reset();
  delays = [];
});

afterEach(() => {
  ssm.reset();
});

describe('SsmGateway.send', () => {
  it('sends the gather document to tag targets at $LATEST with the scan settings', async () => {
    // Prepare
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    // Act
    const result = await gateway().send({
      document: 'gather',
      targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
      parameters: {},
      maxConcurrency: '25%',
      maxErrors: '100%',
      deliveryTimeoutSeconds: 600,
      comment: `fleetscan gather ${'x'.repeat(200)}`,
    });
    // Assess
    expect(result).toEqual({ commandId: 'cmd-1' });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'Fleetscan-Gather',
      DocumentVersion: '$LATEST',
      Targets: [{ Key: 'tag:fleetscan', Values: ['enabled'] }],
      MaxConcurrency: '25%',
      MaxErrors: '100%',
      TimeoutSeconds: 600,
    });
    const input = ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(input?.Comment).toHaveLength(100);
    expect(input?.InstanceIds).toBeUndefined();
  });

  it('sends the remediate document to explicit instance ids with its parameters', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    await gateway().send({
      document: 'remediate',
      targets: { kind: 'instances', instanceIds: ['i-1', 'mi-2'] },
      parameters: { action: ['compact-node'], numaNode: ['1'], dryRun: ['false'] },
      maxConcurrency: '1',
      maxErrors: '100%',
      deliveryTimeoutSeconds: 300,
      comment: 'fleetscan compact-node',
    });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'Fleetscan-Remediate',
      InstanceIds: ['i-1', 'mi-2'],
      Parameters: { action: ['compact-node'], numaNode: ['1'], dryRun: ['false'] },
    });
    expect(ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Targets).toBeUndefined();
  });

  it('retries a throttled SendCommand, but nothing else (SendCommand is not idempotent)', async () => {
    ssm
      .on(SendCommandCommand)
      .rejectsOnce(throttled())
      .resolves({ Command: { CommandId: 'cmd-3' } });
    const request = {
      document: 'gather' as const,
      targets: { kind: 'tags' as const, tags: [{ key: 'k', values: ['v'] }] },
      parameters: {},
      maxConcurrency: '1',
      maxErrors: '0',
      deliveryTimeoutSeconds: 60,
      comment: '',
    };
    expect(await gateway().send(request)).toEqual({ commandId: 'cmd-3' });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);

    ssm.reset();
    ssm.on(SendCommandCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    await expect(gateway().send(request)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
  });

  it('fails with a named error when SSM returns no command id', async () => {
    ssm.on(SendCommandCommand).resolves({});
    await expect(
      gateway().send({
        document: 'gather',
        targets: { kind: 'tags', tags: [] },
        parameters: {},
        maxConcurrency: '1',
        maxErrors: '0',
        deliveryTimeoutSeconds: 60,
        comment: '',
      }),
    ).rejects.toBeInstanceOf(SsmResponseError);
  });
});

describe('SsmGateway.listPage', () => {
  it('hands back the NextToken to resume from, and null after the last page', async () => {
    ssm
      .on(ListCommandInvocationsCommand, { CommandId: 'cmd', NextToken: undefined })
      .resolves({ CommandInvocations: [invocation('i-1')], NextToken: 't1' })
      .on(ListCommandInvocationsCommand, { CommandId: 'cmd', NextToken: 't1' })
      .resolves({ CommandInvocations: [invocation('i-2')], NextToken: '' });
    const first = await gateway().listPage('cmd', null);
    const second = await gateway().listPage('cmd', first.nextToken);
    expect(first.nextToken).toBe('t1');
    expect(second.invocations.map((entry) => entry.instanceId)).toEqual(['i-2']);
    expect(second.nextToken).toBeNull();
  });

  it('says a token SSM no longer accepts is expired (ListingExpiredError), so the listing starts over', async () => {
    ssm
      .on(ListCommandInvocationsCommand, { NextToken: 'stale' })
      .rejects(Object.assign(new Error('The specified token is not valid'), { name: 'InvalidNextToken' }));
    await expect(gateway().listPage('cmd', 'stale')).rejects.toBeInstanceOf(ListingExpiredError);
  });
});

describe('SsmGateway: every page', () => {
  it('pages with Details and MaxResults 50, following NextToken', async () => {
    ssm
      .on(ListCommandInvocationsCommand, { CommandId: 'cmd', NextToken: undefined })
      .resolves({ CommandInvocations: [invocation('i-1'), invocation('i-2')], NextToken: 't1' })
      .on(ListCommandInvocationsCommand, { CommandId: 'cmd', NextToken: 't1' })
      .resolves({ CommandInvocations: [invocation('i-3', 'Failed', 'Undeliverable', '')] });
    const pages = await collectPages(listAll(gateway(), 'cmd'));
    expect(pages.map((page) => page.map((entry) => entry.instanceId))).toEqual([['i-1', 'i-2'], ['i-3']]);
    expect(pages[1]?.[0]).toEqual({
      instanceId: 'i-3',
      state: 'Undeliverable',
      terminal: true,
      output: '',
      responseCode: 0,
    });
    expect(ssm).toHaveReceivedNthCommandWith(ListCommandInvocationsCommand, 1, { Details: true, MaxResults: 50 });
    expect(ssm).toHaveReceivedNthCommandWith(ListCommandInvocationsCommand, 2, {
      Details: true,
      MaxResults: 50,
      NextToken: 't1',
    });
  });

  it('retries InvocationDoesNotExist and an empty first listing right after SendCommand', async () => {
    ssm
      .on(ListCommandInvocationsCommand)
      .rejectsOnce(new InvocationDoesNotExist({ message: 'not yet', $metadata: {} }))
      .resolvesOnce({ CommandInvocations: [] })
      .resolves({ CommandInvocations: [invocation('i-1')] });
    const pages = await collectPages(listAll(gateway(), 'cmd'));
    expect(pages.flat().map((entry) => entry.instanceId)).toEqual(['i-1']);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 3);
    expect(delays).toHaveLength(2);
  });

  it('gives up on an empty listing after the bounded attempts (a command that reached no node)', async () => {
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [] });
    const pages = await collectPages(listAll(gateway({ consistencyAttempts: 3 }), 'cmd'));
    expect(pages).toEqual([[]]);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 3);
  });

  it('retries ThrottlingException on a later page without restarting the listing', async () => {
    ssm
      .on(ListCommandInvocationsCommand, { NextToken: undefined })
      .resolves({ CommandInvocations: [invocation('i-1')], NextToken: 't1' })
      .on(ListCommandInvocationsCommand, { NextToken: 't1' })
      .rejectsOnce(throttled())
      .resolves({ CommandInvocations: [invocation('i-2')] });
    const pages = await collectPages(listAll(gateway(), 'cmd'));
    expect(pages.flat().map((entry) => entry.instanceId)).toEqual(['i-1', 'i-2']);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 3);
    expect(delays).toEqual([250]);
  });

  it('gives up on throttling after the bounded attempts', async () => {
    ssm.on(ListCommandInvocationsCommand).rejects(throttled());
    await expect(
      collectPages(listAll(gateway({ throttleAttempts: 3, consistencyAttempts: 1 }), 'cmd')),
    ).rejects.toBeInstanceOf(ThrottlingException);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 3);
  });
});

describe('SsmGateway.getFullOutput and the truncation fallback', () => {
  it('re-reads a cut listing output through GetCommandInvocation, retrying InvocationDoesNotExist', async () => {
    const full = gatherOutput({ host: 'wide' });
    const cut = `${full.slice(0, 120)}\n---Output truncated---`;
    ssm
      .on(ListCommandInvocationsCommand)
      .resolves({ CommandInvocations: [invocation('i-1', 'Success', 'Success', cut)] });
    ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(new InvocationDoesNotExist({ message: 'not yet', $metadata: {} }))
      .resolves({ StandardOutputContent: full });
    const g = gateway();
    const [page] = await collectPages(listAll(g, 'cmd'));
    const listed = page?.[0];
    if (listed === undefined) throw new Error('expected one invocation');
    const result = await readReport(g, 'cmd', listed, parseGatherReport);
    expect(result).toMatchObject({ ok: true, report: { host: 'wide' } });
    expect(ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'cmd', InstanceId: 'i-1' });
    expect(ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 2);
  });

  it('does not call GetCommandInvocation when the listed output is complete', async () => {
    const g = gateway();
    const listed = toInvocation(invocation('i-1', 'Success', 'Success', gatherOutput()));
    expect((await readReport(g, 'cmd', listed, parseGatherReport)).ok).toBe(true);
    expect(ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 0);
  });
});

describe('SsmGateway.describeCommand and findCommands (ListCommands)', () => {
  const remediate = {
    CommandId: 'cmd-r',
    DocumentName: 'Fleetscan-Remediate',
    Comment: 'fleetscan remediate scan-1 compact',
    InstanceIds: ['i-1', 'i-2'],
    RequestedDateTime: new Date('2025-03-01T12:10:00.000Z'),
    TargetCount: 2,
  };

  it('describes a command by id: which fleetscan document, its comment, instance ids, requested time, targets', async () => {
    ssm.on(ListCommandsCommand, { CommandId: 'cmd-r' }).resolves({ Commands: [remediate] });
    expect(await gateway().describeCommand('cmd-r')).toEqual({
      commandId: 'cmd-r',
      document: 'remediate',
      comment: 'fleetscan remediate scan-1 compact',
      instanceIds: ['i-1', 'i-2'],
      requestedAt: '2025-03-01T12:10:00.000Z',
      targetCount: 2,
    });
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, { CommandId: 'cmd-r' });
  });

  it('says null for a command SSM does not know, and names documents by ARN too (or not at all)', async () => {
    ssm
      .on(ListCommandsCommand, { CommandId: 'cmd-gone' })
      .rejects(new InvalidCommandId({ message: 'no such command', $metadata: {} }))
      .on(ListCommandsCommand, { CommandId: 'cmd-empty' })
      .resolves({ Commands: [] })
      .on(ListCommandsCommand, { CommandId: 'cmd-arn' })
      .resolves({
        Commands: [
          { CommandId: 'cmd-arn', DocumentName: 'arn:aws:ssm:us-east-1:123456789012:document/Fleetscan-Gather' },
        ],
      })
      .on(ListCommandsCommand, { CommandId: 'cmd-other' })
      .resolves({ Commands: [{ CommandId: 'cmd-other', DocumentName: 'AWS-RunShellScript' }] });
    const g = gateway();
    expect(await g.describeCommand('cmd-gone')).toBeNull();
    expect(await g.describeCommand('cmd-empty')).toBeNull();
    expect(await g.describeCommand('cmd-arn')).toMatchObject({
      document: 'gather',
      comment: '',
      instanceIds: [],
      requestedAt: null,
    });
    expect(await g.describeCommand('cmd-other')).toMatchObject({ document: null });
  });

  it('finds the commands of a document since a time, every page, retrying throttling', async () => {
    ssm
      .on(ListCommandsCommand, { NextToken: undefined })
      .rejectsOnce(throttled())
      .resolves({ Commands: [remediate], NextToken: 'p2' })
      .on(ListCommandsCommand, { NextToken: 'p2' })
      .resolves({ Commands: [{ ...remediate, CommandId: 'cmd-s', InstanceIds: ['i-3'] }] });
    const found = await gateway().findCommands({ document: 'remediate', invokedAfter: '2025-03-01T11:10:00.123Z' });
    expect(found.map((command) => [command.commandId, command.instanceIds])).toEqual([
      ['cmd-r', ['i-1', 'i-2']],
      ['cmd-s', ['i-3']],
    ]);
    expect(ssm).toHaveReceivedNthCommandWith(ListCommandsCommand, 1, {
      Filters: [
        { key: 'DocumentName', value: 'Fleetscan-Remediate' },
        { key: 'InvokedAfter', value: '2025-03-01T11:10:00Z' },
      ],
      MaxResults: 50,
    });
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 3);
    expect(delays).toHaveLength(1);
  });

  it('spells InvokedAfter as ListCommands documents it, rounded down to the second', () => {
    expect(invokedAfterValue('2025-03-01T11:10:59.999Z')).toBe('2025-03-01T11:10:59Z');
  });
});

describe('normalizeInvocationState', () => {
  it.each([
    ['TimedOut', 'Delivery Timed Out', 'DeliveryTimedOut'],
    ['TimedOut', 'DeliveryTimedOut', 'DeliveryTimedOut'],
    ['TimedOut', 'Execution Timed Out', 'ExecutionTimedOut'],
    ['Failed', 'Undeliverable', 'Undeliverable'],
    ['Failed', 'Invalid Platform', 'InvalidPlatform'],
    ['Failed', 'Access Denied', 'AccessDenied'],
    ['In Progress', undefined, 'InProgress'],
    ['Success', 'Success', 'Success'],
    ['Cancelled', 'Something New', 'Cancelled'],
    [undefined, undefined, 'Unknown'],
  ])('reads Status %s / StatusDetails %s as %s', (status, details, expected) => {
    expect(normalizeInvocationState(status, details)).toBe(expected);
  });

  it('marks only finished states terminal', () => {
    expect(toInvocation(invocation('i-1', 'InProgress', 'InProgress')).terminal).toBe(false);
    expect(toInvocation(invocation('i-1', 'Pending', 'Delayed')).terminal).toBe(false);
    expect(toInvocation(invocation('i-1', 'TimedOut', 'Execution Timed Out')).terminal).toBe(true);
  });
});
