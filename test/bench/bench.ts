/**
 * `npm run bench [-- --nodes 1000,10000] [--scans K] [--shard-size N] [--deadline-ms MS] [--ssm-rate R] [--no-naive]
 * [--no-extras] [--json]`
 *
 * Drives fleetscan's real pipeline — startScan and the sweep as the scan function runs them, then every collect
 * invocation (each shard's completion, each hand-off before a deadline, the scan's own work, each remediate
 * command) with the real SSM adapter over HTTP to the SSM simulator and the real DynamoDB store against dynalite —
 * for K scans of each fleet size, and beside it a competent simple collector (Details listing, BatchWriteItem, no
 * state) as the baseline. Every SSM and DynamoDB request is counted on the server side; DynamoDB's write and read
 * units, item sizes and rewritten records are measured on the wire (dynamo-meter.ts); each scan's collector runs in
 * a process of its own (wall, CPU, peak RSS). Prints per-scan figures, the Lambda bundles, the gather script, the
 * steady-state cost per 1,000 nodes a month with its arithmetic (cost.ts), a model of 1,000,000 nodes
 * (scale-model.ts) and PASS/FAIL against the targets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { JOURNAL_DAYS } from '../../lib/adapters/dynamo/schema.ts';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import { startDynalite } from '../support/dynalite.ts';
import { type Behaviour, Fleet, fleetscanDocuments, SsmSimulator } from '../support/ssm-simulator/index.ts';
import { type BenchArgs, BenchUsageError, parseArgs, tagValues } from './args.ts';
import {
  type Bytes,
  type CostResult,
  type FunctionUse,
  fixedMonthly,
  kindName,
  monthlyCost,
  num,
  type ScanUse,
  usd,
} from './cost.ts';
import {
  DynamoMeter,
  type Lifetime,
  type StoredKind,
  storedByKind,
  type WireItem,
  type WriteStats,
} from './dynamo-meter.ts';
import type { BenchJob, BenchMode, RunnerResult } from './runner.ts';
import { type ScaleModel, scaleModel } from './scale-model.ts';
import { sealHeapBytesPerRow } from './seal-memory.ts';

// The SDK warns once per process that Node 20 support ends in 2027; the bench is not the place to say so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}.tmp/bench`;
const TAG_KEY = 'fleetscan';
const DOC_PREFIX = 'fleetscan';
const SCAN_INTERVAL_MS = 15 * 60 * 1000;
/** The deployed functions' memory (lib/infra/scanner.ts, lib/infra/function.ts). */
const COLLECT_MEMORY_MB = 512;
const SCAN_MEMORY_MB = 256;

/* ---- targets ---- */
const TARGET_COLLECT_CALLS_PER_NODE = 0.065;
/**
 * From this many nodes a scan's own calls and items (its remediate commands' listings, shard, scan and command items)
 * no longer weigh in per-node figures: the collect-calls target applies, and the 1,000,000-node model is drawn.
 */
const LARGE_FLEET_NODES = 10_000;
const TARGET_MONTHLY_USD = 1.5;
const TARGET_RSS_MB = COLLECT_MEMORY_MB;
const TARGET_BUNDLE_BYTES = 250 * 1024;

/**
 * The fleet every size is measured on: mostly healthy, with the troubles a real fleet shows in realistic shares;
 * every node prints a version-2 gather report, as the deployed gather script does. `large` nodes (32 NUMA nodes)
 * overflow the listing's 2,500 bytes and cost one GetCommandInvocation each.
 */
export const MIX_SHARES: Readonly<Partial<Record<Behaviour, number>>> = {
  fragmented: 0.03,
  'low-memory': 0.01,
  failed: 0.005,
  'delivery-timed-out': 0.003,
  large: 0.002,
  unparsable: 0.001,
  hostile: 0.001,
};

function mixFor(nodes: number): Partial<Record<Behaviour, number>> {
  return Object.fromEntries(
    Object.entries(MIX_SHARES).map(([behaviour, share]) => [behaviour, Math.round((share ?? 0) * nodes)]),
  );
}

/* ---- one scan, one run ---- */

