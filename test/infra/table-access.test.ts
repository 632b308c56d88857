/**
 * Least privilege, measured: each function's role grants exactly the DynamoDB actions its code calls.
 *
 * The real Lambda handlers (lambdas/scan, lambdas/collect — whatever stores they build) run, cold-started with the
 * template's environment, through the scenarios of a fleet-scale collection in the fault world (test/faults/support):
 *
 *   1. a scheduled scan; its collection runs out of time after one listing page and hands off to itself (a shard
 *      checkpoint, the lease passed on); the successor lists the rest, remediates, notifies, runs out of time while
 *      sealing the scan into the node history and hands that off too; the same completion event again; each
 *      remediate command's completion;
 *   2. a second scan, judged against the first one's sealed records, whose collection dies before recording its
 *      remediate command and is re-delivered while SNS is down; the sweep republishes the summary;
 *   3. a third scan whose listing fails at the same page on every attempt until its shard gives up: INCOMPLETE;
 *   4. a fourth scan whose completion event never comes: once it is overdue the sweep hands it (and the third
 *      scan's remediate commands) to collect;
 *   5. a fifth scan, collected up to a hand-off whose successor has not run yet: RUNNING, half of it in the journal.
 *
 * SSM is the world's simulator, DynamoDB its dynalite behind a recording proxy (test/support/dynamo-recorder.ts);
 * SNS, EC2 and Lambda are aws-sdk-client-mock, and each Invoke the handlers send (a hand-off, the sweep) is run by
 * the collect handler in turn, as Lambda would. What each function sent is compared, both ways, with its role in
 * the synthesized template and with lib/adapters/table-access.ts: an action used but not granted fails, and so
 * does one granted but never used.
 *
 * The same holds for the CLI: the history commands and `clear`, run in-process on the history those scenarios
 * left (sealed, INCOMPLETE and half-collected scans), against the managed policies.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { INDEXES } from '../../lib/adapters/dynamo/schema.ts';
import { TABLE_ACCESS, type TableAccess } from '../../lib/adapters/table-access.ts';
import { main } from '../../lib/cli/main.ts';
import { FUNCTION_ENV, METRIC_NAMES, METRIC_SERVICE_DIMENSION } from '../../lib/config/contracts.ts';
import { createWorld, DOCUMENTS, type World } from '../faults/support/world.ts';
import { DynamoRecorder, type RecordedCall, summarize } from '../support/dynamo-recorder.ts';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { evaluate, resolvedStatements } from './policy-evaluator.ts';
import { SYNTH_TEST_TIMEOUT_MS, type Synthesized, synthesized } from './support.ts';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
}

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
/** How many shards' collection attempts may fail before the shard is given up (collection.maxAttempts). */
const MAX_ATTEMPTS = 2;

const sns = mockClient(SNSClient);
const ec2 = mockClient(EC2Client);
const lambda = mockClient(LambdaClient);

let synth: Synthesized;
let world: World;
let recorder: DynamoRecorder;
const used: Record<'scan' | 'collect', RecordedCall[]> = { scan: [], collect: [] };
const emitted: Json[] = [];

type Handler = (event: unknown, context?: Context) => Promise<unknown>;
type Response = { outcome?: string; work?: string; status?: string };

/** The template's function whose POWERTOOLS_SERVICE_NAME is `service`. */
function functionResource(service: string): Resource {
  const fn = Object.values(synth.template.Resources as Record<string, Resource>).find(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' &&
      ((resource.Properties.Environment as Json).Variables as Json)[FUNCTION_ENV.serviceName] === service,
  );
  if (fn === undefined) throw new Error(`no function ${service} in the template`);
  return fn;
}

/** The collect function's name, as the template gives it (and Lambda sets AWS_LAMBDA_FUNCTION_NAME to). */
const collectName = () => String(functionResource('fleetscan-collect').Properties.FunctionName);

