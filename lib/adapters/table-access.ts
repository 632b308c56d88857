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
  /** startScan (the RUNNING scan item) and the sweep (what is due). */
  scanFunction: { items: ['PutItem'], queries: ['due'] },
  /**
   * collectGather and collectRemediation: scan, command and remediation items read and written conditionally, node
   * records in batches, node states read in batches, the scan's remediations and problem nodes queried.
   */
  collectFunction: {
    items: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    queries: ['table'],
  },
  /** The history commands (scans, scan, history, remediations) and doctor's look at the last scan. */
  historyReader: {
    items: ['GetItem'],
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
