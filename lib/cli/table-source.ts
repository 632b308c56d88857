/**
 * Where the history commands read from: the deployed table (found from --table, FLEETSCAN_TABLE, or the stack's
 * `TableName` output) with the standard AWS SDK credential and region chain, or the demo's embedded store
 * (`--local`). Also the one place that turns AWS SDK errors into a line a user can act on.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { CLI_ENV, OUTPUT_KEYS } from '../config/contracts.ts';
import { STORE_DIR } from '../local/demo-defaults.ts';
import { StoreLockedError } from '../local/embedded-dynalite.ts';
import type { HistoryReader } from '../runtime/ports.ts';
import { CliError } from './errors.ts';
import { clean } from './format.ts';

/** Exit status for a failure of the environment or a missing thing (usage errors are 2). */
export const EXIT_FAILURE = 1;

export interface SourceOptions {
  readonly local: boolean;
  readonly dataDir: string;
  readonly table?: string;
  readonly stack: string;
  readonly region?: string;
  readonly endpoint?: string;
}

export interface HistorySource {
  readonly reader: HistoryReader;
  /** What is being read, for messages: `table X`, `the local demo data in DIR`. */
  readonly label: string;
  readonly tableName: string;
  /** Operator action: unblocks a node and resets its no-effect streak; false when the node has no state. */
  clearNode(nodeId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Where the table name came from, for error messages. */
type TableOrigin = 'flag' | 'env' | 'stack';

function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return '';
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clean(message.split('\n')[0] ?? '', 200);
}

/**
 * Translates what the SDK throws into one line. Returns null for errors it does not recognise (they surface as
 * their own first line).
 */
export function explainAwsError(
  error: unknown,
  context: { readonly table?: string; readonly stack?: string; readonly endpoint?: string; readonly origin?: string },
): CliError | null {
  const name = errorName(error);
  const message = firstLine(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new CliError(
      'no AWS credentials found: configure a profile (aws configure, AWS_PROFILE) or set AWS_ACCESS_KEY_ID and ' +
        "AWS_SECRET_ACCESS_KEY — or try the local demo: 'npx fleetscan demo', then add --local",
      EXIT_FAILURE,
      { cause: error },
    );
  }
  if (/region is missing|region not accepted/i.test(message)) {
    return new CliError('no AWS region configured: pass --region or set AWS_REGION', EXIT_FAILURE, { cause: error });
  }
  if (name === 'ResourceNotFoundException' && context.table !== undefined) {
    const where = context.origin === undefined ? '' : ` (from ${context.origin})`;
    return new CliError(
      `no such table: ${clean(context.table, 255)}${where} — check --table, ${CLI_ENV.table} and --region`,
      EXIT_FAILURE,
      { cause: error },
    );
  }
  if (name === 'ValidationError' && context.stack !== undefined && /does not exist/i.test(message)) {
    return new CliError(
      `no such stack: ${clean(context.stack, 128)} — deploy it (npx cdk deploy), pass --stack NAME or --table NAME`,
      EXIT_FAILURE,
      { cause: error },
    );
  }
  if (
    name === 'UnrecognizedClientException' ||
    name === 'InvalidClientTokenId' ||
    name === 'ExpiredTokenException' ||
    name === 'ExpiredToken'
  ) {
    return new CliError(`AWS rejected the credentials: ${message}`, EXIT_FAILURE, { cause: error });
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CliError(`access denied: ${message}`, EXIT_FAILURE, { cause: error });
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || name === 'TimeoutError') {
    const where = context.endpoint ?? 'AWS';
    return new CliError(`cannot reach ${clean(where, 200)}: ${message}`, EXIT_FAILURE, { cause: error });
  }
  return null;
}

/** Runs `work`, turning recognised AWS errors into CliErrors. */
export async function explained<T>(work: () => Promise<T>, context: Parameters<typeof explainAwsError>[1]): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw explainAwsError(error, context) ?? error;
  }
}

