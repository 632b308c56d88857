/**
 * The compact form of node records in the journal, the problem items and the node history: each record a JSON
 * row of positional values, a batch of rows deflated into one Binary attribute. Full fidelity — every field of the
 * NodeRecord comes back — at a fraction of the bytes: the watched indices are not stored when the kernel's
 * formulas give them back from the stored counts (they are whenever the record kept its zones), scan id and time
 * are the item's, and repeated host and kernel names compress away.
 *
 * Every value is checked before it is packed: a record carrying something DynamoDB or a reader could not take
 * back (a number beyond 2^53, a string too long) raises RecordCodecError, and the store puts that node's ERROR
 * record in its place.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ZoneCounts } from '../../core/buddyinfo.ts';
import { DEFAULT_THRESHOLDS } from '../../core/policy.ts';
import { REMEDIATION_ACTIONS, type RemediationAction } from '../../core/report.ts';
import { watchedIndices } from '../../runtime/evaluation.ts';
import type {
  Candidacy,
  InvocationState,
  NodeRecord,
  NodeStatus,
  StoredRecord,
  WatchedIndex,
} from '../../runtime/ports.ts';

export class RecordCodecError extends Error {
  override readonly name = 'RecordCodecError';
}

/** A packed batch's format; readers refuse others. */
const FORMAT = 1;
const MAX_TEXT = 512;
const MAX_LIST = 256;
/** vmstat counters a record keeps (the diagnosis reads a dozen). */
const MAX_COUNTERS = 32;

/** A status as one letter, in packed rows and in a scan's listed status changes (codec.ts), and back. */
export const STATUS_CODE: Readonly<Record<NodeStatus, string>> = { OK: 'O', WARN: 'W', CRITICAL: 'C', ERROR: 'E' };
export const STATUS_OF: Readonly<Record<string, NodeStatus>> = { O: 'OK', W: 'WARN', C: 'CRITICAL', E: 'ERROR' };
const CAUSE_CODE = { fragmentation: 'f', 'low-memory': 'l' } as const;

export type Row = readonly unknown[];

function text(value: string | null, field: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw new RecordCodecError(`${field} is not text`);
  if (value.length > MAX_TEXT)
    throw new RecordCodecError(`${field} is ${value.length} characters (at most ${MAX_TEXT})`);
  return value;
}

function int(value: number | null, field: string): number | null {
  if (value === null) return null;
  if (!Number.isSafeInteger(value)) throw new RecordCodecError(`${field} ${String(value)} is not a safe integer`);
  return value;
}

function texts(values: readonly string[], field: string): string[] {
  if (values.length > MAX_LIST)
    throw new RecordCodecError(`${field} has ${values.length} entries (at most ${MAX_LIST})`);
  return values.map((value, index) => text(value, `${field}[${index}]`) as string);
}

export function encodeIndex(index: WatchedIndex): string {
  return `${index.node} ${index.zone} ${index.order} ${index.suitableBlocks} ${index.unusableIndex} ${index.fragmentationIndex}`;
}

export function decodeIndex(value: string): WatchedIndex {
  const [node, zone, order, suitable, unusable, frag] = value.split(' ');
  const numbers = [node, order, suitable, unusable, frag].map(Number);
  if (zone === undefined || frag === undefined || numbers.some((entry) => !Number.isSafeInteger(entry))) {
    throw new RecordCodecError(`watched index '${value.slice(0, 60)}' is malformed`);
  }
  const [n = 0, o = 0, s = 0, u = 0, f = 0] = numbers;
  return { node: n, zone, order: o, suitableBlocks: s, unusableIndex: u, fragmentationIndex: f };
}

/** `0 Normal 1 2 3` → the zone's counts; null when the line is not one (then indices are stored, not derived). */
function zoneOf(line: string): ZoneCounts | null {
  const [node, zone, ...counts] = line.split(' ');
  if (node === undefined || zone === undefined || counts.length === 0 || !/^[0-9]{1,6}$/.test(node)) return null;
  const freeBlocks = counts.map(Number);
  if (freeBlocks.some((count) => !Number.isSafeInteger(count) || count < 0)) return null;
  return { node: Number(node), zone, freeBlocks };
}

/** The watched indices the kernel's formulas give for a record's stored zones at the watched orders. */
export function derivedIndices(zones: readonly string[], orders: readonly number[]): WatchedIndex[] | null {
  const parsed = zones.map(zoneOf);
  if (parsed.some((zone) => zone === null)) return null;
  const counts = parsed as ZoneCounts[];
  const names = [...new Set(counts.map((zone) => zone.zone))];
  return watchedIndices(counts, { ...DEFAULT_THRESHOLDS, orders, zones: names });
}

function sameIndices(a: readonly WatchedIndex[] | null, b: readonly WatchedIndex[]): boolean {
  return (
    a !== null &&
    a.length === b.length &&
    a.every((entry, index) => encodeIndex(entry) === encodeIndex(b[index] as WatchedIndex))
  );
}