/** What one scan did, measured. */
export interface ScanFigures {
  readonly scan: number;
  readonly stored: number;
  readonly commands: number;
  readonly collectInvocations: number;
  readonly invocations: RunnerResult['invocations'];
  readonly handOffs: number;
  /** Node records written more than once for the same scan (same kind of item), counted at the meter. */
  readonly recordsRewritten: number;
  readonly recordsWritten: Record<string, number>;
  readonly apiCalls: Record<string, number>;
  readonly collectCalls: number;
  readonly collectCallsPerNode: number;
  readonly callsPerNode: number;
  readonly throttled: number;
  readonly errors: Record<string, number>;
  /** Write units by item kind (table + index copies) and read units by what was read. */
  readonly writeUnits: Record<string, number>;
  readonly readUnits: Record<string, number>;
  readonly writeUnitsPerNode: number;
  readonly readUnitsPerNode: number;
  /** Items written by kind: writes made and refused, units in the table and its indexes, bytes, the largest. */
  readonly writes: Record<string, WriteStats>;
  /** Bytes this scan added to the table by lifetime (table + index copies, 100 B per item per copy), by kind. */
  readonly addedBytes: Record<Lifetime, Record<string, Bytes>>;
  /** Bytes kept for good (node states, host names) after this scan: the whole fleet's. */
  readonly standingBytes: Bytes;
  readonly functions: FunctionUse[];
  readonly notifications: number;
  readonly logBytes: number;
  readonly remediations: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly loadedRssMb: number;
  readonly notes: readonly string[];
}

export interface RunResult {
  readonly kind: 'run';
  readonly mode: BenchMode;
  readonly nodes: number;
  readonly scans: number;
  readonly shardSize: number;
  readonly deadlineMs: number;
  /** The least any scan stored (every scan should store every node). */
  readonly stored: number;
  readonly commands: number;
  readonly collectInvocations: number;
  readonly handOffs: number;
  readonly recordsRewritten: number;
  /** The steady-state scans' worst (the first scan's alone when there is one scan). */
  readonly collectCallsPerNode: number;
  /** Per node and scan, steady state: write and read units, bytes kept, Lambda GB-s, publishes, log bytes. */
  readonly perNode: CostResult['perNode'];
  /** Steady-state variable cost per 1,000 nodes a month, by item. */
  readonly costPer1000: { readonly monthlyUsd: number; readonly items: CostResult['items'] };
  readonly perScan: readonly ScanFigures[];
  /** Heap a sealing pass holds per node, measured on the run's journal (null without one). */
  readonly sealHeapBytesPerRow: number | null;
}

