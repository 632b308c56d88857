/**
 * `npm run bench [-- --nodes 10000] [--json] [--no-naive] [--no-extras]`
 *
 * Drives fleetscan's collect path — the runtime's scan and collect modules, the real SSM adapter over HTTP to the
 * SSM simulator, the real DynamoDB store against dynalite — for 100, 1,000 and 10,000 nodes, and beside it a naive
 * collector (GetCommandInvocation + PutItem per node) as the baseline. Counts every API call on the server side
 * (SSM in the simulator, DynamoDB in a counting proxy in front of dynalite), measures the collector's own process
 * (wall, CPU, peak RSS), the Lambda bundles, the gather script, and prints a cost estimate and PASS/FAIL targets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { startDynalite } from '../support/dynalite.ts';
import { type Behaviour, Fleet, fleetscanDocuments, SsmSimulator } from '../support/ssm-simulator/index.ts';
import { monthlyCost, storedBytes } from './cost.ts';
import { DynamoMeter, type MeterSnapshot, wireItemSize, writeUnits } from './dynamo-meter.ts';
import type { BenchJob, RunnerResult } from './runner.ts';

// The SDK warns once per process that Node 20 support ends in 2027; the bench is not the place to say so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}.tmp/bench`;
const DEFAULT_SIZES = [100, 1000, 10_000];
const TAG = { key: 'fleetscan', value: 'enabled' } as const;
const DOC_PREFIX = 'fleetscan';

/* ---- targets ---- */
const TARGET_COLLECT_CALLS_PER_NODE = 0.065;
const TARGET_ITEM_BYTES = 1024;
const TARGET_RSS_MB = 256;
const TARGET_BUNDLE_BYTES = 250 * 1024;

interface Args {
  readonly sizes: number[];
  /** SSM read calls per second (token bucket, burst of the same size); unset: no rate limit. */
  readonly ssmRate: number | undefined;
  readonly json: boolean;
  readonly naive: boolean;
  readonly extras: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const sizes: number[] = [];
  let json = false;
  let naive = true;
  let extras = true;
  let ssmRate: number | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--no-naive') naive = false;
    else if (arg === '--no-extras') extras = false;
    else if (arg === '--ssm-rate') {
      ssmRate = Number(argv[++i]);
      if (!(ssmRate > 0)) throw new Error('--ssm-rate takes a positive number of calls per second');
    } else if (arg === '--nodes') {
      for (const part of (argv[++i] ?? '').split(',')) {
        const n = Number(part);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--nodes takes positive integers, got '${part}'`);
        sizes.push(n);
      }
    } else {
      throw new Error(
        `unknown argument '${arg}' (use --nodes N[,N...], --json, --no-naive, --no-extras, --ssm-rate CALLS_PER_SECOND)`,
      );
    }
  }
  return { sizes: sizes.length > 0 ? sizes : DEFAULT_SIZES, ssmRate, json, naive, extras };
}

/**
 * The fleet every size is measured on: mostly healthy, with the troubles a real fleet shows in realistic shares.
 * `large` nodes (32 NUMA nodes) overflow the listing's 2,500 bytes and cost one GetCommandInvocation each.
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

/* ---- one run ---- */

export interface RunResult {
  readonly kind: 'run';
  readonly mode: 'runtime' | 'naive';
  readonly nodes: number;
  readonly stored: number;
  readonly apiCalls: Record<string, number>;
  readonly ssmCalls: number;
  readonly dynamoCalls: number;
  /**
   * Calls that move outputs from SSM into the table, per node: ListCommandInvocations + GetCommandInvocation +
   * BatchWriteItem + node records put one by one (PutItem). The DESIGN's floor is 1/50 + 1/25 = 0.06.
   */
  readonly collectCallsPerNode: number;
  /** Every SSM and DynamoDB call of the scan and its collection, per node. */
  readonly callsPerNode: number;
  readonly wallMs: number;
  readonly scanMs: number;
  readonly collectMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly loadedRssMb: number;
  /** Largest node record written (DynamoDB item-size rules, measured on the wire). */
  readonly maxItemBytes: number;
  readonly avgItemBytes: number;
  /** Write request units per node: node records (table + the indexes each lands in) and state updates. */
  readonly writeUnitsPerNode: number;
  readonly readUnitsPerNode: number;
  /** Bytes a scan leaves stored per node (items + 100 B overhead, per copy). */
  readonly storedBytesPerNode: number;
  readonly throttled: number;
  readonly errors: Record<string, number>;
  readonly notes: readonly string[];
}

/** See RunResult.collectCallsPerNode. */
function collectCalls(apiCalls: Record<string, number>, nodeRecordPutItems: number): number {
  return (
    (apiCalls.ListCommandInvocations ?? 0) +
    (apiCalls.GetCommandInvocation ?? 0) +
    (apiCalls.BatchWriteItem ?? 0) +
    nodeRecordPutItems
  );
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
        reject(
          new Error(
            `${job.mode} collector at ${job.nodes} nodes exited ${code}: ${err.trim().split('\n').slice(0, 8).join('\n')}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(last) as RunnerResult);
    });
  });
}

