/**
 * The bench's DynamoDB meter: it counts what reaches the server (retries included) and sizes items from the wire.
 * Checked against the runtime's own item-size function, so the two independent implementations must agree.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemSize, nodeRecordItem } from '../../lib/runtime/items.ts';
import { keys } from '../../lib/runtime/table-schema.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { nodeRecord } from '../support/runtime-fixtures.ts';
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

  it('counts calls by operation and sizes written items as the runtime does', async () => {
    // Prepare: a CRITICAL record (it lands in byNode and problems) and an OK one (byNode only).
    const critical = nodeRecordItem(nodeRecord({ nodeId: 'i-0000000000000001a', status: 'CRITICAL' }), 90);
    const ok = nodeRecordItem(nodeRecord({ nodeId: 'i-0000000000000002b' }), 90);
    // Act
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [db.tableName]: [{ PutRequest: { Item: critical } }, { PutRequest: { Item: ok } }] },
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
    expect(seen.puts.count.NODE).toBe(2);
    expect(seen.puts.maxBytes.NODE).toBe(Math.max(itemSize(critical), itemSize(ok)));
    expect(seen.puts.totalBytes.NODE).toBe(itemSize(critical) + itemSize(ok));
    // Each is under 1 KB: 3 write units for the CRITICAL one (table, byNode, problems), 2 for the OK one.
    expect(seen.puts.writeUnits.NODE).toBe(5);
    expect(seen.updatedKeys).toEqual({ 'NODE#i-0000000000000001a|STATE': 1 });
    expect(seen.keysRead).toBe(1);
  });
});
