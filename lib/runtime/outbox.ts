/**
 * Publishing through the outbox: a scan summary or a remediation outcome is written `notification: 'pending'` by
 * the same conditional write that completes its scan or remediation, and published afterwards by whoever gets the
 * outbox lease first. Completion therefore never outruns its notification: a collection that completed and then
 * failed to publish leaves the notification pending, and the re-delivery of its event (Lambda's async retries) or
 * the sweep (the pending item is on the due list) publishes it, rebuilt from the store.
 *
 * The order, and what a crash at each step leaves:
 *   1. complete + `pending` (one conditional write) — crash after: pending, unleased; the retry publishes.
 *   2. claimNotification: `notifyingUntil` = now + LEASE, only if pending and no live lease — so among concurrent
 *      collections exactly one publishes. Crash after: the lease blocks others until it ends, then the sweep
 *      publishes (the due entry outlives the lease).
 *   3. publish. Failure (SNS down, throttled): the lease is given back and the error rethrown, so the invocation
 *      fails and is retried; the notification stays pending.
 *   4. markNotified: `sent`, off the due list. A crash between 3 and 4 is the one way to publish twice: the lease
 *      ends, the sweep publishes again. Delivery is at least once, exactly once unless a collection dies there.
 */
import { leaseUntil } from './lease.ts';
import type { Notification, OutboxTarget, RuntimeDeps } from './ports.ts';

/**
 * Publishes the target's pending notification unless someone else holds its lease or it was sent already; `build`
 * runs only once the lease is ours. True when this call published.
 */
export async function publishOnce(
  deps: Pick<RuntimeDeps, 'store' | 'notifier' | 'clock' | 'logger'>,
  target: OutboxTarget,
  build: () => Notification | Promise<Notification>,
): Promise<boolean> {
  const now = deps.clock.now();
  const until = leaseUntil(now);
  if (!(await deps.store.outbox.claimNotification(target, now.toISOString(), until))) return false;
  try {
    await deps.notifier.publish(await build());
  } catch (error) {
    try {
      await deps.store.outbox.releaseNotification(target, until);
    } catch (releaseError) {
      // The lease then simply runs out; the sweep publishes after it.
      deps.logger?.error('could not give the notification lease back', {
        ...target,
        error: releaseError instanceof Error ? releaseError.name : String(releaseError),
      });
    }
    throw error;
  }
  await deps.store.outbox.markNotified(target);
  return true;
}
