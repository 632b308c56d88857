/**
 * The history table's layout, shared by the CDK table (lib/infra) and the store (lib/adapters/dynamo-store.ts),
 * so the keys the code queries are the keys the template creates. Every key attribute is a String; every GSI
 * projects ALL attributes (the store reads whole records from the indexes).
 *
 * | item                | pk              | sk             | byNode (gsi1pk / gsi1sk)        | byTime (gsi2pk / gsi2sk)             | problems (gsi3, sparse)     | due (gsi4, sparse)                         |
 * |---------------------|-----------------|----------------|---------------------------------|--------------------------------------|-----------------------------|--------------------------------------------|
 * | scan                | SCAN#<scanId>   | META           | –                               | SCANS / <requestedAt>#<scanId>       | –                           | while RUNNING: DUE / <collectAfter>#gather#<commandId>; summary pending: DUE / <completedAt>#gather#<scanId> |
 * | node record         | SCAN#<scanId>   | NODE#<nodeId>  | NODE#<nodeId> / <at>#<scanId>   | –                                    | non-OK: SCAN#<scanId> / <rank> | –                                       |
 * | remediation         | SCAN#<scanId>   | REM#<nodeId>   | REM#<nodeId> / <requestedAt>#<scanId> | REMEDIATIONS / <requestedAt>#<remediationId> | –                  | unsent: DUE / <sendingUntil>#gather#<scanId>; outcome pending: DUE / <completedAt>#remediate#<commandId> |
 * | remediate command   | CMD#<commandId> | META           | –                               | –                                    | –                           | while RUNNING: DUE / <collectAfter>#remediate#<commandId> |
 * | node state          | NODE#<nodeId>   | STATE          | –                               | –                                    | –                           | –                                          |
 *
 * - A scan's id is its gather command's id, so a completion event finds its scan without a lookup; a remediate
 *   command's id finds its scan and nodes through its `CMD#` item.
 * - `<rank>` sorts a scan's problems CRITICAL, ERROR, WARN, then worst unusable index first (see problemRank).
 * - `due` holds only work left to do: a scan or command still RUNNING, a remediation written but not yet sent (due
 *   when its sender's lease ends), a notification still in its outbox. Each entry names what to collect —
 *   `<when>#<kind>#<command id>` — and the write that finishes the work REMOVEs gsi4pk/gsi4sk, so the sweep's
 *   Query reads nothing else. Several entries may name one command (a scan and its unsent remediations): the
 *   store hands each command out once.
 * - Node records, remediations, scans and remediate commands carry `ttl` (epoch seconds, retentionDays after
 *   they were requested); node states do not expire.
 * - Node records use short attribute names (see lib/runtime/items.ts) to stay under 1 KB (one write unit).
 * - Attributes only the store's conditional writes use: `slotNodes` (scan: the string set of nodes holding one of
 *   its remediation slots, beside the `remediations` counter) and `notifyingUntil` (scan, remediation: the
 *   outbox lease of a publisher).
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const TTL_ATTRIBUTE = 'ttl';

export const INDEXES = {
  byNode: { name: 'byNode', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byTime: { name: 'byTime', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  problems: { name: 'problems', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  due: { name: 'due', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
} as const;

export type IndexName = keyof typeof INDEXES;

export const META = 'META';
export const STATE = 'STATE';
export const SCANS_PARTITION = 'SCANS';
export const REMEDIATIONS_PARTITION = 'REMEDIATIONS';
export const DUE_PARTITION = 'DUE';

export const keys = {
  scan: (scanId: string) => ({ pk: `SCAN#${scanId}`, sk: META }),
  nodeRecord: (scanId: string, nodeId: string) => ({ pk: `SCAN#${scanId}`, sk: `NODE#${nodeId}` }),
  remediation: (scanId: string, nodeId: string) => ({ pk: `SCAN#${scanId}`, sk: `REM#${nodeId}` }),
  command: (commandId: string) => ({ pk: `CMD#${commandId}`, sk: META }),
  nodeState: (nodeId: string) => ({ pk: `NODE#${nodeId}`, sk: STATE }),
} as const;

const STATUS_RANK = { CRITICAL: 1, ERROR: 2, WARN: 3 } as const;

/** The problems index's sort key: CRITICAL, then ERROR, then WARN; within one, the worst unusable index first. */
export function problemRank(status: 'CRITICAL' | 'ERROR' | 'WARN', worstUnusableIndex: number | null, nodeId: string) {
  // 1000 − index sorts the worst first; nodes without an index (ERROR) sort after every indexed one.
  const inverted = worstUnusableIndex === null ? 1001 : 1000 - Math.max(0, Math.min(1000, worstUnusableIndex));
  return `${STATUS_RANK[status]}#${String(inverted).padStart(4, '0')}#${nodeId}`;
}

/** A `due` index sort key: when it is due, what kind of command to collect, and which. */
export function dueKey(at: string, kind: 'gather' | 'remediate', commandId: string): string {
  return `${at}#${kind}#${commandId}`;
}

/** Reads a `due` sort key back; null when it is not one (ISO times and command ids contain no '#'). */
export function parseDueKey(
  key: string,
): { readonly at: string; readonly kind: 'gather' | 'remediate'; readonly commandId: string } | null {
  const match = /^([^#]+)#(gather|remediate)#(.+)$/.exec(key);
  if (match === null) return null;
  const [, at = '', kind, commandId = ''] = match;
  return { at, kind: kind === 'remediate' ? 'remediate' : 'gather', commandId };
}
