/**
 * Least privilege, measured: each function's role grants exactly the DynamoDB actions its code calls.
 *
 * The real Lambda handlers (lambdas/scan, lambdas/collect — whatever stores they build) run through realistic
 * scenarios in the fault world (test/faults/support): a scan and its sweep, a collection that remediates, the
 * remediations' collection, a duplicate event, a collection that dies before recording its remediate command and
 * is re-delivered, an SNS outage whose summary the sweep republishes. SSM is the world's simulator, DynamoDB its
 * dynalite behind a recording proxy (test/support/dynamo-recorder.ts); SNS, EC2 and Lambda are aws-sdk-client-mock.
 * What each function sent is compared, both ways, with its role in the synthesized template and with
 * lib/adapters/table-access.ts: an action used but not granted fails, and so does one granted but never used.
 *
 * The same holds for the CLI: the history commands and `clear`, run in-process, against the managed policies.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INDEXES } from '../../lib/adapters/dynamo/schema.ts';
import { TABLE_ACCESS, type TableAccess } from '../../lib/adapters/table-access.ts';
import { main } from '../../lib/cli/main.ts';
import { FUNCTION_ENV, METRIC_NAMES, METRIC_SERVICE_DIMENSION } from '../../lib/config/contracts.ts';
import { NODES, seedHistory } from '../cli/seed-history.ts';
import { createWorld, DOCUMENTS, type World } from '../faults/support/world.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { DynamoRecorder, type RecordedCall, summarize } from '../support/dynamo-recorder.ts';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { SYNTH_TEST_TIMEOUT_MS, type Synthesized, synthesized } from './support.ts';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
}

const sns = mockClient(SNSClient);
const ec2 = mockClient(EC2Client);
const lambda = mockClient(LambdaClient);

let synth: Synthesized;
let world: World;
let recorder: DynamoRecorder;
const used: Record<'scan' | 'collect', RecordedCall[]> = { scan: [], collect: [] };
const emitted: Json[] = [];

type Handler = (event: unknown) => Promise<unknown>;

/** The function's environment as the template sets it, pointed at the world instead of AWS. */
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

function functionEnv(service: string): Record<string, string> {
  const variables = (functionResource(service).Properties.Environment as Json).Variables as Json;
  return {
    [FUNCTION_ENV.serviceName]: String(variables[FUNCTION_ENV.serviceName]),
    [FUNCTION_ENV.metricsNamespace]: String(variables[FUNCTION_ENV.metricsNamespace]),
    [FUNCTION_ENV.tableName]: world.db.tableName,
    [FUNCTION_ENV.topicArn]: 'arn:aws:sns:us-east-1:111122223333:fleetscan',
    [FUNCTION_ENV.gatherDocument]: DOCUMENTS.gather,
    [FUNCTION_ENV.remediateDocument]: DOCUMENTS.remediate,
    [FUNCTION_ENV.collectFunctionName]: 'fleetscan-collect',
    [FUNCTION_ENV.config]: JSON.stringify(world.config),
  };
}

/** Imports a handler as its Lambda's cold start would: with the function's environment in place. */
async function coldStart(entry: 'scan' | 'collect', service: string): Promise<Handler> {
  for (const [name, value] of Object.entries(functionEnv(service))) vi.stubEnv(name, value);
  const module = (await import(`../../lambdas/${entry}/handler.ts`)) as { handler: Handler };
  return module.handler;
}

/** Runs a handler, keeping the DynamoDB calls it made; rejections are returned, not thrown. */
async function run(fn: 'scan' | 'collect', handler: Handler, event: unknown): Promise<unknown> {
  // The simulated SSM keeps the world's clock; the handlers read the real one.
  world.clock.advance((Date.now() - world.clock.now().getTime()) / 1000);
  const from = recorder.calls.length;
  try {
    return await handler(event);
  } catch (error) {
    return error;
  } finally {
    used[fn].push(...recorder.calls.slice(from));
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

beforeAll(async () => {
  synth = synthesized('default');
  // Twelve fragmented nodes: two scans each remediate their budget of five. Remediations end every way they can.
  const fleet = Fleet.build({ size: 40, seed: 11, mix: { fragmented: 12, 'delivery-timed-out': 1, failed: 1 } });
  const fragmented = fleet.withBehaviour('fragmented');
  for (const [position, node] of fragmented.entries()) {
    node.remediationEffect = position % 4 === 1 ? 'no-effect' : position % 4 === 3 ? 'failed' : 'improved';
  }
  world = await createWorld({ fleet });
  recorder = await DynamoRecorder.start(world.db.endpoint);

  vi.resetModules();
  for (const [name, value] of Object.entries({
    AWS_REGION: 'us-east-1',
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
  const sweepPayloads = () =>
    lambda
      .commandCalls(InvokeCommand)
      .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)));
  const remediateCommands = async (scanId: string) => [
    ...new Set(
      (await world.deps.store.remediations.listScanRemediations(scanId)).flatMap((r) =>
        r.commandId === null ? [] : [r.commandId],
      ),
    ),
  ];

  // 1. The schedule starts a scan (and sweeps: nothing is due yet); SSM's completion event collects it, remediates.
  const first = (await run('scan', scan, { source: 'fleetscan.schedule' })) as { scanId: string };
  await run('collect', collect, world.completionEvent(first.scanId));
  // 2. The same event again (EventBridge delivers at least once).
  await run('collect', collect, world.completionEvent(first.scanId));
  // 3. Each remediate command's completion: outcomes measured, notified.
  for (const commandId of await remediateCommands(first.scanId)) {
    await run('collect', collect, world.completionEvent(commandId));
  }
  // 4. A second scan whose collection dies before recording its remediate command, then is re-delivered; the
  //    summary's publish fails once (SNS outage) and the sweep republishes it.
  const second = (await run('scan', scan, { source: 'fleetscan.schedule' })) as { scanId: string };
  recorder.failNext((call) => call.operation === 'PutItem' && JSON.stringify(call.body).includes('"CMD#'));
  await run('collect', collect, world.completionEvent(second.scanId));
  snsDown = true;
  await run('collect', collect, world.completionEvent(second.scanId));
  lambda.resetHistory();
  await run('scan', scan, { source: 'fleetscan.schedule' });
  for (const payload of sweepPayloads()) await run('collect', collect, payload);
  for (const commandId of await remediateCommands(second.scanId)) {
    await run('collect', collect, world.completionEvent(commandId));
  }
}, SYNTH_TEST_TIMEOUT_MS);

afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await recorder?.close();
  await world?.close();
});