/** One record as a row. Throws RecordCodecError for anything that could not be read back exactly. */
export function toRow(stored: StoredRecord, orders: readonly number[]): Row {
  const { record } = stored;
  const zones = texts(record.zones, 'zones');
  if (record.indices.length > MAX_LIST) throw new RecordCodecError(`indices has ${record.indices.length} entries`);
  const indices = sameIndices(derivedIndices(zones, orders), record.indices) ? null : record.indices.map(encodeIndex);
  for (const index of record.indices) {
    for (const [name, value] of Object.entries(index)) {
      if (typeof value === 'number') int(value, `indices.${name}`);
    }
  }
  const candidacy =
    stored.candidacy === undefined
      ? null
      : [text(stored.candidacy.action, 'candidacy.action'), int(stored.candidacy.numaNode, 'candidacy.numaNode')];
  const counters =
    record.counters === null
      ? null
      : Object.fromEntries(
          Object.entries(record.counters)
            .slice(0, MAX_COUNTERS)
            .map(([name, value]) => [text(name, 'counters') as string, int(value, `counters.${name}`)]),
        );
  return [
    text(record.nodeId, 'nodeId'),
    STATUS_CODE[record.status],
    record.cause === null ? null : CAUSE_CODE[record.cause],
    texts(record.findings, 'findings'),
    text(record.invocationState, 'invocationState'),
    text(record.error, 'error'),
    text(record.host, 'host'),
    text(record.kernel, 'kernel'),
    int(record.pageSize, 'pageSize'),
    int(record.memTotalKb, 'memTotalKb'),
    int(record.memAvailableKb, 'memAvailableKb'),
    int(record.allocFailures, 'allocFailures'),
    zones,
    indices,
    int(record.consecutiveBreaches, 'consecutiveBreaches'),
    candidacy,
    counters,
    text(record.bootId, 'bootId'),
    int(record.uptimeSeconds, 'uptimeSeconds'),
  ];
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function countersOf(value: unknown): Record<string, number> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, number] => Number.isSafeInteger(entry[1])),
  );
}
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
const strs = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];

/** A row's node id and whether its record is OK, read without decoding the rest. */
export function rowNode(row: Row): { readonly nodeId: string; readonly ok: boolean } | null {
  const nodeId = str(row[0]);
  return nodeId === null ? null : { nodeId, ok: row[1] === STATUS_CODE.OK };
}

/** The same row without a remediation candidacy (what the node history keeps: candidacy is the scan's business). */
export function withoutCandidacy(row: Row): Row {
  return row[15] === null || row[15] === undefined ? row : [...row.slice(0, 15), null, ...row.slice(16)];
}

/** A row back into a record of the scan `scanId` requested at `at`. */
export function fromRow(
  row: Row,
  scan: { readonly scanId: string; readonly at: string },
  orders: readonly number[],
): StoredRecord {
  const nodeId = str(row[0]);
  const status = STATUS_OF[str(row[1]) ?? ''];
  if (nodeId === null || status === undefined) throw new RecordCodecError('packed row lacks a node id or status');
  const zones = strs(row[12]);
  const indices = Array.isArray(row[13])
    ? strs(row[13]).map(decodeIndex)
    : status === 'ERROR'
      ? []
      : (derivedIndices(zones, orders) ?? []);
  const cause = str(row[2]);
  const unusable = indices.map((index) => index.unusableIndex);
  const frag = indices.map((index) => index.fragmentationIndex);
  const record: NodeRecord = {
    scanId: scan.scanId,
    nodeId,
    at: scan.at,
    status,
    cause: cause === 'f' ? 'fragmentation' : cause === 'l' ? 'low-memory' : null,
    findings: strs(row[3]),
    invocationState: (str(row[4]) ?? 'Unknown') as InvocationState,
    error: str(row[5]),
    host: str(row[6]),
    kernel: str(row[7]),
    pageSize: num(row[8]),
    memTotalKb: num(row[9]),
    memAvailableKb: num(row[10]),
    allocFailures: num(row[11]),
    zones,
    indices,
    worstUnusableIndex: unusable.length === 0 ? null : Math.max(...unusable),
    worstFragmentationIndex: frag.length === 0 ? null : Math.max(...frag),
    consecutiveBreaches: num(row[14]) ?? 0,
    counters: countersOf(row[16]),
    bootId: str(row[17]),
    uptimeSeconds: num(row[18]),
  };
  const [action, numaNode] = Array.isArray(row[15]) ? row[15] : [];
  const candidacy: Candidacy | undefined =
    typeof action === 'string' && (REMEDIATION_ACTIONS as readonly string[]).includes(action)
      ? { action: action as RemediationAction, numaNode: num(numaNode) }
      : undefined;
  return candidacy === undefined ? { record } : { record, candidacy };
}

/** Rows deflated into the bytes of one Binary attribute. */
export function packRows(rows: readonly Row[], orders: readonly number[]): Uint8Array {
  return deflateRawSync(Buffer.from(JSON.stringify({ v: FORMAT, o: orders, r: rows }), 'utf8'), { level: 9 });
}

export interface Unpacked {
  readonly orders: number[];
  readonly rows: Row[];
}

export function unpackRows(bytes: Uint8Array): Unpacked {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inflateRawSync(bytes).toString('utf8'));
  } catch (error) {
    throw new RecordCodecError(
      `packed records are unreadable (${error instanceof Error ? error.message : 'bad data'})`,
    );
  }
  const value = parsed as { v?: unknown; o?: unknown; r?: unknown };
  if (value.v !== FORMAT || !Array.isArray(value.o) || !Array.isArray(value.r)) {
    throw new RecordCodecError('packed records are not in a format this fleetscan reads');
  }
  return {
    orders: value.o.filter((order): order is number => typeof order === 'number'),
    rows: value.r.filter((row): row is Row => Array.isArray(row)),
  };
}
