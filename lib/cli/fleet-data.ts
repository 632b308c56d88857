/**
 * The history as pictures need it: the last scans' node records folded into a nodes × scans matrix of each node's
 * worst unusable index and status, the nodes ranked worst first, and (for the report) the window's remediations.
 *
 * Ranking, worst first: the node's latest status in the window (its record in the newest scan that has one:
 * CRITICAL, ERROR, WARN, OK — the order `fleetscan scan` lists problems in), then the highest worst unusable index
 * it showed in the window, then how many of the window's scans found it not OK, then its id. A node that left the
 * fleet keeps the rank of its last verdict; its later cells are absent.
 *
 * Cost: every node record of every scan in the window is read once, a page (NODE_PAGE records) at a time, and folded
 * into one small cell as it arrives, so memory grows with nodes × scans cells (and the store's bounded read cache),
 * not with records. A page is one GetItem of the scan and, for a sealed scan, one BatchGetItem of history items (an
 * unsealed one: a Query of its journal). Measured on dynalite, a 10,000-node scan is 10 pages: about 520 items,
 * 0.5 MB, 260 read units (eventually consistent); the default 24 scans about 480 requests and 6,300 read units
 * (under $0.001 on demand), about a second per scan. Before reading, the window is cut to the newest scans whose
 * node counts fit READ_BUDGET records, so the cost is bounded up front whatever --scans asks for. Remediations: one
 * byTime Query page per MAX_REMEDIATIONS (fleetscan makes a few per scan).
 */
import type { HistoryReader, NodeStatus, RemediationRecord, ScanRecord, ScanStatus } from '../runtime/ports.ts';
import { clean } from './format.ts';
import { readUpTo } from './history-options.ts';
import { wholeNumber } from './kit/args.ts';
import { DEFAULT_PICTURE_SCANS, MAX_PICTURE_SCANS, READ_BUDGET } from './picture-limits.ts';

/** Records asked for per listScanNodes page (the store's largest page). */
export const NODE_PAGE = 1000;
/** Remediations the report reads at most (newest first). */
export const MAX_REMEDIATIONS = 1000;

/** Worst first: the order `fleetscan scan` lists statuses in. */
const STATUS_RANK: Readonly<Record<NodeStatus, number>> = { CRITICAL: 0, ERROR: 1, WARN: 2, OK: 3 };

/** One node in one scan; a scan without the node's record is `null` in a row's cells (absent, not ERROR). */
export interface FleetCell {
  readonly status: NodeStatus;
  /** Thousandths; null when no watched index was measured (every ERROR, and a node without a watched zone). */
  readonly worstUnusableIndex: number | null;
}

export interface FleetScan {
  readonly scanId: string;
  readonly requestedAt: string;
  readonly status: ScanStatus;
  /** Node records read for this scan (a RUNNING scan has fewer than it will have). */
  readonly nodes: number;
  /** Of the records read. */
  readonly counts: Readonly<Record<NodeStatus, number>>;
}

export interface FleetNode {
  readonly nodeId: string;
  /** The host name of its newest record that has one, sanitized. */
  readonly host: string | null;
  /** Its status in the newest scan of the window that has its record. */
  readonly latest: NodeStatus;
  /** Its highest worst unusable index in the window; null when none was measured. */
  readonly worst: number | null;
  /** Scans of the window that found it not OK. */
  readonly problems: number;
  /** One per scan of the window, oldest first; null: the scan has no record of the node. */
  readonly cells: readonly (FleetCell | null)[];
}

export type OutcomeKey = 'improved' | 'no-effect' | 'failed' | 'skipped' | 'deferred' | 'dry-run' | 'pending';
export const OUTCOME_KEYS: readonly OutcomeKey[] = [
  'improved',
  'no-effect',
  'failed',
  'skipped',
  'deferred',
  'dry-run',
  'pending',
];

export interface FleetRemediations {
  readonly counts: Readonly<Record<OutcomeKey, number>>;
  /** Newest first. */
  readonly items: readonly RemediationRecord[];
  /** The window holds more than were read (MAX_REMEDIATIONS). */
  readonly more: boolean;
}

/** What was read, so that a picture can say what it cost. */
export interface FleetReads {
  /** listScanNodes pages. */
  readonly pages: number;
  readonly records: number;
}

export interface FleetModel {
  /** The window, oldest first. */
  readonly scans: readonly FleetScan[];
  /** Ranked worst first, at most `limit`. */
  readonly nodes: readonly FleetNode[];
  /** Nodes seen in the window (nodes.length or more). */
  readonly totalNodes: number;
  /** Scans asked for that READ_BUDGET left out (the oldest ones). */
  readonly skippedScans: number;
  /** Null when remediations were not asked for. */
  readonly remediations: FleetRemediations | null;
  readonly reads: FleetReads;
}

export interface FleetOptions {
  /** Scans in the window (the newest ones). */
  readonly scans: number;
  /** Nodes kept in the model (the worst ones). */
  readonly limit: number;
  /** Read the window's remediations too. */
  readonly remediations?: boolean;
  /** @default READ_BUDGET */
  readonly budget?: number;
}

