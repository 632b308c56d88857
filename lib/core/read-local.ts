/**
 * Reading this machine's own memory state (I/O, kept apart from the pure parsers in lib/core/procfs/ and
 * lib/core/report.ts, as prometheus/procfs keeps them). Used by `fleetscan inspect` and by the local fleet's node for
 * this host: `readLocalGather` reads everything the gather script reads, into the same version-2 report.
 */
import { readdir, readFile } from 'node:fs/promises';
import { hostname as hostnameOfOs, release as osRelease } from 'node:os';
import { parseBuddyinfo } from './buddyinfo.ts';
import { scanKernelLog } from './procfs/kernel-log.ts';
import { parsePagetypeinfo } from './procfs/pagetypeinfo.ts';
import { parseVmstat } from './procfs/vmstat.ts';
import {
  type AllocFailures,
  formatGatherReport,
  type GatherReport,
  type KcompactdState,
  type KernelLogScan,
  type Pagetypes,
  type ParsedGatherReport,
  parseGatherReport,
} from './report.ts';

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

/* ---- the whole gather report, read locally ---- */

/** Runs a command with a time limit (the I/O port of {@link readLocalGather}; tests give it fakes). */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  timeoutMs: number,
) => Promise<{ readonly stdout: string; readonly exitCode: number | null; readonly timedOut: boolean }>;

/** Runs the real command; a missing one answers exit code 127 with no output. */
export const runCommand: CommandRunner = async (command, args, timeoutMs) => {
  // Loaded on first use: `fleetscan inspect` reads files only, and starts sooner without child_process.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout) => {
        const failure = error as (Error & { code?: unknown; killed?: boolean }) | null;
        const timedOut = failure?.killed === true;
        const exitCode = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : timedOut ? null : 127;
        resolve({ stdout: stdout ?? '', exitCode, timedOut });
      },
    );
  });
};

export interface LocalGatherOptions {
  /** Re-roots /proc and /sys (fixture trees in tests). @default '' */
  readonly root?: string;
  /** Count kernel-log failures logged at or after this epoch second; 0 = since boot. @default 0 */
  readonly since?: number;
  /** @default the real commands */
  readonly run?: CommandRunner;
  /** @default the kernel's, from /proc/self/smaps */
  readonly pageSize?: number;
}

/** The same time bounds as the gather script: dmesg 2 s, the journal 3 s, /proc/pagetypeinfo 2 s. */
export const LOCAL_TIMEOUTS_MS = { dmesg: 2000, journal: 3000, pagetypeinfo: 2000 } as const;

async function text(path: string, timeoutMs?: number): Promise<string | null> {
  try {
    return await readFile(path, {
      encoding: 'utf8',
      ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
    });
  } catch {
    return null;
  }
}

const firstLine = (value: string | null | undefined): string => (value ?? '').split('\n', 1)[0] ?? '';
const firstWord = (value: string | null | undefined): string => (value ?? '').trim().split(/\s+/, 1)[0] ?? '';

