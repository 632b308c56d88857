/**
 * Leases: how long one collection holds the right to send one remediation (an intent's `sendingUntil`) or to
 * publish one notification (an outbox's `notifyingUntil`) before another collection may assume it is gone.
 *
 * A Lambda invocation lives at most 15 minutes — the service's hard limit, whatever the function's own timeout —
 * so a holder cannot still act once 15 minutes have passed since it took the lease. Five more minutes cover a
 * command sent at the holder's last moment showing up in SSM's listings (eventual consistency) and the clocks of
 * two invocations disagreeing. Leases are taken and checked with conditional writes; nothing waits for one to
 * end: the item carries a due entry at the lease's end, so the sweep comes back for it (the `due` index of
 * lib/adapters/dynamo/schema.ts).
 *
 * Local mode (`fleetscan demo`) runs one collection at a time in one process, so no lease there is ever contended.
 */
export const LEASE_SECONDS = 20 * 60;

/** The end of a lease taken at `now`, ISO-8601 UTC. */
export function leaseUntil(now: Date): string {
  return new Date(now.getTime() + LEASE_SECONDS * 1000).toISOString();
}
