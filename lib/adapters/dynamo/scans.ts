/**
 * ScanStore over DynamoDB: scan items, their shards (the collection checkpoints and leases), gather command items,
 * the remediation budget, and the `due` index the sweep reads. Layout: schema.ts.
 */
import type {
  CommandRecord,
  DueWork,
  Page,
  PageRequest,
  ScanCompletion,
  ScanRecord,
  ScanStore,
  SealProgress,
  ShardRecord,
  Tallies,
} from '../../runtime/ports.ts';
import {
  changesValue,
  commandFromItem,
  gatherCommandItem,
  scanFromItem,
  scanItem,
  shardDue,
  shardFromItem,
  shardItem,
  talliesValue,
} from './codec.ts';
import { DUE_PARTITION, dueKey, INDEXES, keys, parseDueKey, SCANS_PARTITION } from './schema.ts';
import type { DynamoTable } from './table.ts';

const DUE = { '#dp': INDEXES.due.partitionKey, '#ds': INDEXES.due.sortKey } as const;

/** A newest-first Query of one partition of an index whose sort keys start with an ISO time; `since` bounds it. */
export function newestFirst(
  index: { readonly partitionKey: string; readonly sortKey: string },
  partition: string,
  since: string | undefined,
) {
  return {
    KeyConditionExpression: since === undefined ? '#p = :p' : '#p = :p AND #s >= :since',
    ExpressionAttributeNames: { '#p': index.partitionKey, ...(since === undefined ? {} : { '#s': index.sortKey }) },
    ExpressionAttributeValues: { ':p': partition, ...(since === undefined ? {} : { ':since': since }) },
    ScanIndexForward: false,
  };
}

export class DynamoScanStore implements ScanStore {
  constructor(private readonly table: DynamoTable) {}

  async createScan(scan: ScanRecord, shards: readonly ShardRecord[]): Promise<boolean> {
    const created = await this.table.conditional({
      Item: scanItem(
        { ...scan, shards: shards.length > 0 ? shards.length : (scan.shards ?? 1) },
        this.table.retentionDays,
      ),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    if (!created) return false;
    await this.table.batchPut(shards.map((shard) => shardItem(shard, this.table.retentionDays, scan.requestedAt)));
    return true;
  }

  async getScan(scanId: string): Promise<ScanRecord | null> {
    const item = await this.table.get(keys.scan(scanId));
    return item === undefined ? null : scanFromItem(item);
  }

  listScans(request: PageRequest & { readonly since?: string }): Promise<Page<ScanRecord>> {
    return this.table.indexPage(
      { IndexName: INDEXES.byTime.name, ...newestFirst(INDEXES.byTime, SCANS_PARTITION, request.since) },
      request,
      scanFromItem,
    );
  }

  /** Scans requested before `at`, newest first (the byTime index, the items read by key). */
  private scansBefore(at: string, request: PageRequest): Promise<Page<ScanRecord>> {
    return this.table.indexPage(
      {
        IndexName: INDEXES.byTime.name,
        KeyConditionExpression: '#p = :p AND #s < :at',
        ExpressionAttributeNames: { '#p': INDEXES.byTime.partitionKey, '#s': INDEXES.byTime.sortKey },
        ExpressionAttributeValues: { ':p': SCANS_PARTITION, ':at': at },
        ScanIndexForward: false,
      },
      request,
      scanFromItem,
    );
  }

  async previousScans(at: string): Promise<{ latest: ScanRecord | null; sealed: ScanRecord | null }> {
    let latest: ScanRecord | null = null;
    let cursor: string | undefined;
    // A few pages at most: scans are sealed within minutes of finishing, so the newest sealed one is near.
    for (let pages = 0; pages < 5; pages += 1) {
      const page = await this.scansBefore(at, cursor === undefined ? { limit: 20 } : { limit: 20, cursor });
      latest ??= page.items[0] ?? null;
      const sealed = page.items.find((scan) => scan.sealed === true);
      if (sealed !== undefined) return { latest, sealed };
      cursor = page.next;
      if (cursor === undefined) break;
    }
    return { latest, sealed: null };
  }

  async getShard(scanId: string, shard: number): Promise<ShardRecord | null> {
    const item = await this.table.get(keys.shard(scanId, shard));
    return item === undefined ? null : shardFromItem(item);
  }

  listShards(scanId: string): Promise<ShardRecord[]> {
    return this.table.all(
      {
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.scan(scanId).pk, ':prefix': 'SHARD#' },
      },
      shardFromItem,
    );
  }

  async bindShard(scanId: string, shard: number, commandId: string, collectAfter: string): Promise<boolean> {
    const scan = await this.table.get(keys.scan(scanId));
    const ttl = typeof scan?.ttl === 'number' ? scan.ttl : this.table.ttl(new Date().toISOString());
    // The command's item first: an event for the command finds its shard from the moment the shard names it.
    await this.table.batchPut([gatherCommandItem({ commandId, scanId, shard }, ttl)]);
    const bound = await this.table.conditional({
      Key: keys.shard(scanId, shard),
      UpdateExpression:
        'SET commandId = :command, #status = :running, collectAfter = :after, #dp = :duePartition, #ds = :due',
      ConditionExpression: '(#status = :planned AND attribute_not_exists(commandId)) OR commandId = :command',
      ExpressionAttributeNames: { '#status': 'status', ...DUE },
      ExpressionAttributeValues: {
        ':command': commandId,
        ':running': 'RUNNING',
        ':planned': 'PLANNED',
        ':after': collectAfter,
        ':duePartition': DUE_PARTITION,
        ':due': dueKey(collectAfter, 'gather', commandId),
      },
    });
    if (bound && shard === 0) {
      // The scan's commandId (`scans --json`) is its first shard's.
      await this.table.conditional({
        Key: keys.scan(scanId),
        UpdateExpression: 'SET commandId = :command',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(commandId) OR commandId = :none)',
        ExpressionAttributeValues: { ':command': commandId, ':none': '' },
      });
    }
    return bound;
  }

