/**
 * The bench's DynamoDB meter: it counts what reaches the server (retries included) and sizes items from the wire.
 * Checked against the runtime's own item-size function, so the two independent implementations must agree.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemSize, remediationItem } from '../../lib/adapters/dynamo/codec.ts';
import { keys } from '../../lib/adapters/dynamo/schema.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { DynamoMeter } from './dynamo-meter.ts';

describe('DynamoMeter', () => {
  let db: LocalTable;
  let meter: DynamoMeter;
  let doc: DynamoDBDocumentClient;
  beforeAll(async () => {
    db = await startDynalite();
    meter = await DynamoMeter.start(db.endpoint);
    doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: meter.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
  });
  afterAll(async () => {
    doc.destroy();
    await meter.close();
    await db.stop();
  });

  it('counts calls by operation and sizes written items as the store counts them', async () => {
    // Prepare: a journal page (no index) and a remediation record (in the byNode and byTime indexes).
    const journal = { ...keys.journal('s', 0, 0), n: 1, r: new Uint8Array(700) };
    const remediation = remediationItem(
      {
        remediationId: 's:i-1',
        nodeId: 'i-0000000000000001a',
        scanId: 's',
        commandId: null,
        action: 'compact',
        numaNode: null,
        dryRun: true,
        requestedAt: '2025-03-01T12:00:00.000Z',
        status: 'PENDING',
      },
      90,
    );
    // Act
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [db.tableName]: [{ PutRequest: { Item: journal } }, { PutRequest: { Item: remediation } }] },
      }),
    );
    await doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.nodeState('i-0000000000000001a'),
        UpdateExpression: 'SET breaches = :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    await doc.send(new GetCommand({ TableName: db.tableName, Key: keys.nodeState('i-0000000000000001a') }));
    // Assess
    const seen = meter.snapshot();
    expect(seen.apiCalls).toEqual({ BatchWriteItem: 1, UpdateItem: 1, GetItem: 1 });
    expect(seen.puts.count).toEqual({ JRNL: 1, REM: 1 });
    expect(seen.puts.totalBytes.JRNL).toBe(itemSize(journal));
    expect(seen.puts.totalBytes.REM).toBe(itemSize(remediation));
    // Each under 1 KB: one write unit for the journal page, three for the remediation (table, byNode, byTime).
    expect(seen.puts.writeUnits).toEqual({ JRNL: 1, REM: 3 });
    expect(seen.updatedKeys).toEqual({ 'NODE#i-0000000000000001a|STATE': 1 });
    expect(seen.keysRead).toBe(1);
  });
});
