/**
 * The local fleet's node 0 is this machine: its real gather report (version 2: /proc/buddyinfo, memory, kernel log,
 * vmstat counters, pagetypeinfo, ... read by the same rules as the gather script), read fresh for every command.
 * Read-only: nothing on this machine is ever changed.
 */

import { readLocalGather } from '../core/read-local.ts';
import type { GatherReport } from '../core/report.ts';

/**
 * This machine as a gather report counting kernel-log failures since `since` (epoch seconds, 0: since boot); null
 * when /proc/buddyinfo is not readable or not understood (not Linux).
 */
export async function readThisHost(since = 0, root = ''): Promise<GatherReport | null> {
  try {
    const { version: _, ...report } = await readLocalGather({ root, since });
    return report;
  } catch {
    return null;
  }
}
