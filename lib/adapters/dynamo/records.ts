/**
 * NodeRecordStore over DynamoDB: the scan's journal (one packed item per listing page, first writer wins), and, once
 * the scan is sealed, the node history (one packed item per bucket of nodes per scan) and the scan's problem list
 * (its non-OK records in rank order, packed a chunk at a time). While a scan is open its problems are read from its
 * journal. Layout and costs: schema.ts, docs/storage.md.
 */
import { sanitizeText } from '../../core/sanitize.ts';
import type {
  Deadline,
  NodeFilter,
  NodeRecord,
  NodeRecordStore,
  Page,
  PageRef,
  PageRequest,
  PutPageOptions,
  ScanRecord,
  SealProgress,
  StoredCandidate,
  StoredRecord,
} from '../../runtime/ports.ts';
import {
  fromRow,
  packRows,
  RecordCodecError,
  type Row,
  rowNode,
  toRow,
  unpackRows,
  withoutCandidacy,
} from './packed.ts';
import { bucketOf, CRITICAL_RANK_PREFIX, JOURNAL_DAYS, keys, problemRank, TTL_ATTRIBUTE } from './schema.ts';
import {
  BATCH_WRITE_SIZE,
  chunks,
  type DynamoTable,
  decodeCursor,
  encodeCursor,
  type Item,
  MAX_PAGE,
} from './table.ts';

/** A row larger than this (JSON bytes) is trimmed: one node's record must not crowd out a page. */
const MAX_ROW_BYTES = 8 * 1024;
/** Zone lines and indices a stored record keeps at most (MAX_RECORD_ZONES/INDICES in evaluation.ts cut them first). */
const MAX_ZONES = 64;
const MAX_INDICES = 64;
/** DynamoDB's item limit is 400 KB; a packed page stays well below it. */
const MAX_PACKED_BYTES = 350 * 1024;
/** Nodes per history bucket the layout aims at, and the band it tolerates before it changes the layout. */
const TARGET_PER_BUCKET = 32;
const MIN_PER_BUCKET = 8;
const MAX_PER_BUCKET = 128;
const MAX_BITS = 20;
/** History items cached per store instance (previous-record lookups hit each bucket many times per scan). */
const CACHE_ITEMS = 20_000;
/**
 * Of those, the items kept unpacked (rows by node id, many times an item's packed size). A small fleet's pages hit the
 * same few buckets again and again; a large one's invocation touches each bucket about once, and holding every
 * bucket unpacked was most of a 50,000-node collector's memory.
 */
const UNPACKED_ITEMS = 512;
const ERROR_TEXT = 200;
/** Records a journal item holds at most: one SSM listing page. */
const JOURNAL_PAGE_RECORDS = 50;
/** Rows one sealing pass holds in memory at most (about 100 MB of them), whatever the scan's size. */
export const MAX_SEAL_ROWS = 100_000;
/** Problem records a sealed problem-list item holds (a few KB: the CLI reads the first ones). */
const PROBLEMS_PER_CHUNK = 32;
/** Open scans whose problems a store instance keeps, read from their journals (a finishing scan reads them thrice). */
const OPEN_PROBLEM_SCANS = 4;

export interface DynamoRecordsOptions {
  /** The watched orders the collector judges (so stored counts give the indices back). @default [4, 6] */
  readonly orders?: readonly number[];
  /** Rows a sealing pass holds in memory at most. @default MAX_SEAL_ROWS */
  readonly sealRowsPerPass?: number;
}

/** That node's ERROR record, saying why its own record could not be stored. */
export function unstorableRecord(record: NodeRecord, reason: string): NodeRecord {
  return {
    scanId: record.scanId,
    nodeId: record.nodeId.slice(0, 128),
    at: record.at,
    status: 'ERROR',
    cause: null,
    findings: [],
    invocationState: record.invocationState,
    error: sanitizeText(`record could not be stored: ${reason}`, ERROR_TEXT),
    host: null,
    kernel: null,
    pageSize: null,
    memTotalKb: null,
    memAvailableKb: null,
    allocFailures: null,
    counters: null,
    bootId: null,
    uptimeSeconds: null,
    zones: [],
    indices: [],
    worstUnusableIndex: null,
    worstFragmentationIndex: null,
    consecutiveBreaches: record.consecutiveBreaches,
  };
}

