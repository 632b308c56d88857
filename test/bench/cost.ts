/**
 * What a scan costs a month at a 15-minute schedule, per 1,000 nodes, from what the bench measured on the wire —
 * DynamoDB write and read units by item kind, the bytes each scan leaves stored, the collector's CPU time and API
 * calls, SNS publishes, log bytes — and the list prices below. Every line of the arithmetic is printed, so a reader
 * can redo it with other prices; the deployment's fixed monthly costs are listed apart (they do not grow with nodes).
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
  /** Per GB-month of table and index data (25 GB a month free: not counted). */
  dynamoStoragePerGbMonth: 0.25,
  /** Continuous backups (point-in-time recovery), per GB-month of table data (global secondary indexes excluded). */
  dynamoPitrPerGbMonth: 0.2,
  /** SNS standard topic publishes (64 KB chunks), beyond the first million a month free; e-mail deliveries extra. */
  snsPerMillionPublishes: 0.5,
  snsEmailPer100k: 2.0,
  /** KMS requests (the topic's key: SNS asks for a data key at most once per publish). */
  kmsPer10kRequests: 0.03,
  /** CloudWatch Logs ingestion (standard class). */
  logsIngestionPerGb: 0.5,
  /** EventBridge Scheduler invocations beyond 14 million a month free. */
  schedulerPerMillion: 1.0,
} as const;

/** Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion to memory below that. */
export const FULL_VCPU_MB = 1769;

/** Latencies assumed for a call's round trip in AWS (locally one takes ~1 ms). */
export const ASSUMED_LATENCY_MS = { ssm: 100, dynamodb: 20 } as const;

/** The deployment's monthly costs that do not grow with the fleet (README, "What it costs when idle"). */
export const FIXED_MONTHLY: readonly { readonly item: string; readonly count: number; readonly unitUsd: number }[] = [
  { item: 'custom metrics published every scan (EMF, one dimension)', count: 11, unitUsd: 0.3 },
  { item: 'custom metrics published only while remediations finish (at most)', count: 5, unitUsd: 0.3 },
  { item: 'alarms (10, ErrorNodes reads 2 metrics)', count: 11, unitUsd: 0.1 },
  { item: 'dashboard', count: 1, unitUsd: 3.0 },
  { item: 'KMS key of the topic', count: 1, unitUsd: 1.0 },
  { item: 'EventBridge Scheduler invocations (within the 14 M a month free)', count: 2920, unitUsd: 0.000001 },
];

export interface Bytes {
  /** In the table (what point-in-time recovery is billed on). */
  readonly table: number;
  /** In the global secondary indexes (their copies of items). */
  readonly index: number;
}

/**
 * One function's share of a scan: its invocations, the CPU time the bench measured, and the round trips its calls
 * cost one after the other (calls an invocation makes together — Promise.all — cost one).
 */
export interface FunctionUse {
  readonly name: string;
  readonly memoryMb: number;
  readonly invocations: number;
  readonly cpuMs: number;
  readonly ssmRoundTrips: number;
  readonly dynamodbRoundTrips: number;
}

/** What one scan of `nodes` nodes cost, as measured (steady state: an average of the scans after the first). */
export interface ScanUse {
  readonly nodes: number;
  /** Write units by item kind, the index copies included. */
  readonly writeUnits: Readonly<Record<string, number>>;
  /** Read units by what was read. */
  readonly readUnits: Readonly<Record<string, number>>;
  /** Bytes the scan leaves stored for the retention (items + 100 B overhead, per copy). */
  readonly retainedBytes: Bytes;
  /** Bytes the scan leaves stored for a few days only (the journal). */
  readonly shortBytes: Bytes;
  readonly functions: readonly FunctionUse[];
  /** SNS publish requests (64 KB chunks) and their e-mail deliveries per subscriber. */
  readonly snsPublishes: number;
  /** Bytes the functions log (Powertools lines, EMF metrics, Lambda's platform lines). */
  readonly logBytes: number;
}

