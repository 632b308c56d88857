/**
 * The history table's layout, shared by the CDK table (lib/infra/history-table.ts) and the stores in this folder,
 * so the keys the code queries are the keys the template creates. Every key attribute is a String. Every GSI
 * projects its keys and `ttl` only (INDEX_PROJECTION) and readers fetch the items by key: an update that moves no
 * index key then costs no index write — a shard's checkpoint after every page, a scan's or a remediation's progress.
 * docs/storage.md explains the layout and its costs.
 *
 * | item            | pk                       | sk                      | indexes                                                    |
 * |-----------------|--------------------------|-------------------------|------------------------------------------------------------|
 * | scan            | SCAN#<scanId>            | META                    | byTime SCANS/<at>#<scanId>; due while work is left         |
 * | shard           | SCAN#<scanId>            | SHARD#<nnnn>            | due while PLANNED or RUNNING                               |
 * | gather command  | CMD#<commandId>          | META                    | –                                                          |
 * | remediate cmd   | CMD#<commandId>          | META                    | due while RUNNING                                          |
 * | journal page    | JRNL#<scanId>#<shard>    | P#<page>                | – (TTL: JOURNAL_DAYS)                                      |
 * | problem list    | PROB#<scanId>            | C#<last rank>           | –                                                          |
 * | node history    | HIST#<bits>#<bucket>     | <at>#<scanId>           | –                                                          |
 * | history layout  | LAYOUT                   | HIST                    | –                                                          |
 * | last digest     | DIGEST                   | LAST                    | –                                                          |
 * | host name       | HOST#<host>              | NODE#<nodeId>           | –                                                          |
 * | node state      | NODE#<nodeId>            | STATE                   | –                                                          |
 * | remediation     | SCAN#<scanId>            | REM#<nodeId>            | byNode REM#<nodeId>/<at>#<scanId>; byTime REMEDIATIONS/…; due |
 *
 * - A listing page's records are written once, packed and compressed, to the scan's journal (one partition per
 *   shard, so no partition takes a whole scan). Once the scan is finished its journal is sealed into the node
 *   history — each node belongs to bucket hash(nodeId) mod 2^bits, and each bucket gets one item per scan holding
 *   its nodes' records, so one node's history is one partition, read by time range — and into the scan's problem
 *   list: its non-OK records in rank order (CRITICAL, ERROR, WARN, worst index first), a chunk per item. An open
 *   scan's problems are read from its journal.
 * - `due` holds only work left to do; each entry is `<when>#<kind>#<id>` (kind gather: a shard's command;
 *   remediate: a remediate command; scan: the scan's own work) and the write that finishes the work removes it.
 * - Scans, shards, commands, problem lists, node history and remediations carry `ttl` (epoch seconds,
 *   retentionDays after the scan); journal pages expire after JOURNAL_DAYS; node states and host names do not.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const TTL_ATTRIBUTE = 'ttl';

export const INDEXES = {
  byNode: { name: 'byNode', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byTime: { name: 'byTime', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  due: { name: 'due', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
} as const;

export type IndexName = keyof typeof INDEXES;

/** The non-key attributes every index projects: `ttl`, so that expired items are filtered out at the index. */
export const INDEX_PROJECTION: readonly string[] = [TTL_ATTRIBUTE];

export const META = 'META';
export const STATE = 'STATE';
export const SCANS_PARTITION = 'SCANS';
export const REMEDIATIONS_PARTITION = 'REMEDIATIONS';
export const DUE_PARTITION = 'DUE';
/** How long a scan's journal is kept after the scan: long enough to seal it after any outage the sweep survives. */
export const JOURNAL_DAYS = 3;

const pad = (value: number, width: number) => String(value).padStart(width, '0');

export const keys = {
  scan: (scanId: string) => ({ pk: `SCAN#${scanId}`, sk: META }),
  shard: (scanId: string, shard: number) => ({ pk: `SCAN#${scanId}`, sk: `SHARD#${pad(shard, 4)}` }),
  command: (commandId: string) => ({ pk: `CMD#${commandId}`, sk: META }),
  journalPartition: (scanId: string, shard: number) => `JRNL#${scanId}#${shard}`,
  journal: (scanId: string, shard: number, page: number) => ({
    pk: `JRNL#${scanId}#${shard}`,
    sk: `P#${pad(page, 6)}`,
  }),
  problemPartition: (scanId: string) => `PROB#${scanId}`,
  /** A sealed problem-list item's sort key: the rank of its last record. */
  problemChunk: (lastRank: string) => `C#${lastRank}`,
  historyPartition: (bits: number, bucket: number) => `HIST#${bits}#${bucket}`,
  history: (bits: number, bucket: number, at: string, scanId: string) => ({
    pk: `HIST#${bits}#${bucket}`,
    sk: `${at}#${scanId}`,
  }),
  layout: () => ({ pk: 'LAYOUT', sk: 'HIST' }),
  digest: () => ({ pk: 'DIGEST', sk: 'LAST' }),
  hostPartition: (host: string) => `HOST#${host}`,
  host: (host: string, nodeId: string) => ({ pk: `HOST#${host}`, sk: `NODE#${nodeId}` }),
  remediation: (scanId: string, nodeId: string) => ({ pk: `SCAN#${scanId}`, sk: `REM#${nodeId}` }),
  nodeState: (nodeId: string) => ({ pk: `NODE#${nodeId}`, sk: STATE }),
} as const;

const STATUS_RANK = { CRITICAL: 1, ERROR: 2, WARN: 3 } as const;

/** A problem record's sort key: CRITICAL, then ERROR, then WARN; within one, the worst unusable index first. */
export function problemRank(status: 'CRITICAL' | 'ERROR' | 'WARN', worstUnusableIndex: number | null, nodeId: string) {
  // 1000 − index sorts the worst first; nodes without an index (ERROR) sort after every indexed one.
  const inverted = worstUnusableIndex === null ? 1001 : 1000 - Math.max(0, Math.min(1000, worstUnusableIndex));
  return `${STATUS_RANK[status]}#${pad(inverted, 4)}#${nodeId}`;
}

/** The rank prefix of CRITICAL records: candidates are read by it. */
export const CRITICAL_RANK_PREFIX = `${STATUS_RANK.CRITICAL}#`;

export type DueKind = 'gather' | 'remediate' | 'scan';

/** A `due` index sort key: when it is due, what kind of work, and its id. */
export function dueKey(at: string, kind: DueKind, id: string): string {
  return `${at}#${kind}#${id}`;
}

/** Reads a `due` sort key back; null when it is not one (ISO times and ids contain no '#'). */
export function parseDueKey(key: string): { readonly at: string; readonly kind: DueKind; readonly id: string } | null {
  const match = /^([^#]+)#(gather|remediate|scan)#(.+)$/.exec(key);
  if (match === null) return null;
  const [, at = '', kind = 'scan', id = ''] = match;
  return { at, kind: kind as DueKind, id };
}

/** The `due` index attributes for an entry, or none. */
export function dueAttributes(key: string | null): Record<string, string> {
  return key === null ? {} : { [INDEXES.due.partitionKey]: DUE_PARTITION, [INDEXES.due.sortKey]: key };
}

/** FNV-1a, 32 bits: a node's history bucket must not depend on anything but its id. */
export function nodeHash(nodeId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < nodeId.length; index += 1) {
    hash ^= nodeId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function bucketOf(nodeId: string, bits: number): number {
  return bits === 0 ? 0 : nodeHash(nodeId) & ((1 << bits) - 1);
}
