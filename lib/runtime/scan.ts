/**
 * Starting a scan, and the sweep that catches scans and remediations whose completion event never came
 * (SSM's EventBridge events are best effort), or whose collection left work behind (a crash, an SNS outage). The
 * scan Lambda runs both on each schedule tick; `fleetscan demo` calls them directly and collects what the sweep
 * returns with lib/runtime/collect.ts.
 */
import { SSM_LIMITS } from '../config/contracts.ts';
import type { FleetscanConfig, TargetTag } from '../config/types.ts';
import type { DueCommand, RuntimeDeps, ScanRecord } from './ports.ts';
import { collectAfter } from './remediate.ts';

/** `tag:fleetscan=enabled`, or several such joined with `; `: how the targets read in the scan record. */
export function describeTargets(targets: readonly TargetTag[]): string {
  return targets.map((target) => `tag:${target.tagKey}=${target.tagValues.join(',')}`).join('; ');
}

/**
 * Sends the gather document to the configured tag targets and records the scan (RUNNING, due for the sweep
 * at collectAfter). The scan's id is the command's id, so a completion event leads straight to its scan.
 */
export async function startScan(
  deps: Pick<RuntimeDeps, 'gateway' | 'store' | 'clock' | 'logger'>,
  config: FleetscanConfig,
): Promise<ScanRecord> {
  const requested = deps.clock.now();
  const targets = describeTargets(config.targets);
  const { commandId } = await deps.gateway.send({
    document: 'gather',
    targets: {
      kind: 'tags',
      tags: config.targets.map((target) => ({ key: target.tagKey, values: target.tagValues })),
    },
    parameters: {},
    maxConcurrency: config.maxConcurrency,
    maxErrors: config.maxErrors,
    deliveryTimeoutSeconds: config.deliveryTimeoutSeconds,
    comment: `fleetscan gather ${requested.toISOString()} ${targets}`.slice(0, SSM_LIMITS.commentChars),
  });
  const scan: ScanRecord = {
    scanId: commandId,
    commandId,
    requestedAt: requested.toISOString(),
    collectAfter: collectAfter(requested, config),
    status: 'RUNNING',
    targets,
  };
  // If this write fails the command still runs; its completion event creates the missing record (collect.ts).
  await deps.store.createScan(scan);
  deps.logger?.info('scan started', { scanId: scan.scanId, targets, collectAfter: scan.collectAfter });
  return scan;
}

/** Default bound on what one sweep hands out, so that a backlog drains over several ticks. */
export const SWEEP_LIMIT = 100;

/**
 * What is due, oldest first, each command once: scans and remediate commands still RUNNING past their
 * collectAfter, and completed ones with work left — a remediation written but never sent whose sender's lease has
 * ended, a summary or outcome still in its outbox (HistoryStore.listDue). The scan Lambda invokes the collect
 * Lambda asynchronously with `{ source: 'fleetscan.sweep', kind, commandId }` for each; collecting is idempotent,
 * and collecting a completed scan or command finishes only its leftovers, so a sweep racing a late event is
 * harmless.
 */
export async function sweep(
  deps: Pick<RuntimeDeps, 'store' | 'clock' | 'logger'>,
  now: Date = deps.clock.now(),
  limit: number = SWEEP_LIMIT,
): Promise<DueCommand[]> {
  const due = await deps.store.listDue(now.toISOString(), limit);
  if (due.length > 0) {
    deps.logger?.warn('commands overdue for collection', {
      count: due.length,
      oldest: due[0]?.collectAfter,
      commandIds: due.slice(0, 10).map((entry) => entry.commandId),
    });
  }
  return due;
}
