/**
 * `fleetscan <command>`: dispatches to one module per command, declared in lib/cli/commands.ts and loaded only when
 * it runs. Every command module exports `run(args, io): Promise<number>` (the exit code).
 * Errors a user can act on are CliError (one line on stderr, exit 2 for usage unless it says otherwise); anything
 * else is reported as one line too, exit 1, never a stack trace (FLEETSCAN_DEBUG=1 prints the stack).
 */
import packageJson from '../../package.json' with { type: 'json' };
import { CLI_ENV } from '../config/contracts.ts';
import { COMMANDS, type CommandSpec, findCommand, fullHelp, SCAN_NOW } from './commands.ts';
import { CliError } from './errors.ts';
import type { Io } from './io.ts';
import { processIo } from './io.ts';
import { closest, shown } from './kit/args.ts';

export const VERSION: string = packageJson.version;

function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length), 'help'.length);
  return [
    'usage: fleetscan <command> [options]',
    '',
    'Watches a fleet of Linux nodes for memory fragmentation, and fixes it before workloads fail.',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    `  ${'help'.padEnd(width)}  a command's options: 'fleetscan help scans'`,
    '',
    'options: --version, --help. Every command takes --help; most take -o/--output, --no-headers and --color.',
  ].join('\n');
}

function unknownCommand(name: string): CliError {
  const guess = closest(
    name,
    COMMANDS.map((command) => command.name),
  );
  return new CliError(
    `unknown command '${shown(name, 40)}'${guess === undefined ? '' : ` — did you mean '${guess}'?`} ('fleetscan --help' lists them)`,
  );
}

/** The declaration whose help `args` ask for: `scan --now --help` is scan --now's own. */
function specFor(spec: CommandSpec, args: readonly string[]): CommandSpec {
  return spec.name === 'scan' && args.includes('--now') ? SCAN_NOW : spec;
}

async function dispatch(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    io.stdout(`${usage()}\n`);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    io.stdout(`fleetscan ${VERSION}\n`);
    return 0;
  }
  if (command === 'help') {
    const [topic, ...extra] = rest;
    if (topic === undefined) {
      io.stdout(`${usage()}\n`);
      return 0;
    }
    const spec = findCommand(topic);
    if (spec === undefined) throw unknownCommand(topic);
    io.stdout(`${await fullHelp(specFor(spec, extra))}\n`);
    return 0;
  }
  const spec = findCommand(command);
  if (spec === undefined) {
    if (command.startsWith('-'))
      throw new CliError(`unknown option '${shown(command, 40)}' before a command ('fleetscan --help')`);
    throw unknownCommand(command);
  }
  const dashDash = rest.indexOf('--');
  const flags = dashDash === -1 ? rest : rest.slice(0, dashDash);
  if (flags.includes('--help') || flags.includes('-h')) {
    io.stdout(`${await fullHelp(specFor(spec, flags))}\n`);
    return 0;
  }
  const module = await spec.load();
  return await module.run(rest, io);
}

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const command = argv[0] !== undefined && findCommand(argv[0]) !== undefined ? `fleetscan ${argv[0]}` : 'fleetscan';
    if (error instanceof CliError) {
      // Messages quote what users and nodes wrote (cleaned where quoted); cleaned once more as a whole.
      io.stderr(`${command}: ${shown(error.message, 2000)}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`${command}: ${shown(message.split('\n')[0] ?? '', 300)}\n`);
    if (io.env[CLI_ENV.debug] === '1' && error instanceof Error) io.stderr(`${error.stack}\n`);
    return 1;
  }
}
