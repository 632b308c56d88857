/**
 * An in-process dynalite (in-memory DynamoDB) on an ephemeral 127.0.0.1 port, with fleetscan's history table
 * created by lib/local/table.ts from lib/adapters/dynamo/schema.ts (the demo's code: one table definition). Shared by every engineer's storage tests:
 *
 *   const db = await startDynalite();
 *   const store = db.store({ clock });          // a DynamoHistory on the table
 *   ... db.client / db.doc / db.endpoint / db.tableName for raw access ...
 *   await db.stop();
 *
 * Each call starts its own server and table, so test files never share state. dynalite 4 lacks TTL deletion,
 * transactions, PartiQL and backups; everything fleetscan uses (conditional writes, batches, GSIs) works.
 */

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoHistory, type DynamoHistoryOptions } from '../../lib/adapters/dynamo/history.ts';
import { ensureTable } from '../../lib/local/table.ts';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

// dynalite ships no type declarations; createRequire keeps its one call typed here without an ambient module.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface LocalTable {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** A store on the table; options override the defaults (90 days retention, no real sleeping). */
  store(options?: Partial<Omit<DynamoHistoryOptions, 'client' | 'tableName'>>): DynamoHistory;
  /** Drops every item: the table deleted and created again, empty. */
  clear(): Promise<void>;
  stop(): Promise<void>;
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
  await ensureTable(client, tableName);
  return {
    endpoint,
    tableName,
    client,
    doc,
    store: (overrides = {}) =>
      new DynamoHistory({ client: doc, tableName, retentionDays: 90, sleep: async () => {}, ...overrides }),
    clear: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      for (let attempt = 0; attempt < 200; attempt += 1) {
        try {
          await client.send(new DescribeTableCommand({ TableName: tableName }));
        } catch {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await ensureTable(client, tableName);
    },
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
