/**
 * Runs the SSM document scripts the way the agent does (a shell reading the file) against fixture /proc and /sys
 * trees, with fake dmesg, journalctl, getconf and sync on PATH so that each test controls what the node shows.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCRIPT_RUN_TIMEOUT_MS } from '../support/timeouts.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/proc');
export const GATHER_SCRIPT = join(PROJECT_ROOT, 'lib/infra/documents/gather.sh');
export const REMEDIATE_SCRIPT = join(PROJECT_ROOT, 'lib/infra/documents/remediate.sh');
export const KERNEL_LOG = join(FIXTURES, 'kernel-log/allocation-failures.txt');
/** The shells the agent may hand the script to: bash, and dash as /bin/sh on Debian and Ubuntu. */
export const SHELLS = ['bash', 'sh'] as const;

const TMP = join(PROJECT_ROOT, '.tmp');
const created: string[] = [];

export function tempDir(name: string): string {
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, `${name}-`));
  created.push(dir);
  return dir;
}

/** Removes every directory this file's tests made (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A writable copy of a fixture layout, so that real runs never touch the committed files. */
export function copyLayout(layout: string): string {
  const root = tempDir(`root-${layout}`);
  cpSync(join(FIXTURES, layout), root, { recursive: true });
  return root;
}

export type KernelLogSource =
  | { readonly kind: 'dmesg'; readonly file: string }
  /** dmesg prints the whole file, then hangs until the script's time bound kills it. */
  | { readonly kind: 'dmesg-then-hang'; readonly file: string }
  /** dmesg prints the file without its last newline (a line cut in the middle), then hangs. */
  | { readonly kind: 'dmesg-cut-mid-line'; readonly file: string }
  | { readonly kind: 'journal-only'; readonly file: string }
  | { readonly kind: 'unreadable' }
  | { readonly kind: 'slow-journal' };

export interface Stubs {
  readonly binDir: string;
  /** One line per stub call: `<command> <args>`, and for sync the drop_caches content at that moment. */
  readonly callLog: string;
}

function executable(path: string, body: string): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Fake commands in front of the real ones on PATH. */
export function makeStubs(options: { kernelLog: KernelLogSource; pageSize?: number }): Stubs {
  const dir = tempDir('stubs');
  const binDir = join(dir, 'bin');
  mkdirSync(binDir);
  const callLog = join(dir, 'calls.log');
  writeFileSync(callLog, '');
  const log = (name: string) => `echo "${name} $*" >> '${callLog}'`;
  const denied = (name: string, message: string) => `${log(name)}\necho '${message}' >&2\nexit 1`;
  const { kernelLog } = options;
  const dmesg: Record<string, string> = {
    dmesg: `cat '${'file' in kernelLog ? kernelLog.file : ''}'`,
    'dmesg-then-hang': `cat '${'file' in kernelLog ? kernelLog.file : ''}'\nexec sleep 30`,
    'dmesg-cut-mid-line': `printf '%s' "$(cat '${'file' in kernelLog ? kernelLog.file : ''}')"\nexec sleep 30`,
  };
  const dmesgBody = dmesg[kernelLog.kind];
  executable(
    join(binDir, 'dmesg'),
    dmesgBody !== undefined
      ? `${log('dmesg')}\n${dmesgBody}`
      : denied('dmesg', 'dmesg: read kernel buffer failed: Operation not permitted'),
  );
  executable(
    join(binDir, 'journalctl'),
    kernelLog.kind === 'journal-only'
      ? // journalctl -o short-monotonic prints the boot-relative [timestamp], then the host and the identifier.
        `${log('journalctl')}\nsed 's/^\\(\\[[^]]*\\]\\) /\\1 node-a kernel: /' '${kernelLog.file}'`
      : kernelLog.kind === 'slow-journal'
        ? `${log('journalctl')}\nexec sleep 30`
        : denied('journalctl', 'No journal files were found.'),
  );
  executable(join(binDir, 'getconf'), `[ "$1" = PAGESIZE ] && echo ${options.pageSize ?? 4096}`);
  executable(
    join(binDir, 'sync'),
    `echo "sync drop_caches=$(cat "$FLEETSCAN_ROOT/proc/sys/vm/drop_caches" 2>/dev/null)" >> '${callLog}'`,
  );
  return { binDir, callLog };
}

export function calls(stubs: Stubs): string[] {
  return readFileSync(stubs.callLog, 'utf8').split('\n').filter(Boolean);
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
  readonly ms: number;
}