async function bundleRunner(): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const outfile = `${OUT}/runner.mjs`;
  await build({
    entryPoints: [`${ROOT}test/bench/runner.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
  });
  return outfile;
}

function runChild(runner: string, job: BenchJob): Promise<RunnerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner], {
      env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        const why = err.trim().split('\n').slice(0, 8).join('\n');
        reject(new Error(`${job.mode} scan ${job.scan} at ${job.nodes} nodes exited ${code}: ${why}`));
        return;
      }
      resolve(JSON.parse(last) as RunnerResult);
    });
  });
}

type TableClient = Awaited<ReturnType<typeof startDynalite>>['client'];

/** Every item of the table, read around the meter (the bench's own look, not the collector's). */
async function tableItems(client: TableClient, tableName: string): Promise<WireItem[]> {
  const out: WireItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start as never }));
    out.push(...((page.Items ?? []) as unknown as WireItem[]));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

type Stored = Record<Lifetime, Record<string, StoredKind>>;

function added(after: Stored, before: Stored): Record<Lifetime, Record<string, Bytes>> {
  const out: Record<Lifetime, Record<string, Bytes>> = { short: {}, retained: {}, standing: {} };
  for (const lifetime of ['short', 'retained', 'standing'] as const) {
    for (const [kind, now] of Object.entries(after[lifetime])) {
      const was = before[lifetime][kind];
      const table = now.tableBytes - (was?.tableBytes ?? 0);
      const index = now.indexBytes - (was?.indexBytes ?? 0);
      if (table !== 0 || index !== 0) out[lifetime][kind] = { table, index };
    }
  }
  return out;
}

function total(bytes: Readonly<Record<string, Bytes>>): Bytes {
  return Object.values(bytes).reduce((sum, b) => ({ table: sum.table + b.table, index: sum.index + b.index }), {
    table: 0,
    index: 0,
  });
}

const sum = (record: Readonly<Record<string, number>>) => Object.values(record).reduce((a, b) => a + b, 0);

/**
 * Calls that move outputs from SSM into the table, per node: ListCommandInvocations + GetCommandInvocation +
 * BatchWriteItem + items put one by one that hold node records (journal pages; none for the simple collector).
 */
function collectCalls(apiCalls: Record<string, number>, singlePuts: number): number {
  return (
    (apiCalls.ListCommandInvocations ?? 0) +
    (apiCalls.GetCommandInvocation ?? 0) +
    (apiCalls.BatchWriteItem ?? 0) +
    singlePuts
  );
}

async function runMode(runner: string, mode: BenchMode, nodes: number, args: BenchArgs): Promise<RunResult> {
  const db = await startDynalite();
  const meter = await DynamoMeter.start(db.endpoint);
  const values = tagValues(nodes, args.shardSize);
  const fleet = Fleet.build({ size: nodes, seed: 2025, mix: mixFor(nodes), reportVersion: 2 });
  for (const node of fleet.nodes) node.tags[TAG_KEY] = values[node.index % values.length] as string;
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const faults =
    args.ssmRate === undefined
      ? {}
      : {
          throttle: {
            bucket: {
              ratePerSecond: args.ssmRate,
              burst: args.ssmRate,
              operations: ['ListCommandInvocations', 'GetCommandInvocation'],
            },
          },
        };
  const sim = await SsmSimulator.start({ fleet, documents: fleetscanDocuments(DOC_PREFIX), faults, clock: { now } });
  const perScan: ScanFigures[] = [];
  let items: WireItem[] = [];
  try {
    let before = storedByKind([], 0);
    for (let scan = 1; scan <= args.scans; scan += 1) {
      offsetMs = (scan - 1) * SCAN_INTERVAL_MS;
      meter.reset();
      sim.resetStats();
      if (!args.json) process.stderr.write(`  ${mode} ${num(nodes)} nodes, scan ${scan}/${args.scans}...\n`);
      const child = await runChild(runner, {
        mode,
        nodes,
        scan,
        clockOffsetMs: offsetMs,
        deadlineMs: args.deadlineMs,
        nodesPerCommand: args.shardSize,
        ssmEndpoint: sim.endpoint,
        dynamoEndpoint: meter.endpoint,
        tableName: db.tableName,
        tagKey: TAG_KEY,
        tagValues: values,
        gatherDocument: `${DOC_PREFIX}-Gather`,
        remediateDocument: `${DOC_PREFIX}-Remediate`,
      });
      const ssm = sim.stats();
      const dynamo = meter.snapshot();
      items = await tableItems(db.client, db.tableName);
      const after = storedByKind(items, Math.floor(now().getTime() / 1000));
      const apiCalls = { ...ssm.apiCalls, ...dynamo.apiCalls };
      const writeUnits = Object.fromEntries(
        Object.entries(dynamo.writes).map(([kind, stats]) => [kind, stats.tableUnits + stats.indexUnits]),
      );
      const readUnits = Object.fromEntries(Object.entries(dynamo.reads).map(([label, stats]) => [label, stats.units]));
      const singlePuts = (dynamo.writes.JRNL?.single ?? 0) + (dynamo.writes.NODE?.single ?? 0);
      const collectInvocations = child.invocations.gather + child.invocations.scan + child.invocations.remediate;
      const standing = after.standing;
      perScan.push({
        scan,
        stored: child.stored,
        commands: child.commands,
        collectInvocations,
        invocations: child.invocations,
        handOffs: child.handOffs,
        recordsRewritten: sum(dynamo.recordsRewritten),
        recordsWritten: dynamo.recordsWritten,
        apiCalls,
        collectCalls: collectCalls(apiCalls, singlePuts),
        collectCallsPerNode: collectCalls(apiCalls, singlePuts) / nodes,
        callsPerNode: sum(apiCalls) / nodes,
        throttled: sum(ssm.throttled),
        errors: { ...ssm.errors, ...dynamo.errors },
        writeUnits,
        readUnits,
        writeUnitsPerNode: sum(writeUnits) / nodes,
        readUnitsPerNode: sum(readUnits) / nodes,
        writes: dynamo.writes,
        addedBytes: added(after, before),
        standingBytes: total(
          Object.fromEntries(
            Object.entries(standing).map(([kind, s]) => [kind, { table: s.tableBytes, index: s.indexBytes }]),
          ),
        ),
        functions: [
          {
            name: 'scan (start + sweep)',
            memoryMb: SCAN_MEMORY_MB,
            invocations: 1,
            cpuMs: child.scanCpuMs,
            ssmRoundTrips: child.calls.scan.ssmRoundTrips,
            dynamodbRoundTrips: child.calls.scan.dynamodbRoundTrips,
          },
          {
            name: 'collect',
            memoryMb: COLLECT_MEMORY_MB,
            invocations: collectInvocations,
            cpuMs: Math.max(0, child.cpuMs - child.scanCpuMs),
            ssmRoundTrips: child.calls.collect.ssmRoundTrips,
            dynamodbRoundTrips: child.calls.collect.dynamodbRoundTrips,
          },
        ],
        notifications: child.notifications.count,
        logBytes: child.logs.bytes,
        remediations: child.remediations,
        wallMs: Math.round(child.wallMs),
        cpuMs: Math.round(child.cpuMs),
        peakRssMb: Math.round(child.peakRssMb * 10) / 10,
        loadedRssMb: Math.round(child.loadedRssMb * 10) / 10,
        notes: [...child.notes, ...(child.stored !== nodes ? [`stored ${child.stored} of ${nodes} nodes`] : [])],
      });
      before = after;
    }
  } finally {
    await sim.close();
    await meter.close();
    await db.stop();
  }
  const steady = steadyState(perScan);
  const cost = costOf(perScan);
  return {
    kind: 'run',
    mode,
    nodes,
    scans: args.scans,
    shardSize: args.shardSize,
    deadlineMs: args.deadlineMs,
    stored: Math.min(...perScan.map((s) => s.stored)),
    commands: perScan.reduce((all, s) => all + s.commands, 0),
    collectInvocations: perScan.reduce((all, s) => all + s.collectInvocations, 0),
    handOffs: perScan.reduce((all, s) => all + s.handOffs, 0),
    recordsRewritten: perScan.reduce((all, s) => all + s.recordsRewritten, 0),
    collectCallsPerNode: Math.max(...steady.scans.map((s) => s.collectCallsPerNode)),
    perNode: cost.perNode,
    costPer1000: { monthlyUsd: cost.monthlyUsd, items: cost.items },
    perScan,
    sealHeapBytesPerRow: mode === 'fleetscan' ? sealHeapBytesPerRow(items) : null,
  };
}

/** The scans after the first (the first alone when there is one), averaged into one scan's use. */
function steadyState(perScan: readonly ScanFigures[]): {
  scans: readonly ScanFigures[];
  use: ScanUse;
  standing: Bytes;
} {
  const scans = perScan.length > 1 ? perScan.slice(1) : perScan;
  const n = scans.length;
  const average = (pick: (s: ScanFigures) => Readonly<Record<string, number>>) => {
    const out: Record<string, number> = {};
    for (const s of scans) for (const [key, value] of Object.entries(pick(s))) out[key] = (out[key] ?? 0) + value / n;
    return out;
  };
  const bytes = (lifetime: Lifetime): Bytes => {
    const all = scans.map((s) => total(s.addedBytes[lifetime]));
    return {
      table: all.reduce((a, b) => a + b.table, 0) / n,
      index: all.reduce((a, b) => a + b.index, 0) / n,
    };
  };
  const first = scans[0] as ScanFigures;
  const functions = first.functions.map((fn, index) => {
    const mean = (pick: (f: FunctionUse) => number) =>
      scans.reduce((all, s) => all + pick(s.functions[index] as FunctionUse), 0) / n;
    return {
      name: fn.name,
      memoryMb: fn.memoryMb,
      invocations: mean((f) => f.invocations),
      cpuMs: mean((f) => f.cpuMs),
      ssmRoundTrips: mean((f) => f.ssmRoundTrips),
      dynamodbRoundTrips: mean((f) => f.dynamodbRoundTrips),
    };
  });
  const last = perScan.at(-1) as ScanFigures;
  return {
    scans,
    use: {
      nodes: last.stored > 0 ? last.stored : 1,
      writeUnits: average((s) => s.writeUnits),
      readUnits: average((s) => s.readUnits),
      retainedBytes: bytes('retained'),
      shortBytes: bytes('short'),
      functions,
      snsPublishes: scans.reduce((all, s) => all + s.notifications, 0) / n,
      logBytes: scans.reduce((all, s) => all + s.logBytes, 0) / n,
    },
    standing: last.standingBytes,
  };
}

/* ---- bundles, cold start, gather script ---- */

interface BundleResult {
  readonly name: string;
  readonly bytes: number;
  readonly coldImportMs: number | null;
  /** The external SDK packages the bundle imports, each imported alone in a fresh process: ms and RSS added. */
  readonly sdkImports: readonly { readonly module: string; readonly ms: number; readonly rssMb: number }[];
  readonly error: string | null;
}

/** Imports `module` alone in a fresh node: the median time over 3 runs, and the RSS it adds over a bare process. */
function importCost(module: string): { ms: number; rssMb: number } {
  const runs = Array.from({ length: 3 }, () => {
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const r=process.memoryUsage.rss();const t=performance.now();await import(${JSON.stringify(module)});console.log(performance.now()-t, (process.memoryUsage.rss()-r)/2**20)`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const [ms = Number.NaN, rss = Number.NaN] = probe.stdout.trim().split(' ').map(Number);
    return { ms, rss };
  });
  return { ms: median(runs.map((r) => r.ms)), rssMb: median(runs.map((r) => r.rss)) };
}

