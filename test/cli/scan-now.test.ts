/**
 * `fleetscan scan --now [--wait]` against mocked AWS (aws-sdk-client-mock): the Invoke it sends, what it prints,
 * how it follows the scan item to its end, and how it fails — one line, exit 1.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { iamActions, TABLE_ACCESS } from '../../lib/adapters/table-access.ts';
import { CliError } from '../../lib/cli/errors.ts';
import type { Io } from '../../lib/cli/io.ts';
import { main } from '../../lib/cli/main.ts';
import { POLL_SECONDS, scanNow } from '../../lib/cli/scan-now.ts';
import { CLI_ACTIONS, OUTPUT_KEYS } from '../../lib/config/contracts.ts';
import { nodeRecordItem, scanItem } from '../../lib/runtime/items.ts';
import type { ScanRecord } from '../../lib/runtime/ports.ts';
import { nodeRecord } from '../support/runtime-fixtures.ts';

const cloudformation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const dynamo = mockClient(DynamoDBDocumentClient);

const SCAN_ID = '3f1c9a2e-5b7d-4e11-9c0a-8d6f4b2a1e90';
const FUNCTION = 'Fleetscan-ScannerScanC31F16BC-AbCdEf';

function running(overrides: Partial<ScanRecord> = {}): ScanRecord {
  const requested = new Date('2026-11-26T18:45:00.000Z');
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
    completedAt: '2026-11-26T18:47:00.000Z',
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

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  for (const mock of [cloudformation, lambda, dynamo]) mock.reset();
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'Fleetscan',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [
          { OutputKey: OUTPUT_KEYS.scanFunctionName, OutputValue: FUNCTION },
          { OutputKey: OUTPUT_KEYS.tableName, OutputValue: 'Fleetscan-HistoryTable' },
        ],
      },
    ],
  });
  lambda.on(InvokeCommand).resolves(invoked({ scanId: SCAN_ID, swept: 0 }));
});

function capture(): { io: Io; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        err += text;
      },
      readStdin: async () => '',
      isTty: false,
      env: { NO_COLOR: '1' },
    },
    stdout: () => out,
    stderr: () => err,
  };
}

async function cli(args: string[]) {
  const { io, stdout, stderr } = capture();
  const code = await main(['scan', '--now', '--region', 'eu-west-1', ...args], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

/** A clock that moves only when the command sleeps, and counts the sleeps. */
function fakeTime(start = Date.parse('2026-11-26T18:46:00.000Z')) {
  let now = start;
  const sleeps: number[] = [];
  return {
    deps: {
      now: () => new Date(now),
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    },
    sleeps,
  };
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
    expect(dynamo.calls()).toHaveLength(0);
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
    [['--wait', 'abc'], "fleetscan scan: Unexpected argument 'abc' (see 'fleetscan scan --now --help')\n"],
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
  it('follows the scan item until it completes, then prints its summary and problem nodes', async () => {
    dynamo
      .on(GetCommand)
      .resolvesOnce({})
      .resolvesOnce({ Item: scanItem(running(), 90) })
      .resolves({ Item: scanItem(completed(), 90) });
    const critical = nodeRecord({
      scanId: SCAN_ID,
      nodeId: 'i-0c0c0c0c0c0c0c0c1',
      status: 'CRITICAL',
      cause: 'fragmentation',
      worstUnusableIndex: 1000,
      findings: ['no-suitable-block@0/Normal/6'],
    });
    const warn = nodeRecord({
      scanId: SCAN_ID,
      nodeId: 'i-0c0c0c0c0c0c0c0c2',
      status: 'WARN',
      findings: ['high-unusable-index@0/Normal/4'],
    });
    dynamo.on(QueryCommand).resolves({ Items: [nodeRecordItem(critical, 90), nodeRecordItem(warn, 90)] });

    const result = await waitFor([]);

    expect(result.code, result.stderr).toBe(0);
    // Not written yet, then RUNNING: one progress line each time it changes, on stderr.
    expect(result.stderr).toBe(`scan ${SCAN_ID}  RUNNING: waiting for the nodes to answer\n`);
    expect(result.sleeps).toEqual([POLL_SECONDS * 1000, POLL_SECONDS * 1000]);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `scan ${SCAN_ID}  COMPLETED`,
      'requested 2026-11-26 18:45:00 UTC, completed 2026-11-26 18:47:00 UTC, targets tag:fleetscan=enabled',
      '3 nodes: 1 OK, 1 WARN, 1 CRITICAL, 0 ERROR; 0 remediations; worst unusable index 1.000',
    ]);
    expect(lines[4]).toMatch(/^NODE\s+STATUS\s+CAUSE/);
    expect(lines[5]).toMatch(/^i-0c0c0c0c0c0c0c0c1\s+CRITICAL\s+fragmentation/);
    expect(lines[6]).toMatch(/^i-0c0c0c0c0c0c0c0c2\s+WARN/);
    expect(lines.at(-1)).toBe("all of its nodes: 'fleetscan scan 3f1c9a2e'");
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { TableName: 'Fleetscan-HistoryTable', ConsistentRead: true });
  });

  it('prints {scan, nodes} with --json and nothing on stderr', async () => {
    dynamo.on(GetCommand).resolves({ Item: scanItem(completed(), 90) });
    dynamo.on(QueryCommand).resolves({ Items: [] });

    const result = await waitFor(['--json']);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      scan: { scanId: SCAN_ID, status: 'COMPLETED', nodes: 3 },
      nodes: [],
    });
  });

  it('exits 1 when the scan ends INCOMPLETE, saying so under the summary', async () => {
    dynamo.on(GetCommand).resolves({ Item: scanItem(completed({ status: 'INCOMPLETE' }), 90) });
    dynamo.on(QueryCommand).resolves({ Items: [] });

    const result = await waitFor([]);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`scan ${SCAN_ID}  INCOMPLETE`);
    expect(result.stdout).toContain('ended INCOMPLETE — what was collected is kept');
  });

  it('gives up after --timeout with one line saying how to look later, exit 1', async () => {
    dynamo.on(GetCommand).resolves({ Item: scanItem(running(), 90) });

    const result = await waitFor(['--timeout', '1m']);

    expect(result.code).toBe(1);
    expect(result.sleeps).toHaveLength(60 / POLL_SECONDS);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(
      `fleetscan scan: scan ${SCAN_ID} is still RUNNING after 1 min (waiting for the nodes to answer); 'fleetscan scan 3f1c9a2e' shows it once it ends`,
    );
  });

  it('waits by default until the sweep would have collected the scan, and 15 minutes more', async () => {
    dynamo.on(GetCommand).resolves({ Item: scanItem(running(), 90) });
    // collectAfter is 18:58; + 15 minutes = 19:13; the clock starts at 18:46: 27 minutes of polls.
    const result = await waitFor([]);

    expect(result.code).toBe(1);
    expect(result.sleeps).toHaveLength((27 * 60) / POLL_SECONDS);
  });

  it('calls only what the Operator and ReadOnly policies grant', async () => {
    dynamo.on(GetCommand).resolves({ Item: scanItem(completed(), 90) });
    dynamo.on(QueryCommand).resolves({ Items: [] });
    await waitFor([]);
    const called = [
      ...cloudformation.calls().map((call) => `cloudformation:${(call.args[0] as object).constructor.name}`),
      ...lambda.calls().map(() => 'lambda:InvokeFunction'),
      ...dynamo.calls().map((call) => `dynamodb:${(call.args[0] as object).constructor.name}`),
    ].map((action) => action.replace(/Command$/, '').replace('dynamodb:Get', 'dynamodb:GetItem'));
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
  });
});