function meminfoKb(meminfo: string | null | undefined, name: string): number | null {
  const match = new RegExp(`^${name}:\\s+([0-9]+)(\\s|$)`, 'm').exec(meminfo ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

async function kernelLogScan(
  run: CommandRunner,
  since: number,
  bootTime: number | null,
): Promise<{ kernelLog: KernelLogScan; allocFailures: AllocFailures | null }> {
  const sources = [
    { source: 'dmesg', command: 'dmesg', args: [], timeoutMs: LOCAL_TIMEOUTS_MS.dmesg },
    {
      source: 'journal',
      command: 'journalctl',
      args: ['-k', '-b', '-q', '--no-pager', '-o', 'short-monotonic'],
      timeoutMs: LOCAL_TIMEOUTS_MS.journal,
    },
  ] as const;
  for (const { source, command, args, timeoutMs } of sources) {
    const result = await run(command, args, timeoutMs);
    const printed = result.stdout.split('\n').some((line) => line !== '');
    // Only a source that printed nothing is replaced by the next: no failure is counted twice.
    if (result.exitCode !== 0 && !printed) continue;
    if (result.exitCode !== 0) return { kernelLog: { source, state: 'cut', since }, allocFailures: null };
    const scan = scanKernelLog(result.stdout, { source, since, bootTime });
    return { kernelLog: { source, state: scan.state, since }, allocFailures: scan.allocFailures };
  }
  return { kernelLog: { source: 'none', state: 'unreadable', since }, allocFailures: null };
}

async function kcompactdStates(root: string): Promise<KcompactdState[] | null> {
  let entries: string[];
  try {
    entries = (await readdir(`${root}/proc`)).filter((entry) => /^[0-9]+$/.test(entry));
  } catch {
    return null;
  }
  const found: { pid: number; node: number; state: string }[] = [];
  for (const pid of entries) {
    const comm = firstLine(await text(`${root}/proc/${pid}/comm`));
    const match = /^kcompactd([0-9]+)$/.exec(comm);
    if (match === null) continue;
    const stat = firstLine(await text(`${root}/proc/${pid}/stat`));
    const state = /\) ([A-Za-z])/.exec(stat)?.[1] ?? '?';
    found.push({ pid: Number(pid), node: Number(match[1]), state });
  }
  // The script lists them in the order the shell's glob sorts /proc/<pid>: by name, not by number.
  found.sort((a, b) => (String(a.pid) < String(b.pid) ? -1 : 1));
  return found.length === 0 ? null : found.map(({ node, state }) => ({ node, state }));
}

function thpMode(value: string | null | undefined): string | null {
  const match = /\[([a-z+]+)\]/.exec(firstLine(value));
  return match?.[1] ?? null;
}

function sysctl(value: string | null | undefined): number | null {
  const word = firstWord(value);
  return /^[0-9]+$/.test(word) ? Number(word) : null;
}

/**
 * This machine's gather report, version 2, read from the same sources as the gather script with the same rules and
 * time bounds, then printed and parsed like a fleet node's (so the same checks apply and the verdict is the same).
 * Throws ParseError when /proc/buddyinfo is unreadable or a source holds a value no report could carry.
 */
export async function readLocalGather(options: LocalGatherOptions = {}): Promise<ParsedGatherReport> {
  const root = options.root ?? '';
  const run = options.run ?? runCommand;
  const since = options.since ?? 0;
  const [hostname, osrelease, meminfo, stat, loadavg, uptime, bootId, vmstat, buddyinfo] = await Promise.all(
    [
      'proc/sys/kernel/hostname',
      'proc/sys/kernel/osrelease',
      'proc/meminfo',
      'proc/stat',
      'proc/loadavg',
      'proc/uptime',
      'proc/sys/kernel/random/boot_id',
      'proc/vmstat',
      'proc/buddyinfo',
    ].map((file) => text(`${root}/${file}`)),
  );
  const bootTimeText = /^btime ([0-9]+)$/m.exec(stat ?? '')?.[1];
  const bootTime = bootTimeText === undefined ? null : Number(bootTimeText);
  const cpus = (stat ?? '').split('\n').filter((line) => /^cpu[0-9]+\s/.test(line)).length;
  const load = /^([0-9]+\.[0-9]{2}) ([0-9]+\.[0-9]{2}) ([0-9]+\.[0-9]{2})(\s|$)/.exec(firstLine(loadavg));
  const up = /^([0-9]+)/.exec(firstLine(uptime))?.[1];
  const log = await kernelLogScan(run, since, bootTime);
  const [proactiveness, extfrag, minFree, watermark, thpEnabled, thpDefrag] = await Promise.all(
    [
      'proc/sys/vm/compaction_proactiveness',
      'proc/sys/vm/extfrag_threshold',
      'proc/sys/vm/min_free_kbytes',
      'proc/sys/vm/watermark_scale_factor',
      'sys/kernel/mm/transparent_hugepage/enabled',
      'sys/kernel/mm/transparent_hugepage/defrag',
    ].map((file) => text(`${root}/${file}`)),
  );
  const pagetypeText = await text(`${root}/proc/pagetypeinfo`, LOCAL_TIMEOUTS_MS.pagetypeinfo);
  let pagetypes: Pagetypes | null = null;
  if (pagetypeText !== null) {
    try {
      pagetypes = parsePagetypeinfo(pagetypeText);
    } catch {
      pagetypes = null;
    }
  }
  const bootIdLine = firstLine(bootId);
  const report: GatherReport = {
    host: firstLine(hostname) || hostnameOfOs(),
    kernel: firstLine(osrelease) || osRelease(),
    pageSize: options.pageSize ?? (await localPageSize(root)) ?? 0,
    memTotalKb: meminfoKb(meminfo, 'MemTotal'),
    memAvailableKb: meminfoKb(meminfo, 'MemAvailable'),
    memFreeKb: meminfoKb(meminfo, 'MemFree'),
    slabReclaimableKb: meminfoKb(meminfo, 'SReclaimable'),
    bootId: /^[0-9a-f-]+$/.test(bootIdLine) ? bootIdLine : null,
    uptimeSeconds: up === undefined ? null : Number(up),
    load:
      load === null || cpus === 0
        ? null
        : { one: Number(load[1]), five: Number(load[2]), fifteen: Number(load[3]), cpus },
    kernelLog: log.kernelLog,
    allocFailures: log.allocFailures,
    vmstat: vmstat === null || vmstat === undefined ? null : parseVmstat(vmstat),
    sysctls: {
      compactionProactiveness: sysctl(proactiveness),
      extfragThreshold: sysctl(extfrag),
      minFreeKbytes: sysctl(minFree),
      watermarkScaleFactor: sysctl(watermark),
    },
    thp: { enabled: thpMode(thpEnabled), defrag: thpMode(thpDefrag) },
    kcompactd: await kcompactdStates(root),
    zones: parseBuddyinfo(buddyinfo ?? ''),
    pagetypes,
  };
  return parseGatherReport(formatGatherReport(report));
}
