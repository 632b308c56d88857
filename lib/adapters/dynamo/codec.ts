/**
 * Scans, shards, commands, remediations and node states ↔ table items (layout: schema.ts). Plain JavaScript items
 * as lib-dynamodb marshals them; a table item is data from outside the process, so every read is defensive.
 * Node records have their own, packed form (packed.ts).
 */

import {
  type Changes,
  type CommandRecord,
  NOTIFICATION_KINDS,
  type NodeState,
  type NodeStatus,
  type NotificationKind,
  type NotificationState,
  type RemediationCommandRecord,
  type RemediationEffect,
  type RemediationRecord,
  type ScanRecord,
  type ScanStatus,
  type SendCommandRequest,
  type SeverityCounts,
  type ShardRecord,
  type ShardStatus,
  type StatusChange,
  type Tallies,
} from '../../runtime/ports.ts';
import { NO_TALLIES } from '../../runtime/tallies.ts';
import { decodeIndex, encodeIndex, STATUS_CODE, STATUS_OF } from './packed.ts';
import {
  dueAttributes,
  dueKey,
  INDEXES,
  keys,
  REMEDIATIONS_PARTITION,
  SCANS_PARTITION,
  TTL_ATTRIBUTE,
} from './schema.ts';
import type { Item } from './table.ts';
import { ttlAfter } from './table.ts';

export class ItemFormatError extends Error {
  override readonly name = 'ItemFormatError';
}

export function str(item: Item, name: string): string {
  const value = item[name];
  if (typeof value !== 'string') {
    throw new ItemFormatError(`item ${String(item.pk)}/${String(item.sk)}: ${name} is not a string`);
  }
  return value;
}

export function optStr(item: Item, name: string): string | null {
  const value = item[name];
  return typeof value === 'string' ? value : null;
}

export function num(item: Item, name: string, fallback: number): number {
  const value = item[name];
  return typeof value === 'number' ? value : fallback;
}

export function optNum(item: Item, name: string): number | null {
  const value = item[name];
  return typeof value === 'number' ? value : null;
}

function strList(item: Item, name: string): string[] {
  const value = item[name];
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

function notificationState(item: Item): NotificationState | undefined {
  const value = item.notification;
  return value === 'pending' || value === 'sent' ? value : undefined;
}

/** Drops null and undefined so that absent values cost nothing. */
export function compact(item: Item): Item {
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== null && value !== undefined));
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

export const NO_COUNTS: SeverityCounts = { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };

function countsOf(value: unknown): SeverityCounts | undefined {
  const map = record(value);
  if (map === null) return undefined;
  return {
    OK: num(map, 'OK', 0),
    WARN: num(map, 'WARN', 0),
    CRITICAL: num(map, 'CRITICAL', 0),
    ERROR: num(map, 'ERROR', 0),
  };
}

/* ---- scan ---- */

/** The scan's due entry: while RUNNING at collectAfter; once finished, at once while its summary or sealing waits. */
function scanDue(scan: ScanRecord): string | null {
  if (scan.status === 'RUNNING') return dueKey(scan.collectAfter, 'scan', scan.scanId);
  if (scan.notification === 'pending' || scan.sealed !== true) {
    return dueKey(scan.completedAt ?? scan.collectAfter, 'scan', scan.scanId);
  }
  return null;
}

