/**
 * `fleetscan clear NODE`: the operator's answer to "remediation had no effect twice, so fleetscan stopped
 * touching this node". It unblocks the node and resets its no-effect streak; the next CRITICAL scan may remediate
 * it again (cooldown and budget still apply).
 */
import { commandSpec } from './commands.ts';
import { CliError } from './errors.ts';
import { clean, plural } from './format.ts';
import { parseHistoryCommand, resolveNodeName, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { isStructured, structured } from './kit/output.ts';
import { EXIT_FAILURE } from './table-source.ts';

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseHistoryCommand(commandSpec('clear'), args, io);
  const name = command.positionals[0] ?? '';
  return withHistory(command, io, async (source) => {
    const nodeId = await resolveNodeName(source, name);
    const before = await source.reader.getNodeState(nodeId);
    if (before === null || !(await source.clearNode(nodeId))) {
      throw new CliError(`unknown node '${clean(name, 64)}': ${source.label} has no state for it`, EXIT_FAILURE);
    }
    const { format } = command.output;
    if (isStructured(format)) {
      io.stdout(structured({ nodeId, wasBlocked: before.blocked, noEffectCount: before.noEffectCount }, format));
      return 0;
    }
    const shownId = clean(nodeId, 64);
    io.stdout(
      before.blocked
        ? `node ${shownId} unblocked: its ${plural(before.noEffectCount, 'remediation')} in a row without effect are forgotten; fleetscan may remediate it again\n`
        : `node ${shownId} was not blocked; its no-effect streak (${before.noEffectCount}) is reset\n`,
    );
    return 0;
  });
}
