/**
 * `fleetscan scan --now [--wait]`: starts a scan through the deployed scan function — the same code the schedule
 * runs, with its role — and with `--wait` follows it through the history table (the scan item's status and
 * progress) until it ends, then prints its summary with the history commands' renderers.
 *
 * The Lambda client is loaded only here, and sends one attempt only: a retried Invoke could start a second scan.
 */
import { DEFAULT_STACK_NAME, EVENT_SOURCES } from '../config/contracts.ts';
import type { ScanRecord } from '../runtime/ports.ts';
import { SCAN_NOW } from './commands.ts';
import { describeDeployedStack, requireOutputs } from './deployed-stack.ts';
import { CliError } from './errors.ts';
import { clean, painter } from './format.ts';
import type { Io } from './io.ts';
import { parseFlags, shown, stringFlag } from './kit/args.ts';
import { emit } from './kit/emit.ts';
import { isStructured, type OutputOptions, resolveOutput, structured } from './kit/output.ts';
import { nodeRecordColumns } from './render/nodes.ts';
import { renderScanHeader, SHORT_ID } from './render/scans.ts';
import { EXIT_FAILURE, explainAwsError, explained, openHistory, quietSdk } from './table-source.ts';
import { nodeRecordJson, scanJson } from './views.ts';

/** How often --wait reads the scan item (one GetItem). */
export const POLL_SECONDS = 5;
/** Problem nodes printed after the summary; 'fleetscan scan SCAN_ID --limit N' shows more. */
const PROBLEMS_SHOWN = 20;
/** How long past its collectAfter a scan is waited for by default: the sweep's next ticks. */
const GRACE_MS = 15 * 60_000;

export interface ScanNowDeps {
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
}

const REAL: ScanNowDeps = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => new Date(),
};

interface ScanNowOptions {
  readonly wait: boolean;
  readonly timeoutMs?: number;
  readonly output: OutputOptions;
  readonly stack: string;
  readonly region?: string;
}

const DURATION = /^([0-9]+)(s|m|h)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

