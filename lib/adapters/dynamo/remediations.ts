/**
 * RemediationStore over DynamoDB: remediation records (`SCAN#<scanId>`/`REM#<nodeId>`, indexed by node and by time)
 * and remediate command items (`CMD#<commandId>`). The intent → send → bind protocol of lib/runtime/remediate.ts
 * rests on the conditions here.
 */
import type {
  Page,
  PageRequest,
  RemediationCommandRecord,
  RemediationRecord,
  RemediationStore,
} from '../../runtime/ports.ts';
import {
  commandFromItem,
  remediationCommandFromItem,
  remediationCommandItem,
  remediationFromItem,
  remediationItem,
} from './codec.ts';
import { newestFirst } from './scans.ts';
import { DUE_PARTITION, dueKey, INDEXES, keys, REMEDIATIONS_PARTITION } from './schema.ts';
import type { DynamoTable } from './table.ts';

const DUE = { '#dp': INDEXES.due.partitionKey, '#ds': INDEXES.due.sortKey } as const;

export class DynamoRemediationStore implements RemediationStore {
  constructor(private readonly table: DynamoTable) {}

  async putRemediations(records: readonly RemediationRecord[]): Promise<void> {
    await this.table.batchPut(records.map((record) => remediationItem(record, this.table.retentionDays)));
  }

  createRemediationIntent(record: RemediationRecord): Promise<boolean> {
    return this.table.conditional({
      Item: remediationItem({ ...record, status: 'PENDING', commandId: null }, this.table.retentionDays),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  }

  takeOverRemediationIntent(
    scanId: string,
    nodeId: string,
    expectedUntil: string | null,
    until: string,
  ): Promise<boolean> {
    return this.table.conditional({
      Key: keys.remediation(scanId, nodeId),
      UpdateExpression: 'SET sendingUntil = :until, #ds = :dueKey, #dp = :duePartition',
      ConditionExpression: `#status = :pending AND attribute_not_exists(commandId) AND ${
        expectedUntil === null ? 'attribute_not_exists(sendingUntil)' : 'sendingUntil = :expected'
      }`,
      ExpressionAttributeNames: { '#status': 'status', ...DUE },
      ExpressionAttributeValues: {
        ':pending': 'PENDING',
        ':until': until,
        ':duePartition': DUE_PARTITION,
        ':dueKey': dueKey(until, 'scan', scanId),
        ...(expectedUntil === null ? {} : { ':expected': expectedUntil }),
      },
    });
  }

  setRemediationCommand(scanId: string, nodeId: string, commandId: string): Promise<boolean> {
    return this.table.conditional({
      Key: keys.remediation(scanId, nodeId),
      UpdateExpression: 'SET commandId = :command REMOVE sendingUntil, #dp, #ds',
      ConditionExpression: '#status = :pending AND attribute_not_exists(commandId)',
      ExpressionAttributeNames: { '#status': 'status', ...DUE },
      ExpressionAttributeValues: { ':pending': 'PENDING', ':command': commandId },
    });
  }

  async getRemediation(scanId: string, nodeId: string): Promise<RemediationRecord | null> {
    const item = await this.table.get(keys.remediation(scanId, nodeId));
    return item === undefined ? null : remediationFromItem(item);
  }

  listScanRemediations(scanId: string): Promise<RemediationRecord[]> {
    return this.table.all(
      {
        // Consistent: collectors decide from it what is still to send, right after other collectors wrote.
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.scan(scanId).pk, ':prefix': 'REM#' },
      },
      remediationFromItem,
    );
  }

  listRemediations(
    options: PageRequest & { readonly nodeId?: string; readonly since?: string },
  ): Promise<Page<RemediationRecord>> {
    const index = options.nodeId === undefined ? INDEXES.byTime : INDEXES.byNode;
    const partition = options.nodeId === undefined ? REMEDIATIONS_PARTITION : `REM#${options.nodeId}`;
    return this.table.indexPage(
      { IndexName: index.name, ...newestFirst(index, partition, options.since) },
      options,
      remediationFromItem,
    );
  }

  completeRemediation(record: RemediationRecord): Promise<boolean> {
    return this.table.conditional({
      Item: remediationItem({ ...record, status: 'COMPLETED' }, this.table.retentionDays),
      // Never over the record of another command (a record is bound to at most one).
      ConditionExpression:
        record.commandId === null
          ? '#status = :pending AND attribute_not_exists(commandId)'
          : '#status = :pending AND (attribute_not_exists(commandId) OR commandId = :command)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':pending': 'PENDING',
        ...(record.commandId === null ? {} : { ':command': record.commandId }),
      },
    });
  }

  async putRemediationCommand(command: RemediationCommandRecord): Promise<void> {
    await this.table.conditional({
      Item: remediationCommandItem(command, this.table.retentionDays),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  }

  async getRemediationCommand(commandId: string): Promise<RemediationCommandRecord | null> {
    const item = await this.table.get(keys.command(commandId));
    if (item === undefined) return null;
    const command = commandFromItem(item);
    return command.kind === 'remediate' ? remediationCommandFromItem(item) : null;
  }

  completeRemediationCommand(commandId: string, completedAt: string, notify = false): Promise<boolean> {
    // Its outcomes' message goes into the outbox with the completion, due at once for the sweep (markNotified takes
    // it off); with nothing to say, the command leaves the due list.
    return this.table.conditional({
      Key: keys.command(commandId),
      UpdateExpression: notify
        ? 'SET #status = :completed, completedAt = :at, notification = :pending, #ds = :due'
        : 'SET #status = :completed, completedAt = :at REMOVE #dp, #ds',
      ConditionExpression: '#status = :running',
      ExpressionAttributeNames: notify
        ? { '#status': 'status', '#ds': INDEXES.due.sortKey }
        : { '#status': 'status', ...DUE },
      ExpressionAttributeValues: {
        ':completed': 'COMPLETED',
        ':running': 'RUNNING',
        ':at': completedAt,
        ...(notify ? { ':pending': 'pending', ':due': dueKey(completedAt, 'remediate', commandId) } : {}),
      },
    });
  }
}