export interface CostOptions {
  /** Nodes the result is for. @default 1000 */
  readonly per?: number;
  /** @default 15 */
  readonly scanMinutes?: number;
  /** @default 90 */
  readonly retentionDays?: number;
  /** How long the short-lived bytes stay. @default 3 */
  readonly shortDays?: number;
  /** Bytes kept for good (node states, host names), for the whole fleet measured. */
  readonly standingBytes?: Bytes;
  /** E-mail subscriptions to the topic (fleetscan:notificationEmails; none by default). @default 0 */
  readonly emailSubscribers?: number;
}

export interface CostLine {
  readonly item: string;
  readonly usd: number;
}

export interface CostResult {
  /** The arithmetic, one line each. */
  readonly lines: string[];
  readonly items: CostLine[];
  /** Variable cost per `per` nodes a month. */
  readonly monthlyUsd: number;
  /** The same figures per node and scan, for the JSON line. */
  readonly perNode: {
    readonly writeUnits: number;
    readonly readUnits: number;
    readonly retainedBytes: number;
    readonly shortBytes: number;
    readonly lambdaGbSeconds: number;
    readonly snsPublishes: number;
    readonly logBytes: number;
  };
  readonly fixed: { readonly lines: string[]; readonly low: number; readonly high: number };
}

const KINDS: Readonly<Record<string, string>> = {
  JRNL: 'journal pages',
  PROB: 'problem records',
  HIST: 'node history',
  HOST: 'host names',
  STATE: 'node states',
  SHARD: 'shards (leases, checkpoints)',
  SCAN: 'scan items',
  CMD: 'command items',
  REM: 'remediations',
  LAYOUT: 'history layout',
  DIGEST: 'digest',
  NODE: 'node records (one item each)',
};

export function kindName(kind: string): string {
  return KINDS[kind] ?? kind;
}

export const usd = (value: number): string => `$${value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;
export const num = (value: number, digits = 2): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits });
const GB = 1024 ** 3;

/** Seconds a function runs for a scan in Lambda: its CPU time at its memory's CPU share, plus its calls' latency. */
export function lambdaSeconds(use: FunctionUse): number {
  return (
    (use.cpuMs / 1000) * (FULL_VCPU_MB / use.memoryMb) +
    (use.ssmRoundTrips * ASSUMED_LATENCY_MS.ssm + use.dynamodbRoundTrips * ASSUMED_LATENCY_MS.dynamodb) / 1000
  );
}

function sum(values: Readonly<Record<string, number>>): number {
  return Object.values(values).reduce((a, b) => a + b, 0);
}

/** `a 1.00 + b 2.00 = 3.00`, largest first. */
function terms(values: Readonly<Record<string, number>>, scale: number, name: (key: string) => string): string {
  const entries = Object.entries(values)
    .filter(([, value]) => value > 0)
    .sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '0';
  return entries.map(([key, value]) => `${name(key)} ${num(value * scale)}`).join(' + ');
}

export function fixedMonthly(): CostResult['fixed'] {
  const lines = FIXED_MONTHLY.map(
    (entry) => `${entry.item}: ${num(entry.count)} × $${entry.unitUsd} = ${usd(entry.count * entry.unitUsd)}`,
  );
  const total = FIXED_MONTHLY.reduce((sum, entry) => sum + entry.count * entry.unitUsd, 0);
  const optional = FIXED_MONTHLY.filter((entry) => entry.item.includes('at most')).reduce(
    (sum, entry) => sum + entry.count * entry.unitUsd,
    0,
  );
  lines.push(
    `fixed total: ${usd(total - optional)} – ${usd(total)} a month, whatever the fleet's size (before the free tier)`,
  );
  return { lines, low: total - optional, high: total };
}