function parse(args: readonly string[], io: Io): ScanNowOptions {
  const { flags } = parseFlags('scan --now', args, SCAN_NOW.flags, SCAN_NOW.positionals);
  const output = resolveOutput(flags, io, ['table', 'json', 'yaml']);
  const timeout = stringFlag(flags.timeout);
  let timeoutMs: number | undefined;
  if (timeout !== undefined) {
    const match = DURATION.exec(timeout);
    if (match === null || Number(match[1]) === 0) {
      throw new CliError(`--timeout: '${shown(timeout, 20)}' is not a duration such as 90s, 30m or 2h`);
    }
    timeoutMs = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  if (flags.wait !== true && timeoutMs !== undefined) throw new CliError('--timeout is for --wait: add --wait');
  const region = stringFlag(flags.region);
  return {
    wait: flags.wait === true,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    output,
    stack: stringFlag(flags.stack) ?? DEFAULT_STACK_NAME,
    ...(region === undefined ? {} : { region }),
  };
}

/** What the scan function answers (lambdas/scan/handler.ts ScanResponse), or its error. */
async function invokeScan(functionName: string, region: string, stack: string): Promise<string> {
  const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({ region, maxAttempts: 1 });
  try {
    const result = await explained(
      async () => {
        try {
          return await client.send(
            new InvokeCommand({
              FunctionName: functionName,
              InvocationType: 'RequestResponse',
              Payload: new TextEncoder().encode(JSON.stringify({ source: EVENT_SOURCES.manual })),
            }),
          );
        } catch (error) {
          const explainedError = explainAwsError(error, { stack });
          if (explainedError !== null) throw explainedError;
          const message = error instanceof Error ? error.message : String(error);
          throw new CliError(
            `could not invoke the scan function: ${clean(message.split('\n')[0] ?? message, 200)} — check 'fleetscan scans' before trying again`,
            EXIT_FAILURE,
            { cause: error },
          );
        }
      },
      { stack },
    );
    const text = result.Payload === undefined ? '' : new TextDecoder().decode(result.Payload);
    let payload: { scanId?: unknown; errorMessage?: unknown } = {};
    try {
      payload = JSON.parse(text || '{}') as typeof payload;
    } catch {
      payload = {};
    }
    if (result.FunctionError !== undefined) {
      const why = typeof payload.errorMessage === 'string' ? payload.errorMessage : result.FunctionError;
      throw new CliError(
        `the scan function failed: ${clean(why.split('\n')[0] ?? why, 200)} — its log group has the details`,
        EXIT_FAILURE,
      );
    }
    if (typeof payload.scanId !== 'string' || payload.scanId === '') {
      throw new CliError('the scan function started no scan — its log group says why', EXIT_FAILURE);
    }
    return payload.scanId;
  } finally {
    client.destroy();
  }
}

function progressText(scan: ScanRecord | null): string {
  const { collected, targeted } = scan?.progress ?? { collected: 0, targeted: null };
  // Nothing listed yet: no shard has told how many nodes its command targeted.
  if (collected === 0 && targeted === null) return 'waiting for the nodes to answer';
  return targeted === null ? `${collected} nodes collected` : `${collected}/${targeted} nodes collected`;
}

export async function scanNow(args: readonly string[], io: Io, deps: ScanNowDeps = REAL): Promise<number> {
  const options = parse(args, io);
  const { format } = options.output;
  const paint = painter(options.output.color);
  quietSdk();
  const stack = await describeDeployedStack(options.stack, options.region);
  const outputs = requireOutputs(stack, ['scanFunctionName', 'tableName']);
  const scanId = await invokeScan(outputs.scanFunctionName, stack.region, stack.name);
  if (!options.wait) {
    if (isStructured(format)) io.stdout(structured({ scanId, status: 'RUNNING' }, format));
    else {
      io.stdout(
        `scan ${scanId} started: the nodes answer within the delivery timeout.\n` +
          `Follow it: 'fleetscan scan --now --wait' next time, or 'fleetscan scan ${scanId.slice(0, 8)}'\n`,
      );
    }
    return 0;
  }

  const source = await openHistory(
    { local: false, dataDir: '.', stack: stack.name, table: outputs.tableName, region: stack.region },
    io.env,
  );
  try {
    const started = deps.now().getTime();
    let deadline = options.timeoutMs === undefined ? null : started + options.timeoutMs;
    let lastLine = '';
    let scan: ScanRecord | null = null;
    for (;;) {
      scan = await source.reader.getScan(scanId);
      if (scan !== null && scan.status !== 'RUNNING') break;
      // The scan item says when the sweep collects it at the latest; wait that long and a little more.
      if (deadline === null && scan !== null) deadline = Date.parse(scan.collectAfter) + GRACE_MS;
      const line = `scan ${scanId}  RUNNING: ${progressText(scan)}`;
      if (line !== lastLine && !isStructured(format)) {
        io.stderr(`${line}\n`);
        lastLine = line;
      }
      if (deps.now().getTime() >= (deadline ?? started + GRACE_MS)) {
        throw new CliError(
          `scan ${scanId} is still RUNNING after ${Math.round((deps.now().getTime() - started) / 60_000)} min ` +
            `(${progressText(scan)}); 'fleetscan scan ${scanId.slice(0, 8)}' shows it once it ends`,
          EXIT_FAILURE,
        );
      }
      await deps.sleep(POLL_SECONDS * 1000);
    }
    const problems = (await source.reader.listProblemNodes(scan.scanId, { limit: PROBLEMS_SHOWN })).items;
    const code = scan.status === 'COMPLETED' ? 0 : EXIT_FAILURE;
    emit(io, options.output, paint, {
      view: () => ({ scan: scanJson(scan), nodes: problems.map(nodeRecordJson) }),
      columns: nodeRecordColumns(paint),
      rows: problems,
      above: renderScanHeader(scan, paint),
      below: [`all of its nodes: 'fleetscan scan ${scan.scanId.slice(0, SHORT_ID)}'`],
    });
    return code;
  } finally {
    await source.close();
  }
}

export function run(args: readonly string[], io: Io): Promise<number> {
  return scanNow(args, io);
}
