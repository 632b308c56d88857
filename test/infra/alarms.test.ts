/**
 * The alarms: that they watch the job itself with the right windows and missing-data treatment, and that each one
 * can really reach the topic — proven by evaluating the template's topic policy and key policy for CloudWatch's
 * request, not by looking for a grant.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENV } from '../../lib/config/contracts.ts';
import { alarmWindow } from '../../lib/infra/alarms.ts';
import {
  type Environment,
  evaluate,
  type PolicyStatement,
  type Request,
  resolvedStatements,
} from './policy-evaluator.ts';
import { SYNTH_TEST_TIMEOUT_MS, type Synthesized, synthesized } from './support.ts';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
}

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

let synth: Synthesized;
let variant: Synthesized;

beforeAll(() => {
  synth = synthesized('default');
  variant = synthesized('ops-variant', {
    context: {
      'fleetscan:stackName': 'FleetscanStaging',
      'fleetscan:schedule': 'cron(0/30 8-18 ? * MON-FRI *)',
      'fleetscan:enabled': 'false',
      'fleetscan:alarms.errorPercent': '25',
    },
  });
}, SYNTH_TEST_TIMEOUT_MS);

const resourcesOf = (s: Synthesized) => Object.entries(s.template.Resources as Record<string, Resource>);
const ofType = (s: Synthesized, type: string) => resourcesOf(s).filter(([, resource]) => resource.Type === type);

function one(s: Synthesized, type: string): [string, Resource] {
  const found = ofType(s, type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
}

function alarmsByName(s: Synthesized): Map<string, Json> {
  return new Map(
    ofType(s, 'AWS::CloudWatch::Alarm').map(([, alarm]) => [String(alarm.Properties.AlarmName), alarm.Properties]),
  );
}

/** The collect function's resource, and its POWERTOOLS_SERVICE_NAME (the metrics' `service` dimension). */
function collectFunction(s: Synthesized): { id: string; resource: Resource; service: string } {
  for (const [id, resource] of ofType(s, 'AWS::Lambda::Function')) {
    const service = String(((resource.Properties.Environment as Json).Variables as Json)[FUNCTION_ENV.serviceName]);
    if (service.endsWith('collect')) return { id, resource, service };
  }
  throw new Error('no collect function in the template');
}

/** Every resource resolves to a made-up ARN of its service, so policies can be evaluated as AWS would. */
function environment(s: Synthesized): Environment {
  const refs: Record<string, string> = {};
  const attributes: Record<string, Record<string, string>> = {};
  for (const [id, resource] of resourcesOf(s)) {
    const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'x';
    const arn = `arn:aws:${service}:${REGION}:${ACCOUNT}:${id}`;
    refs[id] = arn;
    attributes[id] = { Arn: arn };
  }
  return { account: ACCOUNT, region: REGION, partition: 'aws', refs, attributes };
}

function topicPolicy(s: Synthesized): PolicyStatement[] {
  const [, policy] = one(s, 'AWS::SNS::TopicPolicy');
  return resolvedStatements(policy.Properties.PolicyDocument, environment(s));
}

function keyPolicy(s: Synthesized): PolicyStatement[] {
  const [, key] = one(s, 'AWS::KMS::Key');
  return resolvedStatements(key.Properties.KeyPolicy, environment(s));
}

const alarmArn = (name: string, account = ACCOUNT) => `arn:aws:cloudwatch:${REGION}:${account}:alarm:${name}`;

/** What CloudWatch sends when an alarm in this account changes state: over TLS, with its source. */
function fromAlarm(s: Synthesized, alarmName: string, overrides: Partial<Request> = {}): Request {
  const env = environment(s);
  const [topicId] = one(s, 'AWS::SNS::Topic');
  return {
    principal: { service: 'cloudwatch.amazonaws.com' },
    action: 'sns:Publish',
    resource: env.refs[topicId] ?? '',
    context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': alarmArn(alarmName), 'aws:SecureTransport': 'true' },
    ...overrides,
  };
}

function keyRequest(s: Synthesized, request: Request, action: string): Request {
  const [keyId] = one(s, 'AWS::KMS::Key');
  return { ...request, action, resource: environment(s).attributes[keyId]?.Arn ?? '' };
}

