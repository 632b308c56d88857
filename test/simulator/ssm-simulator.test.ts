/**
 * The SSM simulator, driven by the real @aws-sdk/client-ssm over HTTP: if these pass, the runtime's SSM adapter
 * meets the same wire protocol, paging, truncation and error types it will meet in AWS.
 */
import {
  GetCommandInvocationCommand,
  InvalidCommandId,
  InvalidDocument,
  InvalidParameters,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  type ListCommandInvocationsCommandOutput,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  SSMServiceException,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENT_PATTERNS } from '../../lib/config/contracts.ts';
import { evaluate } from '../../lib/core/policy.ts';
import { parseGatherReport, parseRemediationReport } from '../../lib/core/report.ts';
import {
  byteLength,
  CONTENT_TRUNCATED,
  ERROR_TITLE,
  Fleet,
  fleetscanDocuments,
  LISTING_OUTPUT_BYTES,
  LISTING_TRUNCATED,
  listingOutput,
  REMEDIATE_PARAMETERS,
  SsmSimulator,
  STDOUT_CONTENT_BYTES,
  simulatorClient,
  standardOutputContent,
} from '../support/ssm-simulator/index.ts';

const TAGS = [{ Key: 'tag:fleetscan', Values: ['enabled'] }];
const gatherInput = (extra: Partial<SendCommandCommandInput> = {}): SendCommandCommandInput => ({
  DocumentName: 'fleetscan-Gather',
  Targets: TAGS,
  MaxConcurrency: '25%',
  MaxErrors: '100%',
  TimeoutSeconds: 600,
  Comment: 'fleetscan scan',
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const started: SsmSimulator[] = [];
async function start(...args: Parameters<typeof SsmSimulator.start>): Promise<SsmSimulator> {
  const sim = await SsmSimulator.start(...args);
  started.push(sim);
  return sim;
}
afterAll(async () => {
  await Promise.all(started.map((sim) => sim.close()));
});

describe('SSM simulator: SendCommand', () => {
  let sim: SsmSimulator;
  beforeAll(async () => {
    const fleet = Fleet.build({ size: 60, seed: 11 });
    fleet.add({ tags: { fleetscan: 'disabled' } });
    sim = await start({ fleet, documents: fleetscanDocuments() });
  });

  it('targets every node carrying the tag value and none other', async () => {
    // Act
    const out = await simulatorClient(sim).send(new SendCommandCommand(gatherInput()));
    // Assess
    const command = sim.command(out.Command?.CommandId ?? '');
    expect(out.Command?.TargetCount).toBe(60);
    expect(command.invocations.size).toBe(60);
    expect([...command.invocations.keys()]).not.toContain(sim.fleet.nodes[60]?.instanceId);
    expect(out.Command?.CommandId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(out.Command?.RequestedDateTime).toBeInstanceOf(Date);
  });

  it('rejects more than 50 InstanceIds with a ValidationException, like the real API', async () => {
    const ids = sim.fleet.nodes.slice(0, 51).map((node) => node.instanceId);
    const error = await rejection(
      simulatorClient(sim).send(new SendCommandCommand({ DocumentName: 'fleetscan-Gather', InstanceIds: ids })),
    );
    expect(error).toBeInstanceOf(SSMServiceException);
    expect((error as SSMServiceException).name).toBe('ValidationException');
    expect((error as SSMServiceException).$metadata.httpStatusCode).toBe(400);
    expect((error as Error).message).toMatch(/at 'instanceIds' failed to satisfy constraint/);
  });

  it('accepts exactly 50 InstanceIds', async () => {
    const ids = sim.fleet.nodes.slice(0, 50).map((node) => node.instanceId);
    const out = await simulatorClient(sim).send(
      new SendCommandCommand({ DocumentName: 'fleetscan-Gather', InstanceIds: ids }),
    );
    expect(out.Command?.TargetCount).toBe(50);
  });

  it('rejects a Comment over 100 characters, a bad MaxConcurrency and a TimeoutSeconds under 30', async () => {
    const ssm = simulatorClient(sim);
    const cases: Partial<SendCommandCommandInput>[] = [
      { Comment: 'x'.repeat(101) },
      { MaxConcurrency: '0' },
      { MaxErrors: 'ten' },
      { TimeoutSeconds: 29 },
    ];
    for (const extra of cases) {
      const error = await rejection(ssm.send(new SendCommandCommand(gatherInput(extra))));
      expect((error as Error).name, JSON.stringify(extra)).toBe('ValidationException');
    }
    await expect(ssm.send(new SendCommandCommand(gatherInput({ Comment: 'x'.repeat(100) })))).resolves.toBeDefined();
  });

  it('raises the SDK’s typed InvalidDocument and InvalidParameters errors', async () => {
    const ssm = simulatorClient(sim);
    expect(await rejection(ssm.send(new SendCommandCommand(gatherInput({ DocumentName: 'nope' }))))).toBeInstanceOf(
      InvalidDocument,
    );
    const remediate = (parameters: Record<string, string[]>) =>
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'fleetscan-Remediate',
          InstanceIds: [sim.fleet.nodes[0]?.instanceId ?? ''],
          Parameters: parameters,
        }),
      );
    expect(await rejection(remediate({ action: ['rm -rf /'] }))).toBeInstanceOf(InvalidParameters);
    expect(await rejection(remediate({ numaNode: ['007'] }))).toBeInstanceOf(InvalidParameters);
    expect(await rejection(remediate({ extra: ['x'] }))).toBeInstanceOf(InvalidParameters);
    await expect(remediate({ action: ['compact-node'], numaNode: ['1'], dryRun: ['false'] })).resolves.toBeDefined();
  });

  it('enforces the same remediate parameter rules as the CDK document', () => {
    expect(REMEDIATE_PARAMETERS.numaNode.allowedPattern).toBe(DOCUMENT_PATTERNS.numaNode);
  });

  it('refuses unsigned requests and unknown operations on the wire', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${sim.endpoint}/`, { method: 'POST', headers, body: '{}' });
    const unsigned = await post({
      'x-amz-target': 'AmazonSSM.ListCommands',
      'content-type': 'application/x-amz-json-1.1',
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    const unknown = await post({
      'x-amz-target': 'AmazonSSM.DescribeInstanceInformation',
      'content-type': 'application/x-amz-json-1.1',
      authorization: 'AWS4-HMAC-SHA256 Credential=x',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('SSM simulator: ListCommandInvocations paging', () => {
  let sim: SsmSimulator;
  let commandId: string;
  beforeAll(async () => {
    sim = await start({ fleet: Fleet.build({ size: 120, seed: 5 }) });
    const out = await simulatorClient(sim).send(new SendCommandCommand(gatherInput()));
    commandId = out.Command?.CommandId ?? '';
  });

  async function allPages(maxResults?: number): Promise<ListCommandInvocationsCommandOutput[]> {
    const ssm = simulatorClient(sim);
    const pages: ListCommandInvocationsCommandOutput[] = [];
    let token: string | undefined;
    do {
      const page = await ssm.send(
        new ListCommandInvocationsCommand({
          CommandId: commandId,
          Details: true,
          NextToken: token,
          MaxResults: maxResults,
        }),
      );
      pages.push(page);
      token = page.NextToken;
    } while (token !== undefined);
    return pages;
  }

  it('returns 50 per page by default and every invocation exactly once', async () => {
    const pages = await allPages();
    expect(pages.map((page) => page.CommandInvocations?.length)).toEqual([50, 50, 20]);
    const ids = pages.flatMap((page) => page.CommandInvocations ?? []).map((invocation) => invocation.InstanceId);
    expect(new Set(ids).size).toBe(120);
    expect(new Set(ids)).toEqual(new Set(sim.fleet.nodes.map((node) => node.instanceId)));
  });

  it('honours MaxResults and rejects values outside 1–50', async () => {
    const pages = await allPages(7);
    expect(pages).toHaveLength(18);
    expect(pages.at(-1)?.CommandInvocations).toHaveLength(1);
    const error = await rejection(
      simulatorClient(sim).send(new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: 51 })),
    );
    expect((error as Error).name).toBe('ValidationException');
  });

  it('lists CommandPlugins with the step name, status, exit code and output only when Details is set', async () => {
    const ssm = simulatorClient(sim);
    const bare = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: 1 }));
    expect(bare.CommandInvocations?.[0]?.CommandPlugins).toEqual([]);
    const detailed = await ssm.send(
      new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: 1, Details: true }),
    );
    const plugin = detailed.CommandInvocations?.[0]?.CommandPlugins?.[0];
    expect(plugin).toMatchObject({ Name: 'gather', Status: 'Success', ResponseCode: 0 });
    expect(parseGatherReport(plugin?.Output ?? '').zones.length).toBeGreaterThan(0);
  });

  it('answers a forged NextToken with InvalidNextToken and an unknown command with InvalidCommandId', async () => {
    const ssm = simulatorClient(sim);
    const forged = await rejection(
      ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, NextToken: 'bm90IGEgdG9rZW4=' })),
    );
    expect((forged as Error).name).toBe('InvalidNextToken');
    const unknown = await rejection(
      ssm.send(new ListCommandInvocationsCommand({ CommandId: '00000000-0000-4000-8000-000000000000' })),
    );
    expect(unknown).toBeInstanceOf(InvalidCommandId);
  });
});

describe('SSM simulator: ListCommands', () => {
  let sim: SsmSimulator;
  let now: Date;
  const ids: string[] = [];
  beforeAll(async () => {
    now = new Date('2025-03-01T12:00:00.000Z');
    sim = await start({
      fleet: Fleet.build({ size: 6, seed: 9 }),
      documents: fleetscanDocuments(),
      clock: { now: () => now },
    });
    const ssm = simulatorClient(sim);
    const nodes = sim.fleet.nodes.map((node) => node.instanceId);
    ids.push((await ssm.send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '');
    for (const [index, node] of nodes.slice(0, 4).entries()) {
      now = new Date(Date.parse('2025-03-01T12:10:00.000Z') + index * 60_000);
      const out = await ssm.send(
        new SendCommandCommand({
          DocumentName: 'fleetscan-Remediate',
          InstanceIds: [node],
          Parameters: { action: ['compact'], numaNode: ['all'], dryRun: ['false'] },
          Comment: `fleetscan remediate scan-${index} compact`,
        }),
      );
      ids.push(out.Command?.CommandId ?? '');
    }
  });

  it('describes one command by id: its comment, document, instance ids and requested time (the clock given)', async () => {
    const out = await simulatorClient(sim).send(new ListCommandsCommand({ CommandId: ids[1] }));
    expect(out.Commands).toHaveLength(1);
    expect(out.Commands?.[0]).toMatchObject({
      CommandId: ids[1],
      DocumentName: 'fleetscan-Remediate',
      Comment: 'fleetscan remediate scan-0 compact',
      InstanceIds: [sim.fleet.nodes[0]?.instanceId],
      RequestedDateTime: new Date('2025-03-01T12:10:00.000Z'),
    });
    const error = await rejection(simulatorClient(sim).send(new ListCommandsCommand({ CommandId: 'nope' })));
    expect(error).toBeInstanceOf(InvalidCommandId);
  });

  it('filters by DocumentName and InvokedAfter, newest first, paging with MaxResults and NextToken', async () => {
    const ssm = simulatorClient(sim);
    const filters = [
      { key: 'DocumentName' as const, value: 'fleetscan-Remediate' },
      { key: 'InvokedAfter' as const, value: '2025-03-01T12:11:00Z' },
    ];
    const first = await ssm.send(new ListCommandsCommand({ Filters: filters, MaxResults: 2 }));
    expect(first.Commands?.map((command) => command.CommandId)).toEqual([ids[4], ids[3]]);
    const second = await ssm.send(
      new ListCommandsCommand({ Filters: filters, MaxResults: 2, NextToken: first.NextToken }),
    );
    expect(second.Commands?.map((command) => command.CommandId)).toEqual([ids[2]]);
    expect(second.NextToken).toBeUndefined();
    const gather = await ssm.send(
      new ListCommandsCommand({ Filters: [{ key: 'DocumentName', value: 'fleetscan-Gather' }] }),
    );
    expect(gather.Commands?.map((command) => command.CommandId)).toEqual([ids[0]]);
  });

  it('rejects a filter key it does not know and CommandId together with Filters', async () => {
    const ssm = simulatorClient(sim, { maxAttempts: 1 });
    const unknown = await rejection(
      ssm.send(new ListCommandsCommand({ Filters: [{ key: 'Nonsense' as 'Status', value: 'x' }] })),
    );
    expect((unknown as Error).name).toBe('InvalidFilterKey');
    const both = await rejection(
      ssm.send(
        new ListCommandsCommand({ CommandId: ids[0], Filters: [{ key: 'DocumentName', value: 'fleetscan-Gather' }] }),
      ),
    );
    expect(both).toBeInstanceOf(InvalidParameters);
  });
});

describe('SSM simulator: the agent’s output limits, in bytes', () => {
  it('cuts the listing at 2,500 UTF-8 bytes, not characters, and appends the agent’s marker', () => {
    // Prepare: 1,501 characters but 3,001 bytes (the odd byte keeps the cut between two characters).
    const stdout = new TextEncoder().encode(`a${'é'.repeat(1500)}`);
    // Act
    const output = listingOutput(stdout, new Uint8Array());
    // Assess
    expect(byteLength(output)).toBe(LISTING_OUTPUT_BYTES);
    expect(output.endsWith(LISTING_TRUNCATED)).toBe(true);
    const keptBytes = LISTING_OUTPUT_BYTES - byteLength(LISTING_TRUNCATED);
    expect(output.length).toBe(1 + (keptBytes - 1) / 2 + LISTING_TRUNCATED.length);
  });

  it('shows a character the byte cut split as U+FFFD, as the service’s JSON encoding does', () => {
    const output = listingOutput(new TextEncoder().encode('€'.repeat(1000)), new Uint8Array());
    expect(output.slice(0, -LISTING_TRUNCATED.length).endsWith('€\ufffd')).toBe(true);
  });

  it('leaves output that fits alone and puts stderr after the ERROR title', () => {
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(listingOutput(encode('a\nend\n'), new Uint8Array())).toBe('a\nend\n');
    expect(listingOutput(encode('a\nend\n'), encode('oops\n'))).toBe(`a\nend\n${ERROR_TITLE}oops\n`);
  });

  it('cuts GetCommandInvocation stdout at 24,000 bytes with its own marker', () => {
    const content = standardOutputContent(new Uint8Array(30_000).fill(0x61));
    expect(byteLength(content)).toBe(STDOUT_CONTENT_BYTES);
    expect(content.endsWith(CONTENT_TRUNCATED)).toBe(true);
  });

  describe('through the wire', () => {
    let sim: SsmSimulator;
    let commandId: string;
    beforeAll(async () => {
      sim = await start({
        fleet: Fleet.build({ size: 6, seed: 9, mix: { large: 1, huge: 1, failed: 1, hostile: 1, binary: 1 } }),
      });
      commandId = (await simulatorClient(sim).send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
    });

    async function listed(behaviour: string) {
      const page = await simulatorClient(sim).send(
        new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }),
      );
      const node = sim.fleet.nodes.find((n) => n.behaviour === behaviour);
      return page.CommandInvocations?.find((invocation) => invocation.InstanceId === node?.instanceId);
    }

    it('truncates a large report in the listing; GetCommandInvocation returns all of it', async () => {
      const invocation = await listed('large');
      const output = invocation?.CommandPlugins?.[0]?.Output ?? '';
      expect(byteLength(output)).toBeLessThanOrEqual(LISTING_OUTPUT_BYTES);
      expect(output.endsWith(LISTING_TRUNCATED)).toBe(true);
      expect(() => parseGatherReport(output)).toThrow(/no 'end' line/);
      const full = await simulatorClient(sim).send(
        new GetCommandInvocationCommand({
          CommandId: commandId,
          InstanceId: invocation?.InstanceId,
          PluginName: 'gather',
        }),
      );
      expect(byteLength(full.StandardOutputContent ?? '')).toBeGreaterThan(LISTING_OUTPUT_BYTES);
      expect(parseGatherReport(full.StandardOutputContent ?? '').zones.length).toBeGreaterThan(32);
    });

    it('cuts a huge report even in GetCommandInvocation', async () => {
      const invocation = await listed('huge');
      const full = await simulatorClient(sim).send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: invocation?.InstanceId }),
      );
      const content = full.StandardOutputContent ?? '';
      expect(byteLength(content)).toBe(STDOUT_CONTENT_BYTES);
      expect(content.endsWith(CONTENT_TRUNCATED)).toBe(true);
    });

    it('reports a failed script with its exit code and stderr after the ERROR title', async () => {
      const invocation = await listed('failed');
      expect(invocation).toMatchObject({ Status: 'Failed', StatusDetails: 'Failed' });
      expect(invocation?.CommandPlugins?.[0]?.ResponseCode).toBe(1);
      expect(invocation?.CommandPlugins?.[0]?.Output).toBe(`${ERROR_TITLE}cat: /proc/buddyinfo: Permission denied\n`);
    });

    it('passes hostile and binary output through as the service would (escapes intact, bad bytes as U+FFFD)', async () => {
      expect((await listed('hostile'))?.CommandPlugins?.[0]?.Output).toContain('\u001b]0;pwned\u0007');
      expect((await listed('binary'))?.CommandPlugins?.[0]?.Output).toContain('\ufffd');
    });
  });
});

describe('SSM simulator: typed errors', () => {
  let sim: SsmSimulator;
  let commandId: string;
  beforeAll(async () => {
    sim = await start({ fleet: Fleet.build({ size: 3, seed: 2 }) });
    commandId = (await simulatorClient(sim).send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
  });

  it('raises InvocationDoesNotExist, InvalidCommandId and InvalidPluginName as the SDK’s classes', async () => {
    const ssm = simulatorClient(sim);
    const node = sim.fleet.nodes[0]?.instanceId ?? '';
    expect(
      await rejection(
        ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: 'i-00000000000000000' })),
      ),
    ).toBeInstanceOf(InvocationDoesNotExist);
    expect(
      await rejection(
        ssm.send(
          new GetCommandInvocationCommand({ CommandId: '00000000-0000-4000-8000-000000000000', InstanceId: node }),
        ),
      ),
    ).toBeInstanceOf(InvalidCommandId);
    expect(
      await rejection(
        ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: node, PluginName: 'x' })),
      ),
    ).toBeInstanceOf(InvalidPluginName);
  });
});

describe('SSM simulator: throttling', () => {
  let sim: SsmSimulator;
  let commandId: string;
  beforeAll(async () => {
    sim = await start({ fleet: Fleet.build({ size: 10, seed: 4 }) });
    commandId = (await simulatorClient(sim).send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
  });
  afterEach(() => {
    sim.setFaults({});
    sim.resetStats();
  });

  it('is retried by the SDK’s standard strategy: a storm of 2 costs 3 calls and succeeds', async () => {
    sim.setFaults({ throttle: { storms: [{ operation: 'ListCommandInvocations', afterCalls: 0, length: 2 }] } });
    const page = await simulatorClient(sim).send(new ListCommandInvocationsCommand({ CommandId: commandId }));
    expect(page.CommandInvocations).toHaveLength(10);
    expect(sim.stats().apiCalls.ListCommandInvocations).toBe(3);
    expect(sim.stats().throttled.ListCommandInvocations).toBe(2);
  });

  it('surfaces as the SDK’s ThrottlingException, classified as throttling, once retries run out', async () => {
    sim.setFaults({ throttle: { storms: [{ afterCalls: 0, length: 10 }] } });
    const error = await rejection(
      simulatorClient(sim, { maxAttempts: 2 }).send(new ListCommandInvocationsCommand({ CommandId: commandId })),
    );
    expect(error).toBeInstanceOf(ThrottlingException);
    expect((error as ThrottlingException).$retryable?.throttling ?? true).toBe(true);
    expect(sim.stats().apiCalls.ListCommandInvocations).toBe(2);
  });

  it('throttles the same calls for the same seed', async () => {
    const pattern = async (): Promise<number> => {
      sim.setFaults({ seed: 42, throttle: { share: 0.5 } });
      sim.resetStats();
      const ssm = simulatorClient(sim, { maxAttempts: 1 });
      let failures = 0;
      for (let i = 0; i < 20; i += 1) {
        failures += await ssm.send(new ListCommandsCommand({ CommandId: commandId })).then(
          () => 0,
          () => 1,
        );
      }
      return failures;
    };
    const first = await pattern();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(20);
    expect(await pattern()).toBe(first);
  });

  it('retries InternalServerError (HTTP 500) as transient', async () => {
    sim.setFaults({ serverErrors: [{ afterCalls: 0, length: 1 }] });
    await expect(
      simulatorClient(sim).send(new ListCommandInvocationsCommand({ CommandId: commandId })),
    ).resolves.toBeDefined();
    expect(sim.stats().errors.InternalServerError).toBe(1);
  });
});

describe('SSM simulator: eventual consistency, completion and events', () => {
  it('hides a new command from its first K reads: an empty list, then InvocationDoesNotExist, then the truth', async () => {
    const sim = await start({
      fleet: Fleet.build({ size: 5, seed: 8 }),
      faults: { eventualConsistency: { reads: 2 } },
    });
    const ssm = simulatorClient(sim);
    const commandId = (await ssm.send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
    const node = sim.fleet.nodes[0]?.instanceId ?? '';
    expect((await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId }))).CommandInvocations).toEqual(
      [],
    );
    expect(
      await rejection(ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: node }))),
    ).toBeInstanceOf(InvocationDoesNotExist);
    expect(
      (await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId }))).CommandInvocations,
    ).toHaveLength(5);
  });

  it('keeps invocations InProgress until complete() in manual mode, then emits the completion events', async () => {
    const sim = await start({ fleet: Fleet.build({ size: 4, seed: 8, mix: { failed: 1 } }), completion: 'manual' });
    const ssm = simulatorClient(sim);
    const commandId = (await ssm.send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
    const before = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
    expect(before.CommandInvocations?.map((i) => i.Status)).toEqual([
      'InProgress',
      'InProgress',
      'InProgress',
      'InProgress',
    ]);
    expect(before.CommandInvocations?.[0]?.CommandPlugins?.[0]).toMatchObject({ Output: '', ResponseCode: -1 });
    expect(sim.isComplete(commandId)).toBe(false);

    sim.complete(commandId);

    expect(sim.isComplete(commandId)).toBe(true);
    const events = sim.completionEvents(commandId);
    expect(events.command).toMatchObject({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Status-change Notification',
      region: 'us-east-1',
      detail: { 'command-id': commandId, 'document-name': 'fleetscan-Gather', status: 'Failed' },
    });
    expect(events.command.resources).toHaveLength(4);
    expect(events.invocations.map((event) => event.detail.status).sort()).toEqual([
      'Failed',
      'Success',
      'Success',
      'Success',
    ]);
    const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
    expect(listed.Commands?.[0]).toMatchObject({ TargetCount: 4, CompletedCount: 4, ErrorCount: 1 });
  });

  it('leaves stragglers running after the rest completed', async () => {
    const fleet = Fleet.build({ size: 3, seed: 1 });
    fleet.add({ straggler: true });
    const sim = await start({ fleet });
    const ssm = simulatorClient(sim);
    const commandId = (await ssm.send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
    const page = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId }));
    expect(page.CommandInvocations?.map((i) => i.Status)).toEqual(['Success', 'Success', 'Success', 'InProgress']);
    expect(sim.completionEvents(commandId).command.detail.status).toBe('InProgress');
  });
});

describe('SSM simulator: node behaviours', () => {
  it('prints gather reports the policy judges as their condition says', async () => {
    const sim = await start({ fleet: Fleet.build({ size: 30, seed: 21, mix: { fragmented: 10, 'low-memory': 5 } }) });
    const ssm = simulatorClient(sim);
    const commandId = (await ssm.send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
    const page = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
    const verdicts = new Map<string, string>();
    for (const invocation of page.CommandInvocations ?? []) {
      const report = parseGatherReport(invocation.CommandPlugins?.[0]?.Output ?? '');
      const node = sim.fleet.node(invocation.InstanceId ?? '');
      const verdict = evaluate(report);
      verdicts.set(node.behaviour, `${verdict.breach}/${verdict.cause}`);
      expect(report.zones.filter((zone) => zone.zone === 'Normal')).toHaveLength(node.numaNodes);
    }
    expect(Object.fromEntries(verdicts)).toEqual({
      healthy: 'false/null',
      fragmented: 'true/fragmentation',
      'low-memory': 'true/low-memory',
    });
  });

  it('prints version 2 on request: counters that grow with the time between gathers, failures since `since`', async () => {
    // Prepare: one fragmented and one healthy node printing version 2, a clock moved by hand.
    let now = new Date('2026-03-01T12:00:00Z');
    const sim = await start({
      fleet: Fleet.build({ size: 2, seed: 8, mix: { fragmented: 1 }, reportVersion: 2 }),
      clock: { now: () => now },
    });
    const ssm = simulatorClient(sim);
    const gatherReports = async (since: string) => {
      const sent = await ssm.send(new SendCommandCommand(gatherInput({ Parameters: { since: [since] } })));
      const page = await ssm.send(
        new ListCommandInvocationsCommand({ CommandId: sent.Command?.CommandId, Details: true }),
      );
      return new Map(
        (page.CommandInvocations ?? []).map((invocation) => [
          sim.fleet.node(invocation.InstanceId ?? '').behaviour,
          parseGatherReport(invocation.CommandPlugins?.[0]?.Output ?? ''),
        ]),
      );
    };
    // Act: two gathers 15 minutes apart, the second counting failures from the first on.
    const first = await gatherReports('0');
    const firstAt = Math.floor(now.getTime() / 1000);
    now = new Date(now.getTime() + 15 * 60_000);
    const second = await gatherReports(String(firstAt));
    // Assess
    const [fragmented, healthy] = [second.get('fragmented'), second.get('healthy')];
    expect(fragmented?.version).toBe(2);
    expect(fragmented?.bootId).toBe(first.get('fragmented')?.bootId);
    expect(fragmented?.uptimeSeconds).toBe((first.get('fragmented')?.uptimeSeconds ?? 0) + 900);
    const stalls = (report: typeof fragmented) => report?.vmstat?.compact_stall ?? Number.NaN;
    expect(stalls(fragmented)).toBeGreaterThan(stalls(first.get('fragmented')));
    // Failures are logged in every interval; the second gather counts only those since the first.
    const logged = sim.fleet.withBehaviour('fragmented')[0]?.signals?.failures ?? [];
    expect(fragmented?.allocFailures?.count).toBe(logged.filter((failure) => failure.at >= firstAt).length);
    expect(fragmented?.allocFailures?.count).toBeLessThan(logged.length);
    expect(healthy?.allocFailures).toMatchObject({ count: 0 });
    expect(healthy?.pagetypes?.zones.map((zone) => zone.zone)).toEqual(healthy?.zones.map((zone) => zone.zone));
  });

  it('reports undelivered invocations with their terminal status, spaced or compact', async () => {
    const mix = { 'delivery-timed-out': 1, undeliverable: 1, 'invalid-platform': 1, 'execution-timed-out': 1 } as const;
    for (const [spelling, expected] of [
      ['spaced', ['Delivery Timed Out', 'Execution Timed Out', 'Invalid Platform', 'Undeliverable']],
      ['compact', ['DeliveryTimedOut', 'ExecutionTimedOut', 'InvalidPlatform', 'Undeliverable']],
    ] as const) {
      const sim = await start({ fleet: Fleet.build({ size: 4, seed: 3, mix }), statusSpelling: spelling });
      const ssm = simulatorClient(sim);
      const commandId = (await ssm.send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
      const page = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
      expect(page.CommandInvocations?.map((i) => i.StatusDetails).sort()).toEqual(expected);
      const timedOut = page.CommandInvocations?.find((i) => i.StatusDetails === expected[0]);
      expect(timedOut).toMatchObject({ Status: 'TimedOut' });
      expect(timedOut?.CommandPlugins?.[0]).toMatchObject({ Output: '', ResponseCode: -1 });
    }
  });

  it('remediates: the report measures before and after, and a node that improved gathers healthy next time', async () => {
    const sim = await start({
      fleet: Fleet.build({ size: 2, seed: 6, mix: { fragmented: 2 } }),
      documents: fleetscanDocuments(),
    });
    const ssm = simulatorClient(sim);
    const [first, second] = sim.fleet.nodes;
    const remediate = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'fleetscan-Remediate',
        InstanceIds: [first?.instanceId ?? ''],
        Parameters: { action: ['compact-node'], numaNode: ['0'], dryRun: ['false'] },
      }),
    );
    const out = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: remediate.Command?.CommandId, InstanceId: first?.instanceId }),
    );
    const report = parseRemediationReport(out.StandardOutputContent ?? '');
    expect(report).toMatchObject({
      action: 'compact-node',
      numaNode: 0,
      dryRun: false,
      steps: [{ name: 'compact-node', result: 'ok' }],
    });
    expect(evaluate({ zones: report.before }).breach).toBe(true);
    expect(evaluate({ zones: report.after }).breach).toBe(false);
    expect(first?.received.map((r) => r.kind)).toEqual(['remediate']);

    const gather = await ssm.send(new SendCommandCommand(gatherInput({ DocumentName: 'fleetscan-Gather' })));
    const page = await ssm.send(
      new ListCommandInvocationsCommand({ CommandId: gather.Command?.CommandId, Details: true }),
    );
    const breach = (id: string | undefined) =>
      evaluate(
        parseGatherReport(page.CommandInvocations?.find((i) => i.InstanceId === id)?.CommandPlugins?.[0]?.Output ?? ''),
      ).breach;
    expect(breach(first?.instanceId)).toBe(false);
    expect(breach(second?.instanceId)).toBe(true);
  });

  it('stops sending after MaxErrors is exceeded: nodes not yet started are Cancelled', async () => {
    const fleet = new Fleet(1);
    fleet.add({ behaviour: 'failed' });
    for (let i = 0; i < 5; i += 1) fleet.add();
    const sim = await start({ fleet });
    const ssm = simulatorClient(sim);
    const commandId =
      (await ssm.send(new SendCommandCommand(gatherInput({ MaxConcurrency: '2', MaxErrors: '0' })))).Command
        ?.CommandId ?? '';
    const page = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId }));
    expect(page.CommandInvocations?.map((i) => i.Status)).toEqual([
      'Failed',
      'Success',
      'Cancelled',
      'Cancelled',
      'Cancelled',
      'Cancelled',
    ]);
  });

  it('builds the same fleet and outputs from the same seed', async () => {
    const outputs = async (): Promise<string[]> => {
      const sim = await start({ fleet: Fleet.build({ size: 8, seed: 99, mix: { fragmented: 3, binary: 1 } }) });
      const ssm = simulatorClient(sim);
      const commandId = (await ssm.send(new SendCommandCommand(gatherInput()))).Command?.CommandId ?? '';
      const page = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
      return (page.CommandInvocations ?? []).map(
        (i) => `${i.CommandId} ${i.InstanceId} ${i.CommandPlugins?.[0]?.Output}`,
      );
    };
    const first = await outputs();
    expect(new Set(first).size).toBe(8);
    expect(await outputs()).toEqual(first);
  });
});
