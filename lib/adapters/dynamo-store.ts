/**
 * HistoryStore over DynamoDB (lib-dynamodb's document client), with the layout of lib/runtime/table-schema.ts.
 * Works the same against dynalite (local mode, tests): no transactions, no PartiQL — conditional single-item
 * writes carry every guarantee the runtime needs.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  commandFromItem,
  commandItem,
  type Item,
  nodeRecordFromItem,
  nodeRecordItem,
  nodeStateFromItem,
  remediationFromItem,
  remediationItem,
  scanFromItem,
  scanItem,
} from '../runtime/items.ts';
import type {
  ClaimedFrom,
  Clock,
  DueCommand,
  HistoryStore,
  NodeClaim,
  NodeClaimResult,
  NodeFilter,
  NodeRecord,
  NodeState,
  OutboxTarget,
  OutcomeResult,
  Page,
  PageRequest,
  RemediationCommandRecord,
  RemediationOutcome,
  RemediationRecord,
  ScanCompletion,
  ScanRecord,
  Sleep,
  VerdictUpdate,
} from '../runtime/ports.ts';
import {
  DUE_PARTITION,
  dueKey,
  INDEXES,
  keys,
  parseDueKey,
  REMEDIATIONS_PARTITION,
  SCANS_PARTITION,
  TTL_ATTRIBUTE,
} from '../runtime/table-schema.ts';
import { backoffDelay, realSleep } from './retry.ts';

export interface DynamoStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** History kept, in days: sets each item's TTL. */
  readonly retentionDays: number;
  /** Decides which items count as expired on read. @default the system clock */
  readonly clock?: { now(): Date } | Clock;
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

const BATCH_WRITE_SIZE = 25;
const BATCH_GET_SIZE = 100;
const MAX_PAGE = 1000;

export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

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

/** A newest-first Query of one partition of an index whose sort keys start with an ISO time; `since` bounds it. */
function newestFirst(
  index: { readonly partitionKey: string; readonly sortKey: string },
  partition: string,
  since: string | undefined,
): Pick<
  QueryCommandInput,
  'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues' | 'ScanIndexForward'
> {
  return {
    KeyConditionExpression: since === undefined ? '#p = :p' : '#p = :p AND #s >= :since',
    ExpressionAttributeNames: { '#p': index.partitionKey, ...(since === undefined ? {} : { '#s': index.sortKey }) },
    ExpressionAttributeValues: { ':p': partition, ...(since === undefined ? {} : { ':since': since }) },
    ScanIndexForward: false,
  };
}