  abandonShard(scanId: string, shard: number, reason: string): Promise<boolean> {
    return this.table.conditional({
      Key: keys.shard(scanId, shard),
      UpdateExpression: 'SET #status = :incomplete, reason = :reason REMOVE #dp, #ds',
      ConditionExpression: '#status = :planned',
      ExpressionAttributeNames: { '#status': 'status', ...DUE },
      ExpressionAttributeValues: { ':incomplete': 'INCOMPLETE', ':planned': 'PLANNED', ':reason': reason },
    });
  }

  async getCommand(commandId: string): Promise<CommandRecord | null> {
    const item = await this.table.get(keys.command(commandId));
    return item === undefined ? null : commandFromItem(item);
  }

  async takeShardLease(
    scanId: string,
    shard: number,
    lease: { readonly token: string; readonly until: string; readonly now: string; readonly inherit?: string },
  ): Promise<ShardRecord | null> {
    const current = await this.getShard(scanId, shard);
    if (current === null || current.status !== 'RUNNING') return null;
    const due = shardDue({ ...current, leaseUntil: lease.until });
    const inherited = lease.inherit !== undefined;
    const attributes = await this.table.update({
      Key: keys.shard(scanId, shard),
      UpdateExpression: `SET leaseToken = :token, leaseUntil = :until, #dp = :duePartition, #ds = :due${
        inherited ? '' : ', attempts = if_not_exists(attempts, :zero) + :one'
      }`,
      ConditionExpression: inherited
        ? '#status = :running AND leaseToken = :inherit'
        : '#status = :running AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
      ExpressionAttributeNames: { '#status': 'status', ...DUE },
      ExpressionAttributeValues: {
        ':token': lease.token,
        ':until': lease.until,
        ':running': 'RUNNING',
        ':duePartition': DUE_PARTITION,
        ':due': due,
        ...(inherited ? { ':inherit': lease.inherit } : { ':now': lease.now, ':zero': 0, ':one': 1 }),
      },
      ReturnValues: 'ALL_NEW',
    });
    return attributes === null ? null : shardFromItem(attributes);
  }

  checkpointShard(
    scanId: string,
    shard: number,
    checkpoint: {
      readonly token: string;
      readonly from: number;
      readonly page: number;
      readonly nextToken: string | null;
      readonly listed: boolean;
      readonly tallies: Tallies;
      readonly targeted: number | null;
    },
  ): Promise<boolean> {
    const set = ['page = :page', 'listed = :listed', 'tallies = :tallies'];
    const remove: string[] = [];
    const values: Record<string, unknown> = {
      ':token': checkpoint.token,
      ':page': checkpoint.page,
      ':from': checkpoint.from,
      ':listed': checkpoint.listed,
      ':tallies': talliesValue(checkpoint.tallies),
    };
    if (checkpoint.nextToken === null) remove.push('nextToken');
    else {
      set.push('nextToken = :next');
      values[':next'] = checkpoint.nextToken;
    }
    if (checkpoint.targeted !== null) {
      set.push('targeted = :targeted');
      values[':targeted'] = checkpoint.targeted;
    }
    return this.table.conditional({
      Key: keys.shard(scanId, shard),
      UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ConditionExpression: 'leaseToken = :token AND page = :from',
      ExpressionAttributeValues: values,
    });
  }

