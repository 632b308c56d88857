/**
 * The collect function's hand-off: a collection that runs out of time invokes a fresh invocation of the function
 * it runs in (AWS_LAMBDA_FUNCTION_NAME). So the function has an explicit name derived from the stack's, and its
 * role — its role only — may invoke exactly that function, unqualified: proven by evaluating the role's policies
 * for the requests, not by looking for a grant. test/infra/table-access.test.ts runs a real hand-off and checks
 * the function it invokes is the one allowed here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENV } from '../../lib/config/contracts.ts';
import { FUNCTION_NAME_MAX_CHARS, stackFunctionName } from '../../lib/infra/function.ts';
import { type Environment, evaluate, type PolicyStatement, resolvedStatements } from './policy-evaluator.ts';
import { SYNTH_TEST_TIMEOUT_MS, type Synthesized, synthesized } from './support.ts';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
}

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

let synth: Synthesized;
let variant: Synthesized;

beforeAll(() => {
  synth = synthesized('default');
  // The variant alarms.test.ts also reads (synthesized once per run): another stack name.
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

function functionWithService(s: Synthesized, service: string): [string, Resource] {
  const found = resourcesOf(s).filter(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      ((r.Properties.Environment as Json).Variables as Json)[FUNCTION_ENV.serviceName] === service,
  );
  expect(found, service).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** Every resource resolves to a made-up ARN; the functions' ARNs are Lambda's, from their names. */
function environment(s: Synthesized): Environment {
  const refs: Record<string, string> = {};
  const attributes: Record<string, Record<string, string>> = {};
  for (const [id, resource] of resourcesOf(s)) {
    const named = resource.Type === 'AWS::Lambda::Function' ? resource.Properties.FunctionName : undefined;
    const arn =
      typeof named === 'string'
        ? functionArn(named)
        : `arn:aws:${resource.Type.split('::')[1]?.toLowerCase() ?? 'x'}:${REGION}:${ACCOUNT}:${id}`;
    refs[id] = arn;
    attributes[id] = { Arn: arn };
  }
  return { account: ACCOUNT, region: REGION, partition: 'aws', refs, attributes };
}

/** The identity policies attached to a role, with the roles each is attached to. */
function policiesOf(s: Synthesized, roleId: string): { roles: string[]; statements: PolicyStatement[] }[] {
  return resourcesOf(s)
    .filter(
      ([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((role) => role.Ref === roleId),
    )
    .map(([, r]) => ({
      roles: (r.Properties.Roles as Json[]).map((role) => String(role.Ref)),
      statements: resolvedStatements(r.Properties.PolicyDocument, environment(s)),
    }));
}

const roleOf = (fn: Resource) => ((fn.Properties.Role as Json)['Fn::GetAtt'] as string[])[0] ?? '';

function invoke(statements: PolicyStatement[], resource: string, action = 'lambda:InvokeFunction') {
  return evaluate(
    statements,
    { principal: { arn: `arn:aws:iam::${ACCOUNT}:role/x` }, action, resource, context: {} },
    'identity',
  );
}

describe('Collect hands off to itself', () => {
  it('names the function after its stack: one per stack, within Lambda’s 64 characters', () => {
    const [, collect] = functionWithService(synth, 'fleetscan-collect');
    const [, other] = functionWithService(variant, 'fleetscan-collect');

    expect(collect.Properties.FunctionName).toBe('Fleetscan-collect');
    expect(other.Properties.FunctionName).toBe('FleetscanStaging-collect');
  });

  it('cuts a stack name too long for it, keeping names of different stacks apart', () => {
    // CloudFormation allows stack names of 128 characters; these two differ only at the end.
    const long = `Fleetscan${'-x'.repeat(58)}`;
    const a = stackFunctionName(`${long}A`, 'collect');
    const b = stackFunctionName(`${long}B`, 'collect');

    for (const name of [a, b]) {
      expect(name.length).toBe(FUNCTION_NAME_MAX_CHARS);
      expect(name).toMatch(/^Fleetscan-x-x[a-zA-Z0-9-_]*-[0-9a-f]{8}-collect$/);
    }
    expect(a).not.toBe(b);
    expect(stackFunctionName(`${long}A`, 'collect')).toBe(a);
    expect(stackFunctionName('x'.repeat(56), 'collect')).toBe(`${'x'.repeat(56)}-collect`);
  });

  it.each([
    ['default', () => synth],
    ['FleetscanStaging', () => variant],
  ])('%s: lets collect invoke itself, unqualified, and no other function', (_name, which) => {
    const s = which();
    const [, collect] = functionWithService(s, 'fleetscan-collect');
    const [scanId] = functionWithService(s, 'fleetscan-scan');
    const own = String(collect.Properties.FunctionName);
    const statements = policiesOf(s, roleOf(collect)).flatMap((policy) => policy.statements);

    expect(invoke(statements, functionArn(own))).toBe('Allow');
    for (const resource of [
      environment(s).refs[scanId] ?? '',
      functionArn(`${own}:live`),
      functionArn(`${own}:1`),
      functionArn(own === 'Fleetscan-collect' ? 'FleetscanStaging-collect' : 'Fleetscan-collect'),
      functionArn('unrelated'),
      `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${own}`,
    ]) {
      expect(invoke(statements, resource), resource).toBe('ImplicitDeny');
    }
    for (const action of ['lambda:UpdateFunctionCode', 'lambda:InvokeAsync', 'lambda:GetFunction']) {
      expect(invoke(statements, functionArn(own), action), action).toBe('ImplicitDeny');
    }
  });

  it('grants it in a policy attached to collect’s role alone; the scan role cannot invoke scan', () => {
    const [, collect] = functionWithService(synth, 'fleetscan-collect');
    const [, scan] = functionWithService(synth, 'fleetscan-scan');
    const own = functionArn(String(collect.Properties.FunctionName));
    const granting = policiesOf(synth, roleOf(collect)).filter((policy) => invoke(policy.statements, own) === 'Allow');
    const scanStatements = policiesOf(synth, roleOf(scan)).flatMap((policy) => policy.statements);
    const [scanId] = functionWithService(synth, 'fleetscan-scan');

    expect(granting.map((policy) => policy.roles)).toEqual([[roleOf(collect)]]);
    expect(invoke(scanStatements, environment(synth).refs[scanId] ?? '')).toBe('ImplicitDeny');
  });
});
