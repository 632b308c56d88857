/**
 * `fleetscan scan SCAN_ID`: one scan's nodes, problems first (CRITICAL, ERROR, WARN; worst first), then the OK
 * ones — filtered by status and cause, up to --limit or --all of them, read page by page. `scan --now` starts a
 * scan instead (lib/cli/scan-now.ts).
 */
import type { Cause } from '../core/policy.ts';
import type { HistoryReader, NodeRecord, NodeStatus, ScanRecord } from '../runtime/ports.ts';
import { commandSpec } from './commands.ts';
import { CliError } from './errors.ts';
import { plural } from './format.ts';
import { causeFilter, parseHistoryCommand, readUpTo, statusFilter, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { shown } from './kit/args.ts';
import { emit } from './kit/emit.ts';
import { nodeRecordColumns } from './render/nodes.ts';
import { renderScanHeader } from './render/scans.ts';
import * as scanNow from './scan-now.ts';
import { EXIT_FAILURE } from './table-source.ts';
import { nodeRecordJson, scanJson } from './views.ts';

/** The OK nodes are read from the scan's full node list: in pages this large. */
const OK_PAGE_SIZE = 200;

/** A prefix is looked up among this many of the newest scans (a full id is found wherever it is). */
export const PREFIX_SEARCH_SCANS = 500;

async function resolveScan(reader: HistoryReader, id: string, label: string): Promise<ScanRecord> {
  const exact = await reader.getScan(id);
  if (exact !== null) return exact;
  const unknown = new CliError(
    `unknown scan '${shown(id, 64)}' in ${label} ('fleetscan scans' lists them)`,
    EXIT_FAILURE,
  );
  if (id.length < 4) throw unknown;
  const { items } = await readUpTo((page) => reader.listScans(page), PREFIX_SEARCH_SCANS);
  const matches = items.filter((scan) => scan.scanId.startsWith(id));
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length > 1) {
    throw new CliError(
      `scan id prefix '${shown(id, 64)}' is ambiguous: ${matches.length} scans start with it; give more characters`,
      EXIT_FAILURE,
    );
  }
  throw unknown;
}

const PROBLEM_STATUSES: readonly NodeStatus[] = ['CRITICAL', 'ERROR', 'WARN'];

/**
 * The scan's nodes the filters keep, problems first: the problem part from the sparse index (already in rank
 * order), the OK part from the full node list.
 */
async function filteredNodes(
  reader: HistoryReader,
  scanId: string,
  filter: { readonly status?: NodeStatus[]; readonly cause?: (Cause | null)[] },
  limit: number | null,
): Promise<{ nodes: NodeRecord[]; more: boolean }> {
  const wants = (status: NodeStatus) => filter.status === undefined || filter.status.includes(status);
  const keep = (record: NodeRecord) =>
    wants(record.status) && (filter.cause === undefined || filter.cause.includes(record.cause));
  let nodes: NodeRecord[] = [];
  let more = false;
  if (PROBLEM_STATUSES.some(wants)) {
    const problems = await readUpTo((page) => reader.listProblemNodes(scanId, page), limit, keep, OK_PAGE_SIZE);
    nodes = problems.items;
    more = problems.more;
  }
  if (!more && wants('OK') && (limit === null || nodes.length < limit)) {
    const ok = await readUpTo(
      (page) =>
        reader.listScanNodes(scanId, { ...page, status: ['OK'], ...(filter.cause ? { cause: filter.cause } : {}) }),
      limit === null ? null : limit - nodes.length,
      keep,
      OK_PAGE_SIZE,
    );
    nodes = [...nodes, ...ok.items];
    more = ok.more;
  }
  return { nodes, more };
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  if (args.includes('--now')) return scanNow.run(args, io);
  const command = parseHistoryCommand(commandSpec('scan'), args, io);
  if (command.flags.wait !== undefined || command.flags.timeout !== undefined) {
    throw new CliError(`--${command.flags.wait !== undefined ? 'wait' : 'timeout'} is for 'scan --now': add --now`);
  }
  const id = command.positionals[0] ?? '';
  const status = statusFilter(command.flags);
  const cause = causeFilter(command.flags);
  return withHistory(command, io, async (source) => {
    const scan = await resolveScan(source.reader, id, source.label);
    const { nodes, more } = await filteredNodes(
      source.reader,
      scan.scanId,
      { ...(status ? { status } : {}), ...(cause ? { cause } : {}) },
      command.limit,
    );
    const filtered = status !== undefined || cause !== undefined;
    const of = !filtered && scan.nodes !== undefined ? ` of ${scan.nodes}` : '';
    emit(io, command.output, command.paint, {
      view: () => ({ scan: scanJson(scan), nodes: nodes.map(nodeRecordJson), more }),
      columns: nodeRecordColumns(command.paint),
      rows: nodes,
      above: renderScanHeader(scan, command.paint),
      empty: filtered ? 'no node of this scan matches the filters' : undefined,
      below: more
        ? [
            `showing ${nodes.length}${of} nodes${filtered ? ' that match' : ''}, problems first — more with --limit N or --all`,
          ]
        : nodes.length > 0 && filtered
          ? [`${plural(nodes.length, 'node')} match`]
          : [],
    });
    return 0;
  });
}
