/**
 * Gather commands fleetscan's own records do not account for, found through SSM's (ListCommands):
 * - a command whose shard was never bound (the scan function stopped between SendCommand and the bind): its
 *   Comment names the scan and the shard, so the shard is bound to it;
 * - a PLANNED shard past its send window: SSM is asked for a command of this scan and shard; found, it is adopted;
 *   not found, the shard is abandoned (the scan ends INCOMPLETE saying so);
 * - a command of the gather document fleetscan did not send (run by hand from the console): it becomes a scan of
 *   its own, so that its nodes are recorded all the same.
 */
import type { FleetscanConfig } from '../config/types.ts';
import type { RuntimeDeps, ScanRecord, ShardRecord } from './ports.ts';
import { COMMAND_SEARCH_MARGIN_MS, collectAfter } from './remediate.ts';
import { shardOfGatherComment } from './scan.ts';
import { NO_TALLIES } from './tallies.ts';

function boundAt(requestedAt: string | null, deps: Pick<RuntimeDeps, 'clock'>): Date {
  const parsed = requestedAt === null ? Number.NaN : Date.parse(requestedAt);
  return Number.isNaN(parsed) ? deps.clock.now() : new Date(parsed);
}

export async function recoverGatherCommand(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  commandId: string,
  requestedAt?: string,
): Promise<{ scanId: string; shard: number } | null> {
  const found = await deps.gateway.describeCommand(commandId);
  if (found !== null && found.document !== 'gather') return null;
  const named = found === null ? null : shardOfGatherComment(found.comment);
  const sentAt = boundAt(requestedAt ?? found?.requestedAt ?? null, deps);
  if (named !== null && (await deps.store.scans.getShard(named.scanId, named.shard)) !== null) {
    await deps.store.scans.bindShard(named.scanId, named.shard, commandId, collectAfter(sentAt, config));
    deps.logger?.warn('gather command found in SSM and bound to its shard', { commandId, ...named });
    return { scanId: named.scanId, shard: named.shard };
  }
  if (found === null && requestedAt === undefined) return null;
  // Sent outside the scan function: recorded as a scan of its own, keyed by the command.
  const scan: ScanRecord = {
    scanId: commandId,
    commandId,
    requestedAt: sentAt.toISOString(),
    collectAfter: collectAfter(sentAt, config),
    status: 'RUNNING',
    targets: 'unknown (no scan record; command sent outside the scan function)',
    shards: 1,
  };
  const shard: ShardRecord = {
    scanId: commandId,
    shard: 0,
    targets: { kind: 'instances', instanceIds: [] },
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
  };
  await deps.store.scans.createScan(scan, [shard]);
  await deps.store.scans.bindShard(commandId, 0, commandId, scan.collectAfter);
  deps.logger?.warn('collecting a gather command without a scan record', { commandId });
  return { scanId: commandId, shard: 0 };
}

/** PLANNED shards past their send window: adopted from SSM, or abandoned. */
export async function settlePlannedShards(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  scan: ScanRecord,
  shards: readonly ShardRecord[],
): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  const overdue = shards.filter((shard) => shard.status === 'PLANNED' && shard.collectAfter <= now);
  if (overdue.length === 0) return false;
  const invokedAfter = new Date(Date.parse(scan.requestedAt) - COMMAND_SEARCH_MARGIN_MS).toISOString();
  const commands = await deps.gateway.findCommands({ document: 'gather', invokedAfter });
  for (const shard of overdue) {
    const command = commands.find((candidate) => {
      const named = shardOfGatherComment(candidate.comment);
      return named !== null && named.scanId === scan.scanId && named.shard === shard.shard;
    });
    if (command !== undefined) {
      await deps.store.scans.bindShard(
        scan.scanId,
        shard.shard,
        command.commandId,
        collectAfter(boundAt(command.requestedAt, deps), config),
      );
      deps.logger?.warn('gather command found in SSM and bound to its shard', {
        scanId: scan.scanId,
        shard: shard.shard,
        commandId: command.commandId,
      });
    } else {
      await deps.store.scans.abandonShard(
        scan.scanId,
        shard.shard,
        'its gather command was never sent (the scan function stopped before sending it)',
      );
    }
  }
  return true;
}