/** The function's environment as the template sets it (and Lambda adds), pointed at the world instead of AWS. */
function functionEnv(service: string): Record<string, string> {
  const variables = (functionResource(service).Properties.Environment as Json).Variables as Json;
  return {
    [FUNCTION_ENV.serviceName]: String(variables[FUNCTION_ENV.serviceName]),
    [FUNCTION_ENV.metricsNamespace]: String(variables[FUNCTION_ENV.metricsNamespace]),
    [FUNCTION_ENV.tableName]: world.db.tableName,
    [FUNCTION_ENV.topicArn]: `arn:aws:sns:${REGION}:${ACCOUNT}:fleetscan`,
    [FUNCTION_ENV.gatherDocument]: DOCUMENTS.gather,
    [FUNCTION_ENV.remediateDocument]: DOCUMENTS.remediate,
    [FUNCTION_ENV.collectFunctionName]: collectName(),
    [FUNCTION_ENV.config]: JSON.stringify(world.config),
    AWS_LAMBDA_FUNCTION_NAME: service === 'fleetscan-collect' ? collectName() : 'Fleetscan-scan',
  };
}

/** Imports a handler as its Lambda's cold start would: with the function's environment in place. */
async function coldStart(entry: 'scan' | 'collect', service: string): Promise<Handler> {
  for (const [name, value] of Object.entries(functionEnv(service))) vi.stubEnv(name, value);
  const module = (await import(`../../lambdas/${entry}/handler.ts`)) as { handler: Handler };
  return module.handler;
}

/** Time left to the running invocation (the Lambda context's getRemainingTimeInMillis). */
let remaining: () => number = () => 600_000;

function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => remaining(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const listings = () => world.sim.stats().apiCalls.ListCommandInvocations ?? 0;

/** A deadline that is generous until `pages` more listing pages have been fetched, then none. */
function afterPages(pages: number): () => number {
  const start = listings();
  return () => (listings() - start < pages ? 600_000 : 0);
}

const generous = () => 600_000;

/** Which function sent each Invoke so far, in order. */
const invokedBy: ('scan' | 'collect')[] = [];

/** What the handlers asked Lambda to invoke, in order: who asked, the function named, the payload. */
const invokes = () =>
  lambda.commandCalls(InvokeCommand).map((call, index) => ({
    by: invokedBy[index],
    functionName: String(call.args[0].input.FunctionName),
    payload: JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)) as Json,
  }));

/** Runs a handler, keeping the DynamoDB calls and Invokes it made; rejections are returned, not thrown. */
async function run(fn: 'scan' | 'collect', handler: Handler, event: unknown, deadline = generous): Promise<unknown> {
  // The simulated SSM keeps the world's clock; the handlers read Date (faked here, so that time can pass).
  world.clock.advance((Date.now() - world.clock.now().getTime()) / 1000);
  remaining = deadline;
  const from = recorder.calls.length;
  try {
    return await handler(event, lambdaContext(fn === 'collect' ? collectName() : 'Fleetscan-scan'));
  } catch (error) {
    return error;
  } finally {
    used[fn].push(...recorder.calls.slice(from));
    while (invokedBy.length < lambda.commandCalls(InvokeCommand).length) invokedBy.push(fn);
  }
}

const declared = (access: TableAccess): { items: string[]; queries: string[] } => ({
  items: [...access.items].sort(),
  queries: access.queries.map((target) => (target === 'table' ? 'table' : INDEXES[target].name)).sort(),
});

/** The DynamoDB actions a set of statements grants on the history table, in the recorder's terms. */
function granted(statements: Json[], tableId: string): { items: string[]; queries: string[] } {
  const tableArn = JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] });
  const items = new Set<string>();
  const queries = new Set<string>();
  for (const statement of statements) {
    const actions = [statement.Action].flat() as string[];
    for (const action of actions.filter((a) => a.startsWith('dynamodb:'))) {
      for (const resource of [statement.Resource].flat()) {
        const text = JSON.stringify(resource);
        const index = /"\/index\/([^"]+)"/.exec(text)?.[1];
        if (action === 'dynamodb:Query') queries.add(index ?? (text === tableArn ? 'table' : `?${text}`));
        else items.add(index === undefined && text === tableArn ? action.slice('dynamodb:'.length) : `?${action}`);
      }
    }
  }
  return { items: [...items].sort(), queries: [...queries].sort() };
}

function roleStatements(service: string): Json[] {
  const resources = synth.template.Resources as Record<string, Resource>;
  const roleId = ((functionResource(service).Properties.Role as Json)['Fn::GetAtt'] as string[])[0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((role) => role.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Json[] }).Statement);
}

