/**
 * 1,000,000 nodes every 15 minutes, modelled from what one bench run measured per node (its steady-state scans):
 * the shards it takes, the collect invocations and the time a shard's collection needs in Lambda, the SSM read
 * rate that implies, DynamoDB's write rate and partitions, the sealing passes and their memory, and the monthly cost. Linear
 * in the nodes: each figure is a measured per-node quantity times the fleet, with every step printed.
 */
import { MAX_SEAL_ROWS } from '../../lib/adapters/dynamo/records.ts';
import { SSM_LIMITS } from '../../lib/config/contracts.ts';
import { type FunctionUse, lambdaSeconds, num, PRICES, usd } from './cost.ts';

export interface ScaleInputs {
  /** Nodes of the run measured. */
  readonly nodes: number;
  /** Its collect function's use per scan (invocations, CPU, calls). */
  readonly collect: FunctionUse;
  /** SSM read calls per scan (ListCommandInvocations + GetCommandInvocation). */
  readonly ssmReads: number;
  /** Write units per scan by item kind (index copies included). */
  readonly writeUnits: Readonly<Record<string, number>>;
  /** Read units per scan. */
  readonly readUnits: number;
  /** Bytes of journal a scan writes (what sealing reads back). */
  readonly journalBytes: number;
  /** Heap a sealing pass holds per node (seal-memory.ts), and the collector process's resident set with its code loaded, MB. */
  readonly sealHeapBytesPerRow: number;
  readonly loadedRssMb: number;
  /** Variable cost per 1,000 nodes a month. */
  readonly monthlyUsdPer1000: number;
  /** The measured run's collect invocation budget, ms (a short one means many cold invocations). */
  readonly deadlineMs: number;
}

export interface ScaleOptions {
  /** @default 1,000,000 */
  readonly nodes?: number;
  /** collection.nodesPerCommand. @default 10,000 */
  readonly nodesPerCommand?: number;
  /** The collect function's timeout, and the time it keeps to hand off. @default 300 s, 10 s */
  readonly timeoutSeconds?: number;
  readonly handoffMarginSeconds?: number;
  /** @default 15 */
  readonly scanMinutes?: number;
  /** Rows a sealing pass holds at most. @default MAX_SEAL_ROWS */
  readonly sealRowsPerPass?: number;
}

/** DynamoDB: one partition takes 1,000 write units a second; an on-demand table 40,000 by default (a soft quota). */
export const PARTITION_WRU_PER_SECOND = 1000;
export const TABLE_WRU_PER_SECOND = 40_000;
/** Nodes per history bucket the store aims at (lib/adapters/dynamo/records.ts TARGET_PER_BUCKET). */
const NODES_PER_BUCKET = 32;

export interface ScaleModel {
  readonly lines: string[];
  readonly figures: {
    readonly nodes: number;
    readonly shards: number;
    readonly shardNodes: number;
    readonly shardSeconds: number;
    readonly invocationsPerShard: number;
    readonly gatherInvocations: number;
    readonly ssmReadsPerScan: number;
    readonly ssmReadsPerSecond: number;
    readonly writeUnitsPerScan: number;
    readonly writeUnitsPerSecond: number;
    readonly partitions: number;
    readonly journalWruPerSecondPerShard: number;
    readonly sealPasses: number;
    readonly sealExtraReadUnits: number;
    readonly sealMemoryMb: number;
    readonly minutesLeft: number;
    readonly monthlyUsd: number;
  };
}

