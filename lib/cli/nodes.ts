/**
 * `fleetscan nodes`: the state of every node of the latest scan — its status there, breaches in a row, blocked,
 * cooling down, last remediation — problems first. Reads the scan's node list page by page (the problems from the
 * sparse index, in rank order) and the nodes' state items in batches of 100.
 */
import type { HistoryReader, NodeRecord, NodeState, ScanRecord } from '../runtime/ports.ts';
import { commandSpec } from './commands.ts';
import { plural, utc } from './format.ts';
import { parseHistoryCommand, readUpTo, statusFilter, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { emit } from './kit/emit.ts';
import { coolingDown, type NodeRow, nodeStateColumns } from './render/nodes.ts';
import { SHORT_ID } from './render/scans.ts';
import { nodeRecordJson, nodeStateJson, scanJson } from './views.ts';

const PAGE_SIZE = 200;

/** The newest scan that has ended (its node list is whole); the newest one when none has. */
async function latestScan(reader: HistoryReader): Promise<ScanRecord | null> {
  const { items } = await readUpTo((page) => reader.listScans(page), 10);
  return items.find((scan) => scan.status !== 'RUNNING') ?? items[0] ?? null;
}

/** The scan's nodes, problems first (rank order), then the OK ones. */
async function scanNodes(reader: HistoryReader, scanId: string, statuses: readonly string[] | undefined) {
  const wants = (record: NodeRecord) => statuses === undefined || statuses.includes(record.status);
  const problems = await readUpTo((page) => reader.listProblemNodes(scanId, page), null, wants, PAGE_SIZE);
  if (statuses !== undefined && !statuses.includes('OK')) return problems.items;
  const ok = await readUpTo(
    (page) => reader.listScanNodes(scanId, { ...page, status: ['OK'] }),
    null,
    () => true,
    PAGE_SIZE,
  );
  return [...problems.items, ...ok.items];
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseHistoryCommand(commandSpec('nodes'), args, io);
  const status = statusFilter(command.flags);
  const now = new Date();
  return withHistory(command, io, async (source) => {
    const scan = await latestScan(source.reader);
    let rows: NodeRow[] = [];
    if (scan !== null) {
      const records = await scanNodes(source.reader, scan.scanId, status);
      const states = await source.reader.getNodeStates(records.map((record) => record.nodeId));
      rows = records
        .map((record) => ({ record, state: states.get(record.nodeId) ?? (null as NodeState | null) }))
        .filter(
          (row) =>
            (command.flags.blocked !== true || row.state?.blocked === true) &&
            (command.flags['cooling-down'] !== true || coolingDown(row.state, now)),
        );
    }
    const total = rows.length;
    const shownRows = command.limit === null ? rows : rows.slice(0, command.limit);
    const blocked = rows.filter((row) => row.state?.blocked === true).length;
    const cooling = rows.filter((row) => coolingDown(row.state, now)).length;
    emit(io, command.output, command.paint, {
      view: () => ({
        scan: scan === null ? null : scanJson(scan),
        nodes: shownRows.map((row) => ({
          nodeId: row.record.nodeId,
          record: nodeRecordJson(row.record),
          state: row.state === null ? null : nodeStateJson(row.state),
          coolingDown: coolingDown(row.state, now),
        })),
        more: shownRows.length < total,
      }),
      columns: nodeStateColumns(command.paint, now),
      rows: shownRows,
      above:
        scan === null
          ? []
          : [
              `nodes of scan ${scan.scanId.slice(0, SHORT_ID)} (${utc(scan.requestedAt)} UTC, ${scan.status}), problems first`,
            ],
      empty: scan === null ? `no scans in ${source.label} yet` : 'no node matches the filters',
      below: [
        `${plural(total, 'node')}: ${blocked} blocked, ${cooling} cooling down` +
          (shownRows.length < total ? ` — showing ${shownRows.length}; more with --limit N or --all` : ''),
      ],
    });
    return 0;
  });
}
