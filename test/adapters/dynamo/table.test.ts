/**
 * DynamoTable: the helpers every store shares — batches that retry what DynamoDB leaves unprocessed (mocked
 * DynamoDB, to make it leave some), conditional writes that answer instead of throwing, opaque cursors.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import {
  DynamoTable,
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  UnprocessedItemsError,
} from '../../../lib/adapters/dynamo/table.ts';

const raw = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const doc = DynamoDBDocumentClient.from(raw);
const items = (count: number) => Array.from({ length: count }, (_, i) => ({ pk: `P#${i}`, sk: 'S', value: i }));

describe('DynamoTable: batches under pressure', () => {
  it('retries UnprocessedItems with backoff until every item is stored, 25 per call', async () => {
    const mock = mockClient(doc);
    const delays: number[] = [];
    const table = new DynamoTable({
      client: doc,
      tableName: 't',
      retentionDays: 90,
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
    });
    const all = items(30);
    mock
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: [{ PutRequest: { Item: all[0] } }] } })
      .resolves({});
    await table.batchPut(all);
    const calls = mock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.t?.length);
    expect(calls).toEqual([25, 1, 5]);
    expect(delays).toEqual([25]);
    mock.restore();
  });

  it('writes the last version of a key given twice (one batch may not hold a key twice)', async () => {
    const mock = mockClient(doc);
    mock.on(BatchWriteCommand).resolves({});
    const table = new DynamoTable({ client: doc, tableName: 't', retentionDays: 90 });
    await table.batchPut([
      { pk: 'A', sk: 'S', v: 1 },
      { pk: 'A', sk: 'S', v: 2 },
    ]);
    expect(mock).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: { t: [{ PutRequest: { Item: { pk: 'A', sk: 'S', v: 2 } } }] },
    });
    mock.restore();
  });

  it('gives up with a named error after the bounded attempts', async () => {
    const mock = mockClient(doc);
    const table = new DynamoTable({
      client: doc,
      tableName: 't',
      retentionDays: 90,
      sleep: async () => {},
      batchAttempts: 4,
    });
    const [item] = items(1);
    mock.on(BatchWriteCommand).resolves({ UnprocessedItems: { t: [{ PutRequest: { Item: item } }] } });
    const error = await table.batchPut(items(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessedItemsError);
    expect(error).toMatchObject({ operation: 'BatchWriteItem', remaining: 1, attempts: 4 });
    expect(mock).toHaveReceivedCommandTimes(BatchWriteCommand, 4);
    mock.restore();
  });

  it('retries UnprocessedKeys of a BatchGet, and reads eventually consistent when asked', async () => {
    const mock = mockClient(doc);
    const table = new DynamoTable({ client: doc, tableName: 't', retentionDays: 90, sleep: async () => {} });
    mock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { t: [{ pk: 'A', sk: 'S' }] },
        UnprocessedKeys: { t: { Keys: [{ pk: 'B', sk: 'S' }] } },
      })
      .resolves({ Responses: { t: [{ pk: 'B', sk: 'S' }] } });
    const got = await table.batchGet(
      [
        { pk: 'A', sk: 'S' },
        { pk: 'B', sk: 'S' },
        { pk: 'A', sk: 'S' },
      ],
      false,
    );
    expect(got.map((item) => item.pk)).toEqual(['A', 'B']);
    expect(mock).toHaveReceivedNthCommandWith(BatchGetCommand, 1, {
      RequestItems: {
        t: {
          Keys: [
            { pk: 'A', sk: 'S' },
            { pk: 'B', sk: 'S' },
          ],
          ConsistentRead: false,
        },
      },
    });
    expect(mock).toHaveReceivedNthCommandWith(BatchGetCommand, 2, {
      RequestItems: { t: { Keys: [{ pk: 'B', sk: 'S' }], ConsistentRead: false } },
    });
    mock.restore();
  });
});

describe('DynamoTable: conditional writes', () => {
  it('answers false when the condition refuses the write, and throws anything else', async () => {
    const mock = mockClient(doc);
    const table = new DynamoTable({ client: doc, tableName: 't', retentionDays: 90 });
    mock
      .on(PutCommand)
      .rejectsOnce(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }))
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }))
      .resolves({});
    const write = { Item: { pk: 'A', sk: 'S' }, ConditionExpression: 'attribute_not_exists(pk)' };
    expect(await table.conditional(write)).toBe(false);
    await expect(table.conditional(write)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(await table.conditional(write)).toBe(true);
    expect(mock).toHaveReceivedCommandWith(PutCommand, {
      TableName: 't',
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    mock.restore();
  });
});

describe('DynamoTable: cursors', () => {
  it('round-trips a key through an opaque base64url cursor', () => {
    const key = { pk: 'SCAN#a', sk: 'P#000001' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(key);
  });

  it.each(['not base64 json', 'e30', 'WzEsMl0'])('rejects a cursor it did not hand out (%s)', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(InvalidCursorError);
  });
});