export function quietSdk(): void {
  // The SDK's Node-version notice is for whoever maintains this package, not for someone reading their history.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

async function tableFromStack(stack: string, region: string | undefined): Promise<string> {
  // Loaded only when the table has to be looked up.
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient(region === undefined ? {} : { region });
  try {
    const result = await explained(() => client.send(new DescribeStacksCommand({ StackName: stack })), { stack });
    const outputs = result.Stacks?.[0]?.Outputs ?? [];
    const table = outputs.find((output) => output.OutputKey === OUTPUT_KEYS.tableName)?.OutputValue;
    if (table === undefined || table === '') {
      throw new CliError(
        `stack ${clean(stack, 128)} has no ${OUTPUT_KEYS.tableName} output — is it a fleetscan stack? Pass --table NAME`,
        EXIT_FAILURE,
      );
    }
    return table;
  } finally {
    client.destroy();
  }
}

async function resolveTable(
  options: SourceOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ table: string; origin: TableOrigin }> {
  if (options.table !== undefined) return { table: options.table, origin: 'flag' };
  const fromEnv = env[CLI_ENV.table];
  if (fromEnv !== undefined && fromEnv !== '') return { table: fromEnv, origin: 'env' };
  return { table: await tableFromStack(options.stack, options.region), origin: 'stack' };
}

const ORIGIN_TEXT: Record<TableOrigin, (stack: string) => string> = {
  flag: () => '--table',
  env: () => CLI_ENV.table,
  stack: (stack) => `stack ${stack}`,
};

/** Opens the history for reading. Close it when done (the local store holds a lock on its directory). */
export async function openHistory(
  options: SourceOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<HistorySource> {
  quietSdk();
  if (options.local) return openLocalHistory(options.dataDir);
  const { table, origin } = await resolveTable(options, env);
  // The DynamoDB SDK and the store are loaded only once the history is opened (not for usage errors).
  const { openDynamoHistory } = await import('./dynamo-reader.ts');
  const reader = openDynamoHistory({
    tableName: table,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  });
  const context = {
    table,
    origin: ORIGIN_TEXT[origin](options.stack),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  };
  return {
    reader: withExplainedErrors(reader.reader, context),
    label: `table ${clean(table, 255)}`,
    tableName: table,
    clearNode: (nodeId) => explained(() => reader.reader.clearNode(nodeId), context),
    close: async () => reader.close(),
  };
}

/** The demo's data directory, opened read-mostly: error when the demo never ran there. */
export async function openLocalHistory(dataDir: string): Promise<HistorySource> {
  const storePath = path.join(dataDir, STORE_DIR);
  try {
    await access(storePath);
  } catch {
    throw new CliError(
      `no local demo data in ${clean(shortPath(dataDir), 200)}: run 'npx fleetscan demo' first (or pass --data-dir)`,
      EXIT_FAILURE,
    );
  }
  const { openLocalStore } = await import('../local/store.ts');
  const store = await openLocalStore({ dataDir, create: false }).catch((error: unknown) => {
    throw localStoreError(error, dataDir);
  });
  return {
    reader: store.store,
    label: `the local demo data in ${clean(shortPath(dataDir), 200)}`,
    tableName: store.tableName,
    clearNode: (nodeId) => store.store.clearNode(nodeId),
    close: () => store.close(),
  };
}

/** A path as the user would type it from here: relative when it is below the working directory. */
export function shortPath(dir: string): string {
  const shown = path.relative(process.cwd(), dir);
  return shown === '' ? '.' : shown.startsWith('..') || path.isAbsolute(shown) ? dir : shown;
}

/** The embedded store's failures that have a cause a user can fix. */
export function localStoreError(error: unknown, dataDir: string): Error {
  if (error instanceof StoreLockedError) {
    return new CliError(
      `the local demo data in ${clean(shortPath(dataDir), 200)} is in use by another fleetscan process; wait for it to finish`,
      EXIT_FAILURE,
      { cause: error },
    );
  }
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } } | null)?.cause?.code ??
    (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if ((typeof code === 'string' && code.startsWith('LEVEL_')) || /database failed to open|corrupt/i.test(message)) {
    return new CliError(
      `the local demo data in ${clean(shortPath(dataDir), 200)} cannot be read (${clean(message.split('\n')[0], 120)}): ` +
        "run 'fleetscan demo --reset' to start over",
      EXIT_FAILURE,
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Wraps every reader call so AWS errors come out as one explained line. */
function withExplainedErrors(reader: HistoryReader, context: Parameters<typeof explainAwsError>[1]): HistoryReader {
  return {
    listScans: (page) => explained(() => reader.listScans(page), context),
    getScan: (scanId) => explained(() => reader.getScan(scanId), context),
    listScanNodes: (scanId, page) => explained(() => reader.listScanNodes(scanId, page), context),
    listProblemNodes: (scanId, page) => explained(() => reader.listProblemNodes(scanId, page), context),
    nodeHistory: (nodeId, options) => explained(() => reader.nodeHistory(nodeId, options), context),
    listRemediations: (options) => explained(() => reader.listRemediations(options), context),
    getNodeState: (nodeId) => explained(() => reader.getNodeState(nodeId), context),
    getNodeStates: (nodeIds) => explained(() => reader.getNodeStates(nodeIds), context),
    resolveNode: (name) => explained(() => reader.resolveNode(name), context),
  };
}
