/**
 * Small fleets for the picture tests: an in-memory HistoryReader that pages like the store does (a cursor, at most
 * `pageSize` items per page whatever was asked) and counts its page reads, and builders for records and models.
 */
import type {
  HistoryReader,
  NodeRecord,
  NodeStatus,
  Page,
  PageRequest,
  RemediationRecord,
  ScanRecord,
} from '../../lib/runtime/ports.ts';

export const T0 = Date.parse('2025-06-01T10:00:00Z');
export const INTERVAL = 900_000;

export function scanRecord(index: number, nodes: number): ScanRecord {
  const requestedAt = new Date(T0 + index * INTERVAL).toISOString();
  const scanId = `5ca0000${index}-0000-4000-8000-0000000000${String(index).padStart(2, '0')}`;
  return {
    scanId,
    commandId: scanId,
    requestedAt,
    collectAfter: requestedAt,
    status: 'COMPLETED',
    targets: 'tag:fleetscan=enabled',
    nodes,
  };
}

export function nodeRecord(
  scan: ScanRecord,
  nodeId: string,
  status: NodeStatus,
  worstUnusableIndex: number | null,
  host: string | null = `ip-10-0-0-${nodeId.slice(-2)}.ec2.internal`,
): NodeRecord {
  return {
    scanId: scan.scanId,
    nodeId,
    at: scan.requestedAt,
    status,
    cause: status === 'CRITICAL' ? 'fragmentation' : null,
    findings: [],
    invocationState: status === 'ERROR' ? 'Undeliverable' : 'Success',
    error: status === 'ERROR' ? 'invocation Undeliverable' : null,
    host,
    kernel: '6.1.0',
    pageSize: 4096,
    memTotalKb: 16_000_000,
    memAvailableKb: 9_000_000,
    allocFailures: 0,
    counters: null,
    bootId: null,
    uptimeSeconds: null,
    zones: [],
    indices: [],
    worstUnusableIndex: status === 'ERROR' ? null : worstUnusableIndex,
    worstFragmentationIndex: null,
    consecutiveBreaches: 0,
  };
}

export function remediation(
  scan: ScanRecord,
  nodeId: string,
  effect: RemediationRecord['effect'] | 'pending',
): RemediationRecord {
  return {
    remediationId: `${scan.scanId}:${nodeId}`,
    nodeId,
    scanId: scan.scanId,
    commandId: 'c0mmand0-0000-4000-8000-000000000000',
    action: 'compact-node',
    numaNode: 0,
    dryRun: effect === 'dry-run',
    requestedAt: scan.requestedAt,
    status: effect === 'pending' ? 'PENDING' : 'COMPLETED',
    ...(effect === 'pending' || effect === undefined ? {} : { effect }),
  };
}

/** One history: scans oldest first, each with its records; remediations in any order. */
export interface FakeHistory {
  readonly scans: readonly { readonly scan: ScanRecord; readonly records: readonly NodeRecord[] }[];
  readonly remediations?: readonly RemediationRecord[];
}

export class FakeReader implements HistoryReader {
  readonly calls: string[] = [];
  readonly remediationQueries: { since?: string }[] = [];

  constructor(
    private readonly history: FakeHistory,
    private readonly pageSize = 3,
  ) {}

  private page<T>(items: readonly T[], request: PageRequest): Page<T> {
    const from = request.cursor === undefined ? 0 : Number(request.cursor);
    const to = from + Math.min(request.limit, this.pageSize);
    return to < items.length ? { items: items.slice(from, to), next: String(to) } : { items: items.slice(from) };
  }

  async listScans(page: PageRequest): Promise<Page<ScanRecord>> {
    this.calls.push('listScans');
    return this.page(
      [...this.history.scans].reverse().map((entry) => entry.scan),
      page,
    );
  }

  async listScanNodes(scanId: string, page: PageRequest): Promise<Page<NodeRecord>> {
    this.calls.push(`listScanNodes ${scanId}`);
    return this.page(this.history.scans.find((entry) => entry.scan.scanId === scanId)?.records ?? [], page);
  }

  async listRemediations(options: PageRequest & { readonly since?: string }): Promise<Page<RemediationRecord>> {
    this.calls.push('listRemediations');
    this.remediationQueries.push(options.since === undefined ? {} : { since: options.since });
    const since = options.since ?? '';
    const items = [...(this.history.remediations ?? [])]
      .filter((record) => record.requestedAt >= since)
      .sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : -1));
    return this.page(items, options);
  }

  getScan(): Promise<ScanRecord | null> {
    throw new Error('not used by pictures');
  }
  listProblemNodes(): Promise<Page<NodeRecord>> {
    throw new Error('not used by pictures');
  }
  nodeHistory(): Promise<Page<NodeRecord>> {
    throw new Error('not used by pictures');
  }
  getNodeState(): Promise<null> {
    throw new Error('not used by pictures');
  }
  getNodeStates(): Promise<Map<string, never>> {
    throw new Error('not used by pictures');
  }
  resolveNode(): Promise<string[]> {
    throw new Error('not used by pictures');
  }
}

/**
 * Builds a history from a grid: one string per node, one entry per scan (oldest first) — `C980` CRITICAL at
 * 0.980, `W910`, `O120`, `E` ERROR, `-` absent, `O?` OK without an index.
 */
export function gridHistory(grid: Readonly<Record<string, readonly string[]>>, remediations = false): FakeHistory {
  const columns = Math.max(...Object.values(grid).map((row) => row.length));
  const status: Readonly<Record<string, NodeStatus>> = { C: 'CRITICAL', W: 'WARN', O: 'OK', E: 'ERROR' };
  const scans = Array.from({ length: columns }, (_, column) => {
    const entries = Object.entries(grid).filter(([, row]) => (row[column] ?? '-') !== '-');
    const scan = scanRecord(column, entries.length);
    const records = entries.map(([nodeId, row]) => {
      const code = row[column] ?? '-';
      const index = code.slice(1);
      return nodeRecord(
        scan,
        nodeId,
        status[code[0] ?? 'O'] ?? 'OK',
        index === '' || index === '?' ? null : Number(index),
      );
    });
    return { scan, records };
  });
  if (!remediations) return { scans };
  const [first, second] = scans;
  return {
    scans,
    remediations:
      first === undefined || second === undefined
        ? []
        : [
            remediation(first.scan, 'i-0remediated0000a', 'improved'),
            remediation(second.scan, 'i-0remediated0000b', 'no-effect'),
            remediation(second.scan, 'i-0remediated0000c', 'pending'),
          ],
  };
}
