/**
 * A metering proxy in front of a DynamoDB endpoint (dynalite in the bench): every request the SDK sends — retries
 * included, as AWS would bill and throttle them — is counted by operation, and what it writes and reads is sized
 * from the wire by DynamoDB's billing rules, so the bench's write units, read units, item sizes and rewritten
 * records are measured on what really crossed the wire, not taken from the code that sent it.
 *
 * Billing rules applied (DynamoDB developer guide, "read/write capacity unit consumption"):
 * - A write costs one unit per started KB of the larger of the item before and after it (PutItem, UpdateItem;
 *   the proxy reads the item from the upstream before and after, unmetered). A write refused by its condition
 *   still costs the units of the item as it stands (at least one). BatchWriteItem puts are taken as new items.
 * - Each global secondary index the item is in costs its own write, sized by the index entry (the table's keys, the
 *   index's keys and the projected attributes: schema.ts INDEX_PROJECTION): one for an entry added or removed, two
 *   when the index key changed (delete and put), one when a projected attribute changed, none when the entry stays
 *   the same — an update that moves no index key and no projected attribute costs the table's write only.
 * - A read costs one unit per started 4 KB (strongly consistent) or half of that (eventually consistent): per item
 *   for GetItem and BatchGetItem (a missing item costs the minimum), over the items returned for a Query.
 */
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { INDEX_PROJECTION } from '../../lib/adapters/dynamo/schema.ts';

type AttributeValue = Record<string, unknown>;
export type WireItem = Record<string, AttributeValue>;

/** Binary values as the wire has them (base64) or as the SDK hands them back (bytes). */
function binaryLength(value: unknown): number {
  return value instanceof Uint8Array ? value.length : Buffer.from(String(value), 'base64').length;
}

/** Per DynamoDB's item-size rules: names and values in UTF-8 bytes, numbers ~1 byte per 2 significant digits + 1. */
export function wireValueSize(value: AttributeValue): number {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner), 'utf8');
    case 'N':
      return numberSize(String(inner));
    case 'B':
      return binaryLength(inner);
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((sum, s) => sum + Buffer.byteLength(s, 'utf8'), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, n) => sum + numberSize(n), 0);
    case 'BS':
      return (inner as unknown[]).reduce<number>((sum, b) => sum + binaryLength(b), 0);
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, entry) => sum + 1 + wireValueSize(entry), 0);
    case 'M':
      return (
        3 +
        Object.entries(inner as WireItem).reduce(
          (sum, [name, entry]) => sum + 1 + Buffer.byteLength(name, 'utf8') + wireValueSize(entry),
          0,
        )
      );
    default:
      return 0;
  }
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

export function wireItemSize(item: WireItem): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + wireValueSize(value),
    0,
  );
}

/** The global secondary indexes an item is in: those whose key attributes (`gsiNpk`, `gsiNsk`) it carries. */
export function indexesOf(item: WireItem | undefined): string[] {
  if (item === undefined) return [];
  return Object.keys(item)
    .flatMap((name) => /^(gsi[0-9]+)pk$/.exec(name)?.[1] ?? [])
    .filter((index) => `${index}sk` in item);
}

const KB = 1024;
const units = (bytes: number, per: number) => Math.max(1, Math.ceil(bytes / per));

/** What an index holds of an item: the table's keys, the index's keys and the projected attributes. */
export function indexEntry(item: WireItem, index: string): WireItem {
  const names = ['pk', 'sk', `${index}pk`, `${index}sk`, ...INDEX_PROJECTION];
  return Object.fromEntries(names.flatMap((name) => (item[name] === undefined ? [] : [[name, item[name]]])));
}

