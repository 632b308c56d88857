/**
 * The kernel log's `page allocation failure` lines since a point in time — the same scan the gather script's awk
 * makes (lib/infra/documents/gather.sh), so that `fleetscan inspect` on a live host says what the fleet scan would.
 * Pure: the text comes from dmesg or `journalctl -k -b -o short-monotonic` (both print seconds since boot), and
 * `bootTime` (/proc/stat btime) turns those into epoch seconds.
 */
import { type AllocFailures, type AllocProcess, MAX_ALLOC_PROCESSES, MAX_ALLOC_SITES } from '../report.ts';

export interface KernelLogScanOptions {
  readonly source: 'dmesg' | 'journal';
  /** Epoch second from which failures count; 0: the whole log (this boot). */
  readonly since: number;
  /** /proc/stat btime; null when unknown (then only since = 0 can be answered). */
  readonly bootTime: number | null;
}

export interface KernelLogResult {
  /** complete, or untimed (lines without usable times while since > 0). */
  readonly state: 'complete' | 'untimed';
  /** null unless complete. */
  readonly allocFailures: AllocFailures | null;
}

const STAMP = /^\[ *([0-9]+)\.[0-9]+\] ?/;
const FAILURE = /page allocation failure[:.] order:([0-9]+)/;
const FRAME = /^[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+$/;
const ALLOCATOR = [
  /^(dump_stack|dump_stack_lvl|show_stack|warn_alloc|warn_alloc_failed|__warn_alloc)$/,
  /^_*(alloc_pages|alloc_pages_current|alloc_pages_nodemask|alloc_pages_slowpath|alloc_pages_noprof|get_free_pages|get_zeroed_page|folio_alloc)/,
  /^_*(kmalloc|kvmalloc|kvzalloc|kvcalloc|vmalloc|kmem_cache_alloc|cache_grow|cache_alloc|slab_alloc|new_slab|allocate_slab|alloc_slab_page|kmem_getpages|fallback_alloc|memcg_alloc_cache_params|do_kmem_cache_create|kmem_cache_create_memcg)/,
];
/** Frames followed after a failure line, and kept from each. */
const TRACE_LINES = 40;
const FRAMES_PER_FAILURE = 3;

function keep(word: string): string {
  return word.replace(/[^A-Za-z0-9_.:/@+[\]-]/g, '_').slice(0, 16);
}

/** Scans the log text; see the module comment. */
export function scanKernelLog(text: string, options: KernelLogScanOptions): KernelLogResult {
  let count = 0;
  let highest = -1;
  let untimed = false;
  const processes: AllocProcess[] = [];
  const sites: string[] = [];
  let framesLeft = 0;
  let framesKept = 0;
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let msg = raw.replace(/^<[0-9]+>/, '');
    const stamp = STAMP.exec(msg);
    if (stamp !== null) msg = msg.slice(stamp[0].length);
    if (options.source === 'journal') msg = msg.replace(/^[^ ]+ kernel: /, '');
    const failure = FAILURE.exec(msg);
    if (failure !== null) {
      framesLeft = 0;
      if (options.since > 0) {
        if (stamp === null || options.bootTime === null) {
          untimed = true;
          continue;
        }
        if (options.bootTime + Number(stamp[1]) < options.since) continue;
      }
      const order = Number(failure[1]);
      count += 1;
      highest = Math.max(highest, order);
      const at = msg.indexOf('page allocation failure');
      const comm = keep(msg.slice(0, at).replace(/: *$/, '').replace(/^ +/, ''));
      if (comm !== '') {
        const known = processes.find((p) => p.name === comm);
        if (known === undefined) {
          if (processes.length < MAX_ALLOC_PROCESSES) processes.push({ name: comm, order });
        } else if (order > known.order) {
          processes[processes.indexOf(known)] = { name: comm, order };
        }
      }
      framesLeft = TRACE_LINES;
      framesKept = 0;
      continue;
    }
    if (framesLeft <= 0) continue;
    framesLeft -= 1;
    if (/Mem-Info:|<\/TASK>|end trace/.test(msg)) {
      framesLeft = 0;
      continue;
    }
    const words = msg.trim().split(/\s+/);
    let i = 0;
    if (/^\[<[0-9a-f]+>\]$/.test(words[i] ?? '')) i += 1;
    const word = words[i] ?? '';
    if (word === '?' || !FRAME.test(word)) continue;
    let fn = word.replace(/\+.*$/, '').replace(/\..*$/, '');
    if (ALLOCATOR.some((pattern) => pattern.test(fn)) || framesKept >= FRAMES_PER_FAILURE) continue;
    framesKept += 1;
    const last = words[words.length - 1] ?? '';
    if (/^\[[A-Za-z0-9_-]+\]$/.test(last) && words.length - 1 > i) fn += last;
    if (!sites.includes(fn) && sites.length < MAX_ALLOC_SITES) sites.push(fn);
  }
  if (untimed) return { state: 'untimed', allocFailures: null };
  return {
    state: 'complete',
    allocFailures: { count, maxOrder: count === 0 ? null : highest, processes, callSites: count === 0 ? [] : sites },
  };
}
