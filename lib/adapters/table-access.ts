/**
 * What each caller of the history table does to it, in DynamoDB's own terms: the item and batch actions it calls on
 * the table, and where it runs Query (the table itself, or which of its indexes). lib/infra grants exactly this —
 * to each function's role (FleetscanFunction.bindTable) and in the CLI's managed policies — and
 * test/infra/table-access.test.ts holds it to what the code really sends: it drives each caller through realistic
 * scenarios against a recording DynamoDB endpoint and fails on an action used but not declared here, or declared
 * here but never used. When a store change makes that test fail, change the line below and nothing else.
 */
import type { IndexName } from './dynamo/schema.ts';

/** The data-plane actions on items (Query is declared apart, by where it reads). */
export type ItemAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'BatchWriteItem'
  | 'DeleteItem'
  | 'Scan'
  | 'ConditionCheckItem';

/** Where a Query reads: the table's own key, or one of its global secondary indexes. */
export type QueryTarget = 'table' | IndexName;

export interface TableAccess {
  readonly items: readonly ItemAction[];
  readonly queries: readonly QueryTarget[];
}

export const TABLE_ACCESS = {
  /**
   * startScan: the previous scan's size (Query byTime for its key, the item read by key: BatchGetItem) to plan the
   * shards, the RUNNING scan item (PutItem) and its shards (BatchWriteItem), each shard bound to its command — the
   * scan item read, the command's CMD# item written, the shard updated (GetItem, BatchWriteItem, UpdateItem); a
   * refused send abandons its shard (UpdateItem). The sweep: what is due (Query due, the items read by key).
   */
  scanFunction: {
    items: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    queries: ['byTime', 'due'],
  },
  /**
   * collect — shards, remediations, the scan's own work: the command, scan and shard items read (GetItem) and
   * leased, checkpointed, handed off, finished (UpdateItem); journal pages, the history layout, remediate commands
   * written first-writer-wins (PutItem); node states and the previous scan's history read in batches
   * (BatchGetItem), problem records, host names, remediations and sealed history written in batches
   * (BatchWriteItem); a scan's shards, journal, problem records and remediations queried on the table, the newest
   * sealed scan before this one on byTime.
   */
  collectFunction: {
    items: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    queries: ['table', 'byTime'],
  },
  /**
   * The history commands (scans, scan, history, remediations), doctor's look at the last scan and `scan --now
   * --wait`: the scan, the history layout and node states read (GetItem); a sealed scan's nodes from the node
   * history (BatchGetItem); a scan's shards (its progress), problem records and journal, one node's history
   * partition (Query on the table); scans and remediations newest first (byTime), one node's remediations (byNode).
   */
  historyReader: {
    items: ['GetItem', 'BatchGetItem'],
    queries: ['table', 'byTime', 'byNode'],
  },
  /** `fleetscan clear`: it reads the node's state (historyReader), then updates it. */
  operator: { items: ['UpdateItem'], queries: [] },
} as const satisfies Record<string, TableAccess>;

export type TableCaller = keyof typeof TABLE_ACCESS;

/** `dynamodb:<Action>` for IAM. */
export function iamActions(access: TableAccess): string[] {
  const items = access.items.map((action) => `dynamodb:${action}`);
  return access.queries.length > 0 ? [...items, 'dynamodb:Query'] : items;
}