/** Write units for an item going from `before` to `after` (undefined: absent), in the table and in its indexes. */
export function writeCost(
  before: WireItem | undefined,
  after: WireItem | undefined,
): { readonly table: number; readonly index: number } {
  const sizeBefore = before === undefined ? 0 : wireItemSize(before);
  const sizeAfter = after === undefined ? 0 : wireItemSize(after);
  let index = 0;
  for (const name of new Set([...indexesOf(before), ...indexesOf(after)])) {
    const old = before !== undefined && indexesOf(before).includes(name) ? indexEntry(before, name) : undefined;
    const now = after !== undefined && indexesOf(after).includes(name) ? indexEntry(after, name) : undefined;
    if (old !== undefined && now === undefined) index += units(wireItemSize(old), KB);
    else if (old === undefined && now !== undefined) index += units(wireItemSize(now), KB);
    else if (old !== undefined && now !== undefined) {
      const key = (entry: WireItem) => JSON.stringify([entry[`${name}pk`], entry[`${name}sk`]]);
      if (key(old) !== key(now)) index += units(wireItemSize(old), KB) + units(wireItemSize(now), KB);
      else if (canonical(old) !== canonical(now)) index += units(wireItemSize(now), KB);
    }
  }
  return { table: units(Math.max(sizeBefore, sizeAfter), KB), index };
}

