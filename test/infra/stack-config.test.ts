/**
 * The stack follows its configuration: one synth with every kind of setting changed through context, as
 * `cdk deploy -c ...` would pass it (strings), without bundling the Lambdas (their code does not change here).
 */

import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config/config.ts';
import { FUNCTION_ENV } from '../../lib/config/contracts.ts';
import { buildApp } from '../../lib/infra/app.ts';
import {
  cdkJsonContext,
  outdir,
  removeOutdirs,
  SYNTH_TEST_TIMEOUT_MS,
  type Synthesized,
  synthesized,
} from './support.ts';

afterAll(removeOutdirs);

type Json = Record<string, unknown>;

const CONTEXT = {
  'fleetscan:stackName': 'FleetscanStaging',
  'fleetscan:schedule': 'cron(0/30 8-18 ? * MON-FRI *)',
  'fleetscan:targets': 'fleetscan=enabled,canary;team=storage',
  'fleetscan:executionTimeoutSeconds': '120',
  'fleetscan:remediation.dryRun': 'false',
  'fleetscan:remediation.optOutTag': 'maintenance=frozen',
  'fleetscan:notificationEmails': 'oncall@example.com,storage-team@example.com',
  'fleetscan:thresholds.orders': '3,9',
};

let synth: Synthesized;
let template: Template;

beforeAll(() => {
  synth = synthesized('staging', { context: CONTEXT });
  template = Template.fromJSON(synth.template);
}, SYNTH_TEST_TIMEOUT_MS);

describe('Stack: configured through context', () => {
  it('names the stack and both documents after fleetscan:stackName', () => {
    expect(synth.stackName).toBe('FleetscanStaging');
    template.hasResourceProperties('AWS::SSM::Document', { Name: 'FleetscanStaging-Gather' });
    template.hasResourceProperties('AWS::SSM::Document', { Name: 'FleetscanStaging-Remediate' });
    expect(synth.template.Outputs).toMatchObject({
      GatherDocumentName: { Value: 'FleetscanStaging-Gather' },
      RemediateDocumentName: { Value: 'FleetscanStaging-Remediate' },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { 'document-name': ['FleetscanStaging-Gather', 'FleetscanStaging-Remediate'] } },
    });
  });

  it('schedules the scan with the configured expression', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0/30 8-18 ? * MON-FRI *)',
    });
  });

  it('sets the documents’ execution timeout', () => {
    const documents = Object.values(template.findResources('AWS::SSM::Document')) as { Properties: Json }[];

    expect(documents).toHaveLength(2);
    for (const document of documents) {
      const [step] = (document.Properties.Content as { mainSteps: { inputs: Json }[] }).mainSteps;
      expect(step?.inputs.timeoutSeconds).toBe(120);
    }
  });

  it('allows SendCommand to nodes carrying any one of the target tags, one statement per target', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: Json }[];
    const conditions = policies
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Json[] }).Statement)
      .filter((statement) => statement.Effect === 'Allow' && statement.Action === 'ssm:SendCommand')
      .map((statement) => statement.Condition)
      .filter((condition) => condition !== undefined);

    // scan and collect each: one statement per target.
    expect(conditions).toEqual([
      { StringEquals: { 'ssm:resourceTag/fleetscan': ['enabled', 'canary'] } },
      { StringEquals: { 'ssm:resourceTag/team': ['storage'] } },
      { StringEquals: { 'ssm:resourceTag/fleetscan': ['enabled', 'canary'] } },
      { StringEquals: { 'ssm:resourceTag/team': ['storage'] } },
    ]);
  });

  it('denies SendCommand to nodes with the configured opt-out tag', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: Json }[];
    const denies = policies
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Json[] }).Statement)
      .filter((statement) => statement.Effect === 'Deny');

    expect(denies.map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'ssm:resourceTag/maintenance': 'frozen' } },
    ]);
  });

  it('subscribes each configured e-mail address to the topic', () => {
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')) as { Properties: Json }[];

    expect(subscriptions.map((subscription) => subscription.Properties.Endpoint).sort()).toEqual([
      'oncall@example.com',
      'storage-team@example.com',
    ]);
    for (const subscription of subscriptions) expect(subscription.Properties.Protocol).toBe('email');
  });

  it('hands the Lambdas the configuration as validated, not as typed on the command line', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: Json }[];
    const configs = functions.map((fn) => {
      const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
      return parseConfig(JSON.parse(variables[FUNCTION_ENV.config] as string));
    });

    expect(configs).toHaveLength(2);
    for (const config of configs) {
      expect(config.remediation.dryRun).toBe(false);
      expect(config.thresholds.orders).toEqual([3, 9]);
      expect(config.targets).toEqual([
        { tagKey: 'fleetscan', tagValues: ['enabled', 'canary'] },
        { tagKey: 'team', tagValues: ['storage'] },
      ]);
    }
  });
});

describe('App: guards', () => {
  it('throws ConfigError naming the key before building anything', () => {
    const build = () =>
      buildApp({ outdir: outdir('bad'), context: { ...cdkJsonContext(), 'fleetscan:remediation.action': 'nuke' } });

    expect(build).toThrow(ConfigError);
    expect(build).toThrow(
      "fleetscan:remediation.action: 'nuke' is not one of drop-caches, compact, compact-node, drop-caches-and-compact",
    );
  });

  it('fails synth on an unacknowledged cdk-nag finding (Noncompliance: a queue without TLS enforcement)', () => {
    const { app, stack } = buildApp({
      outdir: outdir('nag'),
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
    });
    new Queue(stack, 'Careless', {});

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
