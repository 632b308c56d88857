import { describe, expect, it } from 'vitest';
import {
  type Environment,
  evaluate,
  type PolicyStatement,
  type Request,
  resolve,
  UnsupportedPolicyError,
} from './policy-evaluator.ts';

const ENV: Environment = {
  account: '111122223333',
  region: 'eu-west-1',
  partition: 'aws',
  refs: { Topic: 'arn:aws:sns:eu-west-1:111122223333:topic' },
  attributes: { Key: { Arn: 'arn:aws:kms:eu-west-1:111122223333:key/k' } },
};
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:topic';
const ALARM = 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:Fleetscan-NoCompletedScan';

const allowAlarms: PolicyStatement = {
  Effect: 'Allow',
  Principal: { Service: 'cloudwatch.amazonaws.com' },
  Action: 'sns:Publish',
  Resource: TOPIC,
  Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' }, ArnLike: { 'aws:SourceArn': [ALARM] } },
};
const denyWithoutTls: PolicyStatement = {
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: ['sns:Publish', 'sns:Subscribe'],
  Resource: TOPIC,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

const fromAlarm = (overrides: Partial<Request> = {}): Request => ({
  principal: { service: 'cloudwatch.amazonaws.com' },
  action: 'sns:Publish',
  resource: TOPIC,
  context: { 'aws:SourceAccount': '111122223333', 'aws:SourceArn': ALARM, 'aws:SecureTransport': 'true' },
  ...overrides,
});

describe('Policy evaluator', () => {
  it('Compliance 1: allows a request every element of an Allow matches', () => {
    expect(evaluate([allowAlarms, denyWithoutTls], fromAlarm())).toBe('Allow');
  });

  it('Compliance 2: matches action names without regard to case, and wildcards in actions and resources', () => {
    const wide: PolicyStatement = { ...allowAlarms, Action: 'SNS:Pub*', Resource: 'arn:aws:sns:*:111122223333:*' };
    expect(evaluate([wide], fromAlarm())).toBe('Allow');
  });

  it('Compliance 3: an account root principal stands for the account’s IAM principals', () => {
    const root: PolicyStatement = {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111122223333:root' },
      Action: 'kms:*',
      Resource: '*',
    };
    const role = { arn: 'arn:aws:iam::111122223333:role/collect' };
    expect(evaluate([root], fromAlarm({ principal: role, action: 'kms:Decrypt' }))).toBe('Allow');
    expect(evaluate([root], fromAlarm({ principal: { arn: 'arn:aws:iam::999988887777:role/x' } }))).toBe(
      'ImplicitDeny',
    );
  });

  it.each([
    [
      'another account',
      { context: { 'aws:SourceAccount': '999988887777', 'aws:SourceArn': ALARM, 'aws:SecureTransport': 'true' } },
    ],
    [
      'another alarm',
      { context: { 'aws:SourceAccount': '111122223333', 'aws:SourceArn': `${ALARM}2`, 'aws:SecureTransport': 'true' } },
    ],
    ['no source context', { context: { 'aws:SecureTransport': 'true' } }],
    ['another service', { principal: { service: 'events.amazonaws.com' } }],
    ['another action', { action: 'sns:Subscribe' }],
    ['another topic', { resource: `${TOPIC}-other` }],
  ])('Noncompliance 1: implicitly denies %s', (_name, overrides) => {
    expect(evaluate([allowAlarms, denyWithoutTls], fromAlarm(overrides as Partial<Request>))).toBe('ImplicitDeny');
  });

  it('Noncompliance 2: an explicit Deny wins over the Allow', () => {
    const plain = fromAlarm({ context: { ...fromAlarm().context, 'aws:SecureTransport': 'false' } });
    expect(evaluate([allowAlarms, denyWithoutTls], plain)).toBe('ExplicitDeny');
  });

  it('applies identity statements to the principal they are attached to', () => {
    const identity: PolicyStatement = { Effect: 'Allow', Action: 'sns:Publish', Resource: TOPIC };
    expect(
      evaluate([identity], fromAlarm({ principal: { arn: 'arn:aws:iam::111122223333:role/r' } }), 'identity'),
    ).toBe('Allow');
  });

  it('resolves Ref, Fn::GetAtt and Fn::Join', () => {
    expect(
      resolve(
        {
          Resource: [
            { Ref: 'Topic' },
            { 'Fn::GetAtt': ['Key', 'Arn'] },
            {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }],
              ],
            },
          ],
        },
        ENV,
      ),
    ).toEqual({ Resource: [TOPIC, 'arn:aws:kms:eu-west-1:111122223333:key/k', 'arn:aws:x:eu-west-1:111122223333'] });
  });

  it.each([
    ['a NotAction', { ...allowAlarms, NotAction: 'sns:Publish' }],
    ['a NotPrincipal', { ...allowAlarms, NotPrincipal: { AWS: '*' } }],
    ['an unknown operator', { ...allowAlarms, Condition: { NumericLessThan: { 'aws:EpochTime': '1' } } }],
    ['a federated principal', { ...allowAlarms, Principal: { Federated: 'cognito-identity.amazonaws.com' } }],
  ])('refuses to judge a policy with %s rather than guess', (_name, statement) => {
    expect(() => evaluate([statement as PolicyStatement], fromAlarm())).toThrow(UnsupportedPolicyError);
  });

  it('refuses an intrinsic it cannot resolve', () => {
    expect(() => resolve({ 'Fn::Sub': 'arn:aws:sns:region' }, ENV)).toThrow(UnsupportedPolicyError);
    expect(() => resolve({ Ref: 'Nothing' }, ENV)).toThrow('no value for Ref Nothing');
  });
});
