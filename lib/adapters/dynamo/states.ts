/**
 * NodeStateStore over DynamoDB: one `NODE#<id>`/`STATE` item per node that ever breached or was remediated. Every
 * write is conditional, so duplicate and concurrent collections fold a verdict or an outcome in once.
 */
import type {
  ClaimedFrom,
  NodeClaim,
  NodeClaimResult,
  NodeState,
  NodeStateStore,
  OutcomeResult,
  RemediationOutcome,
  VerdictUpdate,
} from '../../runtime/ports.ts';
import { nodeStateFromItem } from './codec.ts';
import { keys } from './schema.ts';
import type { DynamoTable } from './table.ts';

export class DynamoNodeStateStore implements NodeStateStore {
  constructor(private readonly table: DynamoTable) {}

  async getNodeState(nodeId: string): Promise<NodeState | null> {
    const item = await this.table.get(keys.nodeState(nodeId));
    return item === undefined ? null : nodeStateFromItem(item);
  }

  async getNodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>> {
    // Eventually consistent is enough: a stale state leads a re-collection to the same verdict (it starts from
    // what the first collection started from either way), and every write below is conditional.
    const items = await this.table.batchGet(
      [...new Set(nodeIds)].map((nodeId) => keys.nodeState(nodeId)),
      false,
    );
    return new Map(
      items.map((item) => {
        const state = nodeStateFromItem(item);
        return [state.nodeId, state];
      }),
    );
  }

  recordVerdict(update: VerdictUpdate): Promise<boolean> {
    return this.table.conditional({
      Key: keys.nodeState(update.nodeId),
      UpdateExpression: 'SET consecutiveBreaches = :cb, previousBreaches = :pb, lastScanId = :scan, lastScanAt = :at',
      // Once per scan, and never over a newer scan's verdict (a late sweep of an older scan).
      ConditionExpression: 'attribute_not_exists(lastScanId) OR (lastScanId <> :scan AND lastScanAt <= :at)',
      ExpressionAttributeValues: {
        ':cb': update.consecutiveBreaches,
        ':pb': update.previousBreaches,
        ':scan': update.scanId,
        ':at': update.at,
      },
    });
  }

  async claimNode(claim: NodeClaim): Promise<NodeClaimResult> {
    const old = await this.table.update({
      Key: keys.nodeState(claim.nodeId),
      UpdateExpression:
        'SET lastRemediationAt = :at, lastRemediationId = :rid, lastRemediationScanId = :scan, cooldownUntil = :until',
      ConditionExpression:
        '(attribute_not_exists(lastRemediationScanId) OR lastRemediationScanId <> :scan)' +
        ' AND (attribute_not_exists(lastRemediationAt) OR lastRemediationAt < :cutoff)' +
        ' AND (attribute_not_exists(blocked) OR blocked <> :true)',
      ExpressionAttributeValues: {
        ':at': claim.at,
        ':rid': claim.remediationId,
        ':scan': claim.scanId,
        ':cutoff': claim.cooldownCutoff,
        ':until': claim.cooldownUntil,
        ':true': true,
      },
      ReturnValues: 'UPDATED_OLD',
    });
    if (old === null) return { claimed: false };
    const text = (name: string) => (typeof old[name] === 'string' ? (old[name] as string) : null);
    return {
      claimed: true,
      previous: {
        lastRemediationAt: text('lastRemediationAt'),
        lastRemediationId: text('lastRemediationId'),
        lastRemediationScanId: text('lastRemediationScanId'),
        cooldownUntil: text('cooldownUntil'),
      },
    };
  }

  async releaseNode(claim: NodeClaim, previous: ClaimedFrom): Promise<void> {
    const set: string[] = [];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':rid': claim.remediationId };
    for (const [name, value] of Object.entries(previous)) {
      if (value === null) remove.push(name);
      else {
        set.push(`${name} = :${name}`);
        values[`:${name}`] = value;
      }
    }
    const expression = [
      set.length > 0 ? `SET ${set.join(', ')}` : '',
      remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    ]
      .filter((part) => part !== '')
      .join(' ');
    // False when someone else's claim replaced ours since: theirs stands.
    await this.table.conditional({
      Key: keys.nodeState(claim.nodeId),
      UpdateExpression: expression,
      ConditionExpression: 'lastRemediationId = :rid',
      ExpressionAttributeValues: values,
    });
  }

  async recordRemediationOutcome(outcome: RemediationOutcome): Promise<OutcomeResult> {
    const streak =
      outcome.effect === 'no-effect'
        ? 'noEffectCount = if_not_exists(noEffectCount, :zero) + :one, '
        : outcome.effect === 'improved'
          ? 'noEffectCount = :zero, '
          : '';
    // Folded in already (a duplicate event, or a retry after a crash): still finish the blocking step below.
    const state =
      (await this.table.update({
        Key: keys.nodeState(outcome.nodeId),
        UpdateExpression: `SET ${streak}lastOutcomeId = :rid`,
        ConditionExpression: 'attribute_not_exists(lastOutcomeId) OR lastOutcomeId <> :rid',
        ExpressionAttributeValues: {
          ':rid': outcome.remediationId,
          ...(streak === '' ? {} : { ':zero': 0 }),
          ...(outcome.effect === 'no-effect' ? { ':one': 1 } : {}),
        },
        ReturnValues: 'ALL_NEW',
      })) ?? (await this.table.get(keys.nodeState(outcome.nodeId)));
    const current = nodeStateFromItem(state ?? { ...keys.nodeState(outcome.nodeId) });
    if (current.blocked || current.noEffectCount < outcome.maxNoEffect) {
      return { noEffectCount: current.noEffectCount, blocked: current.blocked, newlyBlocked: false };
    }
    const blocked = await this.table.conditional({
      Key: keys.nodeState(outcome.nodeId),
      UpdateExpression: 'SET blocked = :true, blockedAt = :at',
      ConditionExpression: 'noEffectCount >= :max AND (attribute_not_exists(blocked) OR blocked <> :true)',
      ExpressionAttributeValues: { ':true': true, ':at': outcome.at, ':max': outcome.maxNoEffect },
    });
    if (blocked) return { noEffectCount: current.noEffectCount, blocked: true, newlyBlocked: true };
    // Blocked by a concurrent duplicate, or cleared by an operator meanwhile: report what is there now.
    const now = await this.getNodeState(outcome.nodeId);
    return { noEffectCount: now?.noEffectCount ?? 0, blocked: now?.blocked ?? false, newlyBlocked: false };
  }

  clearNode(nodeId: string): Promise<boolean> {
    return this.table.conditional({
      Key: keys.nodeState(nodeId),
      UpdateExpression: 'SET blocked = :false, noEffectCount = :zero REMOVE blockedAt',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':false': false, ':zero': 0 },
    });
  }
}
