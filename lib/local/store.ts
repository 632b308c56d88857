/**
 * The demo's history store: the production DynamoHistory over an embedded dynalite persisted in the data
 * directory (`<data dir>/store`). Only the engine differs from a deployed fleetscan; the store code is the same.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoHistory } from '../adapters/dynamo/history.ts';
import type { Clock } from '../runtime/ports.ts';
import { STORE_DIR } from './demo-defaults.ts';
import { startDynalite } from './embedded-dynalite.ts';
import { ensureTable } from './table.ts';

export const LOCAL_TABLE = 'fleetscan-history';

export interface LocalStoreOptions {
  readonly dataDir: string;
  /** Create the directory and the table when missing (the demo); the history commands only open. */
  readonly create: boolean;
  readonly retentionDays?: number;
  /** Decides which items count as expired on read. */
  readonly clock?: Clock;
  /** The watched orders (so stored counts give the indices back). @default [4, 6] */
  readonly orders?: readonly number[];
}

export interface LocalStore {
  readonly store: DynamoHistory;
  readonly tableName: string;
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function openLocalStore(options: LocalStoreOptions): Promise<LocalStore> {
  const storePath = path.join(options.dataDir, STORE_DIR);
  if (options.create) await mkdir(storePath, { recursive: true });
  const engine = await startDynalite({ path: storePath });
  // dynalite checks no signature, but the SDK insists on credentials and a region: fixed local ones, so that
  // local mode never looks for (or needs) an AWS account.
  const client = new DynamoDBClient({
    endpoint: engine.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    if (options.create) {
      await ensureTable(client, LOCAL_TABLE);
    }
  } catch (error) {
    client.destroy();
    await engine.close();
    throw error;
  }
  const document = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const store = new DynamoHistory({
    client: document,
    tableName: LOCAL_TABLE,
    retentionDays: options.retentionDays ?? 90,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.orders === undefined ? {} : { orders: options.orders }),
  });
  return {
    store,
    tableName: LOCAL_TABLE,
    endpoint: engine.endpoint,
    close: async () => {
      client.destroy();
      await engine.close();
    },
  };
}
