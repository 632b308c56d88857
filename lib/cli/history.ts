/** `fleetscan history NODE`: one node's scans over time, its watched indices, and a trend line. */
import { commandSpec } from './commands.ts';
import { CliError } from './errors.ts';
import { clean } from './format.ts';
import { parseHistoryCommand, readUpTo, resolveNodeName, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { emit } from './kit/emit.ts';
import { HISTORY_LEGEND, historyColumns, renderNodeHeader } from './render/history.ts';
import { EXIT_FAILURE, type HistorySource } from './table-source.ts';
import { nodeRecordJson, nodeStateJson } from './views.ts';

/** Whether any scan ever recorded the node (its state exists, or it has a record at all). */
export async function knownNode(source: HistorySource, nodeId: string): Promise<boolean> {
  if ((await source.reader.getNodeState(nodeId)) !== null) return true;
  return (await source.reader.nodeHistory(nodeId, { limit: 1 })).items.length > 0;
}

export function unknownNode(name: string, source: HistorySource): CliError {
  return new CliError(
    `unknown node '${clean(name, 64)}': no scan in ${source.label} recorded a node with that id or host name`,
    EXIT_FAILURE,
  );
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseHistoryCommand(commandSpec('history'), args, io);
  const name = command.positionals[0] ?? '';
  const since = command.since;
  return withHistory(command, io, async (source) => {
    const nodeId = await resolveNodeName(source, name);
    const { items, more } = await readUpTo(
      (page) => source.reader.nodeHistory(nodeId, since === undefined ? page : { ...page, since }),
      command.limit,
    );
    const state = await source.reader.getNodeState(nodeId);
    if (items.length === 0 && state === null && !(since !== undefined && (await knownNode(source, nodeId)))) {
      throw unknownNode(name, source);
    }
    const columns = historyColumns(items, command.paint);
    const indexColumns = columns.some((column) => / o[0-9]+$/.test(column.header));
    emit(io, command.output, command.paint, {
      view: () => ({
        nodeId,
        state: state === null ? null : nodeStateJson(state),
        records: items.map(nodeRecordJson),
        trend: [...items].reverse().map((record) => record.worstUnusableIndex),
        more,
      }),
      columns,
      rows: items,
      above: renderNodeHeader(nodeId, items, state, command.paint),
      empty: `no scans of node ${clean(nodeId, 64)}${since === undefined ? '' : ` since ${since}`} in ${source.label}`,
      below: [
        ...(indexColumns ? [HISTORY_LEGEND] : []),
        ...(more ? [`showing the newest ${items.length} scans — older ones with --limit N, --all or --since`] : []),
      ],
    });
    return 0;
  });
}