/**
 * A record whose row would be too large is cut, in one pass: zone lines beyond what fits (the indices are then
 * kept explicitly), findings beyond the first eight, indices beyond the first (worst) MAX_INDICES. Linear in the
 * record's size. What cannot be cut (an id or text too long, a number beyond 2^53) raises RecordCodecError.
 */
function bounded(stored: StoredRecord, orders: readonly number[]): { row: unknown[]; kept: StoredRecord } {
  const { record } = stored;
  const size = (values: readonly string[]) => values.reduce((sum, value) => sum + value.length + 3, 0);
  if (record.zones.length <= MAX_ZONES && size(record.zones) <= MAX_ROW_BYTES / 2 && record.findings.length <= 16) {
    const row = toRow(stored, orders);
    if (JSON.stringify(row).length <= MAX_ROW_BYTES) return { row: row as unknown[], kept: stored };
  }
  const zones: string[] = [];
  let used = 0;
  for (const zone of record.zones) {
    used += zone.length + 3;
    if (used > MAX_ROW_BYTES / 2 || zones.length >= MAX_ZONES) break;
    zones.push(zone);
  }
  const trimmed: StoredRecord = {
    ...stored,
    record: { ...record, zones, indices: record.indices.slice(0, MAX_INDICES), findings: record.findings.slice(0, 8) },
  };
  const row = toRow(trimmed, orders);
  if (JSON.stringify(row).length > MAX_ROW_BYTES) throw new RecordCodecError('record is too large to store');
  return { row: row as unknown[], kept: trimmed };
}

/** A journal row, the watched orders it was packed for, its node and whether it is OK (read from the row itself). */
interface JournalRow {
  readonly row: Row;
  readonly orders: readonly number[];
  readonly nodeId: string;
  readonly ok: boolean;
}

/** A non-OK record and its rank (schema.ts problemRank): CRITICAL, ERROR, WARN, the worst index first. */
interface Ranked {
  readonly rank: string;
  readonly stored: StoredRecord;
}

function rankProblems(records: readonly StoredRecord[]): Ranked[] {
  const ranked: Ranked[] = [];
  for (const stored of records) {
    const { status, worstUnusableIndex, nodeId } = stored.record;
    if (status === 'OK') continue;
    ranked.push({ rank: problemRank(status, worstUnusableIndex, nodeId), stored });
  }
  return ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
}

interface Layout {
  /** Layout epochs, oldest first: from a scan time on, records went to buckets of `bits`. */
  readonly epochs: readonly { readonly from: string; readonly bits: number }[];
  readonly version: number;
}

export class DynamoNodeRecordStore implements NodeRecordStore {
  private readonly orders: readonly number[];
  private readonly sealRowsPerPass: number;
  private readonly cache = new Map<string, Item | null>();
  /** The rows by node id of the last UNPACKED_ITEMS items decoded, least recently used first. */
  private readonly unpacked = new Map<Item, { orders: number[]; rows: Map<string, readonly unknown[]> }>();
  /** Open scans' problems, ranked, as read from their journals (the last few scans asked about). */
  private readonly openProblems = new Map<string, Ranked[]>();

  constructor(
    private readonly table: DynamoTable,
    options: DynamoRecordsOptions = {},
  ) {
    this.orders = options.orders ?? [4, 6];
    this.sealRowsPerPass = options.sealRowsPerPass ?? MAX_SEAL_ROWS;
  }

  /* ---- packing, with the guarantee that one node cannot fail the rest ---- */

  /** Rows for records, each record that cannot be packed replaced by its ERROR record. */
  private rows(records: readonly StoredRecord[]): { rows: unknown[][]; stored: StoredRecord[] } {
    const rows: unknown[][] = [];
    const stored: StoredRecord[] = [];
    for (const entry of records) {
      try {
        const { row, kept } = bounded(entry, this.orders);
        rows.push(row);
        stored.push(kept);
      } catch (error) {
        if (!(error instanceof RecordCodecError)) throw error;
        const replacement: StoredRecord = { record: unstorableRecord(entry.record, error.message) };
        rows.push(toRow(replacement, this.orders) as unknown[]);
        stored.push(replacement);
      }
    }
    return { rows, stored };
  }

