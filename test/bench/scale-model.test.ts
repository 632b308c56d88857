/** The 1,000,000-node model: each figure a measured per-node quantity times the fleet. */
import { describe, expect, it } from 'vitest';
import { type FunctionUse, lambdaSeconds } from './cost.ts';
import { PARTITION_WRU_PER_SECOND, type ScaleInputs, scaleModel } from './scale-model.ts';

const COLLECT: FunctionUse = {
  name: 'collect',
  memoryMb: 512,
  invocations: 40,
  cpuMs: 100_000,
  ssmRoundTrips: 1100,
  dynamodbRoundTrips: 6000,
};

/** What a 50,000-node run measured per scan. */
const MEASURED: ScaleInputs = {
  nodes: 50_000,
  collect: COLLECT,
  ssmReads: 1100,
  writeUnits: { JRNL: 6000, HIST: 7000, SHARD: 4000 },
  readUnits: 20_000,
  journalBytes: 6_000_000,
  sealHeapBytesPerRow: 1000,
  loadedRssMb: 80,
  monthlyUsdPer1000: 1.8,
  deadlineMs: 20_000,
};

describe('scaleModel', () => {
  it('shards by nodesPerCommand and times a shard from the measured Lambda time per node', () => {
    const { figures } = scaleModel(MEASURED, { nodes: 400_000, nodesPerCommand: 10_000 });
    const msPerNode = (lambdaSeconds(COLLECT) * 1000) / 50_000;
    expect(figures).toMatchObject({ shards: 40, shardNodes: 10_000 });
    expect(figures.shardSeconds).toBeCloseTo((msPerNode * 10_000) / 1000, 6);
    expect(figures.invocationsPerShard).toBe(Math.ceil(figures.shardSeconds / 290));
    expect(figures.gatherInvocations).toBe(40 * figures.invocationsPerShard);
  });

  it('takes at most 50 shards (a target’s values per SendCommand), each larger beyond', () => {
    const model = scaleModel(MEASURED, { nodes: 1_000_000, nodesPerCommand: 10_000 });
    expect(model.figures).toMatchObject({ shards: 50, shardNodes: 20_000 });
    expect(model.lines[1]).toContain('100 wanted, but a target takes at most 50 values');
  });

  it('needs the SSM read rate and DynamoDB write rate of the measured calls per node over a shard’s time', () => {
    // One sealing pass: no journal read beyond the measured run's.
    const { figures } = scaleModel(MEASURED, { sealRowsPerPass: 1_000_000 });
    expect(figures.ssmReadsPerScan).toBeCloseTo(22_000, 6);
    expect(figures.ssmReadsPerSecond).toBeCloseTo(22_000 / figures.shardSeconds, 6);
    expect(figures.writeUnitsPerScan).toBeCloseTo(340_000, 6);
    // Sealing (the history) is written after the collection, so not in the collection's rate.
    expect(figures.writeUnitsPerSecond).toBeCloseTo(200_000 / figures.shardSeconds, 6);
    expect(figures.partitions).toBe(Math.ceil(figures.writeUnitsPerSecond / PARTITION_WRU_PER_SECOND));
    expect(figures.monthlyUsd).toBeCloseTo(1800, 6);
  });

  it('seals in passes of bounded rows, each pass beyond the measured run reading the journal again', () => {
    const model = scaleModel(MEASURED, { sealRowsPerPass: 100_000 });
    // 1,000,000 nodes in passes of 100,000: 10 passes; the 50,000-node run took one, so 9 more journal reads of
    // 120 MB (6,000,000 B over 50,000 nodes, times 1,000,000) at 4 KB a read unit.
    expect(model.figures.sealPasses).toBe(10);
    expect(model.figures.sealExtraReadUnits).toBeCloseTo((9 * 120_000_000) / 4096, 6);
    const extraUsd = (model.figures.sealExtraReadUnits * 2920 * 0.125) / 1e6;
    expect(model.figures.monthlyUsd).toBeCloseTo(1800 + extraUsd, 6);
    // A pass holds 100,000 rows of 1,000 B, beside the code's 80 MB.
    expect(model.figures.sealMemoryMb).toBeCloseTo(80 + 100_000_000 / 2 ** 20, 6);
    expect(model.lines.find((line) => line.startsWith('sealing:'))).not.toContain('MORE');
  });

  it('says when a sealing pass would not fit the collect function’s memory', () => {
    const model = scaleModel({ ...MEASURED, sealHeapBytesPerRow: 5000 }, { sealRowsPerPass: 100_000 });
    expect(model.figures.sealMemoryMb).toBeGreaterThan(512);
    expect(model.lines.find((line) => line.startsWith('sealing:'))).toContain('MORE than it has');
    const small = scaleModel(MEASURED, { nodes: 40_000 });
    expect(small.figures).toMatchObject({ sealPasses: 1, sealExtraReadUnits: 0 });
  });
});
