import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { INDEXES } from '../adapters/dynamo/schema.ts';
import { iamActions, type TableAccess } from '../adapters/table-access.ts';

/**
 * The statements that allow exactly `access` on the history table: its item actions on the table, and Query on
 * the table and on each index it names — no `index/*`, no action nothing calls.
 */
export function tableStatements(table: TableV2, access: TableAccess): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  if (access.items.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'HistoryItems',
        actions: iamActions({ items: access.items, queries: [] }),
        resources: [table.tableArn],
      }),
    );
  }
  if (access.queries.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'HistoryQueries',
        actions: ['dynamodb:Query'],
        resources: access.queries.map((target) =>
          target === 'table' ? table.tableArn : `${table.tableArn}/index/${INDEXES[target].name}`,
        ),
      }),
    );
  }
  return statements;
}