  private decode(item: Item, scan: { scanId: string; at: string }): StoredRecord[] {
    const bytes = item.r;
    if (!(bytes instanceof Uint8Array)) return [];
    const { orders, rows } = unpackRows(bytes);
    return rows.map((row) => fromRow(row, scan, orders));
  }

  /**
   * The records of these nodes an item holds, the others not decoded (a bucket holds ~32 nodes, a page reads one or
   * two of them). The items used last stay unpacked: a small fleet's previous-record lookups hit each bucket many
   * times per scan.
   */
  private decodeOnly(item: Item, scan: { scanId: string; at: string }, only: ReadonlySet<string>): StoredRecord[] {
    let byNode = this.unpacked.get(item);
    if (byNode === undefined) {
      const bytes = item.r;
      const { orders, rows } = bytes instanceof Uint8Array ? unpackRows(bytes) : { orders: [], rows: [] };
      byNode = { orders, rows: new Map(rows.map((row) => [String(row[0]), row])) };
      if (this.unpacked.size >= UNPACKED_ITEMS) this.unpacked.delete(this.unpacked.keys().next().value as Item);
    } else {
      this.unpacked.delete(item); // used last: kept longest
    }
    this.unpacked.set(item, byNode);
    const out: StoredRecord[] = [];
    for (const nodeId of only) {
      const row = byNode.rows.get(nodeId);
      if (row !== undefined) out.push(fromRow(row, scan, byNode.orders));
    }
    return out;
  }

  /* ---- the journal ---- */

  async putPage(ref: PageRef, records: readonly StoredRecord[], options: PutPageOptions = {}): Promise<StoredRecord[]> {
    const scan = { scanId: ref.scanId, at: ref.at };
    let { rows, stored } = this.rows(records.map((entry) => ({ ...entry, record: { ...entry.record, ...scan } })));
    let bytes = packRows(rows, this.orders);
    if (bytes.byteLength > MAX_PACKED_BYTES) {
      // Cannot happen with bounded rows; if it does, the page is kept as ERROR records rather than lost.
      ({ rows, stored } = this.rows(
        stored.map(({ record }) => ({ record: unstorableRecord(record, 'page too large') })),
      ));
      bytes = packRows(rows, this.orders);
    }
    const key = keys.journal(ref.scanId, ref.shard, ref.page);
    const written = await this.table.conditional({
      Item: { ...key, [TTL_ATTRIBUTE]: this.table.ttl(ref.at, JOURNAL_DAYS), n: stored.length, r: bytes },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    if (!written) {
      // An earlier attempt stored this page and stopped before its checkpoint: what it stored stands.
      const existing = await this.table.get(key);
      if (existing !== undefined) stored = this.decode(existing, scan);
    }
    if (options.newHosts !== undefined && options.newHosts.length > 0) {
      await this.table.batchPut(
        options.newHosts.map(({ nodeId, host }) => ({ ...keys.host(host, nodeId), nodeId, host, at: ref.at })),
      );
    }
    return stored;
  }

  async shardNodeIds(scanId: string, shard: number): Promise<Set<string>> {
    const ids = new Set<string>();
    const items = await this.table.all(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.journalPartition(scanId, shard) },
      },
      (item) => item,
    );
    for (const item of items) {
      const bytes = item.r;
      if (!(bytes instanceof Uint8Array)) continue;
      for (const row of unpackRows(bytes).rows) if (typeof row[0] === 'string') ids.add(row[0]);
    }
    return ids;
  }

  /* ---- problem records ---- */

