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
  executable(
    join(binDir, 'dmesg'),
    kernelLog.kind === 'dmesg'
      ? `${log('dmesg')}\ncat '${kernelLog.file}'`
      : denied('dmesg', 'dmesg: read kernel buffer failed: Operation not permitted'),
  );
  executable(
    join(binDir, 'journalctl'),
    kernelLog.kind === 'journal-only'
      ? // journalctl -o cat prints messages without the [timestamp] prefix.
        `${log('journalctl')}\nsed 's/^\\[[^]]*\\] //' '${kernelLog.file}'`
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
export function runScript(shell: string, script: string, root: string, stubs: Stubs, timeoutMs = 10_000): RunResult {
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