/** Runs a script file with `shell`, FLEETSCAN_ROOT at `root` and the stubs first on PATH. */
export function runScript(
  shell: string,
  script: string,
  root: string,
  stubs: Stubs,
  timeoutMs = SCRIPT_RUN_TIMEOUT_MS,
): RunResult {
  const started = performance.now();
  const result = spawnSync(shell, [script], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { PATH: `${stubs.binDir}:/usr/local/bin:/usr/bin:/bin`, FLEETSCAN_ROOT: root, LC_ALL: 'C' },
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status, ms: performance.now() - started };
}

/** What SSM does with `{{ name }}` in a Command document's runCommand: plain textual substitution. */
export function ssmSubstitute(text: string, parameters: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (placeholder, name: string) => parameters[name] ?? placeholder);
}

/** The gather script as SSM would run it with these parameters, written to a file. */
export function gatherScriptWith(parameters: Readonly<Record<string, string>> = { since: '0' }): string {
  const file = join(tempDir('gather'), 'script.sh');
  writeFileSync(file, ssmSubstitute(readFileSync(GATHER_SCRIPT, 'utf8'), parameters));
  return file;
}

/** The remediate script as SSM would run it with these parameters, written to a file. */
export function remediateScriptWith(parameters: Readonly<Record<string, string>>): string {
  const file = join(tempDir('remediate'), 'script.sh');
  writeFileSync(file, ssmSubstitute(readFileSync(REMEDIATE_SCRIPT, 'utf8'), parameters));
  return file;
}

/** Content and modification time of every file under `root`, to prove that a run wrote nothing. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out[path.slice(root.length)] = `${statSync(path).mtimeMs} ${readFileSync(path, 'utf8')}`;
    }
  };
  walk(root);
  return out;
}

/**
 * A generated root for a host with `nodes` NUMA nodes, shaped like a typical x86-64 server (node 0 with DMA, DMA32
 * and Normal, every other node Normal only; six-digit counts; a 39-character EC2 host name; the x86-2node vmstat),
 * to measure how large a host's gather report gets.
 */
export function numaLayout(nodes: number): string {
  const root = copyLayout('x86-2node');
  for (const entry of readdirSync(join(root, 'proc'))) {
    if (/^[0-9]+$/.test(entry)) rmSync(join(root, 'proc', entry), { recursive: true, force: true });
  }
  const zones: { node: number; zone: string; counts: number[] }[] = [];
  const counts = (seed: number) =>
    Array.from({ length: 11 }, (_, order) => ((seed * 7919 + order * 104729) % 900000) + 100000);
  for (let node = 0; node < nodes; node += 1) {
    if (node === 0) {
      zones.push({ node, zone: 'DMA', counts: [0, 1, 1, 0, 2, 1, 1, 0, 1, 1, 3] });
      zones.push({ node, zone: 'DMA32', counts: counts(1) });
    }
    zones.push({ node, zone: 'Normal', counts: counts(node + 2) });
  }
  const types = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'];
  const pad = (value: string | number, width: number) => String(value).padStart(width);
  writeFileSync(
    join(root, 'proc/buddyinfo'),
    zones.map((z) => `Node ${z.node}, zone ${pad(z.zone, 8)} ${z.counts.map((c) => pad(c, 6)).join(' ')} \n`).join(''),
  );
  const free = zones.flatMap((z) =>
    types.map((type, t) => {
      const share = t === 1 ? 0.85 : t === 0 ? 0.1 : t === 2 ? 0.05 : 0;
      return `Node ${pad(z.node, 4)}, zone ${pad(z.zone, 8)}, type ${pad(type, 12)} ${z.counts.map((c) => pad(Math.floor(c * share), 6)).join(' ')} \n`;
    }),
  );
  const blocks = zones.map(
    (z) => `Node ${z.node}, zone ${pad(z.zone, 8)} ${[3100, 61000, 1900, 2, 0, 0].map((c) => pad(c, 12)).join(' ')} \n`,
  );
  writeFileSync(
    join(root, 'proc/pagetypeinfo'),
    `Page block order: 9\nPages per block:  512\n\nFree pages count per migrate type at order ${Array.from({ length: 11 }, (_, o) => pad(o, 6)).join(' ')} \n${free.join('')}\nNumber of blocks type     ${types.map((t) => pad(t, 12)).join(' ')} \n${blocks.join('')}`,
  );
  writeFileSync(join(root, 'proc/sys/kernel/hostname'), 'ip-10-0-3-17.eu-west-1.compute.internal\n');
  for (let node = 0; node < nodes; node += 1) {
    const pid = 36 + node;
    mkdirSync(join(root, 'proc', String(pid)), { recursive: true });
    writeFileSync(join(root, 'proc', String(pid), 'comm'), `kcompactd${node}\n`);
    writeFileSync(join(root, 'proc', String(pid), 'stat'), `${pid} (kcompactd${node}) S 2 0 0 0 -1 2129984\n`);
  }
  return root;
}
