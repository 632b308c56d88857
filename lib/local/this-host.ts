/**
 * The local fleet's node 0 is this machine: its real /proc/buddyinfo, memory totals, page size, hostname and
 * kernel release, read fresh for every scan. Read-only: nothing on this machine is ever changed.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { parseBuddyinfo } from '../core/buddyinfo.ts';
import { BUDDYINFO_PATH, localMeminfo, localPageSize } from '../core/read-local.ts';
import type { GatherReport } from '../core/report.ts';

/** This machine as a gather report; null when /proc/buddyinfo is not readable or not understood (not Linux). */
export async function readThisHost(root = ''): Promise<GatherReport | null> {
  let zones: GatherReport['zones'];
  try {
    zones = parseBuddyinfo(await readFile(`${root}${BUDDYINFO_PATH}`, 'utf8'));
  } catch {
    return null;
  }
  const [pageSize, meminfo] = await Promise.all([localPageSize(root), localMeminfo(root)]);
  return {
    host: os.hostname(),
    kernel: os.release(),
    pageSize: pageSize ?? 4096,
    memTotalKb: meminfo.memTotalKb,
    memAvailableKb: meminfo.memAvailableKb,
    // The kernel log needs privileges the demo does not ask for: reported as unknown, as the gather script does.
    allocFailures: null,
    zones,
  };
}