/** The stack's managed policy of that kind (named `<stack>-<region>-<kind>`). */
function managedPolicy(kind: 'ReadOnly' | 'Operator'): Json[] {
  const found = Object.values(synth.template.Resources as Record<string, Resource>).find(
    (r) =>
      r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.ManagedPolicyName).endsWith(`-${kind}"]]}`),
  );
  if (found === undefined) throw new Error(`no ${kind} managed policy in the template`);
  return (found.Properties.PolicyDocument as { Statement: Json[] }).Statement;
}

const tableId = () =>
  Object.entries(synth.template.Resources as Record<string, Resource>).find(
    ([, r]) => r.Type === 'AWS::DynamoDB::GlobalTable',
  )?.[0] ?? '';

/* ---- what happened, kept for the assertions ---- */

const responses: Record<string, Response[]> = {};
const scanIds: string[] = [];
let sweptWork: string[] = [];
let halfCollected = '';

const isJournalPage = (call: RecordedCall, page: number) => {
  const item = call.body.Item as { pk?: { S?: string }; sk?: { S?: string } } | undefined;
  return (
    call.operation === 'PutItem' &&
    String(item?.pk?.S).startsWith('JRNL#') &&
    item?.sk?.S === `P#${String(page).padStart(6, '0')}`
  );
};

beforeAll(async () => {
  synth = synthesized('default');
  // 120 nodes: three listing pages (50, 50, 20). Twelve are fragmented: scans remediate their budget of five, and
  // the remediations end every way they can.
  const fleet = Fleet.build({ size: 120, seed: 11, mix: { fragmented: 12, 'delivery-timed-out': 1, failed: 1 } });
  for (const [position, node] of fleet.withBehaviour('fragmented').entries()) {
    node.remediationEffect = position % 4 === 1 ? 'no-effect' : position % 4 === 3 ? 'failed' : 'improved';
  }
  world = await createWorld({
    fleet,
    config: { collection: { nodesPerCommand: 10_000, maxAttempts: MAX_ATTEMPTS, maxMinutes: 180 } },
  });
  recorder = await DynamoRecorder.start(world.db.endpoint);
  // Only Date is faked, and it runs on: the handlers' "now" may then jump ahead (an overdue scan, a lease ended).
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });

  vi.resetModules();
  for (const [name, value] of Object.entries({
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_ENDPOINT_URL_SSM: world.sim.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: recorder.endpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'false',
  })) {
    vi.stubEnv(name, value);
  }
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    try {
      const parsed = JSON.parse(String(line)) as Json;
      if ('_aws' in parsed) emitted.push(parsed);
    } catch {
      // not a metrics line
    }
  });
  ec2.onAnyCommand().resolves({ Reservations: [] });
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  let snsDown = false;
  sns.on(PublishCommand).callsFake(() => {
    if (!snsDown) return { MessageId: 'm-1' };
    snsDown = false;
    throw Object.assign(new Error('SNS is down'), { name: 'InternalErrorException' });
  });

  const scan = await coldStart('scan', 'fleetscan-scan');
  const collect = await coldStart('collect', 'fleetscan-collect');
  const note = (label: string, response: unknown) => {
    const list = responses[label] ?? [];
    list.push(response instanceof Error ? { outcome: 'failed', status: response.name } : (response as Response));
    responses[label] = list;
  };
  const startScan = async () => {
    const response = (await run('scan', scan, { source: 'fleetscan.schedule' })) as { scanId: string };
    scanIds.push(response.scanId);
    return response.scanId;
  };
  const events = (scanId: string) => world.scanCompletionEvents(scanId);
  let ran = 0;
  /** Runs what the handlers asked Lambda to invoke since the last drain, and what those ask in turn. */
  const drain = async (label: string, deadlines: (() => number)[] = []) => {
    for (let next = invokes()[ran]; next !== undefined; next = invokes()[ran]) {
      ran += 1;
      note(label, await run('collect', collect, next.payload, deadlines.shift() ?? generous));
    }
  };
  const remediateCommands = async (scanId: string) => [
    ...new Set(
      (await world.deps.store.remediations.listScanRemediations(scanId)).flatMap((r) =>
        r.commandId === null ? [] : [r.commandId],
      ),
    ),
  ];

  // 1. Scheduled (the sweep finds nothing due); its event collects one page and hands off; the successor lists the
  //    other two and runs out of time sealing; sealing's own hand-off ends it.
  const first = await startScan();
  for (const event of await events(first)) note('first', await run('collect', collect, event, afterPages(1)));
  await drain('first', [afterPages(2)]);
  for (const event of await events(first)) note('duplicate', await run('collect', collect, event));
  for (const commandId of await remediateCommands(first)) {
    note('outcomes', await run('collect', collect, world.completionEvent(commandId)));
  }
  await drain('outcomes');

  // 2. Dies before recording its remediate command; re-delivered while SNS is down; the sweep republishes.
  const second = await startScan();
  await drain('second');
  recorder.failNext((call) => call.operation === 'PutItem' && JSON.stringify(call.body).includes('"CMD#'));
  for (const event of await events(second)) note('second', await run('collect', collect, event));
  snsDown = true;
  for (const event of await events(second)) note('second', await run('collect', collect, event));
  // (The second scan's remediate commands' events never come: the sweep collects them, step 4.)
  const third = await startScan();
  await drain('republish');

  // 3. The third scan's second page fails to store on every attempt; past the limit its shard is given up.
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    recorder.failNext((call) => isJournalPage(call, 1));
    for (const event of await events(third)) note('third', await run('collect', collect, event));
  }
  for (const event of await events(third)) note('third', await run('collect', collect, event));
  await drain('third');

  // 4. The fourth scan's event never comes; past its collectAfter (and the leases left by step 2's crash) the sweep
  //    finds it, the second scan's remediate commands, its remediation that was sent but never recorded.
  const fourth = await startScan();
  await drain('fourth');
  vi.setSystemTime(Date.now() + 25 * 60_000);
  const swept = invokes().length;
  await startScan();
  sweptWork = invokes()
    .slice(swept)
    .map((invoke) => String(invoke.payload.kind));
  await drain('swept');
  expect((await world.deps.store.getScan(fourth))?.status).toBe('COMPLETED');

  // 5. Half collected: its successor has not run yet (its Invoke is left undelivered).
  halfCollected = scanIds.at(-1) ?? '';
  for (const event of await events(halfCollected)) note('half', await run('collect', collect, event, afterPages(1)));
  ran = invokes().length;
}, 4 * SYNTH_TEST_TIMEOUT_MS);

