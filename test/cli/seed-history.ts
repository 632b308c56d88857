/**
 * A small, known history written through the real DynamoStore (the runtime's write methods), for the history
 * commands' tests: three scans 15 minutes apart, four nodes with different stories, two remediations.
 * Times are relative to now: the store hides items whose TTL (requestedAt + retention) has passed.
 */
import type { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import type {
  NodeRecord,
  NodeStatus,
  RemediationRecord,
  ScanCompletion,
  ScanRecord,
  WatchedIndex,
} from '../../lib/runtime/ports.ts';
import { NO_TALLIES } from '../../lib/runtime/tallies.ts';

export const NODES = {
  healthy: 'i-0a1b2c3d4e5f60001',
  fragmenting: 'i-0a1b2c3d4e5f60002',
  unreachable: 'i-0a1b2c3d4e5f60003',
  lowMemory: 'i-0a1b2c3d4e5f60004',
} as const;

/** What the unreachable node's error says: an escape sequence a terminal must never receive. */
export const HOSTILE_ERROR = 'Undeliverable: agent said \u001b]0;pwned\u0007\u001b[31mred';

export interface SeededScan {
  readonly scan: ScanRecord;
  readonly records: NodeRecord[];
}

export interface SeededHistory {
  readonly scans: SeededScan[];
  readonly remediations: RemediationRecord[];
}

function index(order: number, unusableIndex: number, suitableBlocks: number): WatchedIndex {
  return {
    node: 0,
    zone: 'Normal',
    order,
    suitableBlocks,
    unusableIndex,
    fragmentationIndex: suitableBlocks > 0 ? -1000 : 940,
  };
}

function record(
  scan: ScanRecord,
  nodeId: string,
  status: NodeStatus,
  details: Partial<NodeRecord> & { indices?: WatchedIndex[] },
): NodeRecord {
  const indices = details.indices ?? [];
  const worst = indices.length === 0 ? null : Math.max(...indices.map((entry) => entry.unusableIndex));
  return {
    scanId: scan.scanId,
    nodeId,
    at: scan.requestedAt,
    status,
    cause: null,
    findings: [],
    invocationState: 'Success',
    error: null,
    host: `ip-10-0-0-${nodeId.slice(-1)}.ec2.internal`,
    kernel: '6.1.119-129.201.amzn2023.x86_64',
    pageSize: 4096,
    memTotalKb: 16_000_000,
    memAvailableKb: 9_000_000,
    allocFailures: 0,
    zones: [],
    worstUnusableIndex: worst,
    worstFragmentationIndex:
      indices.length === 0 ? null : Math.max(...indices.map((entry) => entry.fragmentationIndex)),
    consecutiveBreaches: 0,
    ...details,
    indices,
  };
}

function countsOf(records: readonly NodeRecord[]) {
  const counts = { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };
  for (const entry of records) counts[entry.status] += 1;
  return counts;
}

/** Writes the history; returns what was written so tests derive their expectations from it. */
/**
 * Writes a scan the way the runtime does: the scan and its one shard, its records page by page into the journal,
 * the shard and the scan finished, the records sealed into the node history.
 */
export async function writeScan(
  store: DynamoHistory,
  scan: ScanRecord,
  records: readonly NodeRecord[],
  completion?: Omit<ScanCompletion, 'status'>,
): Promise<void> {
  await store.scans.createScan(scan, [
    {
      scanId: scan.scanId,
      shard: 0,
      targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
      commandId: null,
      status: 'PLANNED',
      collectAfter: scan.collectAfter,
      page: 0,
      nextToken: null,
      listed: false,
      tallies: NO_TALLIES,
      targeted: null,
      attempts: 0,
      lastError: null,
      reason: null,
      leaseToken: null,
      leaseUntil: null,
    },
  ]);
  await store.scans.bindShard(scan.scanId, 0, scan.commandId, scan.collectAfter);
  for (let page = 0; page * 50 < records.length; page += 1) {
    await store.records.putPage(
      { scanId: scan.scanId, at: scan.requestedAt, shard: 0, page },
      records.slice(page * 50, page * 50 + 50).map((record) => ({ record })),
      {
        newHosts: records.flatMap((record) =>
          record.host === null ? [] : [{ nodeId: record.nodeId, host: record.host }],
        ),
      },
    );
  }
  await store.scans.finishShard(scan.scanId, 0, { token: null, status: 'COMPLETED' });
  if (completion === undefined) return;
  await store.scans.completeScan(scan.scanId, { status: 'COMPLETED', ...completion });
  const completed = await store.scans.getScan(scan.scanId);
  if (completed === null) throw new Error(`seeded scan ${scan.scanId} is missing`);
  const sealed = await store.records.seal(completed, null, () => Number.POSITIVE_INFINITY);
  await store.scans.markSealed(scan.scanId, sealed.progress);
}

export async function seedHistory(store: DynamoHistory, now = new Date()): Promise<SeededHistory> {
  const start = Math.floor(now.getTime() / 900_000) * 900_000 - 3 * 900_000;
  const scans: SeededScan[] = [];
  const remediations: RemediationRecord[] = [];
  // The fragmenting node's order-6 unusable index rises scan over scan; compaction after the second scan helps.
  const fragmentingU = [962, 991, 420];
  const fragmentingBlocks = [14, 3, 180];
  for (let n = 0; n < 3; n += 1) {
    const requestedAt = new Date(start + n * 900_000).toISOString();
    const scanId = `5c0ffee${n}-0000-4000-8000-00000000000${n}`;
    const scan: ScanRecord = {
      scanId,
      commandId: scanId,
      requestedAt,
      collectAfter: new Date(start + n * 900_000 + 600_000).toISOString(),
      status: 'RUNNING',
      targets: 'tag:fleetscan=enabled',
    };
    const frag = fragmentingU[n] ?? 0;
    const breaching = frag >= 975;
    const records = [
      record(scan, NODES.healthy, 'OK', { indices: [index(4, 120 + n, 900), index(6, 260 + n, 200)] }),
      record(scan, NODES.fragmenting, breaching ? (n === 0 ? 'WARN' : 'CRITICAL') : frag >= 900 ? 'WARN' : 'OK', {
        cause: frag >= 900 ? 'fragmentation' : null,
        findings: frag >= 900 ? [`few-suitable-blocks@0/Normal/6`, 'high-unusable-index@0/Normal/4'] : [],
        indices: [index(4, Math.min(frag, 930), 60), index(6, frag, fragmentingBlocks[n] ?? 0)],
        consecutiveBreaches: breaching ? n : 0,
      }),
      record(scan, NODES.unreachable, 'ERROR', {
        invocationState: 'Undeliverable',
        error: HOSTILE_ERROR,
        host: null,
        kernel: null,
        pageSize: null,
        memTotalKb: null,
        memAvailableKb: null,
        allocFailures: null,
      }),
      record(scan, NODES.lowMemory, 'CRITICAL', {
        cause: 'low-memory',
        findings: ['no-suitable-block@0/Normal/4', 'low-available-memory'],
        indices: [index(4, 1000, 0), index(6, 1000, 0)],
        memAvailableKb: 300_000,
        consecutiveBreaches: n + 2,
      }),
    ];
    for (const entry of records) {
      if (entry.status === 'ERROR') continue;
      await store.states.recordVerdict({
        nodeId: entry.nodeId,
        scanId,
        at: requestedAt,
        previousBreaches: Math.max(0, entry.consecutiveBreaches - 1),
        consecutiveBreaches: entry.consecutiveBreaches,
      });
    }
    if (n === 1) {
      const rem: RemediationRecord = {
        remediationId: `${scanId}:${NODES.fragmenting}`,
        nodeId: NODES.fragmenting,
        scanId,
        commandId: `7e3e0000-0000-4000-8000-00000000000${n}`,
        action: 'compact-node',
        numaNode: 0,
        dryRun: false,
        requestedAt,
        status: 'PENDING',
      };
      await store.states.claimNode({
        nodeId: NODES.fragmenting,
        scanId,
        remediationId: rem.remediationId,
        at: requestedAt,
        cooldownCutoff: new Date(start + n * 900_000 - 6 * 3_600_000).toISOString(),
        cooldownUntil: new Date(start + n * 900_000 + 6 * 3_600_000).toISOString(),
      });
      await store.remediations.putRemediations([rem]);
      const done: RemediationRecord = {
        ...rem,
        status: 'COMPLETED',
        effect: 'improved',
        completedAt: new Date(start + n * 900_000 + 120_000).toISOString(),
        before: [index(6, 991, 3)],
        after: [index(6, 420, 180)],
        error: null,
      };
      await store.remediations.completeRemediation(done);
      remediations.push(done);
    }
    const completion = {
      completedAt: new Date(start + n * 900_000 + 60_000).toISOString(),
      counts: countsOf(records),
      nodes: records.length,
      worstUnusableIndex: Math.max(...records.map((entry) => entry.worstUnusableIndex ?? 0)),
    };
    await writeScan(store, scan, records, completion);
    if (n === 1) await store.scans.takeRemediationSlot(scanId, NODES.fragmenting, 5);
    scans.push({
      scan: { ...scan, ...completion, status: 'COMPLETED', remediations: n === 1 ? 1 : 0 },
      records,
    });
  }
  return { scans, remediations };
}
