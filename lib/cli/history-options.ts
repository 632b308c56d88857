/**
 * What the history commands share: parsing their declared flags (lib/cli/commands.ts) into where the history is,
 * how to print, how many records and since when; paged reads; and opening and closing the history around the work.
 */
import path from 'node:path';
import { DEFAULT_STACK_NAME } from '../config/contracts.ts';
import type { Cause } from '../core/policy.ts';
import type { NodeStatus, Page, PageRequest } from '../runtime/ports.ts';
import {
  allFlags,
  CAUSES,
  type CommandSpec,
  DEFAULT_DATA_DIR,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  NODE_STATUSES,
} from './commands.ts';
import { CliError } from './errors.ts';
import { type Paint, painter } from './format.ts';
import type { Io } from './io.ts';
import { notOneOf, type ParsedArgs, parseFlags, shown, stringFlag, wholeNumber } from './kit/args.ts';
import { type OutputOptions, resolveOutput } from './kit/output.ts';
import { parseSince } from './kit/since.ts';
import { type HistorySource, openHistory, type SourceOptions } from './table-source.ts';

export interface HistoryCommand extends ParsedArgs {
  readonly output: OutputOptions;
  readonly paint: Paint;
  /** Records to show; null with --all. */
  readonly limit: number | null;
  /** --since as an ISO-8601 UTC time. */
  readonly since?: string;
  readonly source: SourceOptions;
}

/** A comma-separated flag whose items must each be one of `allowed`. */
export function listFlag<T extends string>(flag: string, value: string | boolean | undefined, allowed: readonly T[]) {
  if (typeof value !== 'string') return undefined;
  const items = value.split(',').map((item) => item.trim());
  for (const item of items) if (!allowed.includes(item as T)) throw notOneOf(`--${flag}`, item, allowed);
  return [...new Set(items)] as T[];
}

export function statusFilter(flags: ParsedArgs['flags']): NodeStatus[] | undefined {
  return listFlag('status', flags.status, NODE_STATUSES);
}

/** --cause as the reader's filter: `none` keeps nodes without a cause. */
export function causeFilter(flags: ParsedArgs['flags']): (Cause | null)[] | undefined {
  return listFlag('cause', flags.cause, CAUSES)?.map((cause) => (cause === 'none' ? null : cause));
}

export function parseHistoryCommand(spec: CommandSpec, args: readonly string[], io: Io): HistoryCommand {
  const parsed = parseFlags(spec.name, args, allFlags(spec), spec.positionals);
  const { flags } = parsed;
  const output = resolveOutput(flags, io, spec.flags.find((flag) => flag.name === 'output')?.values);
  const local = flags.local === true;
  if (local) {
    const remote = ['table', 'stack', 'region', 'endpoint'].find((name) => flags[name] !== undefined);
    if (remote !== undefined)
      throw new CliError(`--local reads the demo's store: it cannot be combined with --${remote}`);
  } else if (flags['data-dir'] !== undefined) {
    throw new CliError('--data-dir is for the local demo data: add --local');
  }
  const endpoint = stringFlag(flags.endpoint);
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint)) {
    throw new CliError(`--endpoint: '${shown(endpoint, 80)}' is not an http(s) URL`);
  }
  if (flags.all === true && flags.limit !== undefined) throw new CliError('--all and --limit: give one of them');
  const table = stringFlag(flags.table);
  const region = stringFlag(flags.region);
  const since = stringFlag(flags.since);
  return {
    ...parsed,
    output,
    paint: painter(output.color),
    limit: flags.all === true ? null : (wholeNumber('limit', flags.limit, 1, MAX_LIMIT) ?? DEFAULT_LIMIT),
    ...(since === undefined ? {} : { since: parseSince(since, new Date()) }),
    source: {
      local,
      dataDir: path.resolve(stringFlag(flags['data-dir']) ?? DEFAULT_DATA_DIR),
      stack: stringFlag(flags.stack) ?? DEFAULT_STACK_NAME,
      ...(table === undefined ? {} : { table }),
      ...(region === undefined ? {} : { region }),
      ...(endpoint === undefined ? {} : { endpoint }),
    },
  };
}

/**
 * Follows page cursors until `limit` items are read (every item when null); `more` says whether the history has
 * further ones. With a filter, pages are read `pageSize` at a time (the filter may drop most of a page).
 */
export async function readUpTo<T>(
  fetchPage: (page: PageRequest) => Promise<Page<T>>,
  limit: number | null,
  keep: (item: T) => boolean = () => true,
  pageSize: number = limit ?? MAX_LIMIT,
): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const size = Math.max(pageSize, 1);
    const page = await fetchPage(cursor === undefined ? { limit: size } : { limit: size, cursor });
    for (const item of page.items) {
      if (!keep(item)) continue;
      if (limit !== null && items.length === limit) return { items, more: true };
      items.push(item);
    }
    cursor = page.next;
  } while (cursor !== undefined && (limit === null || items.length < limit));
  return { items, more: cursor !== undefined };
}

/** Opens the history, runs `work`, and always closes it (the local store holds a lock until then). */
export async function withHistory<T>(
  command: HistoryCommand,
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

/**
 * The node ids a name a user typed means (instance id, managed-instance id, host name); a CliError naming the
 * candidates when a host name is ambiguous. A name nothing matches is returned as it is (the caller says unknown).
 */
export async function resolveNodeName(source: HistorySource, name: string): Promise<string> {
  const ids = await source.reader.resolveNode(name);
  if (ids.length <= 1) return ids[0] ?? name;
  throw new CliError(
    `'${shown(name, 64)}' names ${ids.length} nodes in ${source.label}: ${ids
      .slice(0, 5)
      .map((id) => shown(id, 64))
      .join(', ')}${ids.length > 5 ? ', …' : ''} — give the node id`,
    1,
  );
}
