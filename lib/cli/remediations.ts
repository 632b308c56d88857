/** `fleetscan remediations [NODE_ID]`: what was done to which node, and what it measurably changed. */
import { CliError } from './errors.ts';
import { clean, painter } from './format.ts';
import { parseCommand, readUpTo, SOURCE_HELP, withHistory } from './history-options.ts';
import { type Io, useColor } from './io.ts';
import { remediationJson, renderRemediations, toJson } from './render.ts';
import { EXIT_FAILURE } from './table-source.ts';

export const help = `usage: fleetscan remediations [NODE_ID] [--limit N] [--json] [--local | --table NAME | --stack NAME]

Remediations, newest first — of one node when NODE_ID is given: the action (drop-caches, compact,
compact-node with its NUMA node), whether it was a dry run, and its measured effect: the watched index that was
worst before, its unusable free space index and suitable blocks before → after, read on the node itself.

options:
  --limit N            remediations to show (default: 20, at most 1000)
  --json               print a JSON array of remediations (see the README, "Querying the history")
  -h, --help           this help

${SOURCE_HELP}

exit status: 0 success, 1 unknown node or the history could not be read, 2 usage`;

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseCommand('remediations', args, { positionals: ['NODE_ID'], required: 0 });
  const nodeId = command.positionals[0];
  return withHistory(command, io, async (source) => {
    const { items, more } = await readUpTo(
      (page) => source.reader.listRemediations(nodeId === undefined ? page : { ...page, nodeId }),
      command.limit,
    );
    if (items.length === 0 && nodeId !== undefined) {
      const state = await source.reader.getNodeState(nodeId);
      const seen = state !== null || (await source.reader.nodeHistory(nodeId, { limit: 1 })).items.length > 0;
      if (!seen) {
        throw new CliError(`unknown node '${clean(nodeId, 64)}': no scan in ${source.label} recorded it`, EXIT_FAILURE);
      }
    }
    if (command.json) {
      io.stdout(toJson(items.map(remediationJson)));
      return 0;
    }
    if (items.length === 0) {
      const whose = nodeId === undefined ? '' : ` of node ${clean(nodeId, 64)}`;
      io.stdout(`no remediations${whose} in ${source.label}\n`);
      return 0;
    }
    const paint = painter(useColor(io));
    const lines = renderRemediations(items, paint);
    lines.push(
      paint.dim(
        `${items.length} remediation${items.length === 1 ? '' : 's'}, newest first` +
          (more ? ' — more with --limit N' : ''),
      ),
    );
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  });
}
