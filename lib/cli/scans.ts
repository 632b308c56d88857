/** `fleetscan scans`: recent scans, newest first, with node counts per severity, errors and remediations. */
import { painter } from './format.ts';
import { parseCommand, readUpTo, SOURCE_HELP, withHistory } from './history-options.ts';
import { type Io, useColor } from './io.ts';
import { renderScans, scanJson, toJson } from './render.ts';

export const help = `usage: fleetscan scans [--limit N] [--json] [--local | --table NAME | --stack NAME] [--region REGION]

Recent scans, newest first: when each ran, how many nodes answered, how many were OK / WARN / CRITICAL /
ERROR (no verdict: unreachable, failed, unreadable output), how many were remediated, and the worst unusable
free space index any node showed at a watched order.

options:
  --limit N            scans to show (default: 20, at most 1000)
  --json               print a JSON array of scans (see the README, "Querying the history")
  -h, --help           this help

${SOURCE_HELP}

exit status: 0 success, 1 the history could not be read, 2 usage`;

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseCommand('scans', args, { positionals: [], required: 0 });
  return withHistory(command, io, async (source) => {
    const { items, more } = await readUpTo((page) => source.reader.listScans(page), command.limit);
    if (command.json) {
      io.stdout(toJson(items.map(scanJson)));
      return 0;
    }
    if (items.length === 0) {
      io.stdout(`no scans in ${source.label} yet\n`);
      return 0;
    }
    const paint = painter(useColor(io));
    const lines = renderScans(items, paint);
    lines.push(
      paint.dim(
        `${items.length} scan${items.length === 1 ? '' : 's'}, newest first, from ${source.label}` +
          (more ? ` — more with --limit ${Math.min(1000, command.limit * 5)}` : ''),
      ),
    );
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  });
}