/** Read units for items of `bytes` (a Query: all its items together), strongly or eventually consistent. */
export function readUnits(bytes: number, consistent: boolean): number {
  return units(bytes, 4 * KB) * (consistent ? 1 : 0.5);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What an item is, by its key (lib/adapters/dynamo/schema.ts): journal pages, problem records, node history, host
 * names, the history layout, gather/remediate commands and the digest by their partition; scans, shards,
 * remediations and node states by their sort key.
 */
export function kindOf(key: { readonly pk?: unknown; readonly sk?: unknown }): string {
  const pk = typeof key.pk === 'string' ? (key.pk.split('#')[0] ?? '') : '';
  if (['JRNL', 'PROB', 'HIST', 'HOST', 'LAYOUT', 'CMD', 'DIGEST'].includes(pk)) return pk;
  const sk = typeof key.sk === 'string' ? (key.sk.split('#')[0] ?? '') : '';
  if (sk === 'META') return pk === 'SCAN' ? 'SCAN' : pk;
  return ['SHARD', 'REM', 'STATE'].includes(sk) ? sk : pk === '' ? 'unknown' : pk;
}

function keyOfWire(item: WireItem): { pk?: unknown; sk?: unknown } {
  return { pk: item.pk?.S, sk: item.sk?.S };
}

/** Kinds whose items hold packed node records (lib/adapters/dynamo/packed.ts): a deflated JSON of rows. */
const PACKED_KINDS = new Set(['JRNL', 'PROB', 'HIST']);

/**
 * The node ids a packed item holds, and the scan they are of; null when it is not one. Read independently of the
 * store's codec: deflate-raw of `{"v":1,"o":[…],"r":[[nodeId, …], …]}` in the `r` attribute.
 */
export function packedRecords(item: WireItem): { readonly scanId: string; readonly nodeIds: string[] } | null {
  const key = keyOfWire(item);
  const kind = kindOf(key);
  if (!PACKED_KINDS.has(kind) || item.r?.B === undefined) return null;
  const pk = String(key.pk);
  const scanId = kind === 'HIST' ? (String(key.sk).split('#')[1] ?? '') : (pk.split('#')[1] ?? '');
  try {
    const bytes = item.r.B instanceof Uint8Array ? item.r.B : Buffer.from(String(item.r.B), 'base64');
    const parsed = JSON.parse(inflateRawSync(bytes).toString('utf8')) as { r?: unknown };
    const rows = Array.isArray(parsed.r) ? parsed.r : [];
    return { scanId, nodeIds: rows.map((row) => String(Array.isArray(row) ? row[0] : '')) };
  } catch {
    return null;
  }
}

export interface WriteStats {
  /** Writes that landed (items put, updates made). */
  writes: number;
  /** Writes refused by their condition (billed all the same). */
  refused: number;
  /** Write units in the table, and in the indexes the items are in. */
  tableUnits: number;
  indexUnits: number;
  /** Bytes of the items as written (after the write), and the largest. */
  bytes: number;
  maxBytes: number;
  /** Puts made with PutItem (one item per call) rather than BatchWriteItem. */
  single: number;
}

export interface ReadStats {
  requests: number;
  items: number;
  units: number;
}

export interface MeterSnapshot {
  readonly apiCalls: Record<string, number>;
  /** Requests answered with an error, by error type (refused conditions included). */
  readonly errors: Record<string, number>;
  /** By item kind (kindOf). */
  readonly writes: Record<string, WriteStats>;
  /** By `<operation> <kind>` (a Query by its index, or its partition's kind). */
  readonly reads: Record<string, ReadStats>;
  /** Node records written, by packed kind (JRNL, PROB, HIST): one per node per item that holds it. */
  readonly recordsWritten: Record<string, number>;
  /** Node records written again for the same scan, in the same kind of item, since the meter started. */
  readonly recordsRewritten: Record<string, number>;
}

const NO_WRITES = (): WriteStats => ({
  writes: 0,
  refused: 0,
  tableUnits: 0,
  indexUnits: 0,
  bytes: 0,
  maxBytes: 0,
  single: 0,
});

type Json = Record<string, unknown>;

export class DynamoMeter {
  private server: Server | undefined;
  private port = 0;
  private readonly target: URL;
  private apiCalls: Record<string, number> = {};
  private errors: Record<string, number> = {};
  private writes: Record<string, WriteStats> = {};
  private reads: Record<string, ReadStats> = {};
  private recordsWritten: Record<string, number> = {};
  private recordsRewritten: Record<string, number> = {};
  /** Every node record ever written, as `kind|scanId|nodeId`: kept across reset() so a later rewrite is seen. */
  private readonly seen = new Set<string>();

  private constructor(target: string) {
    this.target = new URL(target);
  }

  static async start(target: string): Promise<DynamoMeter> {
    const meter = new DynamoMeter(target);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        meter.handle(req.headers, req.method ?? 'POST', req.url ?? '/', Buffer.concat(chunks)).then(
          ({ status, headers, body }) => {
            res.writeHead(status, headers);
            res.end(body);
          },
          (error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))),
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    meter.server = server;
    meter.port = (server.address() as AddressInfo).port;
    return meter;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  snapshot(): MeterSnapshot {
    return structuredClone({
      apiCalls: this.apiCalls,
      errors: this.errors,
      writes: this.writes,
      reads: this.reads,
      recordsWritten: this.recordsWritten,
      recordsRewritten: this.recordsRewritten,
    });
  }

  /** Starts counting afresh (the records already written stay known, so rewriting one later still counts). */
  reset(): void {
    this.apiCalls = {};
    this.errors = {};
    this.writes = {};
    this.reads = {};
    this.recordsWritten = {};
    this.recordsRewritten = {};
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  /* ---- the proxy ---- */

  private send(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = request(
        { host: this.target.hostname, port: this.target.port, method, path, headers },
        (reply) => {
          const chunks: Buffer[] = [];
          reply.on('data', (chunk: Buffer) => chunks.push(chunk));
          reply.on('end', () =>
            resolve({ status: reply.statusCode ?? 500, headers: reply.headers, body: Buffer.concat(chunks) }),
          );
          reply.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  /** The item as the upstream has it now, for sizing (not counted: the code under test did not ask for it). */
  private async current(headers: IncomingHttpHeaders, table: unknown, key: unknown): Promise<WireItem | undefined> {
    const body = Buffer.from(JSON.stringify({ TableName: table, Key: key, ConsistentRead: true }));
    const reply = await this.send(
      'POST',
      '/',
      {
        host: headers.host,
        authorization: headers.authorization,
        'x-amz-date': headers['x-amz-date'],
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(body.length),
      },
      body,
    );
    if (reply.status !== 200) return undefined;
    return (JSON.parse(reply.body.toString('utf8')) as { Item?: WireItem }).Item;
  }

  private async handle(
    headers: IncomingHttpHeaders,
    method: string,
    path: string,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const operation = String(headers['x-amz-target'] ?? '').split('.')[1] ?? '(none)';
    this.apiCalls[operation] = (this.apiCalls[operation] ?? 0) + 1;
    let parsed: Json = {};
    try {
      parsed = JSON.parse(body.toString('utf8') || '{}') as Json;
    } catch {
      // forwarded as it came: the upstream answers it
    }
    const single = operation === 'PutItem' || operation === 'UpdateItem';
    const key = operation === 'PutItem' ? keyAttributes(parsed.Item as WireItem | undefined) : parsed.Key;
    const before = single && key !== undefined ? await this.current(headers, parsed.TableName, key) : undefined;
    const reply = await this.send(method, path, headers, body);
    let answer: Json = {};
    try {
      answer = JSON.parse(reply.body.toString('utf8') || '{}') as Json;
    } catch {
      // not JSON: nothing to size
    }
    if (reply.status >= 400) {
      const type =
        String(answer.__type ?? `HTTP${reply.status}`)
          .split('#')
          .pop() ?? `HTTP${reply.status}`;
      this.errors[type] = (this.errors[type] ?? 0) + 1;
      if (type === 'ConditionalCheckFailedException' && single && key !== undefined) {
        this.refused(kindOf(keyOfWireKey(key)), before);
      }
      return reply;
    }
    switch (operation) {
      case 'PutItem':
        this.wrote(parsed.Item as WireItem, before, 'PutItem');
        break;
      case 'UpdateItem': {
        const after = await this.current(headers, parsed.TableName, key);
        if (after !== undefined) this.wrote(after, before, 'UpdateItem');
        break;
      }
      case 'BatchWriteItem':
        this.batchWrote(parsed, answer);
        break;
      case 'GetItem':
        this.read(
          `GetItem ${kindOf(keyOfWireKey(parsed.Key))}`,
          answer.Item === undefined ? [] : [answer.Item as WireItem],
          1,
          parsed.ConsistentRead === true,
          'each',
        );
        break;
      case 'BatchGetItem':
        this.batchRead(parsed, answer);
        break;
      case 'Query': {
        const values = (parsed.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
        const label =
          typeof parsed.IndexName === 'string' ? parsed.IndexName : kindOf({ pk: values[':pk']?.S ?? '', sk: '' });
        this.read(`Query ${label}`, (answer.Items ?? []) as WireItem[], 0, parsed.ConsistentRead === true, 'together');
        break;
      }
      default:
    }
    return reply;
  }

  /* ---- accounting ---- */

  private stats(kind: string): WriteStats {
    this.writes[kind] ??= NO_WRITES();
    return this.writes[kind];
  }

  private refused(kind: string, before: WireItem | undefined): void {
    const stats = this.stats(kind);
    stats.refused += 1;
    stats.tableUnits += units(before === undefined ? 0 : wireItemSize(before), KB);
  }

  private wrote(after: WireItem, before: WireItem | undefined, how: 'PutItem' | 'UpdateItem' | 'BatchWriteItem'): void {
    const kind = kindOf(keyOfWire(after));
    const stats = this.stats(kind);
    const cost = writeCost(before, after);
    const size = wireItemSize(after);
    stats.writes += 1;
    stats.tableUnits += cost.table;
    stats.indexUnits += cost.index;
    stats.bytes += size;
    stats.maxBytes = Math.max(stats.maxBytes, size);
    if (how === 'PutItem') stats.single += 1;
    if (how !== 'UpdateItem') this.records(after);
  }

  private batchWrote(request: Json, answer: Json): void {
    const unprocessed = new Set<string>();
    for (const entries of Object.values((answer.UnprocessedItems ?? {}) as Record<string, Json[]>)) {
      for (const entry of entries) {
        const item = (entry.PutRequest as { Item?: WireItem } | undefined)?.Item;
        if (item !== undefined) unprocessed.add(canonical(keyAttributes(item)));
      }
    }
    for (const entries of Object.values((request.RequestItems ?? {}) as Record<string, Json[]>)) {
      for (const entry of entries) {
        const item = (entry.PutRequest as { Item?: WireItem } | undefined)?.Item;
        if (item === undefined || unprocessed.has(canonical(keyAttributes(item)))) continue;
        this.wrote(item, undefined, 'BatchWriteItem');
      }
    }
  }

  private records(item: WireItem): void {
    const packed = packedRecords(item);
    if (packed === null) return;
    const kind = kindOf(keyOfWire(item));
    for (const nodeId of packed.nodeIds) {
      this.recordsWritten[kind] = (this.recordsWritten[kind] ?? 0) + 1;
      const id = `${kind}|${packed.scanId}|${nodeId}`;
      if (this.seen.has(id)) this.recordsRewritten[kind] = (this.recordsRewritten[kind] ?? 0) + 1;
      else this.seen.add(id);
    }
  }

  private read(
    label: string,
    items: readonly WireItem[],
    missing: number,
    consistent: boolean,
    billed: 'each' | 'together',
  ): void {
    this.reads[label] ??= { requests: 0, items: 0, units: 0 };
    const stats = this.reads[label];
    stats.requests += 1;
    stats.items += items.length;
    if (billed === 'together') {
      stats.units += readUnits(
        items.reduce((sum, item) => sum + wireItemSize(item), 0),
        consistent,
      );
    } else {
      for (const item of items) stats.units += readUnits(wireItemSize(item), consistent);
      stats.units += Math.max(0, missing - items.length) * readUnits(0, consistent);
    }
  }

  private batchRead(request: Json, answer: Json): void {
    const responses = (answer.Responses ?? {}) as Record<string, WireItem[]>;
    const unprocessed = (answer.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown[] }>;
    for (const [table, asked] of Object.entries(
      (request.RequestItems ?? {}) as Record<string, { Keys?: WireItem[]; ConsistentRead?: boolean }>,
    )) {
      const keys = asked.Keys ?? [];
      const returned = responses[table] ?? [];
      const pending = unprocessed[table]?.Keys?.length ?? 0;
      // Labelled by the kind of the keys asked for (a batch asks for one kind at a time).
      const label = `BatchGetItem ${kindOf(keyOfWireKey(keys[0]))}`;
      this.read(label, returned, keys.length - pending, asked.ConsistentRead === true, 'each');
    }
  }
}

function keyAttributes(item: WireItem | undefined): WireItem | undefined {
  if (item === undefined) return undefined;
  return { pk: item.pk ?? { S: '' }, sk: item.sk ?? { S: '' } };
}

function keyOfWireKey(key: unknown): { pk?: unknown; sk?: unknown } {
  return typeof key === 'object' && key !== null ? keyOfWire(key as WireItem) : {};
}

/* ---- what a table holds ---- */

/** DynamoDB's per-item storage overhead, in the table and again in each index the item is in. */
export const ITEM_OVERHEAD_BYTES = 100;

export interface StoredKind {
  items: number;
  /** Item bytes plus overhead, in the table (what point-in-time recovery is billed on). */
  tableBytes: number;
  /** The same again for each index the items are in. */
  indexBytes: number;
}

/** Lifetimes a stored item can have: until its TTL a few days out (the journal), or the retention, or for good. */
export type Lifetime = 'short' | 'retained' | 'standing';

/**
 * A table's items by kind and lifetime: `standing` items carry no TTL (node states, host names, the layout),
 * `short` ones expire within `shortDays` of `nowSeconds` (journal pages), the rest are `retained`.
 */
export function storedByKind(
  items: Iterable<WireItem>,
  nowSeconds: number,
  shortDays = 10,
): Record<Lifetime, Record<string, StoredKind>> {
  const out: Record<Lifetime, Record<string, StoredKind>> = { short: {}, retained: {}, standing: {} };
  for (const item of items) {
    const ttl = item.ttl?.N === undefined ? null : Number(item.ttl.N);
    const lifetime: Lifetime =
      ttl === null ? 'standing' : ttl - nowSeconds <= shortDays * 86_400 ? 'short' : 'retained';
    const kind = kindOf(keyOfWire(item));
    out[lifetime][kind] ??= { items: 0, tableBytes: 0, indexBytes: 0 };
    const stored = out[lifetime][kind];
    stored.items += 1;
    stored.tableBytes += wireItemSize(item) + ITEM_OVERHEAD_BYTES;
    for (const index of indexesOf(item))
      stored.indexBytes += wireItemSize(indexEntry(item, index)) + ITEM_OVERHEAD_BYTES;
  }
  return out;
}
