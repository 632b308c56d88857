/**
 * Starting a scan — one gather command per shard — and the sweep that finds work left behind (SSM's EventBridge
 * events are best effort; collections crash and hand off). The scan Lambda runs both on each schedule tick;
 * `fleetscan demo` calls them directly and collects what they return with lib/runtime/collect.ts.
 *
 * Shards. One SendCommand with tag targets reaches any number of nodes, but one command's collection is one
 * listing, walked page by page by one collector at a time. Above `collection.nodesPerCommand` nodes a scan is
 * several commands: the target tag with the most values is split into groups of values, one command each —
 * tag-value buckets, written by the user's launch templates (`fleetscan=pool-0` … `pool-7`). Every node that
 * carries one of the configured values is in exactly one shard. How many: the previous completed scan's node count
 * over nodesPerCommand, at most one shard per value; with no previous scan, one per value.
 *
 * The scan item and its shards are written before anything is sent (shards PLANNED), each shard bound to its
 * command once sent, so a crash at any point leaves something the sweep finishes (lib/runtime/finish.ts): a
 * PLANNED shard whose command SSM knows is adopted (its Comment names the scan and shard), one SSM does not know is
 * abandoned, and the scan ends INCOMPLETE saying so.
 */
import { randomUUID } from 'node:crypto';
import { SSM_LIMITS } from '../config/contracts.ts';
import type { FleetscanConfig, TargetTag } from '../config/types.ts';
import { sanitizeText } from '../core/sanitize.ts';
import type { DueWork, RuntimeDeps, ScanRecord, SendCommandRequest, ShardRecord, WorkItem } from './ports.ts';
import { collectAfter, isDefiniteRejection } from './remediate.ts';
import { NO_TALLIES } from './tallies.ts';

/** How long a PLANNED shard may wait for its command before the scan's own work looks into it. */
export const SEND_WINDOW_SECONDS = 300;

/** `tag:fleetscan=enabled`, or several such joined with `; `: how the targets read in the scan record. */
export function describeTargets(targets: readonly TargetTag[]): string {
  return targets.map((target) => `tag:${target.tagKey}=${target.tagValues.join(',')}`).join('; ');
}

/** The Comment a gather command is sent with: the scan id and the shard, whole, then the targets. */
export function gatherComment(scanId: string, shard: number, shards: number, targets: string): string {
  return `fleetscan gather ${scanId} ${shard + 1}/${shards} ${targets}`.slice(0, SSM_LIMITS.commentChars);
}

/** The scan and shard a gather command's Comment names, or null when fleetscan did not write it. */
export function shardOfGatherComment(comment: string): { scanId: string; shard: number; shards: number } | null {
  const match = /^fleetscan gather (\S+) (\d+)\/(\d+)(?:\s|$)/.exec(comment);
  if (match === null) return null;
  const shard = Number(match[2]) - 1;
  const shards = Number(match[3]);
  return shard >= 0 && shard < shards ? { scanId: match[1] ?? '', shard, shards } : null;
}

/** Contiguous groups of `values`, `count` of them, as even as can be. */
function groups(values: readonly string[], count: number): string[][] {
  const out: string[][] = [];
  for (let index = 0; index < count; index += 1) {
    out.push(
      values.slice(Math.floor((index * values.length) / count), Math.floor(((index + 1) * values.length) / count)),
    );
  }
  return out;
}

