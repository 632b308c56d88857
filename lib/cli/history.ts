/** `fleetscan history NODE_ID`: one node's scans over time, its watched indices, and a trend line. */
import type { HistoryReader } from '../runtime/ports.ts';
import { CliError } from './errors.ts';
import { clean, painter } from './format.ts';
import { parseCommand, readUpTo, SOURCE_HELP, withHistory } from './history-options.ts';
import { type Io, useColor } from './io.ts';
import { nodeRecordJson, nodeStateJson, renderHistory, toJson } from './render.ts';
import { EXIT_FAILURE } from './table-source.ts';

export const help = `usage: fleetscan history NODE_ID [--since 24h|7d|ISO-8601] [--limit N] [--json] [--local | --table NAME | --stack NAME]

One node's scans, newest first: status, cause, the worst unusable free space index, each watched zone and
order's index with the suitable blocks left, and the findings (or why there was no verdict). A sparkline shows
the worst unusable index over time (▁ = 0.000 … █ = 1.000, oldest on the left).

options:
  --since WHEN         only scans at or after WHEN: a duration back from now (30m, 24h, 7d, 2w) or an
                       ISO-8601 time (2025-06-01, 2025-06-01T10:00:00Z)
  --limit N            scans to show (default: 20, at most 1000)
  --json               print {nodeId, state, records, trend} (see the README, "Querying the history")
  -h, --help           this help

${SOURCE_HELP}

exit status: 0 success, 1 unknown node or the history could not be read, 2 usage`;

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since` as an ISO-8601 UTC time (the form the history's sort keys use). */
export function parseSince(value: string, now: Date): string {
  const relative = /^([0-9]{1,6})(m|h|d|w)$/.exec(value);
  if (relative) {
    const [, amount = '0', unit = 'h'] = relative;
    return new Date(now.getTime() - Number(amount) * (UNITS[unit] ?? 0)).toISOString();
  }
  if (
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(value)
  ) {
    const time = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (!Number.isNaN(time)) return new Date(time).toISOString();
  }
  throw new CliError(`--since: '${clean(value, 40)}' is neither a duration (30m, 24h, 7d, 2w) nor an ISO-8601 time`);
}

/** Whether any scan ever recorded the node (its state exists, or it has a record at all). */
async function known(reader: HistoryReader, nodeId: string): Promise<boolean> {
  if ((await reader.getNodeState(nodeId)) !== null) return true;
  return (await reader.nodeHistory(nodeId, { limit: 1 })).items.length > 0;
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseCommand('history', args, {
    positionals: ['NODE_ID'],
    required: 1,
    options: { since: { type: 'string' } },
  });
  const nodeId = command.positionals[0] ?? '';
  const sinceFlag = command.values.since;
  const since = typeof sinceFlag === 'string' ? parseSince(sinceFlag, new Date()) : undefined;
  return withHistory(command, io, async (source) => {
    const { items, more } = await readUpTo(
      (page) => source.reader.nodeHistory(nodeId, since === undefined ? page : { ...page, since }),
      command.limit,
    );
    const state = await source.reader.getNodeState(nodeId);
    if (items.length === 0 && state === null && !(since !== undefined && (await known(source.reader, nodeId)))) {
      throw new CliError(`unknown node '${clean(nodeId, 64)}': no scan in ${source.label} recorded it`, EXIT_FAILURE);
    }
    if (command.json) {
      io.stdout(
        toJson({
          nodeId,
          state: state === null ? null : nodeStateJson(state),
          records: items.map(nodeRecordJson),
          trend: [...items].reverse().map((record) => record.worstUnusableIndex),
          more,
        }),
      );
      return 0;
    }
    const paint = painter(useColor(io));
    if (items.length === 0) {
      io.stdout(
        `no scans of node ${clean(nodeId, 64)}${since === undefined ? '' : ` since ${since}`} in ${source.label}\n`,
      );
      return 0;
    }
    const lines = renderHistory(nodeId, items, state, paint);
    if (more) lines.push(paint.dim(`showing the newest ${items.length} scans — older ones with --limit N or --since`));
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  });
}