/** A FilterExpression keeping the records of the given statuses and causes (node record attributes `st`, `ca`). */
function nodeFilterExpression(
  filter: NodeFilter,
): Pick<QueryCommandInput, 'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (filter.status !== undefined) {
    names['#st'] = 'st';
    const placeholders = filter.status.map((status, i) => {
      values[`:st${i}`] = status;
      return `:st${i}`;
    });
    parts.push(`#st IN (${placeholders.join(', ')})`);
  }
  if (filter.cause !== undefined) {
    names['#ca'] = 'ca';
    const alternatives = filter.cause.map((cause, i) => {
      if (cause === null) return 'attribute_not_exists(#ca)';
      values[`:ca${i}`] = cause;
      return `#ca = :ca${i}`;
    });
    parts.push(alternatives.length === 1 ? (alternatives[0] as string) : `(${alternatives.join(' OR ')})`);
  }
  return parts.length === 0
    ? {}
    : { FilterExpression: parts.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

export class DynamoStore implements HistoryStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly retentionDays: number;
  private readonly clock: { now(): Date };
  private readonly sleep: Sleep;
  private readonly batchAttempts: number;
  private readonly random: () => number;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.retentionDays = options.retentionDays;
    this.clock = options.clock ?? { now: () => new Date() };
    this.sleep = options.sleep ?? realSleep;
    this.batchAttempts = options.batchAttempts ?? 10;
    this.random = options.random ?? Math.random;
  }

  /* ---- reading ---- */

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** Expired items linger up to two days after their TTL: never show them. */
  private live(item: Item | undefined): Item | undefined {
    if (item === undefined) return undefined;
    const ttl = item[TTL_ATTRIBUTE];
    return typeof ttl === 'number' && ttl <= this.nowSeconds() ? undefined : item;
  }

  private async get(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return this.live(result.Item);
  }

  /**
   * One page of a Query, expired items filtered out. Keeps querying while a filtered page came back short and
   * DynamoDB has more, so a caller sees a full page unless the results are exhausted.
   */
  private async page<T>(
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    request: PageRequest,
    decode: (item: Item) => T,
  ): Promise<Page<T>> {
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(request.limit)));
    let startKey: Record<string, unknown> | undefined =
      request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    const items: T[] = [];
    const names = { ...input.ExpressionAttributeNames, '#ttl': TTL_ATTRIBUTE };
    const values = { ...input.ExpressionAttributeValues, ':nowSeconds': this.nowSeconds() };
    const filter = `(attribute_not_exists(#ttl) OR #ttl > :nowSeconds)`;
    do {
      let result: QueryCommandOutput;
      try {
        result = await this.client.send(
          new QueryCommand({
            ...input,
            TableName: this.table,
            Limit: limit - items.length,
            ExclusiveStartKey: startKey,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            FilterExpression:
              input.FilterExpression === undefined ? filter : `(${input.FilterExpression}) AND ${filter}`,
          }),
        );
      } catch (error) {
        if (request.cursor !== undefined && error instanceof Error && error.name === 'ValidationException') {
          throw new InvalidCursorError('page cursor does not belong to this query', { cause: error });
        }
        throw error;
      }
      for (const item of result.Items ?? []) items.push(decode(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined && items.length < limit);
    return startKey === undefined ? { items } : { items, next: encodeCursor(startKey) };
  }

  private async all<T>(
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    decode: (item: Item) => T,
  ) {
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

  listScans(request: PageRequest & { readonly since?: string }): Promise<Page<ScanRecord>> {
    return this.page(
      { IndexName: INDEXES.byTime.name, ...newestFirst(INDEXES.byTime, SCANS_PARTITION, request.since) },
      request,
      scanFromItem,
    );
  }

  async getScan(scanId: string): Promise<ScanRecord | null> {
    const item = await this.get(keys.scan(scanId));
    return item === undefined ? null : scanFromItem(item);
  }

  listScanNodes(scanId: string, request: PageRequest & NodeFilter): Promise<Page<NodeRecord>> {
    const filter = nodeFilterExpression(request);
    return this.page(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ...filter,
        ExpressionAttributeValues: {
          ':pk': keys.scan(scanId).pk,
          ':prefix': 'NODE#',
          ...filter.ExpressionAttributeValues,
        },
      },
      request,
      nodeRecordFromItem,
    );
  }

  listProblemNodes(scanId: string, request: PageRequest): Promise<Page<NodeRecord>> {
    return this.page(
      {
        IndexName: INDEXES.problems.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': INDEXES.problems.partitionKey },
        ExpressionAttributeValues: { ':p': keys.scan(scanId).pk },
      },
      request,
      nodeRecordFromItem,
    );
  }

  nodeHistory(nodeId: string, options: PageRequest & { readonly since?: string }): Promise<Page<NodeRecord>> {
    const since = options.since;
    return this.page(
      {
        IndexName: INDEXES.byNode.name,
        KeyConditionExpression: since === undefined ? '#p = :p' : '#p = :p AND #s >= :since',
        ExpressionAttributeNames: {
          '#p': INDEXES.byNode.partitionKey,
          ...(since === undefined ? {} : { '#s': INDEXES.byNode.sortKey }),
        },
        ExpressionAttributeValues: { ':p': `NODE#${nodeId}`, ...(since === undefined ? {} : { ':since': since }) },
        ScanIndexForward: false,
      },
      options,
      nodeRecordFromItem,
    );
  }

  listRemediations(
    options: PageRequest & { readonly nodeId?: string; readonly since?: string },
  ): Promise<Page<RemediationRecord>> {
    const index = options.nodeId === undefined ? INDEXES.byTime : INDEXES.byNode;
    const partition = options.nodeId === undefined ? REMEDIATIONS_PARTITION : `REM#${options.nodeId}`;
    return this.page(
      { IndexName: index.name, ...newestFirst(index, partition, options.since) },
      options,
      remediationFromItem,
    );
  }

  async resolveNode(name: string): Promise<string[]> {
    if (/^m?i-[0-9a-f]{8,32}$/.test(name)) return [name];
    // Host names as the newest scan recorded them (a node directory replaces this read with the storage layout).
    const [latest] = (await this.listScans({ limit: 1 })).items;
    if (latest === undefined) return [];
    const found = new Set<string>();
    let cursor: string | undefined;
    do {
      const page: Page<NodeRecord> = await this.listScanNodes(
        latest.scanId,
        cursor === undefined ? { limit: MAX_PAGE } : { limit: MAX_PAGE, cursor },
      );
      for (const record of page.items) if (record.host === name) found.add(record.nodeId);
      cursor = page.next;
    } while (cursor !== undefined);
    return [...found].sort();
  }

  async getNodeState(nodeId: string): Promise<NodeState | null> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.nodeState(nodeId), ConsistentRead: true }),
    );
    return result.Item === undefined ? null : nodeStateFromItem(result.Item);
  }

  /* ---- batches ---- */

  private async batchWrite(items: readonly Item[]): Promise<void> {
    // The same key twice in one batch rejects the whole batch: keep the last version of each.
    const unique = [...new Map(items.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item])).values()];
    for (const chunk of chunks(unique, BATCH_WRITE_SIZE)) {
      let requests = chunk.map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt >= this.batchAttempts) {
          throw new UnprocessedItemsError('BatchWriteItem', requests.length, this.batchAttempts);
        }
        if (attempt > 0) await this.sleep(backoffDelay(attempt - 1, { baseMs: 50, maxMs: 5_000, random: this.random }));
        const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
        requests = (result.UnprocessedItems?.[this.table] ?? []).flatMap((request) =>
          request.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: request.PutRequest.Item } }],
        );
      }
    }
  }

  private async batchGet(keyList: readonly { pk: string; sk: string }[]): Promise<Item[]> {
    const out: Item[] = [];
    for (const chunk of chunks(keyList, BATCH_GET_SIZE)) {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= this.batchAttempts)
          throw new UnprocessedItemsError('BatchGetItem', pending.length, this.batchAttempts);
        if (attempt > 0) await this.sleep(backoffDelay(attempt - 1, { baseMs: 50, maxMs: 5_000, random: this.random }));
        const result = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
        );
        out.push(...(result.Responses?.[this.table] ?? []));
        pending = result.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return out;
  }

  /* ---- scans ---- */

  async createScan(scan: ScanRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: scanItem(scan, this.retentionDays),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listDue(now: string, limit: number): Promise<DueCommand[]> {
    const out: DueCommand[] = [];
    const seen = new Set<string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEXES.due.name,
          KeyConditionExpression: '#p = :p AND #s <= :upper',
          ExpressionAttributeNames: { '#p': INDEXES.due.partitionKey, '#s': INDEXES.due.sortKey },
          // '~' sorts after '#gather#…' and '#remediate#…', so every entry due at `now` itself is included.
          ExpressionAttributeValues: { ':p': DUE_PARTITION, ':upper': `${now}#~` },
          Limit: limit - out.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) {
        const entry = parseDueKey(String(item[INDEXES.due.sortKey]));
        if (entry === null) continue;
        // A scan and its unsent remediations (or a command and its pending outcomes) are one piece of work.
        const id = `${entry.kind}#${entry.commandId}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ kind: entry.kind, commandId: entry.commandId, collectAfter: entry.at });
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined && out.length < limit);
    return out;
  }

  async completeScan(scanId: string, completion: ScanCompletion): Promise<boolean> {
    // A summary to send goes into the outbox with the completion itself, due at once for the sweep (markNotified
    // takes it off again); a scan with nothing to say leaves the due list.
    const notify = completion.notify === true;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.scan(scanId),
          UpdateExpression:
            'SET #status = :completed, completedAt = :at, #counts = :counts, nodes = :nodes, worstUnusableIndex = :worst' +
            (completion.notRemediated === undefined ? '' : ', notRemediated = :reasons') +
            (notify ? ', notification = :pending, #dp = :duePartition, #ds = :dueKey' : ' REMOVE #dp, #ds'),
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#counts': 'counts',
            '#dp': INDEXES.due.partitionKey,
            '#ds': INDEXES.due.sortKey,
          },
          ExpressionAttributeValues: {
            ':completed': 'COMPLETED',
            ':running': 'RUNNING',
            ':at': completion.completedAt,
            ':counts': { ...completion.counts },
            ':nodes': completion.nodes,
            ':worst': completion.worstUnusableIndex,
            ...(completion.notRemediated === undefined ? {} : { ':reasons': { ...completion.notRemediated } }),
            ...(notify
              ? {
                  ':pending': 'pending',
                  ':duePartition': DUE_PARTITION,
                  ':dueKey': dueKey(completion.completedAt, 'gather', scanId),
                }
              : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /* ---- node records and states ---- */

  async putNodeRecords(records: readonly NodeRecord[]): Promise<void> {
    await this.batchWrite(records.map((record) => nodeRecordItem(record, this.retentionDays)));
  }

  async getNodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>> {
    const items = await this.batchGet([...new Set(nodeIds)].map((nodeId) => keys.nodeState(nodeId)));
    return new Map(
      items.map((item) => {
        const state = nodeStateFromItem(item);
        return [state.nodeId, state];
      }),
    );
  }

  async recordVerdict(update: VerdictUpdate): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.nodeState(update.nodeId),
          UpdateExpression:
            'SET consecutiveBreaches = :cb, previousBreaches = :pb, lastScanId = :scan, lastScanAt = :at',
          // Once per scan, and never over a newer scan's verdict (a late sweep of an older scan).
          ConditionExpression: 'attribute_not_exists(lastScanId) OR (lastScanId <> :scan AND lastScanAt <= :at)',
          ExpressionAttributeValues: {
            ':cb': update.consecutiveBreaches,
            ':pb': update.previousBreaches,
            ':scan': update.scanId,
            ':at': update.at,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /* ---- remediation claims ---- */

  async claimNode(claim: NodeClaim): Promise<NodeClaimResult> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.nodeState(claim.nodeId),
          UpdateExpression:
            'SET lastRemediationAt = :at, lastRemediationId = :rid, lastRemediationScanId = :scan, cooldownUntil = :until',
          ConditionExpression:
            '(attribute_not_exists(lastRemediationScanId) OR lastRemediationScanId <> :scan)' +
            ' AND (attribute_not_exists(lastRemediationAt) OR lastRemediationAt < :cutoff)' +
            ' AND (attribute_not_exists(blocked) OR blocked <> :true)',
          ExpressionAttributeValues: {
            ':at': claim.at,
            ':rid': claim.remediationId,
            ':scan': claim.scanId,
            ':cutoff': claim.cooldownCutoff,
            ':until': claim.cooldownUntil,
            ':true': true,
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const old = result.Attributes ?? {};
      const text = (name: string) => (typeof old[name] === 'string' ? (old[name] as string) : null);
      return {
        claimed: true,
        previous: {
          lastRemediationAt: text('lastRemediationAt'),
          lastRemediationId: text('lastRemediationId'),
          lastRemediationScanId: text('lastRemediationScanId'),
          cooldownUntil: text('cooldownUntil'),
        },
      };
    } catch (error) {
      if (isConditionFailure(error)) return { claimed: false };
      throw error;
    }
  }

  async releaseNode(claim: NodeClaim, previous: ClaimedFrom): Promise<void> {
    const set: string[] = [];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':rid': claim.remediationId };
    for (const [name, value] of Object.entries(previous)) {
      if (value === null) remove.push(name);
      else {
        set.push(`${name} = :${name}`);
        values[`:${name}`] = value;
      }
    }
    const expression = [
      set.length > 0 ? `SET ${set.join(', ')}` : '',
      remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    ]
      .filter((part) => part !== '')
      .join(' ');
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.nodeState(claim.nodeId),
          UpdateExpression: expression,
          ConditionExpression: 'lastRemediationId = :rid',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // Someone else's claim replaced ours since: theirs stands.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async takeRemediationSlot(scanId: string, nodeId: string, max: number): Promise<boolean> {
    if (max <= 0) return false;
    try {
      // The counter enforces the budget; the set makes a slot per node, so taking it again (a retry, or a
      // concurrent collection finishing this node) costs nothing.
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.scan(scanId),
          UpdateExpression: 'ADD remediations :one, slotNodes :node',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(remediations) OR remediations < :max)' +
            ' AND (attribute_not_exists(slotNodes) OR NOT contains(slotNodes, :nodeId))',
          ExpressionAttributeValues: { ':one': 1, ':max': max, ':node': new Set([nodeId]), ':nodeId': nodeId },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const item = await this.get(keys.scan(scanId));
    const holders = item?.slotNodes;
    return holders instanceof Set && holders.has(nodeId);
  }

  /* ---- remediations ---- */

  async putRemediations(records: readonly RemediationRecord[]): Promise<void> {
    await this.batchWrite(records.map((record) => remediationItem(record, this.retentionDays)));
  }

  async createRemediationIntent(record: RemediationRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: remediationItem({ ...record, status: 'PENDING', commandId: null }, this.retentionDays),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async takeOverRemediationIntent(
    scanId: string,
    nodeId: string,
    expectedUntil: string | null,
    until: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.remediation(scanId, nodeId),
          UpdateExpression: 'SET sendingUntil = :until, #ds = :dueKey, #dp = :duePartition',
          ConditionExpression:
            '#status = :pending AND attribute_not_exists(commandId) AND ' +
            (expectedUntil === null ? 'attribute_not_exists(sendingUntil)' : 'sendingUntil = :expected'),
          ExpressionAttributeNames: {
            '#status': 'status',
            '#dp': INDEXES.due.partitionKey,
            '#ds': INDEXES.due.sortKey,
          },
          ExpressionAttributeValues: {
            ':pending': 'PENDING',
            ':until': until,
            ':duePartition': DUE_PARTITION,
            ':dueKey': dueKey(until, 'gather', scanId),
            ...(expectedUntil === null ? {} : { ':expected': expectedUntil }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async setRemediationCommand(scanId: string, nodeId: string, commandId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.remediation(scanId, nodeId),
          UpdateExpression: 'SET commandId = :command REMOVE sendingUntil, #dp, #ds',
          ConditionExpression: '#status = :pending AND attribute_not_exists(commandId)',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#dp': INDEXES.due.partitionKey,
            '#ds': INDEXES.due.sortKey,
          },
          ExpressionAttributeValues: { ':pending': 'PENDING', ':command': commandId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getRemediation(scanId: string, nodeId: string): Promise<RemediationRecord | null> {
    const item = await this.get(keys.remediation(scanId, nodeId));
    return item === undefined ? null : remediationFromItem(item);
  }

  listScanRemediations(scanId: string): Promise<RemediationRecord[]> {
    return this.all(
      {
        // Consistent: collectors decide from it what is still to send, right after other collectors wrote.
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.scan(scanId).pk, ':prefix': 'REM#' },
      },
      remediationFromItem,
    );
  }

  async completeRemediation(record: RemediationRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: remediationItem({ ...record, status: 'COMPLETED' }, this.retentionDays),
          // Never over the record of another command (a record is bound to at most one).
          ConditionExpression:
            record.commandId === null
              ? '#status = :pending AND attribute_not_exists(commandId)'
              : '#status = :pending AND (attribute_not_exists(commandId) OR commandId = :command)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pending': 'PENDING',
            ...(record.commandId === null ? {} : { ':command': record.commandId }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async putRemediationCommand(command: RemediationCommandRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: commandItem(command, this.retentionDays),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async getRemediationCommand(commandId: string): Promise<RemediationCommandRecord | null> {
    const item = await this.get(keys.command(commandId));
    return item === undefined ? null : commandFromItem(item);
  }

  async completeRemediationCommand(commandId: string, completedAt: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.command(commandId),
          UpdateExpression: 'SET #status = :completed, completedAt = :at REMOVE #dp, #ds',
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#dp': INDEXES.due.partitionKey,
            '#ds': INDEXES.due.sortKey,
          },
          ExpressionAttributeValues: { ':completed': 'COMPLETED', ':running': 'RUNNING', ':at': completedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordRemediationOutcome(outcome: RemediationOutcome): Promise<OutcomeResult> {
    const streak =
      outcome.effect === 'no-effect'
        ? 'noEffectCount = if_not_exists(noEffectCount, :zero) + :one, '
        : outcome.effect === 'improved'
          ? 'noEffectCount = :zero, '
          : '';
    let state: Item | undefined;
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.nodeState(outcome.nodeId),
          UpdateExpression: `SET ${streak}lastOutcomeId = :rid`,
          ConditionExpression: 'attribute_not_exists(lastOutcomeId) OR lastOutcomeId <> :rid',
          ExpressionAttributeValues: {
            ':rid': outcome.remediationId,
            ...(streak === '' ? {} : { ':zero': 0 }),
            ...(outcome.effect === 'no-effect' ? { ':one': 1 } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      state = result.Attributes;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Folded in already (a duplicate event, or a retry after a crash): still finish the blocking step below.
      state = (
        await this.client.send(
          new GetCommand({ TableName: this.table, Key: keys.nodeState(outcome.nodeId), ConsistentRead: true }),
        )
      ).Item;
    }
    const current = nodeStateFromItem(state ?? { ...keys.nodeState(outcome.nodeId) });
    if (current.blocked || current.noEffectCount < outcome.maxNoEffect) {
      return { noEffectCount: current.noEffectCount, blocked: current.blocked, newlyBlocked: false };
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.nodeState(outcome.nodeId),
          UpdateExpression: 'SET blocked = :true, blockedAt = :at',
          ConditionExpression: 'noEffectCount >= :max AND (attribute_not_exists(blocked) OR blocked <> :true)',
          ExpressionAttributeValues: { ':true': true, ':at': outcome.at, ':max': outcome.maxNoEffect },
        }),
      );
      return { noEffectCount: current.noEffectCount, blocked: true, newlyBlocked: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Blocked by a concurrent duplicate, or cleared by an operator meanwhile: report what is there now.
      const now = await this.getNodeState(outcome.nodeId);
      return { noEffectCount: now?.noEffectCount ?? 0, blocked: now?.blocked ?? false, newlyBlocked: false };
    }
  }

  async clearNode(nodeId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.nodeState(nodeId),
          UpdateExpression: 'SET blocked = :false, noEffectCount = :zero REMOVE blockedAt',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':false': false, ':zero': 0 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
  /* ---- notification outbox ---- */

  private outboxKey(target: OutboxTarget): { pk: string; sk: string } {
    return target.kind === 'scan' ? keys.scan(target.scanId) : keys.remediation(target.scanId, target.nodeId);
  }

  async claimNotification(target: OutboxTarget, now: string, until: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.outboxKey(target),
          UpdateExpression: 'SET notifyingUntil = :until',
          ConditionExpression:
            'notification = :pending AND (attribute_not_exists(notifyingUntil) OR notifyingUntil <= :now)',
          ExpressionAttributeValues: { ':pending': 'pending', ':until': until, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async releaseNotification(target: OutboxTarget, until: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.outboxKey(target),
          UpdateExpression: 'REMOVE notifyingUntil',
          ConditionExpression: 'notifyingUntil = :until',
          ExpressionAttributeValues: { ':until': until },
        }),
      );
    } catch (error) {
      // Not ours any more (it ran out and someone else took it): nothing to give back.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async markNotified(target: OutboxTarget): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.outboxKey(target),
          UpdateExpression: 'SET notification = :sent REMOVE notifyingUntil, #dp, #ds',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#dp': INDEXES.due.partitionKey, '#ds': INDEXES.due.sortKey },
          ExpressionAttributeValues: { ':sent': 'sent' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
