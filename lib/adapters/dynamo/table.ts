/**
 * What every aggregate store shares: the document client, the table, the clock that decides what has expired, and
 * the few ways fleetscan talks to DynamoDB — a conditional write that answers true/false instead of throwing, paged
 * Queries that hide expired items, batches that retry what DynamoDB left unprocessed, opaque page cursors.
 * Works the same against dynalite (local mode, tests): no transactions, no PartiQL.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Clock, Page, PageRequest, Sleep } from '../../runtime/ports.ts';
import { backoffDelay, realSleep } from '../retry.ts';
import { TTL_ATTRIBUTE } from './schema.ts';

export type Item = Record<string, unknown>;
export type Key = { readonly pk: string; readonly sk: string };
export type QueryInput = Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>;

export interface DynamoTableOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** History kept, in days: sets each item's TTL. */
  readonly retentionDays: number;
  /** Decides which items count as expired on read. @default the system clock */
  readonly clock?: Clock;
  /** @default a real timer */
  readonly sleep?: Sleep;
  /** Attempts for a batch whose items or keys keep coming back unprocessed. @default 10 */
  readonly batchAttempts?: number;
  /** Jitter source. @default Math.random */
  readonly random?: () => number;
}

/** A batch still had unprocessed items or keys after every attempt. */
export class UnprocessedItemsError extends Error {
  override readonly name = 'UnprocessedItemsError';
  constructor(
    readonly operation: 'BatchWriteItem' | 'BatchGetItem',
    readonly remaining: number,
    readonly attempts: number,
  ) {
    super(`${operation}: ${remaining} item(s) still unprocessed after ${attempts} attempts`);
  }
}

/** A page cursor that is not one this store handed out. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const BATCH_WRITE_SIZE = 25;
const BATCH_GET_SIZE = 100;
export const MAX_PAGE = 1000;

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Reads a cursor back: a non-empty object of string or number values (DynamoDB keys are). */
export function decodeCursor(cursor: string): Record<string, string | number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidCursorError('page cursor is not valid', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidCursorError('page cursor is not valid');
  }
  const entries = Object.entries(parsed);
  if (entries.length === 0 || entries.some(([, value]) => typeof value !== 'string' && typeof value !== 'number')) {
    throw new InvalidCursorError('page cursor is not valid');
  }
  return Object.fromEntries(entries) as Record<string, string | number>;
}

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** Epoch seconds `days` after an ISO-8601 time: DynamoDB TTL's unit. */
export function ttlAfter(iso: string, days: number): number {
  return Math.floor(Date.parse(iso) / 1000) + Math.round(days * 86_400);
}

export class DynamoTable {
  readonly client: DynamoDBDocumentClient;
  readonly name: string;
  readonly retentionDays: number;
  readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly batchAttempts: number;
  private readonly random: () => number;

  constructor(options: DynamoTableOptions) {
    this.client = options.client;
    this.name = options.tableName;
    this.retentionDays = options.retentionDays;
    this.clock = options.clock ?? { now: () => new Date() };
    this.sleep = options.sleep ?? realSleep;
    this.batchAttempts = options.batchAttempts ?? 10;
    this.random = options.random ?? Math.random;
  }

  nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** The TTL of an item requested at `at`: the retention, or `days` when given. */
  ttl(at: string, days: number = this.retentionDays): number {
    return ttlAfter(at, days);
  }

  /** Expired items linger up to two days after their TTL: never show them. */
  live(item: Item | undefined): Item | undefined {
    if (item === undefined) return undefined;
    const ttl = item[TTL_ATTRIBUTE];
    return typeof ttl === 'number' && ttl <= this.nowSeconds() ? undefined : item;
  }

