/**
 * Records ↔ table items (layout: table-schema.ts). Plain JavaScript items as lib-dynamodb marshals them.
 * Node records are written once per node per scan, so they use short attribute names and compact values
 * (a watched index is one string, an absent value is an absent attribute) to stay within one write unit.
 */
import type {
  InvocationState,
  NodeRecord,
  NodeState,
  NodeStatus,
  NotificationState,
  RemediationCommandRecord,
  RemediationEffect,
  RemediationRecord,
  ScanRecord,
  ScanStatus,
  SeverityCounts,
  WatchedIndex,
} from './ports.ts';
import {
  DUE_PARTITION,
  dueKey,
  INDEXES,
  keys,
  problemRank,
  REMEDIATIONS_PARTITION,
  SCANS_PARTITION,
  TTL_ATTRIBUTE,
} from './table-schema.ts';

export type Item = Record<string, unknown>;

/** One write unit: a node record above this costs double, and once more in each index it lands in. */
export const MAX_NODE_ITEM_BYTES = 1024;

export class ItemFormatError extends Error {
  override readonly name = 'ItemFormatError';
  constructor(message: string) {
    super(message);
  }
}

/** Epoch seconds `days` after an ISO-8601 time: DynamoDB TTL's unit. */
export function ttlAfter(iso: string, days: number): number {
  return Math.floor(Date.parse(iso) / 1000) + Math.round(days * 86_400);
}

/* ---- reading attributes defensively: a table item is data from outside the process ---- */

function str(item: Item, name: string): string {
  const value = item[name];
  if (typeof value !== 'string')
    throw new ItemFormatError(`item ${String(item.pk)}/${String(item.sk)}: ${name} is not a string`);
  return value;
}

function optStr(item: Item, name: string): string | null {
  const value = item[name];
  return typeof value === 'string' ? value : null;
}

function num(item: Item, name: string, fallback: number): number {
  const value = item[name];
  return typeof value === 'number' ? value : fallback;
}

function optNum(item: Item, name: string): number | null {
  const value = item[name];
  return typeof value === 'number' ? value : null;
}

function notificationState(item: Item): NotificationState | undefined {
  const value = item.notification;
  return value === 'pending' || value === 'sent' ? value : undefined;
}

/** The `due` index attributes for an entry, or none. */
function due(key: string | null): Item {
  return key === null ? {} : { [INDEXES.due.partitionKey]: DUE_PARTITION, [INDEXES.due.sortKey]: key };
}

function strList(item: Item, name: string): string[] {
  const value = item[name];
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

/** Drops null and undefined so that absent values cost nothing. */
function compact(item: Item): Item {
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== null && value !== undefined));
}

/* ---- watched indices: `<node> <zone> <order> <suitable> <unusable> <fragmentation>` ---- */

export function encodeIndex(index: WatchedIndex): string {
  return `${index.node} ${index.zone} ${index.order} ${index.suitableBlocks} ${index.unusableIndex} ${index.fragmentationIndex}`;
}

export function decodeIndex(text: string): WatchedIndex {
  const [node, zone, order, suitable, unusable, frag] = text.split(' ');
  const numbers = [node, order, suitable, unusable, frag].map(Number);
  if (zone === undefined || frag === undefined || numbers.some((value) => !Number.isFinite(value))) {
    throw new ItemFormatError(`watched index '${text}' is malformed`);
  }
  const [n = 0, o = 0, s = 0, u = 0, f = 0] = numbers;
  return { node: n, zone, order: o, suitableBlocks: s, unusableIndex: u, fragmentationIndex: f };
}

/* ---- scan ---- */

export function scanItem(scan: ScanRecord, retentionDays: number): Item {
  return compact({
    ...keys.scan(scan.scanId),
    [INDEXES.byTime.partitionKey]: SCANS_PARTITION,
    [INDEXES.byTime.sortKey]: `${scan.requestedAt}#${scan.scanId}`,
    ...due(
      scan.status === 'RUNNING'
        ? dueKey(scan.collectAfter, 'gather', scan.commandId)
        : scan.notification === 'pending'
          ? dueKey(scan.completedAt ?? scan.collectAfter, 'gather', scan.scanId)
          : null,
    ),
    [TTL_ATTRIBUTE]: ttlAfter(scan.requestedAt, retentionDays),
    scanId: scan.scanId,
    commandId: scan.commandId,
    requestedAt: scan.requestedAt,
    collectAfter: scan.collectAfter,
    status: scan.status,
    targets: scan.targets,
    counts: scan.counts,
    nodes: scan.nodes,
    remediations: scan.remediations,
    completedAt: scan.completedAt,
    worstUnusableIndex: scan.worstUnusableIndex,
    notification: scan.notification,
    notRemediated: scan.notRemediated === undefined ? undefined : { ...scan.notRemediated },
  });
}

