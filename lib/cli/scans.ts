/** `fleetscan scans`: recent scans, newest first, with node counts per severity, errors and remediations. */
import { commandSpec } from './commands.ts';
import { plural } from './format.ts';
import { parseHistoryCommand, readUpTo, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { emit } from './kit/emit.ts';
import { scanColumns } from './render/scans.ts';
import { scanJson } from './views.ts';

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseHistoryCommand(commandSpec('scans'), args, io);
  return withHistory(command, io, async (source) => {
    const since = command.since;
    const { items, more } = await readUpTo(
      (page) => source.reader.listScans(since === undefined ? page : { ...page, since }),
      command.limit,
    );
    emit(io, command.output, command.paint, {
      view: () => items.map(scanJson),
      columns: scanColumns(items, command.paint),
      rows: items,
      empty: `no scans in ${source.label}${since === undefined ? '' : ` since ${since}`} yet`,
      below: [
        `${plural(items.length, 'scan')}, newest first, from ${source.label}` +
          (more ? ` — more with --limit N${since === undefined ? ' or --since' : ''}` : ''),
      ],
    });
    return 0;
  });
}
