/**
 * Command-line flags, declared once per command (lib/cli/commands.ts) and used for parsing, `--help` and shell
 * completion alike. The parser is small and strict on purpose: node:util's parseArgs refuses a value that starts
 * with '-' (`--nodes -1` became "argument is ambiguous"), and its messages name neither the allowed values nor a
 * likely typo. Here a string flag always takes the next word as its value, and every mistake is one line naming the
 * flag and what it accepts.
 */
import { sanitizeText } from '../../core/sanitize.ts';
import { CliError } from '../errors.ts';
import { grouped } from './text.ts';

export interface FlagSpec {
  /** The long name, without `--`. */
  readonly name: string;
  /** A one-letter alias, without `-`. */
  readonly short?: string;
  readonly type: 'boolean' | 'string';
  /** The values a string flag accepts (checked here, offered by completion). */
  readonly values?: readonly string[];
  /** What the value is, for help: `N`, `DIR`, `WHEN`. */
  readonly arg?: string;
  readonly help: string;
  /** What completion offers for the value. */
  readonly complete?: 'file' | 'directory';
  /** Left out of help and completion (test hooks such as --endpoint). */
  readonly hidden?: boolean;
}

export interface PositionalSpec {
  readonly name: string;
  readonly required: boolean;
  readonly complete?: 'file' | 'directory';
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
}

/** How a user's word looks in an error: sanitized and short. */
export function shown(value: string, max = 60): string {
  return sanitizeText(value, max);
}

/** Levenshtein distance, for "did you mean": names are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest candidate within two edits, for a "did you mean" hint. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `'xml' is not one of table, wide, json` — the sentence every enumerated value uses. */
export function notOneOf(flag: string, value: string, allowed: readonly string[]): CliError {
  return new CliError(`${flag}: '${shown(value, 40)}' is not one of ${allowed.join(', ')}`);
}

/**
 * Parses `args` against `flags`: `--name value`, `--name=value`, `-x value`, `-xvalue`, `--` ending the flags.
 * Unknown flags, missing or unexpected values and values outside a flag's `values` are CliErrors (exit 2).
 */
export function parseFlags(
  command: string,
  args: readonly string[],
  flags: readonly FlagSpec[],
  positionals: readonly PositionalSpec[],
): ParsedArgs {
  const byName = new Map(flags.map((flag) => [flag.name, flag]));
  const byShort = new Map(flags.flatMap((flag) => (flag.short === undefined ? [] : [[flag.short, flag] as const])));
  const seeHelp = `(see 'fleetscan ${command} --help')`;
  const values: Record<string, string | boolean | undefined> = {};
  const words: string[] = [];
  let onlyPositionals = false;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      words.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    let flag: FlagSpec | undefined;
    let inline: string | undefined;
    let spelled: string;
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
      inline = equals === -1 ? undefined : arg.slice(equals + 1);
      spelled = `--${name}`;
      flag = byName.get(name);
      if (flag === undefined) {
        const visible = flags.filter((entry) => entry.hidden !== true).map((entry) => entry.name);
        const guess = closest(name, visible);
        throw new CliError(
          `unknown option '${shown(spelled)}'${guess === undefined ? '' : ` — did you mean --${guess}?`} ${seeHelp}`,
        );
      }
    } else {
      spelled = arg.slice(0, 2);
      flag = byShort.get(arg.slice(1, 2));
      if (flag === undefined) throw new CliError(`unknown option '${shown(spelled)}' ${seeHelp}`);
      if (arg.length > 2) inline = arg.slice(2);
    }
    const label = `--${flag.name}`;
    if (flag.type === 'boolean') {
      if (inline !== undefined) throw new CliError(`${label} takes no value (found '${shown(inline, 40)}')`);
      values[flag.name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (index + 1 >= args.length) {
        throw new CliError(`${label} needs a value${flag.values ? `: one of ${flag.values.join(', ')}` : ''}`);
      }
      index += 1;
      value = args[index] ?? '';
    }
    if (value.trim() === '') throw new CliError(`${label} needs a value`);
    if (flag.values !== undefined && !flag.values.includes(value)) throw notOneOf(label, value, flag.values);
    values[flag.name] = value;
  }
  const usage = `usage: fleetscan ${command}${positionals
    .map((entry) => (entry.required ? ` ${entry.name}` : ` [${entry.name}]`))
    .join('')} [options]`;
  const required = positionals.filter((entry) => entry.required).length;
  if (words.length < required) {
    throw new CliError(`missing ${positionals[words.length]?.name ?? 'argument'} — ${usage}`);
  }
  if (words.length > positionals.length) {
    throw new CliError(`unexpected argument '${shown(words[positionals.length] ?? '')}' — ${usage}`);
  }
  return { positionals: words, flags: values };
}

/** A whole number in [min, max] from a flag, or undefined when the flag is absent. */
export function wholeNumber(flag: string, value: string | boolean | undefined, min: number, max: number) {
  if (typeof value !== 'string') return undefined;
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < min || number > max) {
    throw new CliError(
      `--${flag}: '${shown(value, 20)}' is not a whole number from ${grouped(min)} to ${grouped(max)}`,
    );
  }
  return number;
}

/** A string flag's value (parseFlags has already refused an empty one). */
export function stringFlag(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