export function monthlyCost(use: ScanUse, options: CostOptions = {}): CostResult {
  const p = PRICES;
  const per = options.per ?? 1000;
  const scanMinutes = options.scanMinutes ?? 15;
  const retentionDays = options.retentionDays ?? 90;
  const shortDays = options.shortDays ?? 3;
  const subscribers = options.emailSubscribers ?? 0;
  const scans = (60 / scanMinutes) * 730;
  const f = per / use.nodes;
  const items: CostLine[] = [];
  const lines: string[] = [
    `prices: ${p.region} list prices as of ${p.date}, before free tiers; ${num(scans)} scans a month (every ${scanMinutes} min × 730 h); per ${num(per)} nodes${f === 1 ? '' : ` (measured on ${num(use.nodes)}, scaled × ${num(f, 4)})`}`,
  ];

  const wru = sum(use.writeUnits) * f;
  const writes = ((wru * scans) / 1e6) * p.dynamoPerMillionWriteUnits;
  lines.push(
    `dynamodb writes: ${terms(use.writeUnits, f, kindName)} = ${num(wru)} WRU/scan (index copies included) × ${num(scans)} = ${num(wru * scans, 0)} WRU × $${p.dynamoPerMillionWriteUnits}/M = ${usd(writes)}`,
  );
  items.push({ item: 'DynamoDB writes', usd: writes });

  const rru = sum(use.readUnits) * f;
  const reads = ((rru * scans) / 1e6) * p.dynamoPerMillionReadUnits;
  lines.push(
    `dynamodb reads: ${terms(use.readUnits, f, (key) => key)} = ${num(rru)} RRU/scan × ${num(scans)} = ${num(rru * scans, 0)} RRU × $${p.dynamoPerMillionReadUnits}/M = ${usd(reads)}`,
  );
  items.push({ item: 'DynamoDB reads', usd: reads });

  const kept = (retentionDays * 24 * 60) / scanMinutes;
  const shortKept = (shortDays * 24 * 60) / scanMinutes;
  const standing = options.standingBytes ?? { table: 0, index: 0 };
  const gb = (bytes: Bytes, times: number) => ({
    table: (bytes.table * times * f) / GB,
    index: (bytes.index * times * f) / GB,
  });
  const retained = gb(use.retainedBytes, kept);
  const short = gb(use.shortBytes, shortKept);
  const kept0 = gb(standing, 1);
  const tableGb = retained.table + short.table + kept0.table;
  const allGb = tableGb + retained.index + short.index + kept0.index;
  const storage = allGb * p.dynamoStoragePerGbMonth;
  const pitr = tableGb * p.dynamoPitrPerGbMonth;
  lines.push(
    `dynamodb storage: ${num((use.retainedBytes.table + use.retainedBytes.index) * f, 0)} B/scan kept ${retentionDays} d (${num(kept)} scans) = ${num(retained.table + retained.index, 3)} GB + journal ${num((use.shortBytes.table + use.shortBytes.index) * f, 0)} B/scan kept ${shortDays} d (${num(shortKept)} scans) = ${num(short.table + short.index, 3)} GB + kept for good ${num((standing.table + standing.index) * f, 0)} B = ${num(kept0.table + kept0.index, 3)} GB → ${num(allGb, 3)} GB × $${p.dynamoStoragePerGbMonth} = ${usd(storage)}`,
  );
  lines.push(
    `dynamodb point-in-time recovery: table data only ${num(tableGb, 3)} GB (index copies ${num(allGb - tableGb, 3)} GB not billed) × $${p.dynamoPitrPerGbMonth} = ${usd(pitr)}`,
  );
  items.push({ item: 'DynamoDB storage', usd: storage }, { item: 'DynamoDB PITR', usd: pitr });

  let gbSeconds = 0;
  let requests = 0;
  for (const fn of use.functions) {
    const seconds = lambdaSeconds(fn) * f;
    const gbs = seconds * (fn.memoryMb / 1024) * scans;
    gbSeconds += gbs;
    requests += fn.invocations * f * scans;
    lines.push(
      `lambda ${fn.name}: ${num(fn.invocations * f, 3)} invocations/scan; ${num(seconds, 3)} s/scan = CPU ${num(fn.cpuMs * f, 0)} ms × ${num(FULL_VCPU_MB / fn.memoryMb, 3)} (${fn.memoryMb} MB is ${num(fn.memoryMb / FULL_VCPU_MB, 3)} vCPU) + ${num(fn.ssmRoundTrips * f, 1)} SSM round trips × ${ASSUMED_LATENCY_MS.ssm} ms + ${num(fn.dynamodbRoundTrips * f, 1)} DynamoDB round trips × ${ASSUMED_LATENCY_MS.dynamodb} ms (latencies assumed) → × ${fn.memoryMb / 1024} GB × ${num(scans)} = ${num(gbs)} GB-s`,
    );
  }
  const compute = gbSeconds * p.lambdaArmPerGbSecond;
  const invoke = (requests / 1e6) * p.lambdaPerMillionRequests;
  lines.push(
    `lambda: ${num(gbSeconds)} GB-s × $${p.lambdaArmPerGbSecond} = ${usd(compute)}; ${num(requests, 0)} requests × $${p.lambdaPerMillionRequests}/M = ${usd(invoke)}`,
  );
  items.push({ item: 'Lambda', usd: compute + invoke });

  const publishes = use.snsPublishes * f * scans;
  const sns = (publishes / 1e6) * p.snsPerMillionPublishes;
  const email = ((publishes * subscribers) / 1e5) * p.snsEmailPer100k;
  const kms = (publishes / 1e4) * p.kmsPer10kRequests;
  lines.push(
    `sns: ${num(use.snsPublishes * f, 3)} publishes/scan × ${num(scans)} = ${num(publishes, 0)} × $${p.snsPerMillionPublishes}/M = ${usd(sns)}; e-mail to ${subscribers} subscriber(s) (fleetscan:notificationEmails; each one adds ${num(publishes, 0)} × $${p.snsEmailPer100k}/100k = ${usd((publishes / 1e5) * p.snsEmailPer100k)}) = ${usd(email)}; KMS ≤ 1 request per publish × $${p.kmsPer10kRequests}/10k = ${usd(kms)}`,
  );
  items.push({ item: 'SNS, e-mail, KMS requests', usd: sns + email + kms });

  const logGb = (use.logBytes * f * scans) / GB;
  const logs = logGb * p.logsIngestionPerGb;
  lines.push(
    `cloudwatch logs: ${num(use.logBytes * f, 0)} B/scan (JSON lines, EMF, platform lines) × ${num(scans)} = ${num(logGb, 3)} GB × $${p.logsIngestionPerGb}/GB ingested = ${usd(logs)}`,
  );
  items.push({ item: 'CloudWatch Logs', usd: logs });

  lines.push(
    'not charged: SSM Run Command on EC2 instances (hybrid nodes on the advanced tier are, per node-hour), AWS service events on the default bus, TTL deletions, in-region transfer; per deployment, not per node (listed apart): scheduler, metrics, alarms, dashboard, key',
  );
  const total = items.reduce((all, item) => all + item.usd, 0);
  lines.push(`total ≈ ${usd(total)} per ${num(per)} nodes a month (variable, steady state)`);

  const perNodeScale = 1 / use.nodes;
  return {
    lines,
    items,
    monthlyUsd: total,
    perNode: {
      writeUnits: sum(use.writeUnits) * perNodeScale,
      readUnits: sum(use.readUnits) * perNodeScale,
      retainedBytes: (use.retainedBytes.table + use.retainedBytes.index) * perNodeScale,
      shortBytes: (use.shortBytes.table + use.shortBytes.index) * perNodeScale,
      lambdaGbSeconds:
        use.functions.reduce((all, fn) => all + lambdaSeconds(fn) * (fn.memoryMb / 1024), 0) * perNodeScale,
      snsPublishes: use.snsPublishes * perNodeScale,
      logBytes: use.logBytes * perNodeScale,
    },
    fixed: fixedMonthly(),
  };
}
