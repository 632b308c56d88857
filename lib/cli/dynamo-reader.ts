/** The deployed history table, read with the standard AWS SDK credential and region chain. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStore } from '../adapters/dynamo-store.ts';
import type { HistoryReader } from '../runtime/ports.ts';

export interface DynamoReaderOptions {
  readonly tableName: string;
  readonly region?: string;
  /** A DynamoDB-compatible endpoint (dynalite in tests). */
  readonly endpoint?: string;
}

export function openDynamoHistory(options: DynamoReaderOptions): { reader: HistoryReader; close(): void } {
  const client = new DynamoDBClient({
    retryMode: 'adaptive',
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  });
  const document = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  // Reading never writes, so retention (which sets TTLs on writes) does not matter here.
  const reader = new DynamoStore({ client: document, tableName: options.tableName, retentionDays: 90 });
  return { reader, close: () => client.destroy() };
}
