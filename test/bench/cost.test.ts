/** The cost model: each line's arithmetic from measured use and list prices, scaled to 1,000 nodes. */
import { describe, expect, it } from 'vitest';
import {
  ASSUMED_LATENCY_MS,
  FIXED_MONTHLY,
  FULL_VCPU_MB,
  fixedMonthly,
  lambdaSeconds,
  monthlyCost,
  PRICES,
  type ScanUse,
} from './cost.ts';

const SCANS = 4 * 730;
const GIB = 1024 ** 3;

/** A scan of 1,000 nodes whose every line is easy to check by hand. */
const USE: ScanUse = {
  nodes: 1000,
  writeUnits: { HIST: 120, JRNL: 81 },
  readUnits: { 'BatchGetItem STATE': 40 },
  // 1 GiB kept over the 8,640 scans of 90 days, in the table; 0.5 GiB in indexes.
  retainedBytes: { table: GIB / 8640, index: GIB / 2 / 8640 },
  // 1 GiB over the 288 scans of 3 days.
  shortBytes: { table: GIB / 288, index: 0 },
  functions: [
    { name: 'collect', memoryMb: 1024, invocations: 2, cpuMs: 1000, ssmRoundTrips: 10, dynamodbRoundTrips: 50 },
  ],
  snsPublishes: 2,
  logBytes: GIB / SCANS,
};

function item(result: ReturnType<typeof monthlyCost>, name: string): number {
  return result.items.find((entry) => entry.item === name)?.usd ?? Number.NaN;
}

describe('monthlyCost', () => {
  it('prices writes, reads, storage, PITR, Lambda, SNS and logs from one scan’s use', () => {
    const cost = monthlyCost(USE, { emailSubscribers: 1 });
    expect(item(cost, 'DynamoDB writes')).toBeCloseTo((201 * SCANS * PRICES.dynamoPerMillionWriteUnits) / 1e6, 10);
    expect(item(cost, 'DynamoDB reads')).toBeCloseTo((40 * SCANS * PRICES.dynamoPerMillionReadUnits) / 1e6, 10);
    // 1 GiB retained + 0.5 GiB of index copies + 1 GiB of journal; PITR on the table's 2 GiB only.
    expect(item(cost, 'DynamoDB storage')).toBeCloseTo(2.5 * PRICES.dynamoStoragePerGbMonth, 10);
    expect(item(cost, 'DynamoDB PITR')).toBeCloseTo(2 * PRICES.dynamoPitrPerGbMonth, 10);
    const seconds = 1 * (FULL_VCPU_MB / 1024) + (10 * ASSUMED_LATENCY_MS.ssm + 50 * ASSUMED_LATENCY_MS.dynamodb) / 1000;
    expect(item(cost, 'Lambda')).toBeCloseTo(
      seconds * SCANS * PRICES.lambdaArmPerGbSecond + ((2 * SCANS) / 1e6) * PRICES.lambdaPerMillionRequests,
      10,
    );
    const publishes = 2 * SCANS;
    expect(item(cost, 'SNS, e-mail, KMS requests')).toBeCloseTo(
      (publishes / 1e6) * PRICES.snsPerMillionPublishes +
        (publishes / 1e5) * PRICES.snsEmailPer100k +
        (publishes / 1e4) * PRICES.kmsPer10kRequests,
      10,
    );
    expect(item(cost, 'CloudWatch Logs')).toBeCloseTo(PRICES.logsIngestionPerGb, 10);
    expect(cost.monthlyUsd).toBeCloseTo(
      cost.items.reduce((sum, entry) => sum + entry.usd, 0),
      10,
    );
    expect(cost.lines.at(-1)).toBe(
      `total ≈ $${cost.monthlyUsd.toFixed(2)} per 1,000 nodes a month (variable, steady state)`,
    );
  });

  it('shows the arithmetic of each line, largest term first', () => {
    const cost = monthlyCost(USE);
    expect(cost.lines.find((line) => line.startsWith('dynamodb writes:'))).toBe(
      'dynamodb writes: node history 120 + journal pages 81 = 201 WRU/scan (index copies included) × 2,920 = 586,920 WRU × $0.625/M = $0.37',
    );
    expect(cost.lines.some((line) => line.startsWith('lambda collect: 2 invocations/scan;'))).toBe(true);
  });

  it('scales a fleet of another size to 1,000 nodes, and adds each e-mail subscriber’s deliveries', () => {
    const half = monthlyCost({ ...USE, nodes: 500 });
    const whole = monthlyCost(USE);
    expect(item(half, 'DynamoDB writes')).toBeCloseTo(2 * item(whole, 'DynamoDB writes'), 10);
    expect(half.perNode.writeUnits).toBeCloseTo(0.402, 10);
    expect(whole.perNode).toMatchObject({ writeUnits: 0.201, readUnits: 0.04, snsPublishes: 0.002 });
    const none = monthlyCost(USE, { emailSubscribers: 0 });
    const two = monthlyCost(USE, { emailSubscribers: 2 });
    expect(two.monthlyUsd - none.monthlyUsd).toBeCloseTo(((2 * 2 * SCANS) / 1e5) * PRICES.snsEmailPer100k, 10);
  });

  it('counts bytes kept for good once, not per scan', () => {
    const kept = monthlyCost(USE, { standingBytes: { table: GIB, index: 0 } });
    expect(item(kept, 'DynamoDB storage') - item(monthlyCost(USE), 'DynamoDB storage')).toBeCloseTo(
      PRICES.dynamoStoragePerGbMonth,
      10,
    );
  });
});

describe('lambdaSeconds', () => {
  it('is CPU time at the function’s share of a vCPU plus the round trips at their assumed latency', () => {
    expect(
      lambdaSeconds({
        name: 'f',
        memoryMb: FULL_VCPU_MB,
        invocations: 1,
        cpuMs: 2000,
        ssmRoundTrips: 3,
        dynamodbRoundTrips: 0,
      }),
    ).toBeCloseTo(2 + (3 * ASSUMED_LATENCY_MS.ssm) / 1000, 10);
  });
});

describe('fixedMonthly', () => {
  it('lists the deployment’s fixed costs, the optional ones as the range’s top', () => {
    const fixed = fixedMonthly();
    const all = FIXED_MONTHLY.reduce((sum, entry) => sum + entry.count * entry.unitUsd, 0);
    expect(fixed.high).toBeCloseTo(all, 10);
    expect(fixed.high - fixed.low).toBeCloseTo(5 * 0.3, 10);
    expect(fixed.lines).toHaveLength(FIXED_MONTHLY.length + 1);
  });
});