async function measureBundle(name: string, entry: string): Promise<BundleResult> {
  const outfile = `${OUT}/bundles/${name}.mjs`;
  try {
    const result = await build({
      entryPoints: [`${ROOT}${entry}`],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      external: ['@aws-sdk/*'],
      // ESM bundles of CommonJS dependencies need a require().
      banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
      metafile: true,
      logLevel: 'error',
    });
    const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
    const externals = [
      ...new Set(
        Object.values(result.metafile.outputs).flatMap((output) =>
          output.imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path),
        ),
      ),
    ].sort();
    const sdkImports = externals.map((module) => ({ module, ...importCost(module) }));
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const probe = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const t=performance.now();await import(${JSON.stringify(outfile)});console.log(performance.now()-t)`,
        ],
        { env: { ...process.env, ...LAMBDA_ENV }, encoding: 'utf8' },
      );
      if (probe.status !== 0) {
        return {
          name,
          bytes,
          coldImportMs: null,
          sdkImports,
          error: (probe.stderr || '').trim().split('\n').slice(0, 3).join(' '),
        };
      }
      times.push(Number(probe.stdout.trim().split('\n').pop()));
    }
    return { name, bytes, coldImportMs: median(times), sdkImports, error: null };
  } catch (error) {
    return {
      name,
      bytes: 0,
      coldImportMs: null,
      sdkImports: [],
      error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
    };
  }
}

/** What the functions read at cold start (lib/infra/function.ts FUNCTION_ENV), with harmless values. */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  TABLE_NAME: 'fleetscan-history',
  TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:fleetscan',
  GATHER_DOCUMENT: 'fleetscan-Gather',
  REMEDIATE_DOCUMENT: 'fleetscan-Remediate',
  COLLECT_FUNCTION_NAME: 'fleetscan-collect',
  AWS_LAMBDA_FUNCTION_NAME: 'fleetscan-collect',
  POWERTOOLS_SERVICE_NAME: 'fleetscan',
  POWERTOOLS_METRICS_NAMESPACE: 'Fleetscan',
  FLEETSCAN_CONFIG: '{}',
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function gatherScriptMs(runs: number): { medianMs: number; runs: number; bytes: number } | { error: string } {
  // As SSM runs it: the document parameter `since` substituted (0: the whole kernel log of this boot).
  const script = join(mkdtempSync(join(tmpdir(), 'fleetscan-gather-')), 'gather.sh');
  writeFileSync(script, readFileSync(`${ROOT}lib/infra/documents/gather.sh`, 'utf8').replace(/\{\{ since \}\}/g, '0'));
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i += 1) {
    const t = performance.now();
    const run = spawnSync('bash', [script], { encoding: 'utf8' });
    times.push(performance.now() - t);
    if (run.error) return { error: run.error.message };
    bytes = Buffer.byteLength(run.stdout);
  }
  return { medianMs: median(times), runs, bytes };
}

/* ---- printing ---- */

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < 1 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

const OPERATIONS = [
  'SendCommand',
  'ListCommandInvocations',
  'GetCommandInvocation',
  'ListCommands',
  'BatchWriteItem',
  'PutItem',
  'UpdateItem',
  'BatchGetItem',
  'GetItem',
  'Query',
];

function printRuns(results: readonly RunResult[]): void {
  const scans = results.flatMap((run) => run.perScan.map((scan) => ({ run, scan })));
  const used = OPERATIONS.filter((op) => scans.some(({ scan }) => (scan.apiCalls[op] ?? 0) > 0));
  const others = [...new Set(scans.flatMap(({ scan }) => Object.keys(scan.apiCalls)))].filter(
    (op) => !OPERATIONS.includes(op),
  );
  const throttling = scans.some(({ scan }) => scan.throttled > 0);
  table(
    [
      'collector',
      'nodes',
      'scan',
      'stored',
      'commands',
      'invocations',
      ...used,
      ...others,
      ...(throttling ? ['throttled'] : []),
      'collect/node',
      'all/node',
      'rewritten',
      'WRU/node',
      'RRU/node',
      'kept B/node',
      'wall s',
      'CPU s',
      'peak RSS MB',
    ],
    scans.map(({ run, scan }) => {
      const kept = total(scan.addedBytes.retained);
      return [
        run.mode === 'simple' ? 'simple (baseline)' : 'fleetscan',
        fmt(run.nodes),
        String(scan.scan),
        fmt(scan.stored),
        fmt(scan.commands),
        fmt(scan.collectInvocations),
        ...[...used, ...others].map((op) => fmt(scan.apiCalls[op] ?? 0)),
        ...(throttling ? [fmt(scan.throttled)] : []),
        fmt(scan.collectCallsPerNode, 4),
        fmt(scan.callsPerNode, 4),
        fmt(scan.recordsRewritten),
        fmt(scan.writeUnitsPerNode, 3),
        fmt(scan.readUnitsPerNode, 3),
        fmt((kept.table + kept.index) / run.nodes, 1),
        fmt(scan.wallMs / 1000, 1),
        fmt(scan.cpuMs / 1000, 1),
        fmt(scan.peakRssMb, 1),
      ];
    }),
  );
}

function printWrites(run: RunResult): void {
  const last = run.perScan.at(-1) as ScanFigures;
  const kinds = Object.keys(last.writeUnits).sort((a, b) => (last.writeUnits[b] ?? 0) - (last.writeUnits[a] ?? 0));
  console.log(
    `  ${fmt(run.nodes)} nodes, scan ${last.scan}: ${kinds.map((kind) => `${kindName(kind)} ${fmt(last.writeUnits[kind] ?? 0, 1)} WRU (${fmt(last.writes[kind]?.writes ?? 0)} writes, largest item ${fmt(last.writes[kind]?.maxBytes ?? 0)} B)`).join(', ')}`,
  );
  const kept = last.addedBytes.retained;
  console.log(
    `  ${fmt(run.nodes)} nodes, scan ${last.scan} left for ${DEFAULT_CONFIG.retentionDays} days: ${Object.entries(kept)
      .map(([kind, b]) => `${kindName(kind)} ${fmt(b.table + b.index)} B`)
      .join(', ')}; for ${JOURNAL_DAYS} days: ${Object.entries(last.addedBytes.short)
      .map(([kind, b]) => `${kindName(kind)} ${fmt(b.table + b.index)} B`)
      .join(', ')}`,
  );
}

function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'FAIL';
}

interface Target {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

function targetsOf(
  args: BenchArgs,
  runs: readonly RunResult[],
  cost: CostResult | null,
  bundles: readonly BundleResult[],
): Target[] {
  const targets: Target[] = [];
  const fleetscan = runs.filter((run) => run.mode === 'fleetscan');
  for (const run of fleetscan) {
    const at = `${fmt(run.nodes)} nodes`;
    targets.push({
      name: `${at}: every scan stores every node`,
      pass: run.perScan.every((scan) => scan.stored === run.nodes),
      detail: `stored ${run.perScan.map((scan) => fmt(scan.stored)).join(', ')}`,
    });
    const shards = Math.ceil(run.nodes / run.shardSize);
    targets.push({
      name: `${at}: ⌈${fmt(run.nodes)} / ${fmt(run.shardSize)}⌉ = ${shards} gather command(s) a scan`,
      pass: run.perScan.every((scan) => scan.commands === shards),
      detail: `commands ${run.perScan.map((scan) => scan.commands).join(', ')}`,
    });
    if (args.deadlineGiven) {
      targets.push({
        name: `${at}: collection hands off before the ${fmt(args.deadlineMs)} ms deadline (invocations > commands)`,
        pass: run.perScan.every((scan) => scan.invocations.gather > scan.commands),
        detail: run.perScan
          .map(
            (s) =>
              `scan ${s.scan}: ${s.collectInvocations} invocations (${s.invocations.gather} gather), ${s.handOffs} hand-offs, ${s.commands} commands`,
          )
          .join('; '),
      });
    }
    targets.push({
      name: `${at}: no node record written twice for a scan`,
      pass: run.recordsRewritten === 0,
      detail: `recordsRewritten ${run.recordsRewritten} (records written: ${run.perScan
        .map((s) =>
          Object.entries(s.recordsWritten)
            .map(([k, v]) => `${k} ${fmt(v)}`)
            .join(' '),
        )
        .join('; ')})`,
    });
    const steady = run.perScan.length > 1 ? run.perScan.slice(1) : run.perScan;
    const first = run.perScan[0] as ScanFigures;
    if (run.nodes >= LARGE_FLEET_NODES)
      targets.push({
        name: `${at}: collect calls per node ≤ ${TARGET_COLLECT_CALLS_PER_NODE}${run.perScan.length > 1 ? ' (steady state: every scan after the first)' : ''}`,
        pass: steady.every((scan) => scan.collectCallsPerNode <= TARGET_COLLECT_CALLS_PER_NODE),
        detail: `${steady.map((s) => `scan ${s.scan}: (List ${s.apiCalls.ListCommandInvocations ?? 0} + Get ${s.apiCalls.GetCommandInvocation ?? 0} + BatchWrite ${s.apiCalls.BatchWriteItem ?? 0} + journal PutItem ${s.collectCalls - (s.apiCalls.ListCommandInvocations ?? 0) - (s.apiCalls.GetCommandInvocation ?? 0) - (s.apiCalls.BatchWriteItem ?? 0)}) / ${fmt(run.nodes)} = ${fmt(s.collectCallsPerNode, 4)}`).join('; ')}${run.perScan.length > 1 ? `; the first scan ${fmt(first.collectCallsPerNode, 4)} (it also writes every node's host name once: ${fmt(first.writeUnits.HOST ?? 0)} WRU)` : ''}`,
      });
    const peak = Math.max(...run.perScan.map((s) => s.peakRssMb));
    targets.push({
      name: `${at}: peak RSS < ${TARGET_RSS_MB} MB (the collect function's memory; one process ran the scan's every invocation)`,
      pass: peak < TARGET_RSS_MB,
      detail: `${fmt(peak, 1)} MB (code loaded: ${fmt(run.perScan[0]?.loadedRssMb ?? 0, 1)} MB)`,
    });
  }
  if (cost !== null) {
    targets.push({
      name: `steady-state variable cost ≤ $${TARGET_MONTHLY_USD.toFixed(2)} per 1,000 nodes a month`,
      pass: cost.monthlyUsd <= TARGET_MONTHLY_USD,
      detail: usd(cost.monthlyUsd),
    });
  }
  for (const bundle of bundles) {
    targets.push({
      name: `${bundle.name} bundle ≤ ${TARGET_BUNDLE_BYTES / 1024} KB`,
      pass: bundle.error === null && bundle.bytes <= TARGET_BUNDLE_BYTES,
      detail: bundle.error ?? `${fmt(bundle.bytes)} B (${fmt(bundle.bytes / 1024, 1)} KB)`,
    });
  }
  return targets;
}

/** The run the cost is taken from: its 1,000-node run, else the largest. */
function costRun(runs: readonly RunResult[], mode: BenchMode): RunResult | undefined {
  const ofMode = runs.filter((run) => run.mode === mode);
  return ofMode.find((run) => run.nodes === 1000) ?? ofMode.at(-1);
}

/** The deployed defaults the cost is for: retention, the journal's days, the e-mail subscriptions. */
function costOptions(standingBytes: Bytes) {
  return {
    standingBytes,
    retentionDays: DEFAULT_CONFIG.retentionDays,
    shortDays: JOURNAL_DAYS,
    emailSubscribers: DEFAULT_CONFIG.notificationEmails.length,
  };
}

/** The steady-state cost of a run's scans, with the deployed defaults. */
function costOf(perScan: readonly ScanFigures[]): CostResult {
  const steady = steadyState(perScan);
  return monthlyCost(steady.use, costOptions(steady.standing));
}

/** The million-node model, from one run's steady state and that run's own cost per 1,000 nodes. */
function scaleOf(run: RunResult & { sealHeapBytesPerRow: number }): ScaleModel {
  const steady = steadyState(run.perScan);
  const collect = steady.use.functions.find((fn) => fn.name === 'collect') as FunctionUse;
  const mean = (pick: (s: ScanFigures) => number) =>
    steady.scans.reduce((all, s) => all + pick(s), 0) / steady.scans.length;
  return scaleModel(
    {
      nodes: run.nodes,
      collect,
      ssmReads: mean((s) => (s.apiCalls.ListCommandInvocations ?? 0) + (s.apiCalls.GetCommandInvocation ?? 0)),
      writeUnits: steady.use.writeUnits,
      readUnits: sum(steady.use.readUnits),
      journalBytes: mean((s) => s.addedBytes.short.JRNL?.table ?? 0),
      sealHeapBytesPerRow: run.sealHeapBytesPerRow,
      loadedRssMb: Math.min(...steady.scans.map((s) => s.loadedRssMb)),
      monthlyUsdPer1000: run.costPer1000.monthlyUsd,
      deadlineMs: run.deadlineMs,
    },
    { nodesPerCommand: DEFAULT_CONFIG.collection.nodesPerCommand },
  );
}

/* ---- main ---- */

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runner = await bundleRunner();
  const runs: RunResult[] = [];
  for (const nodes of args.sizes) {
    for (const mode of args.baseline ? (['fleetscan', 'simple'] as const) : (['fleetscan'] as const)) {
      if (!args.json) process.stderr.write(`running ${mode} on ${num(nodes)} nodes, ${args.scans} scan(s)...\n`);
      try {
        const run = await runMode(runner, mode, nodes, args);
        runs.push(run);
        if (args.json) console.log(JSON.stringify(run));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (args.json) console.log(JSON.stringify({ kind: 'run', mode, nodes, error: message }));
        else process.stderr.write(`  failed: ${message}\n`);
        process.exitCode = 1;
      }
    }
  }

  const bundles = args.extras
    ? [
        await measureBundle('scan', 'lambdas/scan/handler.ts'),
        await measureBundle('collect', 'lambdas/collect/handler.ts'),
      ]
    : [];
  const gather = args.extras ? gatherScriptMs(21) : null;
  const base = costRun(runs, 'fleetscan');
  const cost = base === undefined ? null : costOf(base.perScan);
  const simpleBase = costRun(runs, 'simple');
  const baselineCost = simpleBase === undefined ? null : costOf(simpleBase.perScan);
  const largest = runs
    .filter(
      (run): run is RunResult & { sealHeapBytesPerRow: number } =>
        run.mode === 'fleetscan' && run.nodes >= LARGE_FLEET_NODES && run.sealHeapBytesPerRow !== null,
    )
    .at(-1);
  const scale = largest === undefined ? null : scaleOf(largest);
  const targets = targetsOf(args, runs, cost, bundles);
  const machine = {
    arch: process.arch,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
  const fixed = fixedMonthly();

  if (args.json) {
    console.log(
      JSON.stringify({
        kind: 'summary',
        machine,
        bundles,
        gather,
        cost:
          cost === null
            ? null
            : {
                nodes: base?.nodes,
                monthlyUsd: cost.monthlyUsd,
                lines: cost.lines,
                items: cost.items,
                fixed: { low: fixed.low, high: fixed.high, lines: fixed.lines },
              },
        baselineCost:
          baselineCost === null
            ? null
            : { nodes: simpleBase?.nodes, monthlyUsd: baselineCost.monthlyUsd, lines: baselineCost.lines },
        scale: scale === null ? null : { from: largest?.nodes, lines: scale.lines, figures: scale.figures },
        targets,
      }),
    );
    return;
  }

  const faultsText =
    args.ssmRate === undefined
      ? 'no injected faults'
      : `SSM reads rate-limited to ${args.ssmRate}/s (ThrottlingException beyond)`;
  console.log(`\nfleetscan bench — ${machine.arch}, ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}`);
  console.log(
    `fleet: version-2 gather reports; ${Object.entries(MIX_SHARES)
      .map(([b, s]) => `${b} ${((s ?? 0) * 100).toFixed(1)}%`)
      .join(', ')}, rest healthy; ${faultsText}`,
  );
  console.log(
    `${args.scans} scan(s) ${SCAN_INTERVAL_MS / 60_000} simulated minutes apart; ${fmt(args.shardSize)} nodes per gather command; ${fmt(args.deadlineMs)} ms per collect invocation\n`,
  );
  printRuns(runs);
  for (const run of runs) {
    if (run.mode === 'fleetscan') printWrites(run);
    for (const scan of run.perScan)
      for (const note of scan.notes) console.log(`  ${run.mode} ${fmt(run.nodes)} nodes, scan ${scan.scan}: ${note}`);
  }
  for (const run of runs.filter((r) => r.mode === 'fleetscan')) {
    const simple = runs.find((r) => r.mode === 'simple' && r.nodes === run.nodes);
    if (simple === undefined) continue;
    const calls = (r: RunResult) => r.perScan.reduce((all, s) => all + sum(s.apiCalls), 0);
    console.log(
      `  ${fmt(run.nodes)} nodes: the simple collector makes ${fmt(calls(simple) / calls(run), 2)}× fleetscan's API calls (${fmt(calls(simple))} vs ${fmt(calls(run))}, which include remediation and notification) and costs ${usd(simple.costPer1000.monthlyUsd)} against ${usd(run.costPer1000.monthlyUsd)} per 1,000 nodes a month`,
    );
  }
  if (bundles.length > 0) {
    console.log('\nLambda bundles (esbuild, minified, node22, esm, @aws-sdk/* external):');
    for (const b of bundles) {
      console.log(
        `  ${b.name}: ${b.error ?? `${fmt(b.bytes)} B, cold import ${b.coldImportMs === null ? '-' : `${fmt(b.coldImportMs, 1)} ms`} (median of 5 fresh node processes)`}`,
      );
      const sdk = b.sdkImports.map((i) => `${i.module.replace('@aws-sdk/', '')} ${fmt(i.ms)} ms/${fmt(i.rssMb)} MB`);
      if (sdk.length > 0) console.log(`    SDK packages it imports, each alone: ${sdk.join(', ')}`);
    }
  }
  if (gather !== null) {
    console.log(
      'error' in gather
        ? `\ngather.sh: ${gather.error}`
        : `\ngather.sh on this machine: median ${fmt(gather.medianMs, 1)} ms over ${gather.runs} runs (bash), ${gather.bytes} bytes of output`,
    );
  }
  if (cost !== null && base !== undefined) {
    console.log(
      `\ncost per 1,000 nodes a month, steady state (scans ${base.perScan.length > 1 ? `2–${base.perScan.length}` : '1'} of the ${fmt(base.nodes)}-node run averaged):`,
    );
    for (const line of cost.lines) console.log(`  ${line}`);
    console.log('fixed monthly costs of a deployment (not per node):');
    for (const line of fixed.lines) console.log(`  ${line}`);
  }
  if (baselineCost !== null && simpleBase !== undefined) {
    console.log(`\nthe simple collector's cost, the same way (${fmt(simpleBase.nodes)}-node run):`);
    for (const line of baselineCost.lines) console.log(`  ${line}`);
  }
  console.log('\nmodel:');
  if (scale === null)
    console.log(`  1,000,000 nodes are modelled from a run of ${fmt(LARGE_FLEET_NODES)} nodes or more`);
  for (const line of scale?.lines ?? []) console.log(`  ${line}`);
  if (targets.length > 0) {
    console.log('\ntargets:');
    for (const t of targets) console.log(`  ${verdict(t.pass)}  ${t.name}: ${t.detail}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof BenchUsageError) {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
