/**
 * Creates the history table in a local DynamoDB engine (dynalite), with the keys and indexes of
 * lib/adapters/dynamo/schema.ts — the layout the CDK stack deploys. Shared by `fleetscan demo`, the history
 * commands' `--local` mode and the tests.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { INDEX_PROJECTION, INDEXES, TABLE_KEYS } from '../adapters/dynamo/schema.ts';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const indexes = Object.values(INDEXES);
  const attributes = [
    TABLE_KEYS.partitionKey,
    TABLE_KEYS.sortKey,
    ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...INDEX_PROJECTION] },
    })),
  };
}

/** The table's status; ACTIVE only once its indexes are too (dynalite answers ResourceNotFound while CREATING). */
async function status(client: DynamoDBClient, tableName: string): Promise<string | null> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    return Table?.TableStatus === 'ACTIVE' && !indexesActive ? 'CREATING' : (Table?.TableStatus ?? null);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return null;
    throw error;
  }
}

/** Creates the table unless it exists, and waits until it is ACTIVE. Returns whether it was created. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  let created = false;
  if ((await status(client, tableName)) === null) {
    try {
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
      created = true;
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if ((await status(client, tableName)) === 'ACTIVE') return created;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