export function scanItem(scan: ScanRecord, retentionDays: number): Item {
  return compact({
    ...keys.scan(scan.scanId),
    [INDEXES.byTime.partitionKey]: SCANS_PARTITION,
    [INDEXES.byTime.sortKey]: `${scan.requestedAt}#${scan.scanId}`,
    ...dueAttributes(scanDue(scan)),
    [TTL_ATTRIBUTE]: ttlAfter(scan.requestedAt, retentionDays),
    scanId: scan.scanId,
    commandId: scan.commandId,
    requestedAt: scan.requestedAt,
    collectAfter: scan.collectAfter,
    status: scan.status,
    targets: scan.targets,
    shards: scan.shards,
    counts: scan.counts,
    nodes: scan.nodes,
    remediations: scan.remediations,
    completedAt: scan.completedAt,
    worstUnusableIndex: scan.worstUnusableIndex,
    notification: scan.notification,
    notRemediated: scan.notRemediated === undefined ? undefined : { ...scan.notRemediated },
    incompleteReason: scan.incompleteReason,
    changes: scan.changes === undefined ? undefined : changesValue(scan.changes),
    notificationKinds: scan.notificationKinds === undefined ? undefined : [...scan.notificationKinds],
    seal: scan.seal === undefined ? undefined : { ...scan.seal },
    sealed: scan.sealed,
  });
}

export function scanFromItem(item: Item): ScanRecord {
  const status = str(item, 'status') as ScanStatus;
  const out: { -readonly [K in keyof ScanRecord]: ScanRecord[K] } = {
    scanId: str(item, 'scanId'),
    commandId: str(item, 'commandId'),
    requestedAt: str(item, 'requestedAt'),
    collectAfter: str(item, 'collectAfter'),
    status,
    targets: str(item, 'targets'),
  };
  const counts = countsOf(item.counts);
  if (counts !== undefined) out.counts = counts;
  if (typeof item.nodes === 'number') out.nodes = item.nodes;
  if (typeof item.remediations === 'number') out.remediations = item.remediations;
  if (typeof item.completedAt === 'string') out.completedAt = item.completedAt;
  if (status !== 'RUNNING') out.worstUnusableIndex = optNum(item, 'worstUnusableIndex');
  const notification = notificationState(item);
  if (notification !== undefined) out.notification = notification;
  const reasons = record(item.notRemediated);
  if (reasons !== null) {
    out.notRemediated = Object.fromEntries(
      Object.entries(reasons).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
    );
  }
  if (typeof item.incompleteReason === 'string') out.incompleteReason = item.incompleteReason;
  if (typeof item.shards === 'number') out.shards = item.shards;
  if (record(item.changes) !== null) out.changes = changesOf(item.changes);
  if (Array.isArray(item.notificationKinds)) {
    out.notificationKinds = strList(item, 'notificationKinds').filter((kind): kind is NotificationKind =>
      (NOTIFICATION_KINDS as readonly string[]).includes(kind),
    );
  }
  const seal = record(item.seal);
  if (seal !== null && typeof seal.bits === 'number' && typeof seal.next === 'number') {
    out.seal = { bits: seal.bits, next: seal.next };
  }
  if (item.sealed === true) out.sealed = true;
  return out;
}

/* ---- shard ---- */

const STATUSES: readonly string[] = ['OK', 'WARN', 'CRITICAL', 'ERROR'];

/**
 * A listed change as one string, `<nodeId> <status><from>` (`i-0abc… CW`; each status a letter, STATUS_CODE, and
 * `-` for none: a node new to the history): a shard's checkpoint rewrites its up to
 * 40 listed changes with every page, and a write is billed on the whole item, so they are kept small (23 bytes
 * rather than the 41 of a map).
 */
export function encodeChange(change: StatusChange): string {
  return `${change.nodeId} ${STATUS_CODE[change.status]}${change.from === null ? '-' : STATUS_CODE[change.from]}`;
}

/** A listed change back, from its string or from a map `{n, s, f}` (as items written before were). */
export function decodeChange(entry: unknown): StatusChange | null {
  if (typeof entry === 'string') {
    const match = /^(.+) ([OWCE])([OWCE-])$/.exec(entry);
    if (match === null) return null;
    const [, nodeId = '', status = '', from = ''] = match;
    return { nodeId, status: STATUS_OF[status] as NodeStatus, from: STATUS_OF[from] ?? null };
  }
  const change = record(entry);
  if (change === null || typeof change.n !== 'string' || !STATUSES.includes(String(change.s))) return null;
  const from = STATUSES.includes(String(change.f)) ? (change.f as NodeStatus) : null;
  return { nodeId: change.n, status: change.s as NodeStatus, from };
}

