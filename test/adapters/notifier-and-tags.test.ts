import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ListTagsForResourceCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/adapters/clients.ts';
import { TagOptOut } from '../../lib/adapters/ec2-tags.ts';
import { SnsNotifier } from '../../lib/adapters/sns.ts';
import { forbiddenIn, forbiddenInAny, HOSTILE_TEXT } from '../support/forbidden-text.ts';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const sns = mockClient(SNSClient);
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);

beforeEach(() => {
  sns.reset();
  ec2.reset();
  ssm.reset();
});

describe('SnsNotifier', () => {
  it('publishes with severity and scanId as String message attributes, the kinds as a String.Array', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notifier = new SnsNotifier({
      client: new SNSClient({ region: 'us-east-1', credentials }),
      topicArn: 'arn:aws:sns:us-east-1:123456789012:fleetscan',
    });
    // Act
    await notifier.publish({
      subject: 'fleetscan: 1 CRITICAL of 3 nodes',
      body: 'body',
      severity: 'CRITICAL',
      scanId: 's-1',
      kinds: ['change', 'outcome'],
      facts: { newProblems: ['i-1'], recovered: [], ongoing: [], remediations: [] },
    });
    // Assess
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:fleetscan',
      Subject: 'fleetscan: 1 CRITICAL of 3 nodes',
      Message: 'body',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'CRITICAL' },
        scanId: { DataType: 'String', StringValue: 's-1' },
        kind: { DataType: 'String.Array', StringValue: '["change","outcome"]' },
      },
    });
  });

  it('never sends a subject SNS would reject (100 characters or more, line breaks)', async () => {
    sns.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ client: new SNSClient({ region: 'us-east-1', credentials }), topicArn: 't' });
    await notifier.publish({
      subject: `a\nb${'x'.repeat(300)}`,
      body: 'b',
      severity: 'OK',
      scanId: 's',
      kinds: ['digest'],
      facts: { newProblems: [], recovered: [], ongoing: [], remediations: [] },
    });
    const subject = sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject ?? '';
    expect(subject.length).toBeLessThan(100);
    expect(subject).not.toMatch(/[\r\n]/);
  });

  it('sends no escape, bidi, zero-width or other forbidden character in subject, message or attributes', async () => {
    // Prepare: a notification built without the runtime's sanitizing (a Notifier must not depend on its caller).
    sns.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ client: new SNSClient({ region: 'us-east-1', credentials }), topicArn: 't' });
    // Act
    await notifier.publish({
      subject: `fleetscan: ${HOSTILE_TEXT}`,
      body: `node ip-10-0-0-1${HOSTILE_TEXT}\nsecond line\tend`,
      severity: 'CRITICAL',
      scanId: `s-1${HOSTILE_TEXT}`,
      kinds: ['change'],
      facts: { newProblems: [], recovered: [], ongoing: [], remediations: [] },
    });
    // Assess
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(forbiddenIn(input?.Subject ?? '')).toBeNull();
    expect(input?.Message).toMatch(/^node ip-10-0-0-1.*\nsecond line\tend$/);
    expect(forbiddenIn(input?.Message ?? '', { multiline: true })).toBeNull();
    expect(forbiddenInAny(input?.MessageAttributes)).toBeNull();
  });
});

describe('TagOptOut', () => {
  const optOut = () =>
    new TagOptOut({
      ec2: new EC2Client({ region: 'us-east-1', credentials }),
      ssm: new SSMClient({ region: 'us-east-1', credentials }),
      tag: { key: 'fleetscan:remediate', value: 'false' },
    });

  it('asks EC2 for the opted-out instances among the ids, by instance-id and tag filters, in chunks', async () => {
    const ids = Array.from({ length: 150 }, (_, index) => `i-${String(index).padStart(17, '0')}`);
    ec2.on(DescribeInstancesCommand).callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
      const asked = input.Filters?.find((filter) => filter.Name === 'instance-id')?.Values ?? [];
      return {
        Reservations: [{ Instances: asked.filter((id) => id.endsWith('7')).map((id) => ({ InstanceId: id })) }],
      };
    });
    const result = await optOut().optedOut(ids);
    expect([...result].sort()).toEqual(ids.filter((id) => id.endsWith('7')).sort());
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'instance-id', Values: ids.slice(0, 100) },
        { Name: 'tag:fleetscan:remediate', Values: ['false'] },
      ],
    });
  });

  it('follows NextToken', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: 'i-1' }] }], NextToken: 'n' })
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-2' }] }] });
    expect([...(await optOut().optedOut(['i-1', 'i-2', 'i-3']))]).toEqual(['i-1', 'i-2']);
    expect(ec2).toHaveReceivedNthCommandWith(DescribeInstancesCommand, 2, { NextToken: 'n' });
  });

  it('reads hybrid managed nodes (mi-) through SSM ListTagsForResource', async () => {
    ssm
      .on(ListTagsForResourceCommand, { ResourceId: 'mi-opted' })
      .resolves({ TagList: [{ Key: 'fleetscan:remediate', Value: 'false' }] })
      .on(ListTagsForResourceCommand, { ResourceId: 'mi-other' })
      .resolves({ TagList: [{ Key: 'fleetscan:remediate', Value: 'true' }] });
    expect([...(await optOut().optedOut(['mi-opted', 'mi-other']))]).toEqual(['mi-opted']);
    expect(ssm).toHaveReceivedCommandWith(ListTagsForResourceCommand, {
      ResourceType: 'ManagedInstance',
      ResourceId: 'mi-opted',
    });
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 0);
  });

  it('propagates a failed lookup (the runtime then remediates nobody)', async () => {
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    await expect(optOut().optedOut(['i-1'])).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
  });
});

describe('createClients', () => {
  it('uses the adaptive retry mode with more attempts, and one attempt for SendCommand', async () => {
    const clients = createClients({ region: 'eu-west-1', credentials });
    expect(clients.ssm.config.retryMode).toBe('adaptive');
    expect(await clients.ssm.config.maxAttempts()).toBe(8);
    expect(await clients.ssmSend.config.maxAttempts()).toBe(1);
    expect(clients.dynamodb.config.retryMode).toBe('adaptive');
    expect(await clients.sns.config.region()).toBe('eu-west-1');
  });

  it('points a service at a local endpoint when asked', async () => {
    const clients = createClients({
      region: 'us-east-1',
      credentials,
      endpoints: { dynamodb: 'http://127.0.0.1:4567' },
    });
    const endpoint = await clients.dynamodb.config.endpoint?.();
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(4567);
  });
});
