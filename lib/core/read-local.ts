/**
 * Reading this machine's own memory state (I/O, kept apart from the pure parsers). Used by `fleetscan inspect`
 * and by the local fleet's node for this host.
 */
import { readFile } from 'node:fs/promises';

export const BUDDYINFO_PATH = '/proc/buddyinfo';

/** The kernel's page size from /proc/self/smaps (KernelPageSize of the first mapping); null when unreadable. */
export async function localPageSize(root = ''): Promise<number | null> {
  try {
    const smaps = await readFile(`${root}/proc/self/smaps`, 'utf8');
    const match = /^KernelPageSize:\s+([0-9]+) kB$/m.exec(smaps);
    return match?.[1] === undefined ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

export interface LocalMeminfo {
  readonly memTotalKb: number | null;
  readonly memAvailableKb: number | null;
}

/** Parses the two /proc/meminfo fields the policy uses; missing ones are null. */
export function parseMeminfo(text: string): LocalMeminfo {
  const field = (name: string): number | null => {
    const match = new RegExp(`^${name}:\\s+([0-9]+) kB$`, 'm').exec(text);
    return match?.[1] === undefined ? null : Number(match[1]);
  };
  return { memTotalKb: field('MemTotal'), memAvailableKb: field('MemAvailable') };
}

export async function localMeminfo(root = ''): Promise<LocalMeminfo> {
  try {
    return parseMeminfo(await readFile(`${root}/proc/meminfo`, 'utf8'));
  } catch {
    return { memTotalKb: null, memAvailableKb: null };
  }
}
