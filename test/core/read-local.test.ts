/**
 * The local reading `fleetscan inspect` uses on a live host must say exactly what the gather script would: both are
 * run on the same fixture trees (test/fixtures/proc/README.md) and the same kernel log, and their reports compared
 * byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CommandRunner, readLocalGather } from '../../lib/core/read-local.ts';
import { formatGatherReport } from '../../lib/core/report.ts';
import {
  FIXTURES,
  gatherScriptWith,
  KERNEL_LOG,
  makeStubs,
  numaLayout,
  removeTempDirs,
  runScript,
} from '../scripts/harness.ts';

afterAll(removeTempDirs);

/** dmesg prints `log`; journalctl is not there. */
function dmesgPrinting(log: string, calls: string[] = []): CommandRunner {
  return async (command) => {
    calls.push(command);
    if (command === 'dmesg') return { stdout: readFileSync(log, 'utf8'), exitCode: 0, timedOut: false };
    return { stdout: '', exitCode: 1, timedOut: false };
  };
}

describe('Function: readLocalGather', () => {
  it.each([
    { layout: 'x86-1node', since: 0 },
    { layout: 'x86-2node', since: 1_700_090_000 },
    { layout: 'hotsos-k8s', since: 0 },
    { layout: 'arm64-64k', since: 0 },
    { layout: 'x86-8node-wide', since: 1_700_000_000 },
  ])('reads $layout exactly as gather.sh prints it (since $since)', async ({ layout, since }) => {
    // Prepare
    const root = join(FIXTURES, layout);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG }, pageSize: 4096 });
    const script = runScript('sh', gatherScriptWith({ since: String(since) }), root, stubs);

    // Act
    const local = await readLocalGather({ root, since, run: dmesgPrinting(KERNEL_LOG), pageSize: 4096 });

    // Assess
    expect(script.status).toBe(0);
    expect(formatGatherReport(local)).toBe(script.stdout);
  });

  it('reads a generated 5-NUMA-node host as gather.sh does', async () => {
    const root = numaLayout(5);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });
    const script = runScript('sh', gatherScriptWith(), root, stubs);

    const local = await readLocalGather({ root, run: dmesgPrinting(KERNEL_LOG), pageSize: 4096 });

    expect(formatGatherReport(local)).toBe(script.stdout);
  });

  it('says cut, never a count, when dmesg was stopped by its time bound after printing, and does not read the journal', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (command) => {
      calls.push(command);
      return { stdout: readFileSync(KERNEL_LOG, 'utf8').slice(0, 300), exitCode: null, timedOut: true };
    };

    const local = await readLocalGather({ root: join(FIXTURES, 'x86-1node'), run, pageSize: 4096 });

    expect(local.kernelLog).toEqual({ source: 'dmesg', state: 'cut', since: 0 });
    expect(local.allocFailures).toBeNull();
    expect(calls).toEqual(['dmesg']);
  });

  it('falls back to the journal only when dmesg printed nothing', async () => {
    const calls: string[] = [];
    const journal = readFileSync(KERNEL_LOG, 'utf8').replace(/^(\[[^\]]*\]) /gm, '$1 node-a kernel: ');
    const run: CommandRunner = async (command) => {
      calls.push(command);
      return command === 'dmesg'
        ? { stdout: '', exitCode: 1, timedOut: false }
        : { stdout: journal, exitCode: 0, timedOut: false };
    };

    const local = await readLocalGather({ root: join(FIXTURES, 'x86-1node'), run, pageSize: 4096 });

    expect(calls).toEqual(['dmesg', 'journalctl']);
    expect(local.kernelLog?.source).toBe('journal');
    expect(local.allocFailures).toMatchObject({ count: 3, maxOrder: 6 });
  });

  it('reads this machine when it is Linux (the report parses, with its page size)', async () => {
    let local: Awaited<ReturnType<typeof readLocalGather>>;
    try {
      local = await readLocalGather({ run: dmesgPrinting(KERNEL_LOG) });
    } catch {
      return expect(process.platform).not.toBe('linux');
    }
    expect(local.version).toBe(2);
    expect(local.zones.length).toBeGreaterThan(0);
    expect(local.pageSize).toBeGreaterThanOrEqual(4096);
  });
});