describe('Least privilege: the functions’ roles and the DynamoDB calls their code makes', () => {
  it('ran the scenarios it claims: remediations sent and collected, a summary republished by the sweep', async () => {
    const scans = await world.deps.store.listScans({ limit: 10 });
    const remediations = await world.deps.store.listRemediations({ limit: 50 });

    expect(scans.items.filter((s) => s.status === 'COMPLETED').length).toBeGreaterThanOrEqual(2);
    expect(remediations.items.filter((r) => r.status === 'COMPLETED')).toHaveLength(10);
    expect(new Set(remediations.items.map((r) => r.effect))).toEqual(new Set(['improved', 'no-effect', 'failed']));
    expect(scans.items.every((s) => s.notification !== 'pending')).toBe(true);
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
    // The collector emits ScansIncomplete once INCOMPLETE scans exist (the lead's change; 0 on every completed scan).
    const pending = new Set<string>([METRIC_NAMES.scansIncomplete]);

    expect(alarms.length).toBeGreaterThanOrEqual(6);
    for (const metric of alarms) {
      const dimensions = (metric.Dimensions as { Name: string; Value: string }[])
        .map((d) => `${d.Name}=${d.Value}`)
        .join(',');
      expect(dimensions).toBe(`${METRIC_SERVICE_DIMENSION}=fleetscan-collect`);
      if (pending.has(String(metric.MetricName))) continue;
      expect(seen, String(metric.MetricName)).toContain(`${metric.Namespace} ${metric.MetricName} ${dimensions}`);
    }
  });
});

describe('Least privilege: the CLI’s managed policies and the DynamoDB calls the commands make', () => {
  let db: LocalTable;
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
    db = await startDynalite();
    await seedHistory(db.store());
    cli = await DynamoRecorder.start(db.endpoint);
  });

  afterAll(async () => {
    await cli?.close();
    await db?.stop();
  });

  async function command(args: string[]): Promise<RecordedCall[]> {
    const from = cli.calls.length;
    const { io: commandIo, out } = io();
    const code = await main(
      [...args, '--endpoint', cli.endpoint, '--table', db.tableName, '--region', 'us-east-1'],
      commandIo,
    );
    expect(code, out.join('')).toBe(0);
    return cli.calls.slice(from);
  }

  it('reads the history with exactly what the read-only policy grants', async () => {
    const newest = (await db.store().listScans({ limit: 1 })).items[0]?.scanId ?? '';
    const calls = [
      ...(await command(['scans'])),
      ...(await command(['scan', newest])),
      ...(await command(['scan', newest.slice(0, 8)])),
      ...(await command(['history', NODES.fragmenting])),
      ...(await command(['remediations'])),
      ...(await command(['remediations', NODES.fragmenting])),
    ];
    const { items, queries } = summarize(calls);

    expect({ items, queries }).toEqual(declared(TABLE_ACCESS.historyReader));
    expect(granted(managedPolicy('ReadOnly'), tableId())).toEqual({ items, queries });
  });

  it('clears a node with the read-only reads and the operator policy’s one write', async () => {
    const calls = await command(['clear', NODES.fragmenting]);
    const { items, queries } = summarize(calls);
    const reads = declared(TABLE_ACCESS.historyReader);

    expect(items.filter((item) => !reads.items.includes(item))).toEqual(declared(TABLE_ACCESS.operator).items);
    expect(queries.filter((query) => !reads.queries.includes(query))).toEqual([]);
    expect(granted(managedPolicy('Operator'), tableId())).toEqual(declared(TABLE_ACCESS.operator));
  });
});
