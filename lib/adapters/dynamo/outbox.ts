/**
 * OutboxStore over DynamoDB: the `notification` attribute (pending → sent) and the `notifyingUntil` lease on scan
 * and remediation items (lib/runtime/outbox.ts has the protocol).
 */
import type { OutboxStore, OutboxTarget } from '../../runtime/ports.ts';
import { INDEXES, keys } from './schema.ts';
import type { DynamoTable } from './table.ts';

const DUE = { '#dp': INDEXES.due.partitionKey, '#ds': INDEXES.due.sortKey } as const;

function keyOf(target: OutboxTarget): { pk: string; sk: string } {
  return target.kind === 'scan' ? keys.scan(target.scanId) : keys.remediation(target.scanId, target.nodeId);
}

export class DynamoOutboxStore implements OutboxStore {
  constructor(private readonly table: DynamoTable) {}

  claimNotification(target: OutboxTarget, now: string, until: string): Promise<boolean> {
    return this.table.conditional({
      Key: keyOf(target),
      UpdateExpression: 'SET notifyingUntil = :until',
      ConditionExpression:
        'notification = :pending AND (attribute_not_exists(notifyingUntil) OR notifyingUntil <= :now)',
      ExpressionAttributeValues: { ':pending': 'pending', ':until': until, ':now': now },
    });
  }

  async releaseNotification(target: OutboxTarget, until: string): Promise<void> {
    // Not ours any more (it ran out and someone else took it): nothing to give back.
    await this.table.conditional({
      Key: keyOf(target),
      UpdateExpression: 'REMOVE notifyingUntil',
      ConditionExpression: 'notifyingUntil = :until',
      ExpressionAttributeValues: { ':until': until },
    });
  }

  async markNotified(target: OutboxTarget): Promise<void> {
    if (target.kind === 'remediation') {
      await this.table.conditional({
        Key: keyOf(target),
        UpdateExpression: 'SET notification = :sent REMOVE notifyingUntil, #dp, #ds',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: DUE,
        ExpressionAttributeValues: { ':sent': 'sent' },
      });
      return;
    }
    await this.table.conditional({
      Key: keyOf(target),
      UpdateExpression: 'SET notification = :sent REMOVE notifyingUntil',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':sent': 'sent' },
    });
    // A scan stays due until its records are sealed too (markSealed takes it off then).
    await this.table.conditional({
      Key: keyOf(target),
      UpdateExpression: 'REMOVE #dp, #ds',
      ConditionExpression: 'sealed = :true',
      ExpressionAttributeNames: DUE,
      ExpressionAttributeValues: { ':true': true },
    });
  }
}