describe('alarmWindow: two of the schedule’s longest gaps, within CloudWatch’s limits', () => {
  it.each([
    [
      { shortestSeconds: 900, longestSeconds: 900 },
      { periodSeconds: 1800, evaluationPeriods: 1, seconds: 1800 },
    ],
    [
      { shortestSeconds: 3600, longestSeconds: 3600 },
      { periodSeconds: 7200, evaluationPeriods: 1, seconds: 7200 },
    ],
    // 11-minute rate: 22 minutes.
    [
      { shortestSeconds: 660, longestSeconds: 660 },
      { periodSeconds: 1320, evaluationPeriods: 1, seconds: 1320 },
    ],
    [
      { shortestSeconds: 86_400, longestSeconds: 86_400 },
      { periodSeconds: 86_400, evaluationPeriods: 2, seconds: 172_800 },
    ],
    // Weekdays 08:00-18:30: the weekend gap is 61.5 h, so 123 h, in day-long periods.
    [
      { shortestSeconds: 1800, longestSeconds: 221_400 },
      { periodSeconds: 86_400, evaluationPeriods: 6, seconds: 518_400 },
    ],
    // Weekly: CloudWatch evaluates at most 7 days.
    [
      { shortestSeconds: 604_800, longestSeconds: 604_800 },
      { periodSeconds: 86_400, evaluationPeriods: 7, seconds: 604_800 },
    ],
    [null, { periodSeconds: 86_400, evaluationPeriods: 7, seconds: 604_800 }],
  ])('%j → %j', (gaps, window) => {
    expect(alarmWindow(gaps)).toEqual(window);
    expect(window.periodSeconds % 60).toBe(0);
    expect(window.seconds).toBeLessThanOrEqual(window.periodSeconds < 3600 ? 86_400 : 604_800);
  });
});

describe('Alarms: the job itself', () => {
  const metric = (alarm: Json) => ({
    namespace: alarm.Namespace,
    name: alarm.MetricName,
    dimensions: alarm.Dimensions,
    statistic: alarm.Statistic,
    period: alarm.Period,
  });
  const collectService = (s: Synthesized) => collectFunction(s).service;

  it('alarms when no scan completed within two intervals, missing data breaching', () => {
    const alarm = alarmsByName(synth).get('Fleetscan-NoCompletedScan') ?? {};
    const dimensions = [{ Name: 'service', Value: collectService(synth) }];

    expect(metric(alarm)).toEqual({
      namespace: 'Fleetscan',
      name: 'ScansCompleted',
      dimensions,
      statistic: 'Sum',
      period: 1800,
    });
    expect(alarm).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'breaching',
    });
    expect(alarm.AlarmDescription).toContain('no scan completed within 30 minutes');
  });

  it('alarms on a completed scan that reached no node, on INCOMPLETE scans and on failed remediations', () => {
    const alarms = alarmsByName(synth);

    expect(alarms.get('Fleetscan-NoNodeScanned')).toMatchObject({
      MetricName: 'NodesScanned',
      Statistic: 'Minimum',
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      TreatMissingData: 'breaching',
    });
    expect(alarms.get('Fleetscan-ScanIncomplete')).toMatchObject({
      MetricName: 'ScansIncomplete',
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    // Remediations are rare by design: no data there is no failure.
    expect(alarms.get('Fleetscan-RemediationFailed')).toMatchObject({
      MetricName: 'RemediationFailed',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when more than the configured share of a scan’s nodes are ERROR', () => {
    const alarm = alarmsByName(synth).get('Fleetscan-ErrorNodes') ?? {};
    const metrics = alarm.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: Json; Stat: string } }[];

    expect(alarm).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 10,
      TreatMissingData: 'breaching',
    });
    expect(metrics.find((m) => m.Expression !== undefined)?.Expression).toBe(
      'IF(scanned > 0, 100 * errors / scanned, 0)',
    );
    expect(
      metrics
        .filter((m) => m.MetricStat !== undefined)
        .map((m) => [m.Id, m.MetricStat?.Metric.MetricName, m.MetricStat?.Stat])
        .sort(),
    ).toEqual([
      ['errors', 'NodesERROR', 'Sum'],
      ['scanned', 'NodesScanned', 'Sum'],
    ]);
  });

  it('follows the configuration: its stack’s namespace, a cron schedule’s longest gap, the error share', () => {
    const alarms = alarmsByName(variant);
    const stale = alarms.get('FleetscanStaging-NoCompletedScan') ?? {};

    expect([...alarms.keys()].every((name) => name.startsWith('FleetscanStaging-'))).toBe(true);
    expect(stale).toMatchObject({ Namespace: 'Fleetscan/FleetscanStaging', Period: 86_400, EvaluationPeriods: 6 });
    expect(alarms.get('FleetscanStaging-ErrorNodes')?.Threshold).toBe(25);
  });

  it('keeps everything but turns the schedule off with fleetscan:enabled=false', () => {
    const [, schedule] = one(variant, 'AWS::Scheduler::Schedule');
    const [, running] = one(synth, 'AWS::Scheduler::Schedule');

    expect(schedule.Properties.State).toBe('DISABLED');
    expect(running.Properties.State).toBe('ENABLED');
    expect(ofType(variant, 'AWS::DynamoDB::GlobalTable')).toHaveLength(1);
    expect(ofType(variant, 'AWS::CloudWatch::Alarm')).toHaveLength(ofType(synth, 'AWS::CloudWatch::Alarm').length);
  });
});