/** What a scan will cost to read: its node count, or what has been collected so far. */
function expectedRecords(scan: ScanRecord): number {
  return scan.nodes ?? scan.progress?.collected ?? 0;
}

/** The newest scans whose records fit the budget (always the newest one), newest first. */
export function withinBudget(scans: readonly ScanRecord[], budget: number): ScanRecord[] {
  const kept: ScanRecord[] = [];
  let total = 0;
  for (const scan of scans) {
    total += expectedRecords(scan);
    if (kept.length > 0 && total > budget) break;
    kept.push(scan);
  }
  return kept;
}

interface Row {
  host: string | null;
  readonly cells: (FleetCell | null)[];
}

/** Worst first, as the module comment says. */
function compareNodes(a: FleetNode, b: FleetNode): number {
  return (
    STATUS_RANK[a.latest] - STATUS_RANK[b.latest] ||
    (b.worst ?? -1) - (a.worst ?? -1) ||
    b.problems - a.problems ||
    (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
  );
}

/** A node's row folded into what ranks it. */
function summarizeNode(nodeId: string, host: string | null, cells: readonly (FleetCell | null)[]): FleetNode {
  let latest: NodeStatus = 'OK';
  let worst: number | null = null;
  let problems = 0;
  for (const cell of cells) {
    if (cell === null) continue;
    latest = cell.status;
    if (cell.status !== 'OK') problems += 1;
    if (cell.worstUnusableIndex !== null) worst = Math.max(worst ?? cell.worstUnusableIndex, cell.worstUnusableIndex);
  }
  return { nodeId: clean(nodeId, 64), host, latest, worst, problems, cells };
}

/** Reads the window and folds it into the model; see the module comment for the ranking and the cost. */
export async function readFleet(reader: HistoryReader, options: FleetOptions): Promise<FleetModel> {
  const { items: listed } = await readUpTo((page) => reader.listScans(page), options.scans);
  const newestFirst = withinBudget(listed, options.budget ?? READ_BUDGET);
  const window = [...newestFirst].reverse();
  const rows = new Map<string, Row>();
  const scans: FleetScan[] = [];
  let pages = 0;
  let records = 0;
  for (const [column, scan] of window.entries()) {
    const counts: Record<NodeStatus, number> = { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };
    let nodes = 0;
    let cursor: string | undefined;
    do {
      const page = await reader.listScanNodes(
        scan.scanId,
        cursor === undefined ? { limit: NODE_PAGE } : { limit: NODE_PAGE, cursor },
      );
      pages += 1;
      for (const record of page.items) {
        records += 1;
        let row = rows.get(record.nodeId);
        if (row === undefined) {
          row = { host: null, cells: new Array<FleetCell | null>(window.length).fill(null) };
          rows.set(record.nodeId, row);
        }
        // A scan holds one record per node; should a store ever list one twice, it is counted once.
        if (row.cells[column] !== null) continue;
        row.cells[column] = { status: record.status, worstUnusableIndex: record.worstUnusableIndex };
        nodes += 1;
        counts[record.status] += 1;
        if (record.host !== null) row.host = clean(record.host, 255);
      }
      cursor = page.next;
    } while (cursor !== undefined);
    scans.push({ scanId: scan.scanId, requestedAt: scan.requestedAt, status: scan.status, nodes, counts });
  }
  const ranked = [...rows.entries()].map(([nodeId, row]) => summarizeNode(nodeId, row.host, row.cells));
  ranked.sort(compareNodes);
  const oldest = window[0];
  return {
    scans,
    nodes: ranked.slice(0, options.limit),
    totalNodes: ranked.length,
    skippedScans: listed.length - window.length,
    remediations:
      options.remediations === true && oldest !== undefined ? await readRemediations(reader, oldest.requestedAt) : null,
    reads: { pages, records },
  };
}

/** The remediations requested since the window's oldest scan, newest first, counted by outcome. */
async function readRemediations(reader: HistoryReader, since: string): Promise<FleetRemediations> {
  const { items, more } = await readUpTo((page) => reader.listRemediations({ ...page, since }), MAX_REMEDIATIONS);
  const counts = Object.fromEntries(OUTCOME_KEYS.map((key) => [key, 0])) as Record<OutcomeKey, number>;
  for (const item of items) counts[outcomeOf(item)] += 1;
  return { counts, items, more };
}

/** A remediation's outcome: its effect once completed, `pending` before. */
export function outcomeOf(record: RemediationRecord): OutcomeKey {
  return record.status === 'PENDING' || record.effect === undefined ? 'pending' : record.effect;
}

/** `--scans N`: how many of the newest scans a picture shows. */
export function parseScans(value: string | boolean | undefined): number {
  return wholeNumber('scans', value, 1, MAX_PICTURE_SCANS) ?? DEFAULT_PICTURE_SCANS;
}