  async get(key: Key, consistent = true): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.name, Key: key, ConsistentRead: consistent }),
    );
    return this.live(result.Item);
  }

  /**
   * A conditional write: true when it was made, false when its condition refused it. The one place a
   * ConditionalCheckFailedException becomes an answer rather than an error.
   */
  async conditional(
    write: Omit<PutCommandInput, 'TableName'> | Omit<UpdateCommandInput, 'TableName'>,
  ): Promise<boolean> {
    try {
      if ('Item' in write) await this.client.send(new PutCommand({ ...write, TableName: this.name }));
      else await this.client.send(new UpdateCommand({ ...(write as UpdateCommandInput), TableName: this.name }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** An update that returns the attributes it asks for (ALL_NEW, UPDATED_OLD…), or null when its condition refused it. */
  async update(write: Omit<UpdateCommandInput, 'TableName'>): Promise<Item | null> {
    try {
      const result = await this.client.send(new UpdateCommand({ ...write, TableName: this.name }));
      return result.Attributes ?? {};
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  /**
   * One page of a Query, expired items filtered out. Keeps querying while a filtered page came back short and
   * DynamoDB has more, so a caller sees a full page unless the results are exhausted.
   */
  async page<T>(input: QueryInput, request: PageRequest, decode: (item: Item) => T | null): Promise<Page<T>> {
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(request.limit)));
    let startKey: Record<string, unknown> | undefined =
      request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    const items: T[] = [];
    do {
      const result = await this.queryOnce(input, limit - items.length, startKey, request.cursor !== undefined);
      for (const item of result.Items ?? []) {
        const decoded = decode(item);
        if (decoded !== null) items.push(decoded);
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined && items.length < limit);
    return startKey === undefined ? { items } : { items, next: encodeCursor(startKey) };
  }

  /**
   * One page of a Query on an index, the items fetched by key (the indexes project their keys only): in the index's
   * order, expired ones and ones gone since left out. Eventually consistent, as index reads are.
   */
  async indexPage<T>(input: QueryInput, request: PageRequest, decode: (item: Item) => T | null): Promise<Page<T>> {
    const page = await this.page(input, request, (entry) => ({ pk: entry.pk, sk: entry.sk }) as Key);
    const items = await this.batchGet(page.items, false);
    const byKey = new Map(items.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item]));
    const out: T[] = [];
    for (const key of page.items) {
      const item = byKey.get(`${String(key.pk)}\u0000${String(key.sk)}`);
      const decoded = item === undefined ? null : decode(item);
      if (decoded !== null) out.push(decoded);
    }
    return page.next === undefined ? { items: out } : { items: out, next: page.next };
  }

  /** Every item a Query returns, page after page. */
  async all<T>(input: QueryInput, decode: (item: Item) => T | null): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const page: Page<T> = await this.page(
        input,
        cursor === undefined ? { limit: MAX_PAGE } : { limit: MAX_PAGE, cursor },
        decode,
      );
      out.push(...page.items);
      cursor = page.next;
    } while (cursor !== undefined);
    return out;
  }

  /** One raw Query call with the expiry filter; `Limit` counts items read before the filter. */
  async queryOnce(
    input: QueryInput,
    limit: number | undefined,
    startKey: Record<string, unknown> | undefined,
    fromCursor = false,
  ): Promise<QueryCommandOutput> {
    const names = { ...input.ExpressionAttributeNames, '#ttl': TTL_ATTRIBUTE };
    const values = { ...input.ExpressionAttributeValues, ':nowSeconds': this.nowSeconds() };
    const filter = '(attribute_not_exists(#ttl) OR #ttl > :nowSeconds)';
    try {
      return await this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.name,
          ...(limit === undefined ? {} : { Limit: limit }),
          ExclusiveStartKey: startKey,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          FilterExpression: input.FilterExpression === undefined ? filter : `(${input.FilterExpression}) AND ${filter}`,
        }),
      );
    } catch (error) {
      if (fromCursor && error instanceof Error && error.name === 'ValidationException') {
        throw new InvalidCursorError('page cursor does not belong to this query', { cause: error });
      }
      throw error;
    }
  }

  private backoff(attempt: number): Promise<void> {
    return this.sleep(backoffDelay(attempt - 1, { baseMs: 50, maxMs: 5_000, random: this.random }));
  }

  /**
   * Puts items, 25 per BatchWriteItem, retrying UnprocessedItems with backoff until all are stored. The same key
   * twice in one batch rejects the whole batch, so only the last version of each key is written.
   */
  async batchPut(items: readonly Item[]): Promise<void> {
    const unique = [...new Map(items.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item])).values()];
    for (const chunk of chunks(unique, BATCH_WRITE_SIZE)) {
      let requests = chunk.map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt >= this.batchAttempts) {
          throw new UnprocessedItemsError('BatchWriteItem', requests.length, this.batchAttempts);
        }
        if (attempt > 0) await this.backoff(attempt);
        const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.name]: requests } }));
        requests = (result.UnprocessedItems?.[this.name] ?? []).flatMap((request) =>
          request.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: request.PutRequest.Item } }],
        );
      }
    }
  }

  /** Gets items by key, 100 per BatchGetItem, retrying UnprocessedKeys; absent and expired items are left out. */
  async batchGet(keyList: readonly Key[], consistent = true): Promise<Item[]> {
    const out: Item[] = [];
    const unique = [...new Map(keyList.map((key) => [`${key.pk}\u0000${key.sk}`, key])).values()];
    for (const chunk of chunks(unique, BATCH_GET_SIZE)) {
      let pending: Record<string, unknown>[] = chunk.map((key) => ({ pk: key.pk, sk: key.sk }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= this.batchAttempts) {
          throw new UnprocessedItemsError('BatchGetItem', pending.length, this.batchAttempts);
        }
        if (attempt > 0) await this.backoff(attempt);
        const result = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.name]: { Keys: pending, ConsistentRead: consistent } } }),
        );
        for (const item of result.Responses?.[this.name] ?? []) {
          const live = this.live(item);
          if (live !== undefined) out.push(live);
        }
        pending = result.UnprocessedKeys?.[this.name]?.Keys ?? [];
      }
    }
    return out;
  }
}
