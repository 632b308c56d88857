/** `fleetscan remediations [NODE]`: what was done to which node, and what it measurably changed. */
import { commandSpec } from './commands.ts';
import { clean, plural } from './format.ts';
import { knownNode, unknownNode } from './history.ts';
import { parseHistoryCommand, readUpTo, resolveNodeName, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { emit } from './kit/emit.ts';
import { remediationColumns } from './render/remediations.ts';
import { remediationJson } from './views.ts';

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseHistoryCommand(commandSpec('remediations'), args, io);
  const name = command.positionals[0];
  const since = command.since;
  return withHistory(command, io, async (source) => {
    const nodeId = name === undefined ? undefined : await resolveNodeName(source, name);
    const { items, more } = await readUpTo(
      (page) =>
        source.reader.listRemediations({
          ...page,
          ...(nodeId === undefined ? {} : { nodeId }),
          ...(since === undefined ? {} : { since }),
        }),
      command.limit,
    );
    if (items.length === 0 && name !== undefined && nodeId !== undefined && !(await knownNode(source, nodeId))) {
      throw unknownNode(name, source);
    }
    const whose = nodeId === undefined ? '' : ` of node ${clean(nodeId, 64)}`;
    emit(io, command.output, command.paint, {
      view: () => items.map(remediationJson),
      columns: remediationColumns(command.paint),
      rows: items,
      empty: `no remediations${whose}${since === undefined ? '' : ` since ${since}`} in ${source.label}`,
      below: [
        `${plural(items.length, 'remediation')}${whose}, newest first${more ? ' — more with --limit N or --all' : ''}`,
      ],
    });
    return 0;
  });
}
