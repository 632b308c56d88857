/**
 * The history over DynamoDB: the five aggregate stores on one table, and the HistoryReader the CLI reads through.
 *
 *   const history = new DynamoHistory({ client, tableName, retentionDays, orders });
 *   deps.store = history;                       // HistoryStores: history.scans, .records, .states, …
 *   await history.listScans({ limit: 20 });     // HistoryReader
 */
import type {
  HistoryReader,
  HistoryStores,
  NodeFilter,
  NodeRecord,
  NodeState,
  Page,
  PageRequest,
  RemediationRecord,
  ScanProgress,
  ScanRecord,
  ShardRecord,
} from '../../runtime/ports.ts';
import { DynamoOutboxStore } from './outbox.ts';
import { DynamoNodeRecordStore, type DynamoRecordsOptions } from './records.ts';
import { DynamoRemediationStore } from './remediations.ts';
import { DynamoScanStore } from './scans.ts';
import { DynamoNodeStateStore } from './states.ts';
import { DynamoTable, type DynamoTableOptions } from './table.ts';

export type DynamoHistoryOptions = DynamoTableOptions & DynamoRecordsOptions;

/** Nodes collected of nodes targeted, over a scan's shards. */
export function progressOf(shards: readonly ShardRecord[]): ScanProgress {
  const targeted = shards.map((shard) => shard.targeted);
  return {
    collected: shards.reduce((sum, shard) => sum + shard.tallies.nodes, 0),
    targeted:
      targeted.length === 0 || targeted.some((count) => count === null)
        ? null
        : targeted.reduce<number>((a, b) => a + (b ?? 0), 0),
  };
}

export class DynamoHistory implements HistoryStores, HistoryReader {
  readonly table: DynamoTable;
  readonly scans: DynamoScanStore;
  readonly records: DynamoNodeRecordStore;
  readonly states: DynamoNodeStateStore;
  readonly remediations: DynamoRemediationStore;
  readonly outbox: DynamoOutboxStore;

  constructor(options: DynamoHistoryOptions) {
    this.table = new DynamoTable(options);
    this.scans = new DynamoScanStore(this.table);
    this.records = new DynamoNodeRecordStore(this.table, options);
    this.states = new DynamoNodeStateStore(this.table);
    this.remediations = new DynamoRemediationStore(this.table);
    this.outbox = new DynamoOutboxStore(this.table);
  }

  /* ---- HistoryReader ---- */

  listScans(page: PageRequest & { readonly since?: string }): Promise<Page<ScanRecord>> {
    return this.scans.listScans(page);
  }

  /** The scan, with its progress over its shards. */
  async getScan(scanId: string): Promise<ScanRecord | null> {
    const scan = await this.scans.getScan(scanId);
    if (scan === null) return null;
    return { ...scan, progress: progressOf(await this.scans.listShards(scanId)) };
  }

  async listScanNodes(scanId: string, page: PageRequest & NodeFilter): Promise<Page<NodeRecord>> {
    const scan = await this.scans.getScan(scanId);
    return scan === null ? { items: [] } : this.records.listScanNodes(scan, page);
  }

  async listProblemNodes(scanId: string, page: PageRequest): Promise<Page<NodeRecord>> {
    const scan = await this.scans.getScan(scanId);
    return scan === null ? { items: [] } : this.records.listProblemNodes(scanId, page, scan.shards ?? 1);
  }

  nodeHistory(nodeId: string, options: PageRequest & { readonly since?: string }): Promise<Page<NodeRecord>> {
    return this.records.nodeHistory(nodeId, options);
  }

  listRemediations(
    options: PageRequest & { readonly nodeId?: string; readonly since?: string },
  ): Promise<Page<RemediationRecord>> {
    return this.remediations.listRemediations(options);
  }

  getNodeState(nodeId: string): Promise<NodeState | null> {
    return this.states.getNodeState(nodeId);
  }

  getNodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>> {
    return this.states.getNodeStates(nodeIds);
  }

  /**
   * The nodes a name stands for: an instance id as it is; else the nodes that reported it as their host name; else,
   * when fleetscan knows a node by that id (a replayed or on-premises node's id of another shape), that node.
   */
  async resolveNode(name: string): Promise<string[]> {
    const found = await this.records.resolveNode(name);
    if (found.length > 0) return found;
    return (await this.states.getNodeState(name)) === null ? [] : [name];
  }

  /** Operator action (`fleetscan clear`): unblocks a node and resets its no-effect streak. */
  clearNode(nodeId: string): Promise<boolean> {
    return this.states.clearNode(nodeId);
  }
}
