/**
 * `fleetscan scan --now [--wait]`: the Invoke it sends (CloudFormation and Lambda mocked with aws-sdk-client-mock),
 * what it prints, how it follows the scan through the history table to its end — a real store on dynalite, behind
 * the recording proxy, written step by step as the collector writes it — and how it fails: one line, exit 1.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import { iamActions, TABLE_ACCESS } from '../../lib/adapters/table-access.ts';
import { CliError } from '../../lib/cli/errors.ts';
import { main } from '../../lib/cli/main.ts';
import { POLL_SECONDS, scanNow } from '../../lib/cli/scan-now.ts';
import { CLI_ACTIONS, OUTPUT_KEYS } from '../../lib/config/contracts.ts';
import type { NodeRecord, ScanRecord, ShardRecord } from '../../lib/runtime/ports.ts';
import { NO_TALLIES } from '../../lib/runtime/tallies.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { DynamoRecorder, summarize } from '../support/dynamo-recorder.ts';
import { nodeRecord } from '../support/runtime-fixtures.ts';
import { bufferIo } from './buffer-io.ts';

const cloudformation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);

const SCAN_ID = '3f1c9a2e-5b7d-4e11-9c0a-8d6f4b2a1e90';
const FUNCTION = 'Fleetscan-ScannerScanC31F16BC-AbCdEf';
const TABLE = 'Fleetscan-HistoryTable';
/** An hour ago, to the minute: the store hides items whose TTL (requestedAt + retention) has passed. */
const REQUESTED = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000);
const at = (minutes: number) => new Date(REQUESTED.getTime() + minutes * 60_000).toISOString();
/** How the summary prints a time. */
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

let db: LocalTable;
let recorder: DynamoRecorder;
let store: DynamoHistory;

beforeAll(async () => {
  db = await startDynalite({ tableName: TABLE });
  recorder = await DynamoRecorder.start(db.endpoint);
  store = db.store();
});

afterAll(async () => {
  await recorder?.close();
  await db?.stop();
});

function running(overrides: Partial<ScanRecord> = {}): ScanRecord {
  const requested = REQUESTED;
  return {
    scanId: SCAN_ID,
    commandId: SCAN_ID,
    requestedAt: requested.toISOString(),
    collectAfter: new Date(requested.getTime() + 13 * 60_000).toISOString(),
    status: 'RUNNING',
    targets: 'tag:fleetscan=enabled',
    ...overrides,
  };
}

const completed = (overrides: Partial<ScanRecord> = {}) =>
  running({
    status: 'COMPLETED',
    completedAt: at(2),
    nodes: 3,
    counts: { OK: 1, WARN: 1, CRITICAL: 1, ERROR: 0 },
    worstUnusableIndex: 1000,
    ...overrides,
  });

const invoked = (payload: object, functionError?: string) => ({
  StatusCode: 200,
  Payload: new TextEncoder().encode(JSON.stringify(payload)) as never,
  ...(functionError === undefined ? {} : { FunctionError: functionError }),
});

beforeEach(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  // The CLI's DynamoDB client finds the table where the SDK's endpoint variable says.
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', recorder.endpoint);
  await db.clear();
  recorder.reset();
  for (const mock of [cloudformation, lambda]) mock.reset();
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'Fleetscan',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [
          { OutputKey: OUTPUT_KEYS.scanFunctionName, OutputValue: FUNCTION },
          { OutputKey: OUTPUT_KEYS.tableName, OutputValue: TABLE },
        ],
      },
    ],
  });
  lambda.on(InvokeCommand).resolves(invoked({ scanId: SCAN_ID, swept: 0 }));
});

const capture = () => bufferIo();