afterAll(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await recorder?.close();
  await world?.close();
});

describe('Least privilege: the functions’ roles and the DynamoDB calls their code makes', () => {
  it('ran the scenarios it claims', async () => {
    const [first, second, third, fourth] = await Promise.all(
      scanIds.slice(0, 4).map((scanId) => world.deps.store.getScan(scanId)),
    );
    const remediations = await world.deps.store.listRemediations({ limit: 100 });
    const status = (label: string) => (responses[label] ?? []).map((response) => response.status);

    // 1. handed off mid-listing, collected by the successor, sealing handed off and finished; the duplicate found
    //    it finished.
    expect(status('first')).toEqual(['handed-off', 'collected', 'already-completed']);
    expect(first).toMatchObject({ status: 'COMPLETED', nodes: 120, sealed: true, notification: 'sent' });
    expect(status('duplicate')).toEqual(['finished']);
    // 2. the crash, then the SNS outage, then the sweep's republication.
    expect(status('second')).toEqual(['ValidationException', 'InternalErrorException']);
    expect(status('republish')).toEqual(['already-completed']);
    expect(second).toMatchObject({ status: 'COMPLETED', notification: 'sent', sealed: true });
    // 3. two failed attempts, then given up: INCOMPLETE, what was collected kept and sealed.
    expect(status('third')).toEqual(['ValidationException', 'ValidationException', 'given-up']);
    expect(third).toMatchObject({ status: 'INCOMPLETE', nodes: 50, sealed: true });
    expect(third?.incompleteReason).toMatch(/collection gave up after 2 failed attempts/);
    // 4. the sweep handed out the overdue shard, remediate commands, the second scan's unsent remediation.
    expect(new Set(sweptWork)).toEqual(new Set(['gather', 'remediate', 'scan']));
    expect(fourth).toMatchObject({ status: 'COMPLETED', nodes: 120 });
    // 5. half collected, waiting for its successor.
    expect(await world.deps.store.getScan(halfCollected)).toMatchObject({
      status: 'RUNNING',
      progress: { collected: 50, targeted: 120 },
    });
    expect(status('half')).toEqual(['handed-off']);
    // Remediations sent and their outcomes collected, every way they end.
    expect(remediations.items.filter((r) => r.status === 'COMPLETED').length).toBeGreaterThanOrEqual(8);
    expect(new Set(remediations.items.flatMap((r) => (r.status === 'COMPLETED' ? [r.effect] : [])))).toEqual(
      new Set(['improved', 'no-effect', 'failed']),
    );
  });

  it('hands off by invoking exactly the function its role may invoke: itself', () => {
    const handOffs = invokes().filter((invoke) => invoke.by === 'collect');
    // Its statements on Lambda (they name ARNs by the pseudo parameters only), as IAM evaluates them.
    const onLambda = roleStatements('fleetscan-collect').filter((statement) =>
      [statement.Action].flat().some((action) => String(action).startsWith('lambda:')),
    );
    const statements = resolvedStatements(
      { Statement: onLambda },
      { account: ACCOUNT, region: REGION, partition: 'aws', refs: {}, attributes: {} },
    );
    const arn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

    // Mid-listing (with the lease handed over) and while sealing, at least.
    expect(handOffs.filter((invoke) => invoke.payload.lease !== undefined).length).toBeGreaterThanOrEqual(2);
    expect(handOffs.some((invoke) => invoke.payload.kind === 'scan')).toBe(true);
    expect(new Set(invokes().map((invoke) => invoke.functionName))).toEqual(new Set([collectName()]));
    for (const { functionName } of handOffs) {
      const request = { principal: { arn: `arn:aws:iam::${ACCOUNT}:role/collect` }, context: {} };
      expect(
        evaluate(statements, { ...request, action: 'lambda:InvokeFunction', resource: arn(functionName) }, 'identity'),
      ).toBe('Allow');
    }
  });

  it.each([
    ['scan', 'fleetscan-scan', TABLE_ACCESS.scanFunction],
    ['collect', 'fleetscan-collect', TABLE_ACCESS.collectFunction],
  ] as const)('%s: grants exactly what it calls — nothing missing, nothing unused', (fn, service, access) => {
    const calls = summarize(used[fn]);
    const grants = granted(roleStatements(service), tableId());

    expect(calls.tables).toEqual([world.db.tableName]);
    expect({ items: calls.items, queries: calls.queries }, 'what the code called vs table-access.ts').toEqual(
      declared(access),
    );
    expect(grants, 'the role in the template vs what the code called').toEqual({
      items: calls.items,
      queries: calls.queries,
    });
  });

  it('never grants a delete, a scan, stream reads or transaction checks to a function', () => {
    for (const service of ['fleetscan-scan', 'fleetscan-collect']) {
      const actions = roleStatements(service).flatMap((s) => [s.Action].flat() as string[]);
      for (const action of [
        'DeleteItem',
        'Scan',
        'ConditionCheckItem',
        'GetRecords',
        'DescribeStream',
        'GetShardIterator',
      ]) {
        expect(actions, `${service} ${action}`).not.toContain(`dynamodb:${action}`);
      }
    }
  });

  it('emits every metric the job alarms watch, in the namespace and with the dimension they watch', () => {
    const alarms = Object.values(synth.template.Resources as Record<string, Resource>)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .flatMap((r) => {
        const stats = (r.Properties.Metrics as { MetricStat?: { Metric: Json } }[] | undefined)?.flatMap((m) =>
          m.MetricStat === undefined ? [] : [m.MetricStat.Metric],
        );
        return stats ?? [r.Properties];
      })
      .filter((metric) => metric.Namespace === 'Fleetscan');
    const seen = new Set(
      emitted.flatMap((line) => {
        const [directive] = (
          line._aws as {
            CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
          }
        ).CloudWatchMetrics;
        const dimensions = (directive?.Dimensions[0] ?? []).map((name) => `${name}=${String(line[name])}`).join(',');
        return (directive?.Metrics ?? []).map((metric) => `${directive?.Namespace} ${metric.Name} ${dimensions}`);
      }),
    );

    expect(alarms.length).toBeGreaterThanOrEqual(6);
    for (const metric of alarms) {
      const dimensions = (metric.Dimensions as { Name: string; Value: string }[])
        .map((d) => `${d.Name}=${d.Value}`)
        .join(',');
      expect(dimensions).toBe(`${METRIC_SERVICE_DIMENSION}=fleetscan-collect`);
      expect(seen, String(metric.MetricName)).toContain(`${metric.Namespace} ${metric.MetricName} ${dimensions}`);
    }
  });

  it('gives the ScanIncomplete alarm a data point from every finished scan: 0 when COMPLETED, 1 when INCOMPLETE', () => {
    // The alarm treats missing data as breaching (a stopped job emits nothing), so every finished scan emits both.
    const finished = emitted.filter((line) => METRIC_NAMES.scansCompleted in line);
    expect(finished.length).toBeGreaterThanOrEqual(3);
    for (const line of finished) {
      expect(Number(line[METRIC_NAMES.scansCompleted]) + Number(line[METRIC_NAMES.scansIncomplete])).toBe(1);
    }
    expect(finished.filter((line) => line[METRIC_NAMES.scansIncomplete] === 1)).toHaveLength(1);
  });
});

