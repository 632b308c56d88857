/**
 * `fleetscan <command>`: dispatches to one module per command. Every command module exports
 * `run(args, io): Promise<number>` (the exit code) and `help` (its --help text).
 * Errors a user can act on are CliError (one line on stderr, exit 2 unless it says otherwise); anything else is
 * reported as one line too, never a stack trace (FLEETSCAN_DEBUG=1 prints the stack).
 */
import { CliError } from './errors.ts';
import type { CommandModule, Io } from './io.ts';
import { processIo } from './io.ts';

// One line per command; the module is loaded only when its command runs.
const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  inspect: { summary: "judge one host's /proc/buddyinfo (or a gather report)", load: () => import('./inspect.ts') },
  demo: { summary: 'the whole pipeline on a simulated fleet, no AWS account', load: () => import('./demo.ts') },
  scans: { summary: 'recent scans with counts per severity', load: () => import('./scans.ts') },
  scan: { summary: "one scan's nodes, problems first", load: () => import('./scan.ts') },
  history: { summary: "one node's scans over time, with a trend line", load: () => import('./history.ts') },
  remediations: { summary: 'remediations and their measured effect', load: () => import('./remediations.ts') },
  clear: { summary: 'let fleetscan remediate a node it gave up on', load: () => import('./clear.ts') },
  doctor: { summary: 'check the deployed stack works; print what to fix', load: () => import('./doctor.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'usage: fleetscan <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    "Run 'fleetscan <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(`${usage()}\n`);
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (entry === undefined) {
    io.stderr(`fleetscan: unknown command '${command}'\n${usage()}\n`);
    return 2;
  }
  try {
    const module = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(`${module.helpFor?.(rest) ?? module.help}\n`);
      return 0;
    }
    return await module.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`fleetscan ${command}: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`fleetscan ${command}: ${message.split('\n')[0]}\n`);
    if (process.env.FLEETSCAN_DEBUG === '1' && error instanceof Error) io.stderr(`${error.stack}\n`);
    return 2;
  }
}