async function cli(args: string[]) {
  const { io, stdout, stderr } = capture();
  const code = await main(['scan', '--now', '--region', 'eu-west-1', ...args], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

/**
 * A clock that moves only when the command sleeps, and counts the sleeps; each sleep runs the next of `steps` —
 * what the collector wrote to the table meanwhile.
 */
function fakeTime(steps: (() => Promise<void>)[] = [], start = Date.parse(at(1))) {
  let now = start;
  const sleeps: number[] = [];
  return {
    deps: {
      now: () => new Date(now),
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
        await steps.shift()?.();
      },
    },
    sleeps,
  };
}

/* ---- the scan as the scan function and the collector write it (lib/runtime/scan.ts, shard.ts, finish.ts) ---- */

const LEASE = 'lease-1';

/** The scan function's part: the scan RUNNING, its one shard bound to its gather command. */
async function started(overrides: Partial<ScanRecord> = {}): Promise<void> {
  const scan = running(overrides);
  const shard: ShardRecord = {
    scanId: SCAN_ID,
    shard: 0,
    targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
    commandId: null,
    status: 'PLANNED',
    collectAfter: scan.collectAfter,
    page: 0,
    nextToken: null,
    listed: false,
    tallies: NO_TALLIES,
    targeted: null,
    attempts: 0,
    lastError: null,
    reason: null,
    leaseToken: null,
    leaseUntil: null,
  };
  await store.scans.createScan(scan, [shard]);
  await store.scans.bindShard(SCAN_ID, 0, SCAN_ID, scan.collectAfter);
}

const critical = nodeRecord({
  scanId: SCAN_ID,
  at: at(0),
  nodeId: 'i-0c0c0c0c0c0c0c0c1',
  status: 'CRITICAL',
  cause: 'fragmentation',
  worstUnusableIndex: 1000,
  findings: ['no-suitable-block@0/Normal/6'],
});
const warn = nodeRecord({
  scanId: SCAN_ID,
  at: at(0),
  nodeId: 'i-0c0c0c0c0c0c0c0c2',
  status: 'WARN',
  findings: ['high-unusable-index@0/Normal/4'],
});
const ok = nodeRecord({ scanId: SCAN_ID, at: at(0), nodeId: 'i-0c0c0c0c0c0c0c0c3', status: 'OK' });

/** A collector's first listing page: two of the three targeted nodes, checkpointed. */
async function collectedTwo(): Promise<void> {
  await store.scans.takeShardLease(SCAN_ID, 0, { token: LEASE, until: at(10), now: at(1) });
  await store.records.putPage({ scanId: SCAN_ID, at: at(0), shard: 0, page: 0 }, [critical, warn].map(stored));
  await store.scans.checkpointShard(SCAN_ID, 0, {
    token: LEASE,
    from: 0,
    page: 1,
    nextToken: 'page-2',
    listed: false,
    tallies: { ...NO_TALLIES, nodes: 2, counts: { OK: 0, WARN: 1, CRITICAL: 1, ERROR: 0 } },
    targeted: 3,
  });
}

/** The rest of the listing, the shard and the scan finished. */
async function finished(status: 'COMPLETED' | 'INCOMPLETE' = 'COMPLETED'): Promise<void> {
  await store.records.putPage({ scanId: SCAN_ID, at: at(0), shard: 0, page: 1 }, [ok].map(stored));
  await store.scans.finishShard(SCAN_ID, 0, { token: null, status: 'COMPLETED' });
  const done = completed();
  await store.scans.completeScan(SCAN_ID, {
    status,
    completedAt: done.completedAt ?? '',
    counts: done.counts ?? NO_TALLIES.counts,
    nodes: done.nodes ?? 0,
    worstUnusableIndex: 1000,
    ...(status === 'INCOMPLETE'
      ? { incompleteReason: 'shard 1 of 1: collection gave up after 5 failed attempts' }
      : {}),
  });
}

function stored(record: NodeRecord) {
  return { record };
}

/** scanNow with a fake clock; a CliError is printed and its exit code returned, as main does. */
async function waitFor(args: string[], time = fakeTime()) {
  const { io, stdout, stderr } = capture();
  let code: number;
  try {
    code = await scanNow(['--now', '--wait', '--region', 'eu-west-1', ...args], io, time.deps);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr(`fleetscan scan: ${error.message}\n`);
    code = error.exitCode;
  }
  return { code, stdout: stdout(), stderr: stderr(), sleeps: time.sleeps };
}

describe('CLI: fleetscan scan --now', () => {
  it('invokes the deployed scan function once, synchronously, as a manual scan, and prints the scan id', async () => {
    const result = await cli([]);

    expect(result.code, result.stderr).toBe(0);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: FUNCTION,
      InvocationType: 'RequestResponse',
    });
    const payload = lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array;
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ source: 'fleetscan.manual' });
    expect(result.stdout).toBe(
      `scan ${SCAN_ID} started: the nodes answer within the delivery timeout.\n` +
        "Follow it: 'fleetscan scan --now --wait' next time, or 'fleetscan scan 3f1c9a2e'\n",
    );
    expect(recorder.calls).toHaveLength(0);
  });

  it('prints {scanId, status} with --json', async () => {
    const result = await cli(['--json']);
    expect(JSON.parse(result.stdout)).toEqual({ scanId: SCAN_ID, status: 'RUNNING' });
  });

  it('never retries the Invoke: a second attempt could start a second scan', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    const result = await cli([]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "fleetscan scan: could not invoke the scan function: Rate exceeded — check 'fleetscan scans' before trying again\n",
    );
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it.each([
    [
      'the function failed',
      invoked({ errorType: 'ScanRunError', errorMessage: 'scan run failed: start scan\n  at x' }, 'Unhandled'),
      'fleetscan scan: the scan function failed: scan run failed: start scan — its log group has the details\n',
    ],
    [
      'it started no scan',
      invoked({ scanId: null, swept: 2 }),
      'fleetscan scan: the scan function started no scan — its log group says why\n',
    ],
  ])('fails in one line when %s, exit 1', async (_case, response, message) => {
    lambda.on(InvokeCommand).resolves(response);

    const result = await cli([]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(message);
  });

  it('names the Operator policy when Invoke is denied', async () => {
    lambda.on(InvokeCommand).rejects(
      Object.assign(new Error('User: bob is not authorized to perform: lambda:InvokeFunction'), {
        name: 'AccessDeniedException',
      }),
    );
    const result = await cli([]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'fleetscan scan: access denied: User: bob is not authorized to perform: lambda:InvokeFunction\n',
    );
  });

  it('refuses a stack without the ScanFunctionName output: it predates scan --now', async () => {
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'Fleetscan', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: [] }],
    });
    const result = await cli([]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'fleetscan scan: stack Fleetscan has no ScanFunctionName, TableName outputs: it predates this fleetscan — redeploy it (npx cdk deploy)\n',
    );
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 0);
  });

  it.each([
    [['--timeout', '5m'], 'fleetscan scan: --timeout is for --wait: add --wait\n'],
    [['--wait', '--timeout', 'soon'], "fleetscan scan: --timeout: 'soon' is not a duration such as 90s, 30m or 2h\n"],
    [['--wait', 'abc'], "fleetscan scan: unexpected argument 'abc' — usage: fleetscan scan --now [options]\n"],
  ])('refuses %j as usage, exit 2', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(message);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 0);
  });

  it('answers --help with its own usage, and scan --help mentions it', async () => {
    const own = capture();
    const scan = capture();
    expect(await main(['scan', '--now', '--help'], own.io)).toBe(0);
    expect(await main(['scan', '--help'], scan.io)).toBe(0);
    expect(own.stdout()).toMatch(/^usage: fleetscan scan --now \[--wait\]/);
    expect(scan.stdout()).toContain(
      "fleetscan scan --now [--wait]      start a scan now ('fleetscan scan --now --help')",
    );
  });
});