describe('Least privilege: the CLI’s managed policies and the DynamoDB calls the commands make', () => {
  let cli: DynamoRecorder;
  const io = () => {
    const out: string[] = [];
    return {
      out,
      io: {
        stdout: (text: string) => out.push(text),
        stderr: (text: string) => out.push(text),
        readStdin: async () => '',
        isTty: false,
        env: { NO_COLOR: '1' },
      },
    };
  };

  beforeAll(async () => {
    cli = await DynamoRecorder.start(world.db.endpoint);
  });

  afterAll(async () => {
    await cli?.close();
  });

  async function command(args: string[]): Promise<RecordedCall[]> {
    const from = cli.calls.length;
    const { io: commandIo, out } = io();
    const code = await main(
      [...args, '--endpoint', cli.endpoint, '--table', world.db.tableName, '--region', REGION],
      commandIo,
    );
    expect(code, `${args.join(' ')}: ${out.join('')}`).toBe(0);
    return cli.calls.slice(from);
  }

  it('reads the history with exactly what the read-only policy grants', async () => {
    const [first, , third] = scanIds;
    const node = world.sim.fleet.withBehaviour('fragmented')[0]?.instanceId ?? '';
    const page = join(tmpdir(), `fleetscan-least-privilege-${randomUUID()}.html`);
    onTestFinished(() => rm(page, { force: true }));
    const calls = [
      ...(await command(['scans'])),
      ...(await command(['scans', '--limit', '2'])),
      // A sealed scan, whole (its records from the node history) and by a prefix of its id.
      ...(await command(['scan', first ?? '', '--limit', '200'])),
      ...(await command(['scan', (first ?? '').slice(0, 8)])),
      // An INCOMPLETE scan, and one still being collected (its records from the journal).
      ...(await command(['scan', third ?? '', '--json'])),
      ...(await command(['scan', halfCollected, '--limit', '200'])),
      ...(await command(['history', node])),
      ...(await command(['history', node, '--since', '1h', '--json'])),
      ...(await command(['remediations'])),
      ...(await command(['remediations', node])),
      // The pictures: every record of the window's scans, and the remediations since its oldest.
      ...(await command(['fleet', '--json'])),
      ...(await command(['report', '--html', page])),
    ];
    const { items, queries } = summarize(calls);

    expect({ items, queries }).toEqual(declared(TABLE_ACCESS.historyReader));
    expect(granted(managedPolicy('ReadOnly'), tableId())).toEqual({ items, queries });
  });

  it('clears a node with the read-only reads and the operator policy’s one write', async () => {
    const node = world.sim.fleet.withBehaviour('fragmented')[0]?.instanceId ?? '';
    const calls = await command(['clear', node]);
    const { items, queries } = summarize(calls);
    const reads = declared(TABLE_ACCESS.historyReader);

    expect(items.filter((item) => !reads.items.includes(item))).toEqual(declared(TABLE_ACCESS.operator).items);
    expect(queries.filter((query) => !reads.queries.includes(query))).toEqual([]);
    expect(granted(managedPolicy('Operator'), tableId())).toEqual(declared(TABLE_ACCESS.operator));
  });
});