describe('Alarms: delivery to the encrypted topic, by policy', () => {
  it('names every alarm with a plain string, and sends both its alarm and OK notices to the topic', () => {
    const [topicId] = one(synth, 'AWS::SNS::Topic');
    const alarms = ofType(synth, 'AWS::CloudWatch::Alarm');

    expect(alarms).toHaveLength(10);
    for (const [id, alarm] of alarms) {
      expect(typeof alarm.Properties.AlarmName, id).toBe('string');
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions, id).toEqual([{ Ref: topicId }]);
    }
  });

  it('allows each alarm to publish: the topic policy and the key policy both allow CloudWatch’s request', () => {
    const topic = topicPolicy(synth);
    const key = keyPolicy(synth);

    for (const name of alarmsByName(synth).keys()) {
      const request = fromAlarm(synth, name);
      expect(evaluate(topic, request), `${name}: sns:Publish`).toBe('Allow');
      expect(evaluate(key, keyRequest(synth, request, 'kms:GenerateDataKey')), `${name}: GenerateDataKey`).toBe(
        'Allow',
      );
      expect(evaluate(key, keyRequest(synth, request, 'kms:Decrypt')), `${name}: Decrypt`).toBe('Allow');
    }
  });

  it.each([
    [
      'an alarm of another account',
      {
        context: {
          'aws:SourceAccount': '999988887777',
          'aws:SourceArn': alarmArn('Fleetscan-NoCompletedScan', '999988887777'),
          'aws:SecureTransport': 'true',
        },
      },
    ],
    [
      'another alarm of this account',
      {
        context: {
          'aws:SourceAccount': ACCOUNT,
          'aws:SourceArn': alarmArn('SomeoneElses'),
          'aws:SecureTransport': 'true',
        },
      },
    ],
    ['CloudWatch without a source (a confused deputy)', { context: { 'aws:SecureTransport': 'true' } }],
    ['EventBridge', { principal: { service: 'events.amazonaws.com' } }],
  ])('does not let %s publish', (_name, overrides) => {
    const request = fromAlarm(synth, 'Fleetscan-NoCompletedScan', overrides as Partial<Request>);

    expect(evaluate(topicPolicy(synth), request)).toBe('ImplicitDeny');
    expect(evaluate(keyPolicy(synth), keyRequest(synth, request, 'kms:GenerateDataKey'))).toBe('ImplicitDeny');
  });

  it('refuses every topic action without TLS, even from the alarms', () => {
    const request = fromAlarm(synth, 'Fleetscan-NoCompletedScan', {
      context: {
        'aws:SourceAccount': ACCOUNT,
        'aws:SourceArn': alarmArn('Fleetscan-NoCompletedScan'),
        'aws:SecureTransport': 'false',
      },
    });
    expect(evaluate(topicPolicy(synth), request)).toBe('ExplicitDeny');
    for (const action of ['sns:Subscribe', 'sns:SetTopicAttributes', 'sns:ListSubscriptionsByTopic']) {
      const anyone = { ...request, principal: { arn: `arn:aws:iam::${ACCOUNT}:role/admin` }, action };
      expect(evaluate(topicPolicy(synth), anyone), action).toBe('ExplicitDeny');
    }
  });

  it('still lets the collect function publish its summaries: its role allows it and no topic statement denies it', () => {
    const env = environment(synth);
    const collect = collectFunction(synth);
    const roleId = ((collect.resource.Properties.Role as Json)['Fn::GetAtt'] as string[])[0] ?? '';
    const identity = ofType(synth, 'AWS::IAM::Policy')
      .filter(([, policy]) => (policy.Properties.Roles as Json[]).some((role) => role.Ref === roleId))
      .flatMap(([, policy]) => resolvedStatements(policy.Properties.PolicyDocument, env));
    const role = { arn: `arn:aws:iam::${ACCOUNT}:role/${roleId}` };
    const publish = { ...fromAlarm(synth, 'x'), principal: role, context: { 'aws:SecureTransport': 'true' } };

    expect(evaluate(identity, publish, 'identity')).toBe('Allow');
    expect(evaluate(topicPolicy(synth), publish)).not.toBe('ExplicitDeny');
    const dataKey = keyRequest(synth, publish, 'kms:GenerateDataKey');
    expect(evaluate(identity, dataKey, 'identity')).toBe('Allow');
    // The key policy lets IAM decide for the account's principals (its root statement).
    expect(evaluate(keyPolicy(synth), dataKey)).toBe('Allow');
  });
});
