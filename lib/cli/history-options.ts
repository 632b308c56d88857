/**
 * The flags every history command shares (where the history is, --json, --limit) and their parsing: node:util
 * parseArgs in strict mode, every mistake a usage error (exit 2) that names the flag.
 */
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DEFAULT_STACK_NAME } from '../config/contracts.ts';
import type { Page, PageRequest } from '../runtime/ports.ts';
import { CliError } from './errors.ts';
import { clean } from './format.ts';
import type { Io } from './io.ts';
import { DEFAULT_DATA_DIR, type HistorySource, openHistory, type SourceOptions } from './table-source.ts';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;

export const SOURCE_HELP = `where the history is read from:
  --local              the demo's embedded store (run 'fleetscan demo' first)
  --data-dir DIR       the demo's data directory (default: ${DEFAULT_DATA_DIR}; with --local)
  --table NAME         the history table (default: $FLEETSCAN_TABLE, else the stack's TableName output)
  --stack NAME         the deployed stack to take the table from (default: ${DEFAULT_STACK_NAME})
  --region REGION      AWS region (default: the AWS SDK's chain: AWS_REGION, AWS_PROFILE's region)
Credentials come from the AWS SDK's standard chain (environment, profile, SSO, instance role).`;

const SHARED = {
  json: { type: 'boolean' },
  limit: { type: 'string' },
  local: { type: 'boolean' },
  'data-dir': { type: 'string' },
  table: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  // Advanced: a DynamoDB-compatible endpoint (dynalite in tests, DynamoDB Local).
  endpoint: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommand {
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | undefined>;
  readonly json: boolean;
  readonly limit: number;
  readonly source: SourceOptions;
}

/** The first sentence of a parseArgs error (the rest is advice about '--' that does not apply here). */
function usageMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clean(message.split(/\.\s/)[0] ?? message, 200);
}

export function parseLimit(value: string | undefined, fallback = DEFAULT_LIMIT): number {
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (!/^[0-9]+$/.test(value) || limit < 1 || limit > MAX_LIMIT) {
    throw new CliError(`--limit: '${clean(value, 20)}' is not a whole number from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

export function parseCommand(
  command: string,
  args: readonly string[],
  spec: { readonly positionals: readonly string[]; readonly required: number; readonly options?: Options },
): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...SHARED, ...spec.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CliError(`${usageMessage(error)} (see 'fleetscan ${command} --help')`, 2, { cause: error });
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const usage = `usage: fleetscan ${command}${spec.positionals.map((name, index) => (index < spec.required ? ` ${name}` : ` [${name}]`)).join('')} [options]`;
  if (positionals.length < spec.required) {
    throw new CliError(`missing ${spec.positionals[positionals.length] ?? 'argument'} — ${usage}`);
  }
  if (positionals.length > spec.positionals.length) {
    throw new CliError(`unexpected argument '${clean(positionals[spec.positionals.length], 60)}' — ${usage}`);
  }
  const local = values.local === true;
  const text = (name: string): string | undefined => {
    const value = values[name];
    if (typeof value !== 'string') return undefined;
    if (value.trim() === '') throw new CliError(`--${name} needs a value`);
    return value;
  };
  if (local) {
    const remote = ['table', 'stack', 'region', 'endpoint'].find((name) => values[name] !== undefined);
    if (remote !== undefined)
      throw new CliError(`--local reads the demo's store: it cannot be combined with --${remote}`);
  } else if (values['data-dir'] !== undefined) {
    throw new CliError('--data-dir is for the local demo data: add --local');
  }
  const table = text('table');
  const region = text('region');
  const endpoint = text('endpoint');
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint)) {
    throw new CliError(`--endpoint: '${clean(endpoint, 80)}' is not an http(s) URL`);
  }
  return {
    positionals,
    values,
    json: values.json === true,
    limit: parseLimit(text('limit')),
    source: {
      local,
      dataDir: path.resolve(text('data-dir') ?? DEFAULT_DATA_DIR),
      stack: text('stack') ?? DEFAULT_STACK_NAME,
      ...(table === undefined ? {} : { table }),
      ...(region === undefined ? {} : { region }),
      ...(endpoint === undefined ? {} : { endpoint }),
    },
  };
}

/**
 * Follows page cursors until `limit` items are read; `more` says whether the history has further ones. With a
 * filter, pages are read `pageSize` at a time (the filter may drop most of a page).
 */
export async function readUpTo<T>(
  fetchPage: (page: PageRequest) => Promise<Page<T>>,
  limit: number,
  keep: (item: T) => boolean = () => true,
  pageSize: number = limit,
): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const size = Math.max(pageSize, 1);
    const page = await fetchPage(cursor === undefined ? { limit: size } : { limit: size, cursor });
    for (const item of page.items) {
      if (!keep(item)) continue;
      if (items.length === limit) return { items, more: true };
      items.push(item);
    }
    cursor = page.next;
  } while (cursor !== undefined && items.length < limit);
  return { items, more: cursor !== undefined };
}

/** Opens the history, runs `work`, and always closes it (the local store holds a lock until then). */
export async function withHistory<T>(
  command: ParsedCommand,
  io: Io,
  work: (source: HistorySource) => Promise<T>,
): Promise<T> {
  const source = await openHistory(command.source, io.env);
  try {
    return await work(source);
  } finally {
    await source.close();
  }
}
