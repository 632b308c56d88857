/**
 * The gather document's script, run by bash and dash against fixture trees (test/fixtures/proc/README.md cites the
 * public /proc/buddyinfo samples some layouts use), and read back by the one parser the collector uses.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { ParseError } from '../../lib/core/errors.ts';
import { parseGatherReport } from '../../lib/core/report.ts';
import {
  calls,
  copyLayout,
  FIXTURES,
  GATHER_SCRIPT,
  KERNEL_LOG,
  makeStubs,
  removeTempDirs,
  runScript,
  SHELLS,
  snapshot,
} from './harness.ts';

afterAll(removeTempDirs);
const LAYOUTS = [
  { layout: 'x86-1node', pageSize: 4096, nodes: [0], columns: 11, memTotalKb: 16069420, memAvailableKb: 9822304 },
  { layout: 'x86-2node', pageSize: 4096, nodes: [0, 1], columns: 11, memTotalKb: 131890156, memAvailableKb: 60422880 },
  {
    layout: 'x86-8node-wide',
    pageSize: 4096,
    nodes: [0, 1, 2, 3, 4, 5, 6, 7],
    columns: 11,
    memTotalKb: 2113929216,
    memAvailableKb: 1730150400,
  },
  {
    layout: 'arm64-64k',
    pageSize: 65536,
    nodes: [0, 1],
    columns: 14,
    memTotalKb: 264017920,
    memAvailableKb: 251002880,
  },
] as const;

function fixture(layout: string, file: string): string {
  return readFileSync(join(FIXTURES, layout, file), 'utf8');
}

describe.each(SHELLS)('Script: gather.sh run by %s', (shell) => {
  it.each(LAYOUTS)('prints a gather report parseGatherReport reads, for $layout', (expected) => {
    // Prepare
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG }, pageSize: expected.pageSize });

    // Act
    const run = runScript(shell, GATHER_SCRIPT, join(FIXTURES, expected.layout), stubs);
    const report = parseGatherReport(run.stdout);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.endsWith('\nend\n')).toBe(true);
    expect(report.host).toBe(fixture(expected.layout, 'proc/sys/kernel/hostname').trim());
    expect(report.kernel).toBe(fixture(expected.layout, 'proc/sys/kernel/osrelease').trim());
    expect(report.pageSize).toBe(expected.pageSize);
    expect(report.memTotalKb).toBe(expected.memTotalKb);
    expect(report.memAvailableKb).toBe(expected.memAvailableKb);
    expect(report.allocFailures).toEqual({ count: 3, maxOrder: 6 });
    expect(report.zones).toEqual(parseBuddyinfo(fixture(expected.layout, 'proc/buddyinfo')));
    expect([...new Set(report.zones.map((zone) => zone.node))]).toEqual(expected.nodes);
    expect(report.zones.every((zone) => zone.freeBlocks.length === expected.columns)).toBe(true);
  });

  it('reports allocfail unknown when neither dmesg nor the journal can be read', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'unreadable' } });

    const run = runScript(shell, GATHER_SCRIPT, join(FIXTURES, 'x86-1node'), stubs);

    expect(run.status).toBe(0);
    expect(run.stdout).toContain('\nallocfail unknown\n');
    expect(parseGatherReport(run.stdout).allocFailures).toBeNull();
    expect(calls(stubs).map((call) => call.split(' ')[0])).toEqual(['dmesg', 'journalctl']);
  });

  it('falls back to the current boot of the kernel journal when dmesg is restricted', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'journal-only', file: KERNEL_LOG } });

    const run = runScript(shell, GATHER_SCRIPT, join(FIXTURES, 'x86-1node'), stubs);

    expect(parseGatherReport(run.stdout).allocFailures).toEqual({ count: 3, maxOrder: 6 });
    const journal = calls(stubs).find((call) => call.startsWith('journalctl '));
    expect(journal?.split(' ')).toEqual(expect.arrayContaining(['-k', '-b', '--no-pager']));
  });

  it("reports 'allocfail 0 -' for a kernel log without allocation failures", () => {
    const log = join(copyLayout('x86-1node'), 'dmesg.txt');
    writeFileSync(log, '[    0.000000] Linux version 6.1.0\n[    1.000000] Memory: 16069420K/16777216K available\n');
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: log } });

    const run = runScript(shell, GATHER_SCRIPT, join(FIXTURES, 'x86-1node'), stubs);

    expect(run.stdout).toContain('\nallocfail 0 -\n');
    expect(parseGatherReport(run.stdout).allocFailures).toEqual({ count: 0, maxOrder: null });
  });
});

describe('Script: gather.sh limits', () => {
  it('stays under 2,500 characters for 8 NUMA nodes with wide counts and a 64-character host name', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', GATHER_SCRIPT, join(FIXTURES, 'x86-8node-wide'), stubs);

    expect(parseGatherReport(run.stdout).zones).toHaveLength(18);
    expect(fixture('x86-8node-wide', 'proc/sys/kernel/hostname').trim()).toHaveLength(64);
    expect(run.stdout.length).toBeLessThan(2500);
  });

  it('runs in well under a second on the largest layout', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const fastest = Math.min(
      ...[1, 2, 3].map(() => runScript('sh', GATHER_SCRIPT, join(FIXTURES, 'x86-8node-wide'), stubs).ms),
    );

    expect(fastest).toBeLessThan(1000);
  });

  it('gives up on a journal that does not answer within its time bound', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'slow-journal' } });

    const run = runScript('sh', GATHER_SCRIPT, join(FIXTURES, 'x86-1node'), stubs, 20_000);

    expect(run.status).toBe(0);
    expect(parseGatherReport(run.stdout).allocFailures).toBeNull();
    expect(run.ms).toBeLessThan(10_000);
  });

  it('never opens /proc/pagetypeinfo (a FIFO there would block any reader)', () => {
    const root = copyLayout('x86-1node');
    expect(spawnSync('mkfifo', [join(root, 'proc/pagetypeinfo')]).status).toBe(0);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', GATHER_SCRIPT, root, stubs, 5000);

    expect(run.status).toBe(0);
    expect(parseGatherReport(run.stdout).zones).toHaveLength(3);
    const code = readFileSync(GATHER_SCRIPT, 'utf8')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'));
    expect(code.join('\n')).not.toContain('pagetypeinfo');
  });

  it('contains no {{ }} that SSM would take for a parameter', () => {
    expect(readFileSync(GATHER_SCRIPT, 'utf8')).not.toMatch(/\{\{|\}\}/);
  });

  it('writes nothing under the root it reads', () => {
    const root = copyLayout('x86-2node');
    const before = snapshot(root);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    runScript('sh', GATHER_SCRIPT, root, stubs);

    expect(snapshot(root)).toEqual(before);
  });

  it('prints the host name as-is for the parser to sanitize, but never more than its first line', () => {
    const root = copyLayout('x86-1node');
    const forged = 'zone 9 Normal 1 1 1 1 1 1 1 1 1 1 1';
    writeFileSync(join(root, 'proc/sys/kernel/hostname'), `evil\u001b]0;owned\u0007host\n${forged}\n`);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', GATHER_SCRIPT, root, stubs);
    const report = parseGatherReport(run.stdout);

    expect(run.stdout).toContain('host evil\u001b]0;owned\u0007host\n');
    expect(run.stdout).not.toContain(forged);
    expect(report.host).toBe('evilhost');
    expect(report.zones.map((zone) => zone.node)).toEqual([0, 0, 0]);
  });

  it('exits 1 with a report the parser rejects when /proc/buddyinfo is missing', () => {
    const root = copyLayout('x86-1node');
    rmSync(join(root, 'proc/buddyinfo'));
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', GATHER_SCRIPT, root, stubs);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot read');
    expect(run.stdout.endsWith('\nend\n')).toBe(true);
    expect(() => parseGatherReport(run.stdout)).toThrow(ParseError);
  });
});