  async handOffShard(scanId: string, shard: number, token: string, next: string, until: string): Promise<boolean> {
    const current = await this.getShard(scanId, shard);
    if (current === null) return false;
    return this.table.conditional({
      Key: keys.shard(scanId, shard),
      UpdateExpression: 'SET leaseToken = :next, leaseUntil = :until, #ds = :due',
      ConditionExpression: 'leaseToken = :token',
      ExpressionAttributeNames: { '#ds': INDEXES.due.sortKey },
      ExpressionAttributeValues: {
        ':token': token,
        ':next': next,
        ':until': until,
        ':due': shardDue({ ...current, leaseUntil: until }),
      },
    });
  }

  async releaseShard(scanId: string, shard: number, token: string, error: string | null): Promise<void> {
    const current = await this.getShard(scanId, shard);
    if (current === null || current.leaseToken !== token) return;
    await this.table.conditional({
      Key: keys.shard(scanId, shard),
      UpdateExpression: `SET #ds = :due${error === null ? '' : ', lastError = :error'} REMOVE leaseToken, leaseUntil`,
      ConditionExpression: 'leaseToken = :token',
      ExpressionAttributeNames: { '#ds': INDEXES.due.sortKey },
      ExpressionAttributeValues: {
        ':token': token,
        ':due': shardDue({ ...current, leaseUntil: null }),
        ...(error === null ? {} : { ':error': error }),
      },
    });
  }

  finishShard(
    scanId: string,
    shard: number,
    finish: { readonly token: string | null; readonly status: 'COMPLETED' | 'INCOMPLETE'; readonly reason?: string },
  ): Promise<boolean> {
    return this.table.conditional({
      Key: keys.shard(scanId, shard),
      UpdateExpression: `SET #status = :status${finish.reason === undefined ? '' : ', reason = :reason'} REMOVE leaseToken, leaseUntil, #dp, #ds`,
      ConditionExpression: finish.token === null ? '#status = :running' : '#status = :running AND leaseToken = :token',
      ExpressionAttributeNames: { '#status': 'status', ...DUE },
      ExpressionAttributeValues: {
        ':status': finish.status,
        ':running': 'RUNNING',
        ...(finish.token === null ? {} : { ':token': finish.token }),
        ...(finish.reason === undefined ? {} : { ':reason': finish.reason }),
      },
    });
  }

  completeScan(scanId: string, completion: ScanCompletion): Promise<boolean> {
    const extra = [
      completion.notRemediated === undefined ? '' : ', notRemediated = :reasons',
      completion.changes === undefined ? '' : ', changes = :changes',
      completion.kinds === undefined || completion.kinds.length === 0 ? '' : ', notificationKinds = :kinds',
      completion.incompleteReason === undefined ? '' : ', incompleteReason = :why',
      completion.notify === true ? ', notification = :pending' : '',
    ].join('');
    return this.table.conditional({
      Key: keys.scan(scanId),
      // Still on the due list: its records are to be sealed (markSealed takes it off), its summary to be sent.
      UpdateExpression:
        'SET #status = :status, completedAt = :at, #counts = :counts, nodes = :nodes, worstUnusableIndex = :worst, #dp = :duePartition, #ds = :due' +
        extra,
      ConditionExpression: '#status = :running',
      ExpressionAttributeNames: { '#status': 'status', '#counts': 'counts', ...DUE },
      ExpressionAttributeValues: {
        ':duePartition': DUE_PARTITION,
        ':status': completion.status,
        ':running': 'RUNNING',
        ':at': completion.completedAt,
        ':counts': { ...completion.counts },
        ':nodes': completion.nodes,
        ':worst': completion.worstUnusableIndex,
        ':due': dueKey(completion.completedAt, 'scan', scanId),
        ...(completion.notRemediated === undefined ? {} : { ':reasons': { ...completion.notRemediated } }),
        ...(completion.incompleteReason === undefined ? {} : { ':why': completion.incompleteReason }),
        ...(completion.changes === undefined ? {} : { ':changes': changesValue(completion.changes) }),
        ...(completion.kinds === undefined || completion.kinds.length === 0 ? {} : { ':kinds': [...completion.kinds] }),
        ...(completion.notify === true ? { ':pending': 'pending' } : {}),
      },
    });
  }

