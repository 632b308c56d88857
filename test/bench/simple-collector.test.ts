/**
 * The baseline collector, against the SSM simulator and dynalite behind the bench's meter: one item per node per
 * scan, written 25 a BatchWriteItem from listing pages of 50, judged without state.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SsmGateway } from '../../lib/adapters/ssm.ts';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import type { NodeRecord } from '../../lib/runtime/ports.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { Fleet, fleetscanDocuments, SsmSimulator, simulatorClient } from '../support/ssm-simulator/index.ts';
import { DynamoMeter } from './dynamo-meter.ts';
import { simpleCollect } from './simple-collector.ts';

describe('simpleCollect', () => {
  let db: LocalTable;
  let meter: DynamoMeter;
  let sim: SsmSimulator;
  beforeAll(async () => {
    db = await startDynalite();
    meter = await DynamoMeter.start(db.endpoint);
    sim = await SsmSimulator.start({
      fleet: Fleet.build({ size: 120, seed: 4, mix: { fragmented: 2, failed: 1, large: 1 }, reportVersion: 2 }),
      documents: fleetscanDocuments(),
    });
  });
  afterAll(async () => {
    await sim.close();
    await meter.close();
    await db.stop();
  });

  it('stores every listed node once, one item each, with the calls a Details listing and BatchWrite need', async () => {
    // Prepare
    const ssm = simulatorClient(sim);
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: meter.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const gateway = new SsmGateway({ client: ssm, documents: { gather: 'fleetscan-Gather', remediate: 'x' } });
    const { commandId } = await gateway.send({
      document: 'gather',
      targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
      parameters: { since: ['0'] },
      maxConcurrency: '25%',
      maxErrors: '100%',
      deliveryTimeoutSeconds: 600,
      comment: 'simple',
    });
    sim.resetStats();
    const at = '2026-03-01T12:00:00.000Z';
    // Act
    const result = await simpleCollect({
      gateway,
      doc,
      tableName: db.tableName,
      commandId,
      scan: { scanId: commandId, at },
      config: DEFAULT_CONFIG,
    });
    // Assess: 3 listing pages, one full output (the 32-NUMA node's), ⌈120 / 25⌉ batches and nothing else.
    expect(result).toEqual({ stored: 120, pages: 3 });
    expect(sim.stats().apiCalls).toEqual({ ListCommandInvocations: 3, GetCommandInvocation: 1 });
    expect(meter.snapshot().apiCalls).toEqual({ BatchWriteItem: 5 });
    const record = async (behaviour: 'failed' | 'large' | 'fragmented') => {
      const [node] = sim.fleet.withBehaviour(behaviour);
      const found = await doc.send(
        new QueryCommand({
          TableName: db.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `NODE#${node?.instanceId}` },
        }),
      );
      expect(found.Items).toHaveLength(1);
      return found.Items?.[0] as NodeRecord & { sk: string; ttl: number; indices: string[] };
    };
    expect(await record('failed')).toMatchObject({ status: 'ERROR', sk: `${at}#${commandId}` });
    expect((await record('large')).zones.length).toBeGreaterThan(16);
    // No state: a breach is always the first one (WARN), never CRITICAL.
    const breaching = await record('fragmented');
    expect(breaching).toMatchObject({ status: 'WARN', consecutiveBreaches: 1 });
    expect(breaching.ttl).toBe(Date.parse(at) / 1000 + 90 * 86_400);
    expect(breaching.indices[0]).toMatch(/^\d+ Normal \d+ \d+ \d+ -?\d+$/);
    doc.destroy();
    ssm.destroy();
  });
});