export function scaleModel(inputs: ScaleInputs, options: ScaleOptions = {}): ScaleModel {
  const nodes = options.nodes ?? 1_000_000;
  const perCommand = options.nodesPerCommand ?? 10_000;
  const timeout = options.timeoutSeconds ?? 300;
  const margin = options.handoffMarginSeconds ?? 10;
  const scanMinutes = options.scanMinutes ?? 15;
  const f = nodes / inputs.nodes;
  const lines = [
    `${num(nodes)} nodes every ${scanMinutes} min, from the ${num(inputs.nodes)}-node run's steady state (× ${num(f, 1)}), collection.nodesPerCommand ${num(perCommand)}:`,
  ];

  // A shard is one value (or group of values) of the target tag, and SendCommand takes 50 values per target.
  const wanted = Math.ceil(nodes / perCommand);
  const shards = Math.min(SSM_LIMITS.valuesPerTarget, wanted);
  const shardNodes = Math.ceil(nodes / shards);
  lines.push(
    wanted <= shards
      ? `gather commands: ⌈${num(nodes)} / ${num(perCommand)}⌉ = ${num(shards)} shards of ${num(shardNodes)} nodes, collected in parallel — the target tag needs ${num(shards)} values (launch templates writing pool-0 … pool-${shards - 1})`
      : `gather commands: ⌈${num(nodes)} / ${num(perCommand)}⌉ = ${num(wanted)} wanted, but a target takes at most ${SSM_LIMITS.valuesPerTarget} values (one per shard): ${num(shards)} shards of ${num(shardNodes)} nodes (collection.nodesPerCommand ${num(shardNodes)}, the target tag's values pool-0 … pool-${shards - 1}), collected in parallel`,
  );

  const msPerNode = (lambdaSeconds(inputs.collect) * 1000) / inputs.nodes;
  const shardSeconds = (msPerNode * shardNodes) / 1000;
  const usable = timeout - margin;
  const invocationsPerShard = Math.max(1, Math.ceil(shardSeconds / usable));
  const gatherInvocations = shards * invocationsPerShard;
  lines.push(
    `collect time: ${num(msPerNode, 2)} ms/node in Lambda (the cost model's duration) → a ${num(shardNodes)}-node shard takes ${num(shardSeconds, 0)} s → ⌈${num(shardSeconds, 0)} / ${usable}⌉ = ${invocationsPerShard} invocation(s) of at most ${timeout} s less the ${margin} s hand-off margin → ${num(gatherInvocations)} gather invocations per scan, ${num(shards)} at a time`,
  );
  const minutesLeft = scanMinutes - shardSeconds / 60;
  lines.push(
    `the collection ends ~${num(shardSeconds / 60, 1)} min after the nodes answered: ${num(minutesLeft, 1)} of the ${scanMinutes} min left for delivery (deliveryTimeoutSeconds), sealing and remediation`,
  );

  const ssmPerNode = inputs.ssmReads / inputs.nodes;
  const ssmReadsPerScan = ssmPerNode * nodes;
  const ssmReadsPerSecond = ssmReadsPerScan / shardSeconds;
  lines.push(
    `SSM reads: ${num(ssmPerNode, 4)}/node (ListCommandInvocations + GetCommandInvocation) × ${num(nodes)} = ${num(ssmReadsPerScan, 0)} calls per scan → ${num(ssmReadsPerSecond, 1)} calls/s while the shards are collected (${num(ssmReadsPerSecond / shards, 2)} per shard); AWS publishes no rate for these APIs — where the account's rate is lower, the adaptive retry mode paces the collectors (npm run bench -- --ssm-rate N) and the collection stretches to ${num(ssmReadsPerScan / 20 / 60, 1)} min at 20 calls/s`,
  );

  const wruPerNode = Object.values(inputs.writeUnits).reduce((a, b) => a + b, 0) / inputs.nodes;
  const sealWruPerNode = (inputs.writeUnits.HIST ?? 0) / inputs.nodes;
  const journalWruPerNode = (inputs.writeUnits.JRNL ?? 0) / inputs.nodes;
  const writeUnitsPerScan = wruPerNode * nodes;
  const collectingWru = (wruPerNode - sealWruPerNode) * nodes;
  const writeUnitsPerSecond = collectingWru / shardSeconds;
  const partitions = Math.ceil(writeUnitsPerSecond / PARTITION_WRU_PER_SECOND);
  const journalWruPerSecondPerShard = (journalWruPerNode * shardNodes) / shardSeconds;
  const buckets = 2 ** Math.max(0, Math.ceil(Math.log2(nodes / NODES_PER_BUCKET)));
  lines.push(
    `DynamoDB writes: ${num(wruPerNode, 3)} WRU/node × ${num(nodes)} = ${num(writeUnitsPerScan, 0)} WRU per scan; while collecting (everything but sealing) ${num(collectingWru, 0)} WRU in ${num(shardSeconds, 0)} s = ${num(writeUnitsPerSecond, 0)} WRU/s (${writeUnitsPerSecond <= TABLE_WRU_PER_SECOND ? 'within' : 'ABOVE'} the on-demand table's default ${num(TABLE_WRU_PER_SECOND)} WRU/s; ≥ ${partitions} partitions at ${num(PARTITION_WRU_PER_SECOND)} WRU/s each, which on-demand adds as it splits); the hottest keys are each shard's journal partition at ${num(journalWruPerSecondPerShard, 1)} WRU/s; sealing writes ${num(sealWruPerNode * nodes, 0)} WRU into ${num(buckets)} history buckets, each once`,
  );
  lines.push(
    `DynamoDB reads: ${num(inputs.readUnits / inputs.nodes, 3)} RRU/node × ${num(nodes)} = ${num((inputs.readUnits / inputs.nodes) * nodes, 0)} RRU per scan, mostly the previous records: a collect invocation reads each history bucket its nodes are in once (${num(inputs.deadlineMs / 1000)} s invocations in the run measured; at ${num(nodes)} nodes a ${num(shardNodes)}-node invocation touches nearly one bucket per node)`,
  );

  // Sealing holds a range of buckets' rows at a time and reads the journal once a pass: memory is bounded by the
  // pass, and each pass beyond the run measured's reads the journal again (strongly consistent: 1 unit per 4 KB).
  const rowsPerPass = options.sealRowsPerPass ?? MAX_SEAL_ROWS;
  const sealPasses = Math.ceil(nodes / rowsPerPass);
  const journalBytes = (inputs.journalBytes / inputs.nodes) * nodes;
  const journalReadUnits = journalBytes / 4096;
  const sealExtraReadUnits = Math.max(0, sealPasses - Math.ceil(inputs.nodes / rowsPerPass)) * journalReadUnits;
  const scansPerMonth = (60 / scanMinutes) * 730;
  const sealExtraUsd = (sealExtraReadUnits * scansPerMonth * PRICES.dynamoPerMillionReadUnits) / 1e6;
  const passRows = Math.min(nodes, rowsPerPass);
  const sealMemoryMb = inputs.loadedRssMb + (passRows * inputs.sealHeapBytesPerRow) / 2 ** 20;
  lines.push(
    `sealing: passes of at most ${num(rowsPerPass)} nodes' rows: ⌈${num(nodes)} / ${num(rowsPerPass)}⌉ = ${num(sealPasses)} pass(es), each reading the scan's journal (${num(journalBytes / 2 ** 20, 0)} MB = ${num(journalReadUnits, 0)} RRU); ${sealExtraReadUnits > 0 ? `the passes beyond the run measured add ${num(sealExtraReadUnits, 0)} RRU a scan (${usd((sealExtraUsd * 1000) / nodes)} per 1,000 nodes a month)` : 'no pass beyond the run measured'}; a pass holds ${num(passRows)} rows × ${num(inputs.sealHeapBytesPerRow, 0)} B of heap (measured on the run's journal) = ${num((passRows * inputs.sealHeapBytesPerRow) / 2 ** 20, 0)} MB, with the code's ${num(inputs.loadedRssMb, 0)} MB: ${num(sealMemoryMb, 0)} MB of the collect function's ${inputs.collect.memoryMb} MB${sealMemoryMb > inputs.collect.memoryMb ? ' — MORE than it has' : ''}`,
  );

  const monthlyUsd = inputs.monthlyUsdPer1000 * (nodes / 1000) + sealExtraUsd;
  lines.push(
    `cost: ${usd(inputs.monthlyUsdPer1000)} per 1,000 nodes × ${num(nodes / 1000)}${sealExtraUsd > 0 ? ` + ${usd(sealExtraUsd)} of sealing passes` : ''} = ${usd(monthlyUsd)} a month (variable), plus the fixed costs`,
  );
  return {
    lines,
    figures: {
      nodes,
      shards,
      shardNodes,
      shardSeconds,
      invocationsPerShard,
      gatherInvocations,
      ssmReadsPerScan,
      ssmReadsPerSecond,
      writeUnitsPerScan,
      writeUnitsPerSecond,
      partitions,
      journalWruPerSecondPerShard,
      sealPasses,
      sealExtraReadUnits,
      sealMemoryMb,
      minutesLeft,
      monthlyUsd,
    },
  };
}