/** The tag targets of each shard (see the module comment). */
export function planShards(config: FleetscanConfig, previousNodes: number | null): SendCommandRequest['targets'][] {
  const tags = config.targets.map((target) => ({ key: target.tagKey, values: [...target.tagValues] }));
  const widest = tags.reduce(
    (best, tag, index) => ((tags[best]?.values.length ?? 0) < tag.values.length ? index : best),
    0,
  );
  const values = tags[widest]?.values ?? [];
  const perCommand = config.collection.nodesPerCommand;
  // 0: never shard.
  const wanted = perCommand <= 0 ? 1 : previousNodes === null ? values.length : Math.ceil(previousNodes / perCommand);
  const count = Math.max(1, Math.min(values.length, wanted));
  if (count === 1) return [{ kind: 'tags', tags }];
  return groups(values, count).map((group) => ({
    kind: 'tags',
    tags: tags.map((tag, index) => (index === widest ? { key: tag.key, values: group } : tag)),
  }));
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/**
 * Sends the gather document to the configured targets (one command per shard) and records the scan, RUNNING and
 * due for the sweep at collectAfter.
 */
export async function startScan(
  deps: Pick<RuntimeDeps, 'gateway' | 'store' | 'clock' | 'logger' | 'newId'>,
  config: FleetscanConfig,
): Promise<ScanRecord> {
  const requested = deps.clock.now();
  const requestedAt = requested.toISOString();
  const scanId = (deps.newId ?? randomUUID)();
  const targets = describeTargets(config.targets);
  const [previous] = (await deps.store.scans.listScans({ limit: 1 })).items;
  const plan = planShards(config, previous?.nodes ?? null);
  const sendBy = new Date(requested.getTime() + SEND_WINDOW_SECONDS * 1000).toISOString();
  const shards: ShardRecord[] = plan.map((shardTargets, shard) => ({
    scanId,
    shard,
    targets: shardTargets,
    commandId: null,
    status: 'PLANNED',
    collectAfter: sendBy,
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
  }));
  const scan: ScanRecord = {
    scanId,
    commandId: '',
    requestedAt,
    collectAfter: collectAfter(requested, config),
    status: 'RUNNING',
    targets,
    shards: shards.length,
  };
  await deps.store.scans.createScan(scan, shards);
  let first: string | null = null;
  for (const shard of shards) {
    let commandId: string;
    try {
      ({ commandId } = await deps.gateway.send({
        document: 'gather',
        targets: shard.targets,
        parameters: {},
        maxConcurrency: config.maxConcurrency,
        maxErrors: config.maxErrors,
        deliveryTimeoutSeconds: config.deliveryTimeoutSeconds,
        comment: gatherComment(scanId, shard.shard, shards.length, targets),
      }));
    } catch (error) {
      deps.logger?.error('gather SendCommand failed', { scanId, shard: shard.shard, error: errorName(error) });
      // A rejection means nothing ran; anything else may have reached SSM: the shard stays PLANNED and the scan's
      // own work asks SSM for it once the send window has passed (finish.ts).
      if (isDefiniteRejection(error)) {
        await deps.store.scans.abandonShard(
          scanId,
          shard.shard,
          sanitizeText(`its gather command was refused (${errorName(error)})`, 200),
        );
      }
      continue;
    }
    first ??= commandId;
    await deps.store.scans.bindShard(scanId, shard.shard, commandId, collectAfter(deps.clock.now(), config));
  }
  deps.logger?.info('scan started', { scanId, targets, shards: shards.length, collectAfter: scan.collectAfter });
  return { ...scan, commandId: first ?? '' };
}

/** The work item of a due entry (what the collect Lambda is handed). */
export function workOf(due: DueWork): WorkItem {
  return due.kind === 'scan' ? { kind: 'scan', scanId: due.scanId } : { kind: due.kind, commandId: due.commandId };
}

/** Default bound on what one sweep hands out, so that a backlog drains over several ticks. */
export const SWEEP_LIMIT = 100;

/**
 * What is due, oldest first, each work item once (ScanStore.listDue). The scan Lambda invokes the collect Lambda
 * asynchronously for each; collecting is idempotent and leased, so a sweep racing a late event is harmless.
 */
export async function sweep(
  deps: Pick<RuntimeDeps, 'store' | 'clock' | 'logger'>,
  now: Date = deps.clock.now(),
  limit: number = SWEEP_LIMIT,
): Promise<DueWork[]> {
  const due = await deps.store.scans.listDue(now.toISOString(), limit);
  if (due.length > 0) {
    deps.logger?.warn('work due for collection', {
      count: due.length,
      oldest: due[0]?.dueAt,
      work: due
        .slice(0, 10)
        .map((entry) => (entry.kind === 'scan' ? `scan:${entry.scanId}` : `${entry.kind}:${entry.commandId}`)),
    });
  }
  return due;
}
