/**
 * An in-process dynalite (in-memory DynamoDB) on an ephemeral 127.0.0.1 port, with fleetscan's history table
 * created from lib/runtime/table-schema.ts. Shared by every engineer's storage tests:
 *
 *   const db = await startDynalite();
 *   const store = db.store({ clock });          // a DynamoStore on the table
 *   ... db.client / db.doc / db.endpoint / db.tableName for raw access ...
 *   await db.stop();
 *
 * Each call starts its own server and table, so test files never share state. dynalite 4 lacks TTL deletion,
 * transactions, PartiQL and backups; everything fleetscan uses (conditional writes, batches, GSIs) works.
 */

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStore, type DynamoStoreOptions } from '../../lib/adapters/dynamo-store.ts';
import { INDEXES, TABLE_KEYS } from '../../lib/runtime/table-schema.ts';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

// dynalite ships no type declarations; createRequire keeps its one call typed here without an ambient module.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface LocalTable {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** A store on the table; options override the defaults (90 days retention, no real sleeping). */
  store(options?: Partial<Omit<DynamoStoreOptions, 'client' | 'tableName'>>): DynamoStore;
  stop(): Promise<void>;
}

/** The CreateTable input for fleetscan's history table (what lib/infra declares, for local engines). */
export function historyTableDefinition(tableName: string) {
  const keyNames = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey];
  const indexes = Object.values(INDEXES);
  const attributes: AttributeDefinition[] = [
    ...keyNames,
    ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ].map((name) => ({ AttributeName: name, AttributeType: 'S' }));
  const globalIndexes: GlobalSecondaryIndex[] = indexes.map((index) => ({
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  }));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attributes,
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: globalIndexes,
  };
}

/** dynalite answers ResourceNotFound while a table is CREATING, even with createTableMs 0: wait for ACTIVE. */
async function untilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`dynalite table ${tableName} did not become ACTIVE`);
}

export async function startDynalite(options: { tableName?: string } = {}): Promise<LocalTable> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const tableName = options.tableName ?? 'fleetscan-history';
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await client.send(new CreateTableCommand(historyTableDefinition(tableName)));
  await untilActive(client, tableName);
  return {
    endpoint,
    tableName,
    client,
    doc,
    store: (overrides = {}) =>
      new DynamoStore({ client: doc, tableName, retentionDays: 90, sleep: async () => {}, ...overrides }),
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