interface TableItem {
  readonly size: number;
  readonly units: number;
}

/** Sizes of the items UpdateItem left behind (their write units are billed on the item's size after the update). */
async function updatedItemUnits(
  client: Awaited<ReturnType<typeof startDynalite>>['client'],
  tableName: string,
  updated: Record<string, number>,
): Promise<{ units: number; items: number }> {
  const found = new Map<string, TableItem>();
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const id = `${String(item.pk?.S)}|${String(item.sk?.S)}`;
      if (id in updated) {
        const wire = item as unknown as Parameters<typeof wireItemSize>[0];
        found.set(id, { size: wireItemSize(wire), units: writeUnits(wire) });
      }
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start !== undefined);
  let units = 0;
  for (const [id, count] of Object.entries(updated)) units += (found.get(id)?.units ?? 1) * count;
  return { units, items: Object.keys(updated).length };
}

async function runOnce(
  runner: string,
  mode: 'runtime' | 'naive',
  nodes: number,
  ssmRate: number | undefined,
): Promise<RunResult> {
  const db = await startDynalite();
  const meter = await DynamoMeter.start(db.endpoint);
  const fleet = Fleet.build({ size: nodes, seed: 2025, mix: mixFor(nodes), tags: { [TAG.key]: TAG.value } });
  const faults =
    ssmRate === undefined
      ? {}
      : {
          throttle: {
            bucket: {
              ratePerSecond: ssmRate,
              burst: ssmRate,
              operations: ['ListCommandInvocations', 'GetCommandInvocation'],
            },
          },
        };
  const sim = await SsmSimulator.start({ fleet, documents: fleetscanDocuments(DOC_PREFIX), faults });
  try {
    const result = await runChild(runner, {
      mode,
      nodes,
      ssmEndpoint: sim.endpoint,
      dynamoEndpoint: meter.endpoint,
      tableName: db.tableName,
      tagKey: TAG.key,
      tagValue: TAG.value,
      gatherDocument: `${DOC_PREFIX}-Gather`,
      remediateDocument: `${DOC_PREFIX}-Remediate`,
    });
    const ssm = sim.stats();
    const dynamo: MeterSnapshot = meter.snapshot();
    const updates = await updatedItemUnits(db.client, db.tableName, dynamo.updatedKeys);
    const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
    const apiCalls = { ...ssm.apiCalls, ...dynamo.apiCalls };
    const nodeUnits = dynamo.puts.writeUnits.NODE ?? 0;
    const otherPutUnits = sum(dynamo.puts.writeUnits) - nodeUnits;
    const readUnits = dynamo.keysRead + Math.ceil(dynamo.queryBytes / 4096);
    const records = dynamo.puts.count.NODE ?? 0;
    const avgItemBytes = records === 0 ? 0 : (dynamo.puts.totalBytes.NODE ?? 0) / records;
    // A node record lives in the table and in byNode; non-OK ones in problems too (write units show the mix).
    const copiesPerRecord = records === 0 ? 0 : nodeUnits / records / Math.max(1, Math.ceil(avgItemBytes / 1024));
    return {
      kind: 'run',
      mode,
      nodes,
      stored: result.stored,
      apiCalls,
      ssmCalls: sum(ssm.apiCalls),
      dynamoCalls: sum(dynamo.apiCalls),
      collectCallsPerNode: collectCalls(apiCalls, dynamo.puts.single.NODE ?? 0) / nodes,
      callsPerNode: (sum(ssm.apiCalls) + sum(dynamo.apiCalls)) / nodes,
      wallMs: Math.round(result.wallMs),
      scanMs: Math.round(result.scanMs),
      collectMs: Math.round(result.collectMs),
      cpuMs: Math.round(result.cpuMs),
      peakRssMb: Math.round(result.peakRssMb * 10) / 10,
      loadedRssMb: Math.round(result.loadedRssMb * 10) / 10,
      maxItemBytes: dynamo.puts.maxBytes.NODE ?? 0,
      avgItemBytes: Math.round(avgItemBytes),
      writeUnitsPerNode: (nodeUnits + otherPutUnits + updates.units) / nodes,
      readUnitsPerNode: readUnits / nodes,
      storedBytesPerNode: storedBytes(avgItemBytes, copiesPerRecord),
      throttled: sum(ssm.throttled),
      errors: { ...ssm.errors, ...dynamo.errors },
      notes: [
        ...result.notes,
        ...(result.stored !== nodes ? [`stored ${result.stored} of ${nodes} nodes`] : []),
        `node records written: ${records}; state items updated: ${updates.items}`,
      ],
    };
  } finally {
    await sim.close();
    await meter.close();
    await db.stop();
  }
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

function printTable(results: readonly RunResult[]): void {
  const ops = [
    'SendCommand',
    'ListCommandInvocations',
    'GetCommandInvocation',
    'BatchWriteItem',
    'PutItem',
    'UpdateItem',
    'BatchGetItem',
    'GetItem',
    'Query',
  ];
  const others = [...new Set(results.flatMap((r) => Object.keys(r.apiCalls)))].filter((op) => !ops.includes(op));
  const columns = [...ops.filter((op) => results.some((r) => (r.apiCalls[op] ?? 0) > 0)), ...others];
  // Counts are requests received, throttled ones included (they count against AWS's limits too).
  const throttling = results.some((r) => r.throttled > 0);
  const header = [
    'collector',
    'nodes',
    ...columns,
    ...(throttling ? ['throttled'] : []),
    'collect/node',
    'all/node',
    'wall ms',
    'cpu ms',
    'peak RSS MB',
    'max item B',
    'WRU/node',
  ];
  const rows = results.map((r) => [
    r.mode === 'naive' ? 'naive (baseline)' : 'fleetscan',
    fmt(r.nodes),
    ...columns.map((op) => fmt(r.apiCalls[op] ?? 0)),
    ...(throttling ? [fmt(r.throttled)] : []),
    fmt(r.collectCallsPerNode, 4),
    fmt(r.callsPerNode, 4),
    fmt(r.wallMs),
    fmt(r.cpuMs),
    fmt(r.peakRssMb, 1),
    fmt(r.maxItemBytes),
    fmt(r.writeUnitsPerNode, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < 1 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'FAIL';
}

/* ---- main ---- */

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runner = await bundleRunner();
  const results: RunResult[] = [];
  for (const nodes of args.sizes) {
    for (const mode of args.naive ? (['runtime', 'naive'] as const) : (['runtime'] as const)) {
      if (!args.json) process.stderr.write(`running ${mode} collector on ${nodes} nodes...\n`);
      try {
        const result = await runOnce(runner, mode, nodes, args.ssmRate);
        results.push(result);
        if (args.json) console.log(JSON.stringify(result));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (args.json) console.log(JSON.stringify({ kind: 'run', mode, nodes, error: message }));
        else process.stderr.write(`  failed: ${message}\n`);
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
  const runtime = results.filter((r) => r.mode === 'runtime');
  const naive = results.filter((r) => r.mode === 'naive');
  const costBase = runtime.find((r) => r.nodes === 1000) ?? runtime.at(-1);
  const memoryMb = 256;
  const cost =
    args.extras && costBase !== undefined
      ? monthlyCost({
          nodes: 1000,
          scansPerMonth: 4 * 730,
          lambda: [
            { name: 'scan (send + sweep)', invocationsPerScan: 1, ms: Math.max(200, costBase.scanMs), memoryMb },
            {
              name: 'collect',
              invocationsPerScan: 1,
              // Local calls take ~1 ms; in AWS an SSM page takes ~100 ms and a DynamoDB batch ~20 ms (assumed).
              ms:
                (costBase.collectMs +
                  ((costBase.apiCalls.ListCommandInvocations ?? 0) + (costBase.apiCalls.GetCommandInvocation ?? 0)) *
                    100 +
                  costBase.dynamoCalls * 20) *
                (1000 / costBase.nodes),
              memoryMb,
            },
          ],
          writeUnitsPerScan: costBase.writeUnitsPerNode * 1000,
          readUnitsPerScan: costBase.readUnitsPerNode * 1000,
          storedBytesPerScan: costBase.storedBytesPerNode * 1000,
          retentionDays: 90,
          snsPublishesPerScan: 6,
          emailSubscribers: 1,
        })
      : null;

  const targets: { name: string; pass: boolean; detail: string }[] = [];
  const at10k = runtime.find((r) => r.nodes === 10_000) ?? runtime.at(-1);
  if (at10k !== undefined) {
    targets.push({
      name: `collect calls per node at ${fmt(at10k.nodes)} nodes ≤ ${TARGET_COLLECT_CALLS_PER_NODE}`,
      pass: at10k.collectCallsPerNode <= TARGET_COLLECT_CALLS_PER_NODE,
      detail: `(ListCommandInvocations ${at10k.apiCalls.ListCommandInvocations ?? 0} + GetCommandInvocation ${at10k.apiCalls.GetCommandInvocation ?? 0} + BatchWriteItem ${at10k.apiCalls.BatchWriteItem ?? 0}) / ${fmt(at10k.nodes)} = ${fmt(at10k.collectCallsPerNode, 4)}; every call of the scan: ${fmt(at10k.callsPerNode, 4)}/node`,
    });
    targets.push({
      name: `peak RSS at ${fmt(at10k.nodes)} nodes < ${TARGET_RSS_MB} MB`,
      pass: at10k.peakRssMb < TARGET_RSS_MB,
      detail: `${fmt(at10k.peakRssMb, 1)} MB (code loaded: ${fmt(at10k.loadedRssMb, 1)} MB)`,
    });
  }
  if (runtime.length > 0) {
    const maxItem = Math.max(...runtime.map((r) => r.maxItemBytes));
    targets.push({
      name: `each history item ≤ ${TARGET_ITEM_BYTES} B`,
      pass: maxItem <= TARGET_ITEM_BYTES,
      detail: `largest ${maxItem} B`,
    });
  }
  for (const bundle of bundles) {
    targets.push({
      name: `${bundle.name} bundle ≤ ${TARGET_BUNDLE_BYTES / 1024} KB`,
      pass: bundle.error === null && bundle.bytes <= TARGET_BUNDLE_BYTES,
      detail: bundle.error ?? `${fmt(bundle.bytes)} B (${fmt(bundle.bytes / 1024, 1)} KB)`,
    });
  }

  const machine = {
    arch: process.arch,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
  if (args.json) {
    console.log(JSON.stringify({ kind: 'summary', machine, bundles, gather, cost, targets }));
    return;
  }

  const faultsText =
    args.ssmRate === undefined
      ? 'no injected faults'
      : `SSM reads rate-limited to ${args.ssmRate}/s (ThrottlingException beyond)`;
  console.log(`\nfleetscan bench — ${machine.arch}, ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}`);
  console.log(
    `fleet mix: ${Object.entries(MIX_SHARES)
      .map(([b, s]) => `${b} ${((s ?? 0) * 100).toFixed(1)}%`)
      .join(', ')}, rest healthy; ${faultsText}\n`,
  );
  printTable(results);
  for (const r of runtime) {
    const base = naive.find((n) => n.nodes === r.nodes);
    if (base !== undefined) {
      console.log(
        `  ${fmt(r.nodes)} nodes: the naive baseline makes ${fmt(base.callsPerNode / r.callsPerNode, 1)}× the API calls (${fmt(base.ssmCalls + base.dynamoCalls)} vs ${fmt(r.ssmCalls + r.dynamoCalls)})`,
      );
    }
    for (const note of r.notes) console.log(`  ${fmt(r.nodes)} nodes: ${note}`);
    for (const note of base?.notes ?? []) console.log(`  ${fmt(r.nodes)} nodes, baseline: ${note}`);
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
  if (cost !== null) {
    console.log(`\ncost per 1,000 nodes per month (from the ${fmt(costBase?.nodes ?? 0)}-node run):`);
    for (const line of cost.lines) console.log(`  ${line}`);
  }
  if (targets.length > 0) {
    console.log('\ntargets:');
    for (const t of targets) console.log(`  ${verdict(t.pass)}  ${t.name}: ${t.detail}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
