/**
 * `fleetscan clear NODE_ID`: the operator's answer to "remediation had no effect twice, so fleetscan stopped
 * touching this node". It unblocks the node and resets its no-effect streak; the next CRITICAL scan may remediate
 * it again (cooldown and budget still apply).
 */
import { CliError } from './errors.ts';
import { clean } from './format.ts';
import { parseCommand, SOURCE_HELP, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { toJson } from './render.ts';
import { EXIT_FAILURE } from './table-source.ts';

export const help = `usage: fleetscan clear NODE_ID [--json] [--local | --table NAME | --stack NAME]

Unblocks a node that fleetscan stopped remediating after its remediations had no measured effect
(remediation.maxNoEffect in a row), and resets its no-effect streak. Look first at what was tried:
'fleetscan remediations NODE_ID'. The node's cooldown and the per-scan budget still apply.

This is the one command that writes to the history table (UpdateItem on the node's state item).

options:
  --json               print {"nodeId", "wasBlocked", "noEffectCount"} (the state before clearing)
  -h, --help           this help

${SOURCE_HELP}

exit status: 0 cleared, 1 unknown node or the table could not be written, 2 usage`;

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseCommand('clear', args, { positionals: ['NODE_ID'], required: 1 });
  const nodeId = command.positionals[0] ?? '';
  return withHistory(command, io, async (source) => {
    const before = await source.reader.getNodeState(nodeId);
    if (before === null || !(await source.clearNode(nodeId))) {
      throw new CliError(`unknown node '${clean(nodeId, 64)}': ${source.label} has no state for it`, EXIT_FAILURE);
    }
    if (command.json) {
      io.stdout(toJson({ nodeId, wasBlocked: before.blocked, noEffectCount: before.noEffectCount }));
      return 0;
    }
    const shown = clean(nodeId, 64);
    io.stdout(
      before.blocked
        ? `node ${shown} unblocked: its ${before.noEffectCount} remediation${before.noEffectCount === 1 ? '' : 's'} in a row without effect are forgotten; fleetscan may remediate it again\n`
        : `node ${shown} was not blocked; its no-effect streak (${before.noEffectCount}) is reset\n`,
    );
    return 0;
  });
}