  /**
   * Every row of every page of every shard's journal, each node once (a page an earlier attempt stored is the one
   * kept), with the watched orders it was packed for: rows, not records, so that sealing copies them as they are.
   */
  private async journalRows(
    scan: { scanId: string },
    shards: number,
    keep: (entry: JournalRow) => boolean = () => true,
  ): Promise<JournalRow[]> {
    const out: JournalRow[] = [];
    const seen = new Set<string>();
    for (let shard = 0; shard < shards; shard += 1) {
      // Strongly consistent: the scan's last page may have been written a moment ago, by this very invocation.
      let cursor: string | undefined;
      do {
        const page: Page<Item> = await this.table.page(
          {
            ConsistentRead: true,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': keys.journalPartition(scan.scanId, shard) },
          },
          cursor === undefined ? { limit: MAX_PAGE } : { limit: MAX_PAGE, cursor },
          (item) => item,
        );
        // One page of items at a time: only the rows `keep` wants stay in memory.
        for (const item of page.items) {
          const bytes = item.r;
          if (!(bytes instanceof Uint8Array)) continue;
          const { orders, rows } = unpackRows(bytes);
          for (const row of rows) {
            const node = rowNode(row);
            if (node === null) continue;
            const entry = { row, orders, nodeId: node.nodeId, ok: node.ok };
            // Only the rows kept are remembered: a sealing pass's memory is its own rows', not the fleet's ids.
            if (!keep(entry) || seen.has(node.nodeId)) continue;
            seen.add(node.nodeId);
            out.push(entry);
          }
        }
        cursor = page.next;
      } while (cursor !== undefined);
    }
    return out;
  }

  /** The non-OK records of journal rows, decoded, in rank order. */
  private journalProblems(rows: readonly JournalRow[], scan: { scanId: string; at: string }): Ranked[] {
    return rankProblems(rows.filter((entry) => !entry.ok).map((entry) => fromRow(entry.row, scan, entry.orders)));
  }

  /** An open scan's problems in rank order, from its journal (kept for the next few questions about it). */
  private async problemsOfOpenScan(scan: { scanId: string; at: string }, shards: number): Promise<Ranked[]> {
    const cached = this.openProblems.get(scan.scanId);
    if (cached !== undefined) return cached;
    const ranked = this.journalProblems(await this.journalRows(scan, shards), scan);
    if (this.openProblems.size >= OPEN_PROBLEM_SCANS) {
      this.openProblems.delete(this.openProblems.keys().next().value as string);
    }
    this.openProblems.set(scan.scanId, ranked);
    return ranked;
  }

