/** The deployed history table, read with the standard AWS SDK credential and region chain. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoHistory } from '../adapters/dynamo/history.ts';
import type { HistoryReader } from '../runtime/ports.ts';

export interface DynamoReaderOptions {
  readonly tableName: string;
  readonly region?: string;
  /** A DynamoDB-compatible endpoint (dynalite in tests). */
  readonly endpoint?: string;
}

/** The reader, plus the one write an operator makes from the CLI (`fleetscan clear`). */
export type OperatorStore = HistoryReader & { clearNode(nodeId: string): Promise<boolean> };

export function openDynamoHistory(options: DynamoReaderOptions): { reader: OperatorStore; close(): void } {
  const client = new DynamoDBClient({
    retryMode: 'adaptive',
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  });
  const document = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  // The CLI writes no expiring items (clearNode updates a node state, which never expires), so retention does not matter.
  const reader = new DynamoHistory({ client: document, tableName: options.tableName, retentionDays: 90 });
  return { reader, close: () => client.destroy() };
}
