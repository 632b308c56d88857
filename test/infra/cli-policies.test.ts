/** The managed policies for CLI users and operators, as the template ships them and as IAM would judge them. */
import { beforeAll, describe, expect, it } from 'vitest';
import { iamActions, TABLE_ACCESS } from '../../lib/adapters/table-access.ts';
import { CLI_ACTIONS, FUNCTION_ENV } from '../../lib/config/contracts.ts';
import { type Environment, evaluate, type PolicyStatement, resolvedStatements } from './policy-evaluator.ts';
import { SYNTH_TEST_TIMEOUT_MS, type Synthesized, synthesized } from './support.ts';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
}

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

let synth: Synthesized;
let env: Environment;
const idOf: Record<string, string> = {};

beforeAll(() => {
  synth = synthesized('default');
  const refs: Record<string, string> = {};
  const attributes: Record<string, Record<string, string>> = {};
  for (const [id, resource] of Object.entries(synth.template.Resources as Record<string, Resource>)) {
    const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'x';
    refs[id] = `arn:aws:${service}:${REGION}:${ACCOUNT}:${id}`;
    attributes[id] = { Arn: refs[id] };
    idOf[resource.Type] ??= id;
  }
  env = { account: ACCOUNT, region: REGION, partition: 'aws', refs, attributes };
}, SYNTH_TEST_TIMEOUT_MS);

/** How the template names the stack's managed policies: `<stack>-<region>-<kind>`. */
const policyName = (kind: 'ReadOnly' | 'Operator') => ({
  'Fn::Join': ['', ['Fleetscan-', { Ref: 'AWS::Region' }, `-${kind}`]],
});

function policy(kind: 'ReadOnly' | 'Operator'): PolicyStatement[] {
  const name = JSON.stringify(policyName(kind));
  const found = Object.values(synth.template.Resources as Record<string, Resource>).filter(
    (resource) =>
      resource.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(resource.Properties.ManagedPolicyName) === name,
  );
  expect(found, name).toHaveLength(1);
  return resolvedStatements(found[0]?.Properties.PolicyDocument, env);
}

const actions = (statements: PolicyStatement[]) =>
  [...new Set(statements.flatMap((s) => [s.Action ?? []].flat()))].sort();
const arn = (type: string) => env.refs[idOf[type] ?? ''] ?? '';
const user = { arn: `arn:aws:iam::${ACCOUNT}:user/alice` };
const can = (statements: PolicyStatement[], action: string, resource: string) =>
  evaluate(statements, { principal: user, action, resource, context: {} }, 'identity');

describe('Construct: CliPolicies', () => {
  it('names the policies after the stack and its region (IAM names are global to the account)', () => {
    const names = Object.values(synth.template.Resources as Record<string, Resource>)
      .filter((resource) => resource.Type === 'AWS::IAM::ManagedPolicy')
      .map((resource) => resource.Properties.ManagedPolicyName);
    expect(names).toEqual([policyName('ReadOnly'), policyName('Operator')]);
  });

  it('exports a read-only policy of exactly the history reads and doctor’s calls', () => {
    expect(actions(policy('ReadOnly'))).toEqual(
      [...CLI_ACTIONS.findStack, ...CLI_ACTIONS.doctor, ...iamActions(TABLE_ACCESS.historyReader)].sort(),
    );
  });

  it('exports an operator policy of exactly clear’s write and scan --now’s invoke', () => {
    expect(actions(policy('Operator'))).toEqual(
      [...CLI_ACTIONS.findStack, ...CLI_ACTIONS.scanNow, ...iamActions(TABLE_ACCESS.operator)].sort(),
    );
  });

  it('allows each read on this stack’s own resources only', () => {
    const readOnly = policy('ReadOnly');
    const table = arn('AWS::DynamoDB::GlobalTable');
    const stackArn = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Fleetscan/0a1b2c3d`;

    expect(can(readOnly, 'cloudformation:DescribeStacks', stackArn)).toBe('Allow');
    expect(can(readOnly, 'cloudformation:DescribeStacks', stackArn.replace('Fleetscan', 'Other'))).toBe('ImplicitDeny');
    expect(can(readOnly, 'dynamodb:Query', `${table}/index/byTime`)).toBe('Allow');
    expect(can(readOnly, 'dynamodb:Query', `${table}/index/due`)).toBe('ImplicitDeny');
    expect(can(readOnly, 'dynamodb:GetItem', table)).toBe('Allow');
    expect(can(readOnly, 'dynamodb:GetItem', `${table}-other`)).toBe('ImplicitDeny');
    expect(can(readOnly, 'scheduler:GetSchedule', arn('AWS::Scheduler::Schedule'))).toBe('Allow');
    expect(can(readOnly, 'sns:ListSubscriptionsByTopic', arn('AWS::SNS::Topic'))).toBe('Allow');
    expect(
      can(
        readOnly,
        'cloudwatch:DescribeAlarms',
        `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:Fleetscan-NoCompletedScan`,
      ),
    ).toBe('Allow');
    expect(can(readOnly, 'cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:Other`)).toBe(
      'ImplicitDeny',
    );
  });

  it('writes nothing with the read-only policy; the operator may clear a node and start a scan, nothing more', () => {
    const readOnly = policy('ReadOnly');
    const operator = policy('Operator');
    const table = arn('AWS::DynamoDB::GlobalTable');
    const functions = Object.entries(synth.template.Resources as Record<string, Resource>).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function',
    );
    const named = (service: string) =>
      functions.find(
        ([, r]) => ((r.Properties.Environment as Json).Variables as Json)[FUNCTION_ENV.serviceName] === service,
      )?.[0] ?? '';
    const scanArn = env.refs[named('fleetscan-scan')] ?? '';
    const collectArn = env.refs[named('fleetscan-collect')] ?? '';

    for (const action of [
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ]) {
      expect(can(readOnly, action, table), action).toBe('ImplicitDeny');
    }
    expect(can(readOnly, 'lambda:InvokeFunction', scanArn)).toBe('ImplicitDeny');
    expect(can(operator, 'dynamodb:UpdateItem', table)).toBe('Allow');
    expect(can(operator, 'dynamodb:DeleteItem', table)).toBe('ImplicitDeny');
    expect(can(operator, 'lambda:InvokeFunction', scanArn)).toBe('Allow');
    expect(can(operator, 'lambda:InvokeFunction', collectArn)).toBe('ImplicitDeny');
    expect(scanArn).not.toBe('');
  });
});