  async claimDigest(now: string, intervalSeconds: number, scanId: string): Promise<boolean> {
    const cutoff = new Date(Date.parse(now) - intervalSeconds * 1000).toISOString();
    if (
      await this.table.conditional({
        Key: keys.digest(),
        UpdateExpression: 'SET lastDigestAt = :now, lastDigestScanId = :scan',
        ConditionExpression: 'attribute_not_exists(lastDigestAt) OR lastDigestAt <= :cutoff',
        ExpressionAttributeValues: { ':now': now, ':cutoff': cutoff, ':scan': scanId },
      })
    ) {
      return true;
    }
    // A retry, or a concurrent finisher, of the scan that took it.
    return (await this.table.get(keys.digest()))?.lastDigestScanId === scanId;
  }

  async saveSealProgress(scanId: string, progress: SealProgress): Promise<void> {
    await this.table.conditional({
      Key: keys.scan(scanId),
      UpdateExpression: 'SET seal = :seal',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':seal': { bits: progress.bits, next: progress.next } },
    });
  }

  async markSealed(scanId: string, progress: SealProgress): Promise<void> {
    await this.table.conditional({
      Key: keys.scan(scanId),
      UpdateExpression: 'SET sealed = :true, seal = :seal',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':true': true, ':seal': { bits: progress.bits, next: progress.next } },
    });
    // Off the due list unless a summary is still waiting in the outbox (markNotified then takes it off).
    await this.table.conditional({
      Key: keys.scan(scanId),
      UpdateExpression: 'REMOVE #dp, #ds',
      ConditionExpression: '#status <> :running AND (attribute_not_exists(notification) OR notification <> :pending)',
      ExpressionAttributeNames: { '#status': 'status', ...DUE },
      ExpressionAttributeValues: { ':running': 'RUNNING', ':pending': 'pending' },
    });
  }

  async takeRemediationSlot(scanId: string, nodeId: string, max: number): Promise<boolean> {
    if (max <= 0) return false;
    // The counter enforces the budget; the set makes a slot per node, so taking it again (a retry, or a
    // concurrent collection finishing this node) costs nothing.
    const taken = await this.table.conditional({
      Key: keys.scan(scanId),
      UpdateExpression: 'ADD remediations :one, slotNodes :node',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(remediations) OR remediations < :max)' +
        ' AND (attribute_not_exists(slotNodes) OR NOT contains(slotNodes, :nodeId))',
      ExpressionAttributeValues: { ':one': 1, ':max': max, ':node': new Set([nodeId]), ':nodeId': nodeId },
    });
    if (taken) return true;
    const item = await this.table.get(keys.scan(scanId));
    const holders = item?.slotNodes;
    return holders instanceof Set && holders.has(nodeId);
  }

  async listDue(now: string, limit: number): Promise<DueWork[]> {
    const out: DueWork[] = [];
    const seen = new Set<string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.table.queryOnce(
        {
          IndexName: INDEXES.due.name,
          KeyConditionExpression: '#p = :p AND #s <= :upper',
          ExpressionAttributeNames: { '#p': INDEXES.due.partitionKey, '#s': INDEXES.due.sortKey },
          // '~' sorts after every '#<kind>#…', so every entry due at `now` itself is included.
          ExpressionAttributeValues: { ':p': DUE_PARTITION, ':upper': `${now}#~` },
        },
        limit - out.length,
        startKey,
      );
      for (const item of result.Items ?? []) {
        const entry = parseDueKey(String(item[INDEXES.due.sortKey]));
        if (entry === null) continue;
        // A scan and its unsent remediations (or a command and its pending outcomes) are one piece of work.
        const id = `${entry.kind}#${entry.id}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(
          entry.kind === 'scan'
            ? { kind: 'scan', scanId: entry.id, dueAt: entry.at }
            : { kind: entry.kind, commandId: entry.id, dueAt: entry.at },
        );
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined && out.length < limit);
    return out;
  }
}