  /**
   * Problems ranked after `after` (a rank; '' for the first), at most `limit` of them, with `prefix` keeping one rank
   * band (CRITICAL: candidates). A sealed scan's come from its problem list, chunk by chunk; an open scan's from its
   * journal. The cursor is the last rank handed out.
   */
  private async rankedProblems(
    scan: { scanId: string; at: string; sealed: boolean },
    shards: number,
    request: PageRequest,
    prefix = '',
  ): Promise<{ items: Ranked[]; next?: string }> {
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(request.limit)));
    const after = request.cursor === undefined ? '' : String(decodeCursor(request.cursor).k ?? '');
    const wanted = (entry: Ranked) => entry.rank > after && entry.rank.startsWith(prefix);
    const items: Ranked[] = [];
    let more = false;
    if (!scan.sealed) {
      const all = (await this.problemsOfOpenScan(scan, shards)).filter(wanted);
      items.push(...all.slice(0, limit));
      more = all.length > limit;
    } else {
      // Chunks are keyed by their last rank: the first whose last rank follows `after` holds what comes next.
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await this.table.queryOnce(
          {
            KeyConditionExpression: 'pk = :pk AND sk > :after',
            ExpressionAttributeValues: {
              ':pk': keys.problemPartition(scan.scanId),
              ':after': keys.problemChunk(after),
            },
          },
          undefined,
          startKey,
        );
        for (const item of result.Items ?? []) {
          for (const entry of rankProblems(this.decode(item, scan))) {
            if (!wanted(entry)) continue;
            if (items.length === limit) {
              more = true;
              break;
            }
            items.push(entry);
          }
          if (more) break;
        }
        startKey = result.LastEvaluatedKey;
      } while (!more && startKey !== undefined);
    }
    const last = items.at(-1);
    return more && last !== undefined ? { items, next: encodeCursor({ k: last.rank }) } : { items };
  }

  async listProblemNodes(scanId: string, request: PageRequest, shards = 1): Promise<Page<NodeRecord>> {
    const scan = await this.scanRef(scanId);
    const page = await this.rankedProblems(scan, shards, request);
    const items = page.items.map((entry) => entry.stored.record);
    return page.next === undefined ? { items } : { items, next: page.next };
  }

  /** What reading a scan's problems needs of the scan item: its time (records read back carry it), sealed or not. */
  private async scanRef(scanId: string): Promise<{ scanId: string; at: string; sealed: boolean }> {
    const item = await this.table.get(keys.scan(scanId), false);
    return {
      scanId,
      at: typeof item?.requestedAt === 'string' ? item.requestedAt : '',
      sealed: item?.sealed === true,
    };
  }

  async candidates(scanId: string, shards: number, limit: number): Promise<StoredCandidate[]> {
    const scan = await this.scanRef(scanId);
    const out: StoredCandidate[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.rankedProblems(
        scan,
        shards,
        cursor === undefined ? { limit: MAX_PAGE } : { limit: MAX_PAGE, cursor },
        CRITICAL_RANK_PREFIX,
      );
      for (const { stored } of page.items) {
        if (stored.candidacy === undefined) continue;
        out.push({
          nodeId: stored.record.nodeId,
          worstUnusableIndex: stored.record.worstUnusableIndex,
          action: stored.candidacy.action,
          numaNode: stored.candidacy.numaNode,
        });
        if (out.length >= limit) return out;
      }
      cursor = page.next;
    } while (cursor !== undefined);
    return out;
  }

  /* ---- the node history ---- */

  private async layout(): Promise<Layout> {
    const item = await this.table.get(keys.layout());
    const epochs = Array.isArray(item?.epochs)
      ? item.epochs.flatMap((entry: unknown) => {
          const value = entry as { from?: unknown; bits?: unknown };
          return typeof value.from === 'string' && typeof value.bits === 'number'
            ? [{ from: value.from, bits: value.bits }]
            : [];
        })
      : [];
    return { epochs, version: typeof item?.version === 'number' ? item.version : 0 };
  }

  /** The bucket bits for a scan of `nodes` nodes: the current layout's while it fits, else a new epoch from `at`. */
  private async bitsFor(scan: ScanRecord): Promise<number> {
    const nodes = Math.max(1, scan.nodes ?? 1);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const layout = await this.layout();
      const current = layout.epochs.at(-1);
      if (current !== undefined) {
        const perBucket = nodes / 2 ** current.bits;
        const fits = (perBucket >= MIN_PER_BUCKET || current.bits === 0) && perBucket <= MAX_PER_BUCKET;
        if (fits || current.from > scan.requestedAt) return current.bits;
      }
      const bits = Math.min(MAX_BITS, Math.max(0, Math.ceil(Math.log2(nodes / TARGET_PER_BUCKET))));
      if (current !== undefined && current.bits === bits) return bits;
      const epochs = [...layout.epochs, { from: scan.requestedAt, bits }];
      const written = await this.table.conditional({
        Item: { ...keys.layout(), epochs, version: layout.version + 1 },
        ConditionExpression: layout.version === 0 ? 'attribute_not_exists(pk)' : 'version = :version',
        ...(layout.version === 0 ? {} : { ExpressionAttributeValues: { ':version': layout.version } }),
      });
      if (written) return bits;
    }
    throw new Error('history layout is being changed concurrently; try again');
  }

  /**
   * The scan's problem list: its non-OK records in rank order (candidacy kept), PROBLEMS_PER_CHUNK to an item keyed by
   * its last rank, so that a page of problems is one Query from wherever the last one stopped. Written once, by the
   * first sealing pass (a retry writes the same items again).
   */
  private async putProblemList(scan: ScanRecord, journal: readonly JournalRow[]): Promise<void> {
    const ranked = this.journalProblems(journal, { scanId: scan.scanId, at: scan.requestedAt });
    await this.table.batchPut(
      chunks(ranked, PROBLEMS_PER_CHUNK).map((chunk) => ({
        pk: keys.problemPartition(scan.scanId),
        sk: keys.problemChunk(chunk.at(-1)?.rank ?? ''),
        [TTL_ATTRIBUTE]: this.table.ttl(scan.requestedAt),
        n: chunk.length,
        r: packRows(
          chunk.map((entry) => toRow(entry.stored, this.orders) as unknown[]),
          this.orders,
        ),
      })),
    );
  }

  async seal(
    scan: ScanRecord,
    from: SealProgress | null,
    deadline: Deadline,
  ): Promise<{ readonly done: boolean; readonly progress: SealProgress }> {
    const bits = from?.bits ?? (await this.bitsFor(scan));
    const buckets = 2 ** bits;
    const ref = { scanId: scan.scanId, at: scan.requestedAt };
    const shards = scan.shards ?? 1;
    // A pass holds the rows of a range of buckets, about sealRowsPerPass of them: a scan of any size is sealed in
    // bounded memory, re-reading its journal once a pass (one pass up to MAX_SEAL_ROWS nodes).
    const span = Math.max(1, Math.floor(this.sealRowsPerPass / Math.max(1, (scan.nodes ?? 1) / buckets)));
    const sameOrders = (orders: readonly number[]) =>
      orders.length === this.orders.length && orders.every((order, index) => order === this.orders[index]);
    let next = from?.next ?? 0;
    let first = from === null;
    while (next < buckets) {
      if (deadline() <= 0) return { done: false, progress: { bits, next } };
      const start = next;
      const end = Math.min(buckets, start + span);
      const inPass = (nodeId: string) => {
        const bucket = bucketOf(nodeId, bits);
        return bucket >= start && bucket < end;
      };
      // The first pass also keeps every non-OK row: the problem list is written once, before any bucket.
      const journal = await this.journalRows(ref, shards, (entry) => inPass(entry.nodeId) || (first && !entry.ok));
      if (first) await this.putProblemList(scan, journal);
      first = false;
      // Rows move into their buckets as they are (without candidacy), unless packed for other watched orders.
      const byBucket = new Map<number, { nodeId: string; row: Row }[]>();
      for (const entry of journal) {
        if (!inPass(entry.nodeId)) continue;
        const row = sameOrders(entry.orders)
          ? withoutCandidacy(entry.row)
          : this.rows([{ record: fromRow(entry.row, ref, entry.orders).record }]).rows[0];
        if (row === undefined) continue;
        const bucket = bucketOf(entry.nodeId, bits);
        const list = byBucket.get(bucket) ?? [];
        list.push({ nodeId: entry.nodeId, row });
        byBucket.set(bucket, list);
      }
      const ordered = [...byBucket.keys()].sort((a, b) => a - b);
      for (const batch of chunks(ordered, BATCH_WRITE_SIZE)) {
        if (deadline() <= 0) return { done: false, progress: { bits, next: batch[0] ?? end } };
        await this.table.batchPut(
          batch.map((bucket) => {
            const rows = (byBucket.get(bucket) ?? []).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
            return {
              ...keys.history(bits, bucket, scan.requestedAt, scan.scanId),
              [TTL_ATTRIBUTE]: this.table.ttl(scan.requestedAt),
              n: rows.length,
              r: packRows(
                rows.map((entry) => entry.row),
                this.orders,
              ),
            };
          }),
        );
      }
      next = end;
    }
    return { done: true, progress: { bits, next: buckets } };
  }

  private async fetchHistory(
    wanted: readonly { id: string; key: { pk: string; sk: string } }[],
  ): Promise<Map<string, Item | null>> {
    const found = new Map<string, Item | null>();
    const missing = wanted.filter(({ id }) => {
      if (!this.cache.has(id)) return true;
      found.set(id, this.cache.get(id) ?? null);
      return false;
    });
    if (missing.length > 0) {
      const items = await this.table.batchGet(
        missing.map(({ key }) => key),
        false,
      );
      const byId = new Map(items.map((item) => [`${String(item.pk)}|${String(item.sk)}`, item]));
      for (const { id } of missing) {
        const item = byId.get(id) ?? null;
        found.set(id, item);
        if (this.cache.size >= CACHE_ITEMS) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(id, item);
      }
    }
    return found;
  }

  async previousRecords(sealed: ScanRecord, nodeIds: readonly string[]): Promise<Map<string, NodeRecord>> {
    const out = new Map<string, NodeRecord>();
    const bits = sealed.seal?.bits;
    if (sealed.sealed !== true || bits === undefined) return out;
    const wanted = new Map<string, { id: string; key: { pk: string; sk: string } }>();
    for (const nodeId of nodeIds) {
      const key = keys.history(bits, bucketOf(nodeId, bits), sealed.requestedAt, sealed.scanId);
      const id = `${key.pk}|${key.sk}`;
      wanted.set(id, { id, key });
    }
    const items = await this.fetchHistory([...wanted.values()]);
    const want = new Set(nodeIds);
    for (const item of items.values()) {
      if (item === null) continue;
      for (const { record } of this.decodeOnly(item, { scanId: sealed.scanId, at: sealed.requestedAt }, want)) {
        out.set(record.nodeId, record);
      }
    }
    return out;
  }

  async listScanNodes(scan: ScanRecord, request: PageRequest & NodeFilter): Promise<Page<NodeRecord>> {
    const keep = (record: NodeRecord) =>
      (request.status === undefined || request.status.includes(record.status)) &&
      (request.cause === undefined || request.cause.includes(record.cause));
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(request.limit)));
    const ref = { scanId: scan.scanId, at: scan.requestedAt };
    const shards = scan.shards ?? 1;
    if (request.status !== undefined && !request.status.includes('OK')) {
      // Only problems asked for: the problem list (or an open scan's journal), not the whole history.
      const out: NodeRecord[] = [];
      let cursor = request.cursor;
      const problems = { ...ref, sealed: scan.sealed === true };
      do {
        const page = await this.rankedProblems(problems, shards, cursor === undefined ? { limit } : { limit, cursor });
        out.push(...page.items.map((entry) => entry.stored.record).filter(keep));
        cursor = page.next;
        if (out.length >= limit && cursor !== undefined) return { items: out, next: cursor };
      } while (cursor !== undefined);
      return { items: out };
    }
    return scan.sealed === true && scan.seal !== undefined
      ? this.sealedNodes(scan, scan.seal.bits, limit, request.cursor, keep)
      : this.journalNodes(scan, shards, limit, request.cursor, keep);
  }

  /** A sealed scan's nodes, bucket by bucket (node id order within a bucket); the cursor is {b, i}. */
  private async sealedNodes(
    scan: ScanRecord,
    bits: number,
    limit: number,
    cursor: string | undefined,
    keep: (record: NodeRecord) => boolean,
  ): Promise<Page<NodeRecord>> {
    const position = cursor === undefined ? { b: 0, i: 0 } : decodeCursor(cursor);
    let bucket = Number(position.b);
    let skip = Number(position.i ?? 0);
    const buckets = 2 ** bits;
    const out: NodeRecord[] = [];
    while (bucket < buckets) {
      const span = Array.from({ length: Math.min(100, buckets - bucket) }, (_, index) => bucket + index);
      const wanted = span.map((b) => {
        const key = keys.history(bits, b, scan.requestedAt, scan.scanId);
        return { id: `${key.pk}|${key.sk}`, key };
      });
      const items = await this.fetchHistory(wanted);
      for (const [index, b] of span.entries()) {
        const item = items.get(wanted[index]?.id ?? '') ?? null;
        const records =
          item === null ? [] : this.decode(item, { scanId: scan.scanId, at: scan.requestedAt }).map((s) => s.record);
        for (let i = b === bucket ? skip : 0; i < records.length; i += 1) {
          const record = records[i] as NodeRecord;
          if (!keep(record)) continue;
          if (out.length === limit) return { items: out, next: encodeCursor({ b, i }) };
          out.push(record);
        }
      }
      bucket += span.length;
      skip = 0;
    }
    return { items: out };
  }

  /**
   * An unsealed scan's nodes, shard by shard and page by page; the cursor is {s, p, i}. Journal items are read a few
   * at a time (each holds a listing page, up to 50 records), so a page of nodes reads about what it returns.
   */
  private async journalNodes(
    scan: ScanRecord,
    shards: number,
    limit: number,
    cursor: string | undefined,
    keep: (record: NodeRecord) => boolean,
  ): Promise<Page<NodeRecord>> {
    const position = cursor === undefined ? { s: 0, p: '', i: 0 } : decodeCursor(cursor);
    const ref = { scanId: scan.scanId, at: scan.requestedAt };
    const out: NodeRecord[] = [];
    for (let shard = Number(position.s); shard < shards; shard += 1) {
      const from = shard === Number(position.s) ? String(position.p ?? '') : '';
      const input = {
        KeyConditionExpression: from === '' ? 'pk = :pk' : 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: {
          ':pk': keys.journalPartition(scan.scanId, shard),
          ...(from === '' ? {} : { ':from': from }),
        },
      };
      let next: string | undefined;
      do {
        const wanted = Math.ceil((limit - out.length) / JOURNAL_PAGE_RECORDS) + 1;
        const page: Page<Item> = await this.table.page(
          input,
          next === undefined ? { limit: wanted } : { limit: wanted, cursor: next },
          (item) => item,
        );
        for (const item of page.items) {
          const sk = String(item.sk);
          const records = this.decode(item, ref).map((stored) => stored.record);
          const skip = sk === from ? Number(position.i ?? 0) : 0;
          for (let i = skip; i < records.length; i += 1) {
            const record = records[i] as NodeRecord;
            if (!keep(record)) continue;
            if (out.length === limit) return { items: out, next: encodeCursor({ s: shard, p: sk, i }) };
            out.push(record);
          }
        }
        next = page.next;
      } while (next !== undefined);
    }
    return { items: out };
  }

  async nodeHistory(nodeId: string, options: PageRequest & { readonly since?: string }): Promise<Page<NodeRecord>> {
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(options.limit)));
    const { epochs } = await this.layout();
    const position = options.cursor === undefined ? null : decodeCursor(options.cursor);
    const out: NodeRecord[] = [];
    let lastSk = '';
    // Newest epoch first; within one, newest item first.
    for (let e = epochs.length - 1; e >= 0; e -= 1) {
      if (position !== null && e > Number(position.e)) continue;
      const epoch = epochs[e] as Layout['epochs'][number];
      const until = epochs[e + 1]?.from;
      const lower = options.since !== undefined && options.since > epoch.from ? options.since : epoch.from;
      if (until !== undefined && lower >= until) continue;
      const partition = keys.historyPartition(epoch.bits, bucketOf(nodeId, epoch.bits));
      let upper = until === undefined ? '~' : until;
      const resumeAt = position !== null && e === Number(position.e) ? String(position.k) : null;
      if (resumeAt !== null && resumeAt < upper) upper = resumeAt;
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await this.table.queryOnce(
          {
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
            ExpressionAttributeValues: { ':pk': partition, ':lower': lower, ':upper': upper },
            ScanIndexForward: false,
          },
          Math.min(MAX_PAGE, limit - out.length + 1),
          startKey,
        );
        for (const item of result.Items ?? []) {
          const sk = String(item.sk);
          if (sk === upper) continue;
          const split = sk.indexOf('#');
          const [found] = this.decodeOnly(
            item,
            { at: sk.slice(0, split), scanId: sk.slice(split + 1) },
            new Set([nodeId]),
          );
          if (found === undefined) continue;
          if (out.length === limit) return { items: out, next: encodeCursor({ e, k: lastSk }) };
          out.push(found.record);
          lastSk = sk;
        }
        startKey = result.LastEvaluatedKey;
      } while (startKey !== undefined);
    }
    return { items: out };
  }

  async resolveNode(name: string): Promise<string[]> {
    if (/^m?i-[0-9a-f]{8,32}$/.test(name)) return [name];
    const items = await this.table.all(
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.hostPartition(name) } },
      (item) => (typeof item.nodeId === 'string' ? item.nodeId : null),
    );
    return [...new Set(items)].sort();
  }
}
