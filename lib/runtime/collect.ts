/**
 * The collect Lambda's logic, and what `fleetscan demo` calls directly: one work item per invocation.
 *
 *   const deps: RuntimeDeps = { gateway, store, notifier, optOut, clock, trigger, logger?, metrics?, sleep? };
 *   await collect(deps, config, { kind: 'gather', commandId }, { deadline });    // one shard (shard.ts)
 *   await collect(deps, config, { kind: 'remediate', commandId });                // its outcomes (remediate.ts)
 *   await collect(deps, config, { kind: 'scan', scanId }, { deadline });          // the scan's own work (finish.ts)
 *
 * Every path is idempotent and leased: duplicate events, the sweep racing a late event and retries after a crash
 * are harmless. A collection that runs out of time hands its work to a fresh invocation (deps.trigger).
 */
import type { FleetscanConfig } from '../config/types.ts';
import { finishScan, type ScanWork } from './finish.ts';
import type { RuntimeDeps, WorkItem } from './ports.ts';
import { collectRemediation, type RemediationCollection } from './remediate.ts';
import { type CollectOptions, collectGatherCommand, type ShardCollection } from './shard.ts';

export { collectRemediation, type RemediationCollection } from './remediate.ts';
export type { CollectOptions } from './shard.ts';

/** What the collect handler receives once decoded (from an SSM status event, the sweep or a hand-off). */
export interface CollectRequest {
  readonly work: WorkItem;
  /** The command's requested time (the event's `requested-date-time`), for a command fleetscan has no record of. */
  readonly requestedAt?: string;
}

export type Collection =
  | ({ readonly kind: 'gather' } & ShardCollection)
  | ({ readonly kind: 'remediate' } & RemediationCollection)
  | ({ readonly kind: 'scan' } & ScanWork);

export async function collect(
  deps: RuntimeDeps,
  config: FleetscanConfig,
  work: WorkItem,
  options: CollectOptions = {},
): Promise<Collection> {
  switch (work.kind) {
    case 'gather': {
      const lease = work.lease ?? options.lease;
      const result = await collectGatherCommand(deps, config, work.commandId, {
        ...options,
        ...(lease === undefined ? {} : { lease }),
      });
      return { kind: 'gather', ...result };
    }
    case 'remediate':
      return { kind: 'remediate', ...(await collectRemediation(deps, config, work.commandId)) };
    case 'scan':
      return { kind: 'scan', ...(await finishScan(deps, config, work.scanId, options)) };
  }
}
