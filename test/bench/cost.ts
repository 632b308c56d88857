/**
 * Monthly cost of scanning 1,000 nodes every 15 minutes, from the bench's measured calls and item sizes and the
 * list prices below. Every line of arithmetic is printed, so a reader can redo it with other prices.
 */

/**
 * us-east-1 list prices as published on the AWS pricing pages in 2025-06 (on-demand DynamoDB after the Nov 2024 cut).
 * Written down by hand, not fetched: re-check them before quoting the total.
 */
export const PRICES = {
  date: '2025-06',
  region: 'us-east-1',
  /** Lambda, Arm (Graviton), per GB-second (first tier). x86 is $0.0000166667. */
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** DynamoDB on-demand, Standard table class. */
  dynamoPerMillionWriteUnits: 0.625,
  dynamoPerMillionReadUnits: 0.125,
  dynamoStoragePerGbMonth: 0.25,
  /** Continuous backups (point-in-time recovery), per GB-month of table size. */
  dynamoPitrPerGbMonth: 0.2,
  /** SNS standard topic publishes (64 KB chunks), beyond the first million a month free; e-mail deliveries extra. */
  snsPerMillionPublishes: 0.5,
  snsEmailPer100k: 2.0,
  /** EventBridge Scheduler invocations beyond 14 million a month free. */
  schedulerPerMillion: 1.0,
} as const;

/** DynamoDB's per-item storage overhead, and the same again for each index copy. */
const ITEM_OVERHEAD_BYTES = 100;

export interface CostInputs {
  /** Nodes the per-scan figures below are for. */
  readonly nodes: number;
  /** Scans a month: 4 an hour × 730 hours. */
  readonly scansPerMonth: number;
  readonly lambda: readonly {
    readonly name: string;
    readonly invocationsPerScan: number;
    readonly ms: number;
    readonly memoryMb: number;
  }[];
  readonly writeUnitsPerScan: number;
  readonly readUnitsPerScan: number;
  /** Bytes stored per scan (items + per-item overhead, once per copy: table and each index). */
  readonly storedBytesPerScan: number;
  readonly retentionDays: number;
  readonly snsPublishesPerScan: number;
  readonly emailSubscribers: number;
}

export interface CostResult {
  readonly lines: string[];
  readonly monthlyUsd: number;
}

const usd = (value: number): string => `$${value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;
const n = (value: number): string => value.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** Storage a record adds: its bytes plus DynamoDB's 100-byte overhead, in the table and in each index copy. */
export function storedBytes(itemBytes: number, copies: number): number {
  return (itemBytes + ITEM_OVERHEAD_BYTES) * copies;
}

export function monthlyCost(inputs: CostInputs): CostResult {
  const p = PRICES;
  const scans = inputs.scansPerMonth;
  const lines: string[] = [
    `prices: ${p.region} list prices as of ${p.date}; ${n(scans)} scans/month (every 15 min × 730 h), ${n(inputs.nodes)} nodes`,
  ];
  let total = 0;

  let gbSeconds = 0;
  let requests = 0;
  for (const fn of inputs.lambda) {
    const invocations = fn.invocationsPerScan * scans;
    const gbs = invocations * (fn.ms / 1000) * (fn.memoryMb / 1024);
    gbSeconds += gbs;
    requests += invocations;
    lines.push(
      `lambda ${fn.name}: ${n(invocations)} invocations × ${n(fn.ms / 1000)} s × ${fn.memoryMb / 1024} GB = ${n(gbs)} GB-s`,
    );
  }
  const lambdaCompute = gbSeconds * p.lambdaArmPerGbSecond;
  const lambdaRequests = (requests / 1e6) * p.lambdaPerMillionRequests;
  lines.push(
    `lambda: ${n(gbSeconds)} GB-s × $${p.lambdaArmPerGbSecond} = ${usd(lambdaCompute)}; ${n(requests)} requests × $${p.lambdaPerMillionRequests}/M = ${usd(lambdaRequests)} (before the free tier)`,
  );
  total += lambdaCompute + lambdaRequests;

  const wru = inputs.writeUnitsPerScan * scans;
  const rru = inputs.readUnitsPerScan * scans;
  const writes = (wru / 1e6) * p.dynamoPerMillionWriteUnits;
  const reads = (rru / 1e6) * p.dynamoPerMillionReadUnits;
  lines.push(
    `dynamodb writes: ${n(inputs.writeUnitsPerScan)} WRU/scan (table + GSI copies) × ${n(scans)} = ${n(wru)} WRU × $${p.dynamoPerMillionWriteUnits}/M = ${usd(writes)}`,
  );
  lines.push(
    `dynamodb reads: ${n(inputs.readUnitsPerScan)} RRU/scan × ${n(scans)} = ${n(rru)} RRU × $${p.dynamoPerMillionReadUnits}/M = ${usd(reads)}`,
  );
  total += writes + reads;

  const scansKept = (inputs.retentionDays * 24 * 60) / 15;
  const gb = (inputs.storedBytesPerScan * scansKept) / 1024 ** 3;
  const storage = gb * p.dynamoStoragePerGbMonth;
  const pitr = gb * p.dynamoPitrPerGbMonth;
  lines.push(
    `dynamodb storage (steady state, ${inputs.retentionDays}-day TTL): ${n(inputs.storedBytesPerScan)} B/scan × ${n(scansKept)} scans kept = ${n(gb)} GB × $${p.dynamoStoragePerGbMonth} = ${usd(storage)}; PITR ${n(gb)} GB × $${p.dynamoPitrPerGbMonth} = ${usd(pitr)}`,
  );
  total += storage + pitr;

  const publishes = inputs.snsPublishesPerScan * scans;
  const sns = (publishes / 1e6) * p.snsPerMillionPublishes;
  const email = ((publishes * inputs.emailSubscribers) / 1e5) * p.snsEmailPer100k;
  lines.push(
    `sns: ≤ ${n(inputs.snsPublishesPerScan)} publishes/scan × ${n(scans)} = ${n(publishes)} × $${p.snsPerMillionPublishes}/M = ${usd(sns)}; e-mail to ${inputs.emailSubscribers} subscriber(s): ${usd(email)}`,
  );
  total += sns + email;

  const scheduler = (scans / 1e6) * p.schedulerPerMillion;
  lines.push(
    `scheduler: ${n(scans)} invocations × $${p.schedulerPerMillion}/M = ${usd(scheduler)} (within the 14 M free)`,
  );
  total += scheduler;

  lines.push(
    'not charged: SSM Run Command on EC2 nodes, AWS service events on the default bus; not modelled: CloudWatch Logs ingestion ($0.50/GB) and EMF metrics, which depend on log volume',
  );
  lines.push(`total ≈ ${usd(total)} per month per ${n(inputs.nodes)} nodes`);
  return { lines, monthlyUsd: total };
}
