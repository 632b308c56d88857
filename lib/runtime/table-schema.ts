/**
 * The history table's layout, shared by the CDK table (lib/infra) and the store (lib/adapters/dynamo-store.ts),
 * so the keys the code queries are the keys the template creates.
 *
 * | item            | pk                 | sk                          | GSI byNode (gsi1pk / gsi1sk)     | GSI byTime (gsi2pk / gsi2sk)  | GSI problems (sparse) |
 * |-----------------|--------------------|-----------------------------|----------------------------------|-------------------------------|-----------------------|
 * | scan            | SCAN#<scanId>      | META                        | –                                | SCANS / <requestedAt>#<id>    | –                     |
 * | node record     | SCAN#<scanId>      | NODE#<nodeId>               | NODE#<nodeId> / <at>#<scanId>    | –                             | non-OK only: SCAN#<scanId> / <rank> |
 * | node state      | NODE#<nodeId>      | STATE                       | –                                | –                             | –                     |
 * | remediation     | NODE#<nodeId>      | REM#<requestedAt>#<id>      | –                                | REMEDIATIONS / <requestedAt>#<id> | –                 |
 *
 * Node records and remediations carry `ttl` (epoch seconds); scans do too. States do not expire.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const TTL_ATTRIBUTE = 'ttl';

export const INDEXES = {
  byNode: { name: 'byNode', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byTime: { name: 'byTime', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  problems: { name: 'problems', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
} as const;

export type IndexName = keyof typeof INDEXES;