describe('CLI: fleetscan scan --now --wait', () => {
  it('follows the scan until it completes — progress as it changes — then prints its summary and problem nodes', async () => {
    // Not written yet at the first look; RUNNING with nothing collected; 2 of 3 collected; twice that; COMPLETED.
    const time = fakeTime([started, collectedTwo, async () => {}, () => finished()]);

    const result = await waitFor([], time);

    expect(result.code, result.stderr).toBe(0);
    // One progress line each time it changes, on stderr.
    expect(result.stderr).toBe(
      `scan ${SCAN_ID}  RUNNING: waiting for the nodes to answer\n` + `scan ${SCAN_ID}  RUNNING: 2/3 nodes collected\n`,
    );
    expect(result.sleeps).toEqual([1, 2, 3, 4].map(() => POLL_SECONDS * 1000));
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `scan ${SCAN_ID}  COMPLETED`,
      `requested ${utc(at(0))}, completed ${utc(at(2))}, targets tag:fleetscan=enabled`,
      '3 nodes: 1 OK, 1 WARN, 1 CRITICAL, 0 ERROR; 0 remediations; worst unusable index 1.000',
    ]);
    expect(lines[4]).toMatch(/^NODE\s+STATUS\s+CAUSE/);
    expect(lines[5]).toMatch(/^i-0c0c0c0c0c0c0c0c1\s+CRITICAL\s+fragmentation/);
    expect(lines[6]).toMatch(/^i-0c0c0c0c0c0c0c0c2\s+WARN/);
    expect(lines).toHaveLength(8);
    expect(lines.at(-1)).toBe("all of its nodes: 'fleetscan scan 3f1c9a2e'");
    // Each of the five looks reads the scan item strongly consistent: a poll never sees an older state than the last.
    const consistentReads = recorder.calls.filter(
      (call) => call.operation === 'GetItem' && call.table === TABLE && call.body.ConsistentRead === true,
    );
    expect(consistentReads.length).toBeGreaterThanOrEqual(5);
  });

  it('prints {scan, nodes} with --json and nothing on stderr', async () => {
    await started();
    await collectedTwo();
    await finished();

    const result = await waitFor(['--json']);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      scan: { scanId: SCAN_ID, status: 'COMPLETED', nodes: 3 },
      nodes: [
        { nodeId: critical.nodeId, status: 'CRITICAL' },
        { nodeId: warn.nodeId, status: 'WARN' },
      ],
    });
  });

  it('exits 1 when the scan ends INCOMPLETE, saying why under the summary', async () => {
    await started();
    await finished('INCOMPLETE');

    const result = await waitFor([]);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`scan ${SCAN_ID}  INCOMPLETE`);
    expect(result.stdout).toContain(
      'ended INCOMPLETE: shard 1 of 1: collection gave up after 5 failed attempts — what was collected is kept',
    );
  });

  it('gives up after --timeout with one line saying how to look later, exit 1', async () => {
    await started();
    await collectedTwo();

    const result = await waitFor(['--timeout', '1m']);

    expect(result.code).toBe(1);
    expect(result.sleeps).toHaveLength(60 / POLL_SECONDS);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(
      `fleetscan scan: scan ${SCAN_ID} is still RUNNING after 1 min (2/3 nodes collected); 'fleetscan scan 3f1c9a2e' shows it once it ends`,
    );
  });

  it('waits by default until the sweep would have collected the scan, and 15 minutes more', async () => {
    await started({ collectAfter: at(3) });
    // collectAfter is 3 minutes after the request; + 15 minutes = 18; the clock starts at 1: 17 minutes of polls.
    const result = await waitFor([]);

    expect(result.code).toBe(1);
    expect(result.sleeps).toHaveLength((17 * 60) / POLL_SECONDS);
  });

  it('calls only what the Operator and ReadOnly policies grant', async () => {
    await started();
    await collectedTwo();
    await finished();
    recorder.reset();
    await waitFor([]);
    const { items, queries } = summarize(recorder.calls);
    const called = [
      ...cloudformation.calls().map((call) => `cloudformation:${(call.args[0] as object).constructor.name}`),
      ...lambda.calls().map(() => 'lambda:InvokeFunction'),
      ...items.map((item) => `dynamodb:${item}`),
      ...(queries.length > 0 ? ['dynamodb:Query'] : []),
    ].map((action) => action.replace(/Command$/, ''));
    const granted = new Set([
      ...CLI_ACTIONS.findStack,
      ...CLI_ACTIONS.scanNow,
      ...iamActions(TABLE_ACCESS.historyReader),
      ...iamActions(TABLE_ACCESS.operator),
    ]);

    expect(called.filter((action) => !granted.has(action))).toEqual([]);
    expect(new Set(called)).toEqual(
      new Set(['cloudformation:DescribeStacks', 'lambda:InvokeFunction', 'dynamodb:GetItem', 'dynamodb:Query']),
    );
    expect(queries.every((target) => TABLE_ACCESS.historyReader.queries.some((q) => q === target))).toBe(true);
  });
});
