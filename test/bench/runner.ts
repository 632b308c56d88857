/**
 * One measured scan, in a process of its own (bench.ts bundles this file with esbuild and runs it with plain `node`,
 * as Lambda runs a bundle): its CPU time and peak RSS are the collector's alone — the SSM simulator, dynalite and
 * the meter live in the parent. Reads its job from the BENCH_JOB environment variable, prints one JSON line.
 */

import { SsmGateway } from '../../lib/adapters/ssm.ts';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import { benchClients, CallCounter, type RuntimeScanRun, runRuntimeScan } from './runtime-collector.ts';
import { simpleCollect } from './simple-collector.ts';

export type BenchMode = 'fleetscan' | 'simple';

export interface BenchJob {
  readonly mode: BenchMode;
  readonly nodes: number;
  /** 1-based: which scan of the run this is. */
  readonly scan: number;
  /** Added to the real time: scans are a schedule interval apart (what node counters and rates see). */
  readonly clockOffsetMs: number;
  /** Each collect invocation's time budget (its deadline), in ms. */
  readonly deadlineMs: number;
  /** collection.nodesPerCommand. */
  readonly nodesPerCommand: number;
  readonly ssmEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  readonly tagKey: string;
  readonly tagValues: readonly string[];
  readonly gatherDocument: string;
  readonly remediateDocument: string;
}

export interface RunnerResult {
  readonly mode: BenchMode;
  readonly scan: number;
  /** Nodes the scan stored a record for. */
  readonly stored: number;
  /** Gather commands sent. */
  readonly commands: number;
  /** Invocations of the collect function, by work kind (the simple collector: one). */
  readonly invocations: RuntimeScanRun['invocations'];
  readonly handOffs: number;
  readonly remediations: number;
  readonly notifications: RuntimeScanRun['notifications'];
  readonly logs: RuntimeScanRun['logs'];
  readonly calls: RuntimeScanRun['calls'];
  readonly scanMs: number;
  readonly scanCpuMs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Peak resident set of the whole process (what Lambda reports as Max Memory Used). */
  readonly peakRssMb: number;
  /** Resident set once the code was loaded, before any work: the floor under peakRssMb. */
  readonly loadedRssMb: number;
  readonly notes: readonly string[];
}

async function simpleScan(job: BenchJob): Promise<RuntimeScanRun> {
  const clients = benchClients(job);
  const calls = new CallCounter();
  calls.attach('ssm', clients.ssm);
  calls.attach('ssm', clients.ssmSend);
  calls.attach('dynamodb', clients.dynamodb);
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const gateway = new SsmGateway({
      client: clients.ssm,
      sendClient: clients.ssmSend,
      documents: { gather: job.gatherDocument, remediate: job.remediateDocument },
    });
    const at = new Date(Date.now() + job.clockOffsetMs).toISOString();
    const { commandId } = await calls.invocation('scan', () =>
      gateway.send({
        document: 'gather',
        targets: { kind: 'tags', tags: [{ key: job.tagKey, values: [...job.tagValues] }] },
        parameters: { since: ['0'] },
        maxConcurrency: DEFAULT_CONFIG.maxConcurrency,
        maxErrors: DEFAULT_CONFIG.maxErrors,
        deliveryTimeoutSeconds: DEFAULT_CONFIG.deliveryTimeoutSeconds,
        comment: `simple collector scan ${job.scan}`,
      }),
    );
    const scanMs = performance.now() - t0;
    const scanCpu = process.cpuUsage(cpu0);
    const result = await calls.invocation('collect', () =>
      simpleCollect({
        gateway,
        doc: clients.doc,
        tableName: job.tableName,
        commandId,
        scan: { scanId: commandId, at },
        config: DEFAULT_CONFIG,
      }),
    );
    return {
      scanId: commandId,
      status: 'COMPLETED',
      stored: result.stored,
      counts: {},
      commands: 1,
      invocations: { gather: 1, scan: 0, remediate: 0 },
      handOffs: 0,
      remediations: 0,
      notifications: { count: 0, bytes: 0 },
      logs: { lines: 0, bytes: 0 },
      calls: calls.counts,
      scanMs,
      scanCpuMs: (scanCpu.user + scanCpu.system) / 1000,
      notes: [`${result.pages} listing pages, one pass, no state`],
    };
  } finally {
    await clients.destroy();
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_JOB ?? '{}') as BenchJob;
  const loadedRssMb = process.memoryUsage.rss() / 2 ** 20;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = job.mode === 'simple' ? await simpleScan(job) : await runRuntimeScan(job);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result: RunnerResult = {
    mode: job.mode,
    scan: job.scan,
    stored: run.stored,
    commands: run.commands,
    invocations: run.invocations,
    handOffs: run.handOffs,
    remediations: run.remediations,
    notifications: run.notifications,
    logs: run.logs,
    calls: run.calls,
    scanMs: run.scanMs,
    scanCpuMs: run.scanCpuMs,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    loadedRssMb,
    notes: run.notes,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
