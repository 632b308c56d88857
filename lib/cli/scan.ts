/** `fleetscan scan SCAN_ID`: one scan's nodes, problems first (CRITICAL, ERROR, WARN; worst first), then the OK ones. */
import type { HistoryReader, ScanRecord } from '../runtime/ports.ts';
import { CliError } from './errors.ts';
import { clean, painter } from './format.ts';
import { parseCommand, readUpTo, SOURCE_HELP, withHistory } from './history-options.ts';
import { type Io, useColor } from './io.ts';
import { nodeRecordJson, renderScanHeader, renderScanNodes, scanJson, toJson } from './render.ts';
import * as scanNow from './scan-now.ts';
import { EXIT_FAILURE } from './table-source.ts';

/** The OK nodes are read from the scan's full node list, problems included: in pages this large. */
const OK_PAGE_SIZE = 200;

/** A prefix is looked up among this many of the newest scans (a full id is found wherever it is). */
export const PREFIX_SEARCH_SCANS = 500;

export const help = `usage: fleetscan scan SCAN_ID [--limit N] [--json] [--local | --table NAME | --stack NAME] [--region REGION]
       fleetscan scan --now [--wait]      start a scan now ('fleetscan scan --now --help')

One scan's nodes: the problems first — CRITICAL, then ERROR (no verdict), then WARN, the worst unusable index
first within each — then the OK ones. SCAN_ID is the id 'fleetscan scans' prints (the gather command's id); a
unique prefix of it works for the ${PREFIX_SEARCH_SCANS} most recent scans.

options:
  --limit N            nodes to show (default: 20, at most 1000)
  --json               print {scan, nodes, more} (see the README, "Querying the history")
  -h, --help           this help

${SOURCE_HELP}

exit status: 0 success, 1 unknown scan or the history could not be read, 2 usage`;

async function resolveScan(reader: HistoryReader, id: string, label: string): Promise<ScanRecord> {
  const exact = await reader.getScan(id);
  if (exact !== null) return exact;
  const unknown = new CliError(
    `unknown scan '${clean(id, 64)}' in ${label} ('fleetscan scans' lists them)`,
    EXIT_FAILURE,
  );
  if (id.length < 4) throw unknown;
  const { items } = await readUpTo((page) => reader.listScans(page), PREFIX_SEARCH_SCANS);
  const matches = items.filter((scan) => scan.scanId.startsWith(id));
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length > 1) {
    throw new CliError(
      `scan id prefix '${clean(id, 64)}' is ambiguous: ${matches.length} scans start with it; give more characters`,
      EXIT_FAILURE,
    );
  }
  throw unknown;
}

/** `scan --now` starts a scan (lib/cli/scan-now.ts); without it, `scan SCAN_ID` shows one. */
export const helpFor = (args: readonly string[]): string => (args.includes('--now') ? scanNow.help : help);

export async function run(args: readonly string[], io: Io): Promise<number> {
  if (args.includes('--now')) return scanNow.run(args, io);
  const command = parseCommand('scan', args, { positionals: ['SCAN_ID'], required: 1 });
  const id = command.positionals[0] ?? '';
  return withHistory(command, io, async (source) => {
    const scan = await resolveScan(source.reader, id, source.label);
    const problems = await readUpTo((page) => source.reader.listProblemNodes(scan.scanId, page), command.limit);
    let nodes = problems.items;
    let more = problems.more;
    if (!more && nodes.length < command.limit) {
      const ok = await readUpTo(
        (page) => source.reader.listScanNodes(scan.scanId, page),
        command.limit - nodes.length,
        (record) => record.status === 'OK',
        OK_PAGE_SIZE,
      );
      nodes = [...nodes, ...ok.items];
      more = ok.more;
    }
    if (scan.nodes !== undefined) more = nodes.length < scan.nodes;
    if (command.json) {
      io.stdout(toJson({ scan: scanJson(scan), nodes: nodes.map(nodeRecordJson), more }));
      return 0;
    }
    const paint = painter(useColor(io));
    const lines = renderScanHeader(scan, paint);
    if (nodes.length > 0) lines.push('', ...renderScanNodes(nodes, paint));
    if (more) {
      const total = scan.nodes === undefined ? '' : ` of ${scan.nodes}`;
      lines.push(paint.dim(`showing ${nodes.length}${total} nodes, problems first — more with --limit N`));
    }
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  });
}
