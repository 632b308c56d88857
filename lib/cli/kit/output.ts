/**
 * How a command prints: the format (`-o table|wide|json|yaml|tsv`, `--json` as an alias), headers, colour and the
 * width tables must fit. Resolved once per command from its flags and the environment, then handed to renderers,
 * which are pure functions of records and these options.
 */
import type { Io } from '../io.ts';
import { type FlagSpec, notOneOf } from './args.ts';
import { toYaml } from './yaml.ts';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'tsv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const COLOR_WHEN = ['auto', 'always', 'never'] as const;
export type ColorWhen = (typeof COLOR_WHEN)[number];

export interface OutputOptions {
  readonly format: OutputFormat;
  /** Column headers (and the summary lines around a table); `--no-headers` drops them. */
  readonly headers: boolean;
  readonly color: boolean;
  /** The columns a line may take: $COLUMNS, else the terminal's width; null when neither is known (a pipe). */
  readonly width: number | null;
}

/** The flags every command that prints records takes. */
export function outputFlags(formats: readonly string[] = OUTPUT_FORMATS): FlagSpec[] {
  return [
    {
      name: 'output',
      short: 'o',
      type: 'string',
      values: formats,
      arg: 'FORMAT',
      help: `${formats.join('|')} (default: table${formats.includes('wide') ? '; wide adds columns' : ''})`,
    },
    { name: 'json', type: 'boolean', help: 'same as -o json' },
    { name: 'no-headers', type: 'boolean', help: 'leave out column headers and summary lines' },
    colorFlag,
  ];
}

export const colorFlag: FlagSpec = {
  name: 'color',
  type: 'string',
  values: COLOR_WHEN,
  arg: 'WHEN',
  help: 'auto (a terminal without NO_COLOR or TERM=dumb), always, never',
};

/** Colour: `--color always|never` wins; `auto` means a terminal, NO_COLOR unset (no-color.org), TERM not dumb. */
export function colorEnabled(when: string | boolean | undefined, io: Io): boolean {
  if (when === 'always') return true;
  if (when === 'never') return false;
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  return io.isTty && !noColor && io.env.TERM !== 'dumb';
}

/** $COLUMNS when it is a width, else the terminal's; null when output goes to a pipe or file without COLUMNS. */
export function outputWidth(io: Io): number | null {
  const fromEnv = io.env.COLUMNS;
  if (fromEnv !== undefined && /^[1-9][0-9]{0,4}$/.test(fromEnv)) return Math.max(20, Number(fromEnv));
  return io.columns ?? null;
}

export function resolveOutput(
  flags: Readonly<Record<string, string | boolean | undefined>>,
  io: Io,
  formats: readonly string[] = OUTPUT_FORMATS,
): OutputOptions {
  const asked = typeof flags.output === 'string' ? flags.output : undefined;
  if (flags.json === true && asked !== undefined && asked !== 'json') {
    throw notOneOf('--json with --output', asked, ['json']);
  }
  const format = (flags.json === true ? 'json' : (asked ?? 'table')) as OutputFormat;
  if (!formats.includes(format)) throw notOneOf('--output', format, formats);
  return {
    format,
    headers: flags['no-headers'] !== true,
    color: colorEnabled(flags.color, io),
    width: outputWidth(io),
  };
}

/** Whether the format prints the records' JSON view (json, yaml) rather than a table. */
export function isStructured(format: OutputFormat): format is 'json' | 'yaml' {
  return format === 'json' || format === 'yaml';
}

/** The JSON view as `--json` has always printed it (two-space indent, a final newline), or the same as YAML. */
export function structured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value);
}
