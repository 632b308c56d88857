/**
 * One measured collection, in a process of its own (bench.ts bundles this file with esbuild and runs it with plain
 * `node`, as Lambda runs a bundle): its CPU time and peak RSS are the collector's alone — the SSM simulator and
 * dynalite live in the parent. Reads its job from the BENCH_JOB environment variable, prints one JSON line.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { naiveCollect } from './naive-collector.ts';
import { runRuntime } from './runtime-collector.ts';

export interface BenchJob {
  readonly mode: 'runtime' | 'naive';
  readonly nodes: number;
  readonly ssmEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  readonly tagKey: string;
  readonly tagValue: string;
  readonly gatherDocument: string;
  readonly remediateDocument: string;
}

export interface RunnerResult {
  readonly mode: BenchJob['mode'];
  /** Nodes the collector stored a record for. */
  readonly stored: number;
  readonly commandId: string;
  readonly scanMs: number;
  readonly collectMs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Peak resident set of the whole process (what Lambda reports as Max Memory Used). */
  readonly peakRssMb: number;
  /** Resident set once the code was loaded, before any work: the floor under peakRssMb. */
  readonly loadedRssMb: number;
  readonly notes: readonly string[];
}

const CREDENTIALS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' } as const;

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_JOB ?? '{}') as BenchJob;
  const loadedRssMb = process.memoryUsage.rss() / 2 ** 20;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let scanMs = 0;
  let stored = 0;
  let commandId = '';
  const notes: string[] = [];
  if (job.mode === 'naive') {
    const ssm = new SSMClient({ region: 'us-east-1', endpoint: job.ssmEndpoint, credentials: CREDENTIALS });
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: 'us-east-1', endpoint: job.dynamoEndpoint, credentials: CREDENTIALS }),
    );
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: job.gatherDocument,
        Targets: [{ Key: `tag:${job.tagKey}`, Values: [job.tagValue] }],
        MaxConcurrency: '25%',
        MaxErrors: '100%',
        TimeoutSeconds: 600,
      }),
    );
    commandId = sent.Command?.CommandId ?? '';
    scanMs = performance.now() - t0;
    const naive = await naiveCollect({ ssm, doc, tableName: job.tableName, commandId, at: new Date().toISOString() });
    stored = naive.stored;
    if (naive.lost > 0) notes.push(`naive: ${naive.lost} outputs never fetched (retries ran out), stored as ERROR`);
  } else {
    const result = await runRuntime(job);
    scanMs = result.scanMs;
    stored = result.stored;
    commandId = result.commandId;
    notes.push(...result.notes);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result: RunnerResult = {
    mode: job.mode,
    stored,
    commandId,
    scanMs,
    collectMs: wallMs - scanMs,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    loadedRssMb,
    notes,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