export function changesValue(changes: Changes): Item {
  return {
    newProblems: { ...changes.newProblems },
    recovered: changes.recovered,
    listed: changes.listed.map(encodeChange),
  };
}

function changesOf(value: unknown): Changes {
  const map = record(value);
  if (map === null) return NO_TALLIES.changes;
  const listed = Array.isArray(map.listed) ? map.listed : [];
  return {
    newProblems: countsOf(map.newProblems) ?? NO_COUNTS,
    recovered: num(map, 'recovered', 0),
    listed: listed.flatMap((entry: unknown): StatusChange[] => {
      const change = decodeChange(entry);
      return change === null ? [] : [change];
    }),
  };
}

export function talliesValue(tallies: Tallies): Item {
  return compact({
    nodes: tallies.nodes,
    counts: { ...tallies.counts },
    worst: tallies.worstUnusableIndex,
    candidates: tallies.candidates,
    held: { ...tallies.held },
    changes: changesValue(tallies.changes),
  });
}

function numbersOf(value: unknown): Record<string, number> {
  const map = record(value);
  if (map === null) return {};
  return Object.fromEntries(
    Object.entries(map).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}

function talliesOf(value: unknown): Tallies {
  const map = record(value);
  if (map === null) return NO_TALLIES;
  return {
    nodes: num(map, 'nodes', 0),
    counts: countsOf(map.counts) ?? NO_COUNTS,
    worstUnusableIndex: optNum(map, 'worst'),
    candidates: num(map, 'candidates', 0),
    held: numbersOf(map.held),
    changes: changesOf(map.changes),
  };
}

function targetsValue(targets: SendCommandRequest['targets']): Item {
  return targets.kind === 'tags'
    ? { kind: 'tags', tags: targets.tags.map((tag) => ({ key: tag.key, values: [...tag.values] })) }
    : { kind: 'instances', instanceIds: [...targets.instanceIds] };
}

function targetsOf(value: unknown): SendCommandRequest['targets'] {
  const map = record(value);
  if (map?.kind === 'instances') return { kind: 'instances', instanceIds: strList(map, 'instanceIds') };
  const tags = Array.isArray(map?.tags) ? map.tags : [];
  return {
    kind: 'tags',
    tags: tags.flatMap((tag) => {
      const entry = record(tag);
      return entry === null || typeof entry.key !== 'string'
        ? []
        : [{ key: entry.key, values: strList(entry, 'values') }];
    }),
  };
}

/** A PLANNED shard is the scan's to finish (send, or abandon); a RUNNING one is due as its command. */
export function shardDue(shard: ShardRecord): string | null {
  if (shard.status === 'PLANNED') return dueKey(shard.collectAfter, 'scan', shard.scanId);
  if (shard.status !== 'RUNNING' || shard.commandId === null) return null;
  const at = shard.leaseUntil !== null && shard.leaseUntil > shard.collectAfter ? shard.leaseUntil : shard.collectAfter;
  return dueKey(at, 'gather', shard.commandId);
}

export function shardItem(shard: ShardRecord, retentionDays: number, requestedAt: string): Item {
  return compact({
    ...keys.shard(shard.scanId, shard.shard),
    ...dueAttributes(shardDue(shard)),
    [TTL_ATTRIBUTE]: ttlAfter(requestedAt, retentionDays),
    scanId: shard.scanId,
    shard: shard.shard,
    targets: targetsValue(shard.targets),
    commandId: shard.commandId,
    status: shard.status,
    collectAfter: shard.collectAfter,
    page: shard.page,
    nextToken: shard.nextToken,
    listed: shard.listed,
    tallies: talliesValue(shard.tallies),
    targeted: shard.targeted,
    attempts: shard.attempts,
    lastError: shard.lastError,
    reason: shard.reason,
    leaseToken: shard.leaseToken,
    leaseUntil: shard.leaseUntil,
  });
}

export function shardFromItem(item: Item): ShardRecord {
  return {
    scanId: str(item, 'scanId'),
    shard: num(item, 'shard', 0),
    targets: targetsOf(item.targets),
    commandId: optStr(item, 'commandId'),
    status: str(item, 'status') as ShardStatus,
    collectAfter: str(item, 'collectAfter'),
    page: num(item, 'page', 0),
    nextToken: optStr(item, 'nextToken'),
    listed: item.listed === true,
    tallies: talliesOf(item.tallies),
    targeted: optNum(item, 'targeted'),
    attempts: num(item, 'attempts', 0),
    lastError: optStr(item, 'lastError'),
    reason: optStr(item, 'reason'),
    leaseToken: optStr(item, 'leaseToken'),
    leaseUntil: optStr(item, 'leaseUntil'),
  };
}

/* ---- commands ---- */

export function gatherCommandItem(
  command: { readonly commandId: string; readonly scanId: string; readonly shard: number },
  ttl: number,
): Item {
  return {
    ...keys.command(command.commandId),
    [TTL_ATTRIBUTE]: ttl,
    kind: 'gather',
    commandId: command.commandId,
    scanId: command.scanId,
    shard: command.shard,
  };
}

export function remediationCommandItem(command: RemediationCommandRecord, retentionDays: number): Item {
  return compact({
    ...keys.command(command.commandId),
    ...dueAttributes(
      command.status === 'RUNNING' ? dueKey(command.collectAfter, 'remediate', command.commandId) : null,
    ),
    [TTL_ATTRIBUTE]: ttlAfter(command.requestedAt, retentionDays),
    kind: 'remediate',
    commandId: command.commandId,
    scanId: command.scanId,
    requestedAt: command.requestedAt,
    collectAfter: command.collectAfter,
    status: command.status,
    nodeIds: [...command.nodeIds],
  });
}

export function remediationCommandFromItem(item: Item): RemediationCommandRecord {
  const notification = notificationState(item);
  return {
    commandId: str(item, 'commandId'),
    scanId: str(item, 'scanId'),
    requestedAt: str(item, 'requestedAt'),
    collectAfter: str(item, 'collectAfter'),
    status: str(item, 'status') === 'COMPLETED' ? 'COMPLETED' : 'RUNNING',
    nodeIds: strList(item, 'nodeIds'),
    ...(notification === undefined ? {} : { notification }),
  };
}

export function commandFromItem(item: Item): CommandRecord {
  if (item.kind === 'gather') {
    return {
      kind: 'gather',
      commandId: str(item, 'commandId'),
      scanId: str(item, 'scanId'),
      shard: num(item, 'shard', 0),
    };
  }
  return { kind: 'remediate', ...remediationCommandFromItem(item) };
}

/* ---- remediation ---- */

/** An unsent intent is the scan's work when its lease ends; a completed one whose outcome waits, its command's. */
function remediationDue(record: RemediationRecord): string | null {
  if (record.status === 'PENDING' && record.commandId === null && record.sendingUntil !== undefined) {
    return dueKey(record.sendingUntil, 'scan', record.scanId);
  }
  if (record.status === 'COMPLETED' && record.notification === 'pending' && record.commandId !== null) {
    return dueKey(record.completedAt ?? record.requestedAt, 'remediate', record.commandId);
  }
  return null;
}

export function remediationItem(record: RemediationRecord, retentionDays: number): Item {
  return compact({
    ...keys.remediation(record.scanId, record.nodeId),
    ...dueAttributes(remediationDue(record)),
    [INDEXES.byNode.partitionKey]: `REM#${record.nodeId}`,
    [INDEXES.byNode.sortKey]: `${record.requestedAt}#${record.scanId}`,
    [INDEXES.byTime.partitionKey]: REMEDIATIONS_PARTITION,
    [INDEXES.byTime.sortKey]: `${record.requestedAt}#${record.remediationId}`,
    [TTL_ATTRIBUTE]: ttlAfter(record.requestedAt, retentionDays),
    remediationId: record.remediationId,
    nodeId: record.nodeId,
    scanId: record.scanId,
    commandId: record.commandId,
    action: record.action,
    numaNode: record.numaNode,
    dryRun: record.dryRun,
    requestedAt: record.requestedAt,
    status: record.status,
    effect: record.effect,
    completedAt: record.completedAt,
    before: record.before?.map(encodeIndex),
    after: record.after?.map(encodeIndex),
    error: record.error,
    blocked: record.blocked,
    // A lease means nothing once the remediation is sent or completed.
    sendingUntil: record.status === 'PENDING' && record.commandId === null ? record.sendingUntil : undefined,
    host: record.host,
    noEffectCount: record.noEffectCount,
    notification: record.notification,
    detail: record.detail,
  });
}

export function remediationFromItem(item: Item): RemediationRecord {
  const out: { -readonly [K in keyof RemediationRecord]: RemediationRecord[K] } = {
    remediationId: str(item, 'remediationId'),
    nodeId: str(item, 'nodeId'),
    scanId: str(item, 'scanId'),
    commandId: optStr(item, 'commandId'),
    action: str(item, 'action') as RemediationRecord['action'],
    numaNode: optNum(item, 'numaNode'),
    dryRun: item.dryRun === true,
    requestedAt: str(item, 'requestedAt'),
    status: str(item, 'status') as RemediationRecord['status'],
  };
  if (typeof item.effect === 'string') out.effect = item.effect as RemediationEffect;
  if (typeof item.completedAt === 'string') out.completedAt = item.completedAt;
  if (Array.isArray(item.before)) out.before = strList(item, 'before').map(decodeIndex);
  if (Array.isArray(item.after)) out.after = strList(item, 'after').map(decodeIndex);
  if (typeof item.error === 'string') out.error = item.error;
  if (item.blocked === true) out.blocked = true;
  if (typeof item.sendingUntil === 'string') out.sendingUntil = item.sendingUntil;
  if (typeof item.host === 'string') out.host = item.host;
  if (typeof item.noEffectCount === 'number') out.noEffectCount = item.noEffectCount;
  const notification = notificationState(item);
  if (notification !== undefined) out.notification = notification;
  if (typeof item.detail === 'string') out.detail = item.detail;
  return out;
}

/* ---- node state ---- */

export function nodeStateFromItem(item: Item): NodeState {
  return {
    nodeId: str(item, 'pk').slice('NODE#'.length),
    consecutiveBreaches: num(item, 'consecutiveBreaches', 0),
    lastScanId: optStr(item, 'lastScanId'),
    lastScanAt: optStr(item, 'lastScanAt'),
    previousBreaches: num(item, 'previousBreaches', 0),
    lastRemediationAt: optStr(item, 'lastRemediationAt'),
    lastRemediationId: optStr(item, 'lastRemediationId'),
    lastRemediationScanId: optStr(item, 'lastRemediationScanId'),
    noEffectCount: num(item, 'noEffectCount', 0),
    lastOutcomeId: optStr(item, 'lastOutcomeId'),
    blocked: item.blocked === true,
    cooldownUntil: optStr(item, 'cooldownUntil'),
  };
}

/* ---- size, as DynamoDB counts it ---- */

function numberSize(value: number): number {
  const digits = Math.abs(value).toString().replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Set) return 3 + [...value].reduce<number>((sum, entry) => sum + valueSize(entry), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, entry) => sum + 1 + valueSize(entry), 0);
  if (typeof value === 'object' && value !== undefined) {
    return (
      3 + Object.entries(value).reduce((sum, [name, entry]) => sum + 1 + Buffer.byteLength(name) + valueSize(entry), 0)
    );
  }
  return 0;
}

/** An item's size by DynamoDB's rules: attribute names plus values (strings in UTF-8 bytes, numbers ~1 byte per 2 digits). */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + valueSize(value),
    0,
  );
}