function reasonCounts(item: Item): Record<string, number> | undefined {
  const value = item.notRemediated;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.fromEntries(
    Object.entries(value as Item).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}

function counts(item: Item): SeverityCounts | undefined {
  const value = item.counts;
  if (typeof value !== 'object' || value === null) return undefined;
  const map = value as Item;
  return {
    OK: num(map, 'OK', 0),
    WARN: num(map, 'WARN', 0),
    CRITICAL: num(map, 'CRITICAL', 0),
    ERROR: num(map, 'ERROR', 0),
  };
}

export function scanFromItem(item: Item): ScanRecord {
  const status = str(item, 'status') as ScanStatus;
  const record: ScanRecord = {
    scanId: str(item, 'scanId'),
    commandId: str(item, 'commandId'),
    requestedAt: str(item, 'requestedAt'),
    collectAfter: str(item, 'collectAfter'),
    status,
    targets: str(item, 'targets'),
  };
  const extra: { -readonly [K in keyof ScanRecord]?: ScanRecord[K] } = {};
  const c = counts(item);
  if (c !== undefined) extra.counts = c;
  if (typeof item.nodes === 'number') extra.nodes = item.nodes;
  if (typeof item.remediations === 'number') extra.remediations = item.remediations;
  if (typeof item.completedAt === 'string') extra.completedAt = item.completedAt;
  if (status === 'COMPLETED') extra.worstUnusableIndex = optNum(item, 'worstUnusableIndex');
  const notification = notificationState(item);
  if (notification !== undefined) extra.notification = notification;
  const reasons = reasonCounts(item);
  if (reasons !== undefined) extra.notRemediated = reasons;
  return { ...record, ...extra };
}

/* ---- node record ---- */

export function nodeRecordItem(record: NodeRecord, retentionDays: number): Item {
  const problem =
    record.status === 'OK'
      ? {}
      : {
          [INDEXES.problems.partitionKey]: `SCAN#${record.scanId}`,
          [INDEXES.problems.sortKey]: problemRank(record.status, record.worstUnusableIndex, record.nodeId),
        };
  return compact({
    ...keys.nodeRecord(record.scanId, record.nodeId),
    [INDEXES.byNode.partitionKey]: `NODE#${record.nodeId}`,
    [INDEXES.byNode.sortKey]: `${record.at}#${record.scanId}`,
    ...problem,
    [TTL_ATTRIBUTE]: ttlAfter(record.at, retentionDays),
    st: record.status,
    ca: record.cause,
    f: record.findings.length > 0 ? [...record.findings] : null,
    inv: record.invocationState,
    err: record.error,
    host: record.host,
    kern: record.kernel,
    ps: record.pageSize,
    mt: record.memTotalKb,
    ma: record.memAvailableKb,
    af: record.allocFailures,
    z: record.zones.length > 0 ? [...record.zones] : null,
    ix: record.indices.length > 0 ? record.indices.map(encodeIndex) : null,
    wu: record.worstUnusableIndex,
    wf: record.worstFragmentationIndex,
    cb: record.consecutiveBreaches,
  });
}

export function nodeRecordFromItem(item: Item): NodeRecord {
  const scanId = str(item, 'pk').slice('SCAN#'.length);
  const byNode = str(item, INDEXES.byNode.sortKey);
  const cause = optStr(item, 'ca');
  return {
    scanId,
    nodeId: str(item, 'sk').slice('NODE#'.length),
    at: byNode.slice(0, byNode.length - scanId.length - 1),
    status: str(item, 'st') as NodeStatus,
    cause: cause === 'fragmentation' || cause === 'low-memory' ? cause : null,
    findings: strList(item, 'f'),
    invocationState: str(item, 'inv') as InvocationState,
    error: optStr(item, 'err'),
    host: optStr(item, 'host'),
    kernel: optStr(item, 'kern'),
    pageSize: optNum(item, 'ps'),
    memTotalKb: optNum(item, 'mt'),
    memAvailableKb: optNum(item, 'ma'),
    allocFailures: optNum(item, 'af'),
    zones: strList(item, 'z'),
    indices: strList(item, 'ix').map(decodeIndex),
    worstUnusableIndex: optNum(item, 'wu'),
    worstFragmentationIndex: optNum(item, 'wf'),
    consecutiveBreaches: num(item, 'cb', 0),
  };
}

/* ---- remediation ---- */

/** An unsent intent is due when its sender's lease ends; a completed one whose outcome is still in the outbox, now. */
function remediationDue(record: RemediationRecord): string | null {
  if (record.status === 'PENDING' && record.commandId === null && record.sendingUntil !== undefined) {
    return dueKey(record.sendingUntil, 'gather', record.scanId);
  }
  if (record.status === 'COMPLETED' && record.notification === 'pending' && record.commandId !== null) {
    return dueKey(record.completedAt ?? record.requestedAt, 'remediate', record.commandId);
  }
  return null;
}

export function remediationItem(record: RemediationRecord, retentionDays: number): Item {
  return compact({
    ...keys.remediation(record.scanId, record.nodeId),
    ...due(remediationDue(record)),
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
  });
}

export function remediationFromItem(item: Item): RemediationRecord {
  const record: RemediationRecord = {
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
  const extra: { -readonly [K in keyof RemediationRecord]?: RemediationRecord[K] } = {};
  if (typeof item.effect === 'string') extra.effect = item.effect as RemediationEffect;
  if (typeof item.completedAt === 'string') extra.completedAt = item.completedAt;
  if (Array.isArray(item.before)) extra.before = strList(item, 'before').map(decodeIndex);
  if (Array.isArray(item.after)) extra.after = strList(item, 'after').map(decodeIndex);
  if (typeof item.error === 'string') extra.error = item.error;
  if (item.blocked === true) extra.blocked = true;
  if (typeof item.sendingUntil === 'string') extra.sendingUntil = item.sendingUntil;
  if (typeof item.host === 'string') extra.host = item.host;
  if (typeof item.noEffectCount === 'number') extra.noEffectCount = item.noEffectCount;
  const notification = notificationState(item);
  if (notification !== undefined) extra.notification = notification;
  return { ...record, ...extra };
}

/* ---- remediate command ---- */

export function commandItem(command: RemediationCommandRecord, retentionDays: number): Item {
  return compact({
    ...keys.command(command.commandId),
    ...due(command.status === 'RUNNING' ? dueKey(command.collectAfter, 'remediate', command.commandId) : null),
    [TTL_ATTRIBUTE]: ttlAfter(command.requestedAt, retentionDays),
    commandId: command.commandId,
    scanId: command.scanId,
    requestedAt: command.requestedAt,
    collectAfter: command.collectAfter,
    status: command.status,
    nodeIds: [...command.nodeIds],
  });
}

export function commandFromItem(item: Item): RemediationCommandRecord {
  return {
    commandId: str(item, 'commandId'),
    scanId: str(item, 'scanId'),
    requestedAt: str(item, 'requestedAt'),
    collectAfter: str(item, 'collectAfter'),
    status: str(item, 'status') as ScanStatus,
    nodeIds: strList(item, 'nodeIds'),
  };
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
  if (typeof value === 'boolean' || value === null) return 1;
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

/**
 * Trims a node record until its item fits one write unit: zone lines first (the indices say what matters), then
 * the least bad indices and findings (both are stored worst first). A typical 2-NUMA record fits untouched.
 */
export function fitNodeRecord(record: NodeRecord, retentionDays: number): NodeRecord {
  let fitted = record;
  const size = () => itemSize(nodeRecordItem(fitted, retentionDays));
  while (size() > MAX_NODE_ITEM_BYTES) {
    if (fitted.zones.length > 0) fitted = { ...fitted, zones: fitted.zones.slice(0, -1) };
    else if (fitted.indices.length > 1) fitted = { ...fitted, indices: fitted.indices.slice(0, -1) };
    else if (fitted.findings.length > 1) fitted = { ...fitted, findings: fitted.findings.slice(0, -1) };
    else if ((fitted.kernel?.length ?? 0) > 16)
      fitted = { ...fitted, kernel: `${(fitted.kernel ?? '').slice(0, 15)}…` };
    else if ((fitted.host?.length ?? 0) > 16) fitted = { ...fitted, host: `${(fitted.host ?? '').slice(0, 15)}…` };
    else break;
  }
  return fitted;
}
