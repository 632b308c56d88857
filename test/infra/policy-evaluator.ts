/**
 * A small IAM policy evaluator for the statements fleetscan's template contains — enough to prove that a request
 * is allowed by *policy* (a resource policy, a key policy, an identity policy), not only that a grant was made.
 *
 * It follows IAM's evaluation logic for one policy document at a time
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit Deny
 * wins, then an Allow, else the request is implicitly denied. Statements hold CloudFormation values, so
 * `Ref`, `Fn::GetAtt` and `Fn::Join` are resolved against a made-up account, region and resource names first.
 * Anything it does not understand — NotPrincipal, NotAction, NotResource, an unknown condition operator or
 * intrinsic — throws, so that a policy it cannot read can never pass a test.
 */

type Json = Record<string, unknown>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Json;
  readonly [other: string]: unknown;
}

export interface Request {
  /** Who asks: an AWS service (`cloudwatch.amazonaws.com`) or an IAM principal's ARN. */
  readonly principal: { readonly service: string } | { readonly arn: string };
  readonly action: string;
  readonly resource: string;
  /** The request context's condition keys, e.g. aws:SourceAccount, aws:SourceArn, aws:SecureTransport. */
  readonly context: Readonly<Record<string, string>>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** How Refs and GetAtts resolve: the pseudo parameters, and each resource's Ref value and attributes. */
export interface Environment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly refs: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export class UnsupportedPolicyError extends Error {
  override readonly name = 'UnsupportedPolicyError';
}

/** A CloudFormation value with its intrinsics resolved: strings, lists and objects of strings. */
export function resolve(value: unknown, env: Environment): unknown {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map((entry) => resolve(entry, env));
  if (value === null || typeof value !== 'object') throw new UnsupportedPolicyError(`cannot resolve ${String(value)}`);
  const record = value as Json;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === 'Ref') {
    const name = String(record.Ref);
    const pseudo: Record<string, string> = {
      'AWS::AccountId': env.account,
      'AWS::Region': env.region,
      'AWS::Partition': env.partition,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    const found = pseudo[name] ?? env.refs[name];
    if (found === undefined) throw new UnsupportedPolicyError(`no value for Ref ${name}`);
    return found;
  }
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [id, attribute] = record['Fn::GetAtt'] as [string, string];
    const found = env.attributes[id]?.[attribute];
    if (found === undefined) throw new UnsupportedPolicyError(`no value for Fn::GetAtt ${id}.${attribute}`);
    return found;
  }
  if (keys.length === 1 && keys[0] === 'Fn::Join') {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => String(resolve(part, env))).join(separator);
  }
  if (keys.some((key) => key.startsWith('Fn::'))) throw new UnsupportedPolicyError(`unsupported intrinsic ${keys[0]}`);
  return Object.fromEntries(keys.map((key) => [key, resolve(record[key], env)]));
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((entry) => String(entry));

/** IAM's `*` and `?` wildcards; `caseless` for action names. */
function wildcard(pattern: string, value: string, caseless = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, caseless ? 'i' : '').test(value);
}

function principalMatches(principal: unknown, request: Request): boolean {
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object') throw new UnsupportedPolicyError('bad Principal');
  const record = principal as Json;
  for (const key of Object.keys(record)) {
    if (key !== 'AWS' && key !== 'Service') throw new UnsupportedPolicyError(`unsupported principal type ${key}`);
  }
  // {"AWS": "*"} is "*": every principal, AWS services included (IAM's Principal element reference).
  if (list(record.AWS).includes('*')) return true;
  if ('service' in request.principal) return list(record.Service).includes(request.principal.service);
  const { arn } = request.principal;
  return list(record.AWS).some((entry) => {
    // An account's root ARN stands for every principal of the account (IAM policies then decide).
    const root = /^arn:[^:]+:iam::([0-9]{12}):root$/.exec(entry);
    if (root !== null) return arn.split(':')[4] === root[1];
    return entry === arn;
  });
}

type Operator = (values: string[], actual: string | undefined) => boolean;

const OPERATORS: Record<string, Operator> = {
  StringEquals: (values, actual) => actual !== undefined && values.includes(actual),
  // IAM: a negated operator is true when the key is absent from the request.
  StringNotEquals: (values, actual) => actual === undefined || !values.includes(actual),
  StringLike: (values, actual) => actual !== undefined && values.some((value) => wildcard(value, actual)),
  ArnEquals: (values, actual) => actual !== undefined && values.includes(actual),
  ArnLike: (values, actual) => actual !== undefined && values.some((value) => wildcard(value, actual)),
  Bool: (values, actual) =>
    actual !== undefined && values.some((value) => value.toLowerCase() === actual.toLowerCase()),
};

function conditionsHold(condition: Json | undefined, request: Request): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition).every(([operator, keys]) => {
    const test = OPERATORS[operator];
    if (test === undefined) throw new UnsupportedPolicyError(`unsupported condition operator ${operator}`);
    return Object.entries(keys as Json).every(([key, values]) => test(list(values), request.context[key]));
  });
}

/** Whether one statement applies to the request (its effect aside). */
export function statementMatches(statement: PolicyStatement, request: Request, hasPrincipal: boolean): boolean {
  for (const unsupported of ['NotPrincipal', 'NotAction', 'NotResource']) {
    if (unsupported in statement) throw new UnsupportedPolicyError(`unsupported element ${unsupported}`);
  }
  if (hasPrincipal && !principalMatches(statement.Principal, request)) return false;
  if (!list(statement.Action).some((action) => wildcard(action, request.action, true))) return false;
  if (!list(statement.Resource).some((resource) => wildcard(resource, request.resource))) return false;
  return conditionsHold(statement.Condition, request);
}

/**
 * The decision of one policy document for the request. `kind` says whether statements name principals
 * (resource and key policies) or apply to the principal they are attached to (identity policies).
 */
export function evaluate(
  statements: readonly PolicyStatement[],
  request: Request,
  kind: 'resource' | 'identity' = 'resource',
): Decision {
  const matching = statements.filter((statement) => statementMatches(statement, request, kind === 'resource'));
  if (matching.some((statement) => statement.Effect === 'Deny')) return 'ExplicitDeny';
  if (matching.some((statement) => statement.Effect === 'Allow')) return 'Allow';
  return 'ImplicitDeny';
}

/** Every statement of a policy document, intrinsics resolved. */
export function resolvedStatements(document: unknown, env: Environment): PolicyStatement[] {
  const { Statement } = resolve(document, env) as { Statement: PolicyStatement[] };
  return Statement;
}
