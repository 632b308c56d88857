import { ParseError } from '../errors.ts';

/**
 * /proc/vmstat: `name value` per line. fleetscan keeps the compaction and reclaim counters a verdict judges — the
 * same selection the gather script makes (lib/infra/documents/gather.sh), so a local reading equals a fleet one.
 */

/** compact_* (stall, fail, success, scanned, kcompactd wakeups), allocstall (before 4.8) or allocstall_<zone>, pgmajfault, pgscan_direct. */
export const VMSTAT_COUNTER =
  /^(compact_(stall|fail|success|migrate_scanned|free_scanned|daemon_wake)|allocstall(_[a-z0-9]+)?|pgmajfault|pgscan_direct)$/;

/**
 * The selected counters, in file order. Lines that are not `name digits` are skipped, as the script's awk does; a
 * value beyond Number.MAX_SAFE_INTEGER is a ParseError, as it is in a gather report, never a rounded number.
 */
export function parseVmstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  text.split('\n').forEach((line, index) => {
    const [name = '', value = '', ...rest] = line.trim().split(/\s+/);
    if (rest.length > 0 || !VMSTAT_COUNTER.test(name) || !/^[0-9]+$/.test(value)) return;
    const number = Number(value);
    if (!Number.isSafeInteger(number)) {
      throw new ParseError('count-too-large', index + 1, value, `${name} is above ${Number.MAX_SAFE_INTEGER}`);
    }
    out[name] = number;
  });
  return out;
}
