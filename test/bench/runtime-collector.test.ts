/** The bench's stand-ins for Lambda around fleetscan's runtime: the invocation queue, the call and log counters. */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkItem } from '../../lib/runtime/ports.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { BenchQueue, CallCounter, LogMeter } from './runtime-collector.ts';

describe('BenchQueue', () => {
  it('runs up to `parallel` work items at once, and what they queue after them', async () => {
    // Prepare: two shards whose first invocation hands off once each.
    const queue = new BenchQueue();
    let running = 0;
    let most = 0;
    const ran: string[] = [];
    await queue.trigger({ kind: 'gather', commandId: 'a' });
    await queue.trigger({ kind: 'gather', commandId: 'b' });
    // Act
    await queue.drain(async (work) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const id = work.kind === 'scan' ? work.scanId : work.commandId;
      ran.push(`${id}${work.kind === 'gather' && work.lease !== undefined ? '+' : ''}`);
      if (work.kind === 'gather' && work.lease === undefined) await queue.trigger({ ...work, lease: 'next' });
      running -= 1;
    }, 2);
    // Assess
    expect(most).toBe(2);
    expect(ran.sort()).toEqual(['a', 'a+', 'b', 'b+']);
  });

  it('rejects with the first failure once the work in flight has settled', async () => {
    const queue = new BenchQueue();
    const settled: string[] = [];
    for (const commandId of ['fails', 'slow']) await queue.trigger({ kind: 'gather', commandId });
    const run = async (work: WorkItem) => {
      if (work.kind === 'gather' && work.commandId === 'fails') throw new Error('collect failed');
      await new Promise((resolve) => setTimeout(resolve, 10));
      settled.push('slow');
    };
    await expect(queue.drain(run, 2)).rejects.toThrow('collect failed');
    expect(settled).toEqual(['slow']);
  });
});

describe('LogMeter', () => {
  it('counts each log line with Powertools’ keys, and per invocation the platform lines and one EMF document', () => {
    const logs = new LogMeter();
    logs.logger.info('problem node', { nodeId: 'i-1', status: 'WARN' });
    const oneLine = logs.bytes;
    expect(oneLine).toBeGreaterThan(JSON.stringify({ message: 'problem node', nodeId: 'i-1' }).length + 200);
    logs.endInvocation();
    const withPlatform = logs.bytes;
    logs.sink.add('NodesScanned', 'Count', 1000);
    logs.endInvocation();
    expect(logs.lines).toBe(1 + 3 + 3 + 1);
    // The second invocation: the platform lines again, and the metric's EMF document naming it.
    expect(logs.bytes - withPlatform).toBeGreaterThan(withPlatform - oneLine);
  });
});

describe('CallCounter', () => {
  let db: LocalTable;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(async () => {
    await db.stop();
  });

  it('counts calls an invocation makes together as one round trip, one after another as one each', async () => {
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: db.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const calls = new CallCounter();
    calls.attach('dynamodb', client);
    const get = () =>
      client.send(new GetItemCommand({ TableName: db.tableName, Key: { pk: { S: 'a' }, sk: { S: 'b' } } }));
    await calls.invocation('collect', async () => {
      await Promise.all([get(), get(), get()]);
      await get();
      await get();
    });
    await get();
    expect(calls.counts.collect).toEqual({ ssm: 0, dynamodb: 5, ssmRoundTrips: 0, dynamodbRoundTrips: 3 });
    expect(calls.counts.scan).toEqual({ ssm: 0, dynamodb: 0, ssmRoundTrips: 0, dynamodbRoundTrips: 0 });
    client.destroy();
  });
});
