/**
 * The gather document's script, run by bash and dash against fixture trees (test/fixtures/proc/README.md cites the
 * public /proc/buddyinfo samples some layouts use), and read back by the one parser the collector uses.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SSM_LIMITS } from '../../lib/config/contracts.ts';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { ParseError } from '../../lib/core/errors.ts';
import { parseGatherReport } from '../../lib/core/report.ts';
import { SCRIPT_RUN_TIMEOUT_MS, SLOW_SCRIPT_RUN_TIMEOUT_MS } from '../support/timeouts.ts';
import {
  calls,
  copyLayout,
  FIXTURES,
  GATHER_SCRIPT,
  gatherScriptWith,
  KERNEL_LOG,
  makeStubs,
  numaLayout,
  removeTempDirs,
  runScript,
  SHELLS,
  snapshot,
  tempDir,
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
    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, expected.layout), stubs);
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
    expect(report.version).toBe(2);
    expect(report.allocFailures).toEqual({
      count: 3,
      maxOrder: 6,
      processes: [
        { name: 'mysqld', order: 4 },
        { name: 'runc:[1:CHILD]', order: 6 },
        { name: 'kworker/u16:2', order: 2 },
      ],
      callSites: [],
    });
    expect(report.kernelLog).toEqual({ source: 'dmesg', state: 'complete', since: 0 });
    expect(report.bootId).toBe(fixture(expected.layout, 'proc/sys/kernel/random/boot_id').trim());
    expect(report.uptimeSeconds).toBe(86400);
    expect(report.sysctls).toEqual({
      compactionProactiveness: 20,
      extfragThreshold: 500,
      minFreeKbytes: 67584,
      watermarkScaleFactor: 10,
    });
    expect(report.thp).toEqual({ enabled: 'madvise', defrag: 'madvise' });
    expect(report.kcompactd).toEqual(expected.nodes.map((node) => ({ node, state: 'S' })));
    expect(report.vmstat?.compact_stall).toEqual(expect.any(Number));
    expect(report.zones).toEqual(parseBuddyinfo(fixture(expected.layout, 'proc/buddyinfo')));
    expect([...new Set(report.zones.map((zone) => zone.node))]).toEqual(expected.nodes);
    expect(report.zones.every((zone) => zone.freeBlocks.length === expected.columns)).toBe(true);
  });

  it('reports allocfail unknown when neither dmesg nor the journal can be read', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'unreadable' } });

    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, 'x86-1node'), stubs);

    expect(run.status).toBe(0);
    expect(run.stdout).toContain('\nallocfail unknown\n');
    expect(parseGatherReport(run.stdout).allocFailures).toBeNull();
    expect(calls(stubs).map((call) => call.split(' ')[0])).toEqual(['dmesg', 'journalctl']);
  });

  it('falls back to the current boot of the kernel journal when dmesg is restricted', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'journal-only', file: KERNEL_LOG } });

    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, 'x86-1node'), stubs);

    expect(parseGatherReport(run.stdout).allocFailures).toMatchObject({ count: 3, maxOrder: 6 });
    expect(parseGatherReport(run.stdout).kernelLog).toEqual({ source: 'journal', state: 'complete', since: 0 });
    const journal = calls(stubs).find((call) => call.startsWith('journalctl '));
    expect(journal?.split(' ')).toEqual(expect.arrayContaining(['-k', '-b', '--no-pager']));
  });

  it("reports 'allocfail 0 -' for a kernel log without allocation failures", () => {
    const log = join(copyLayout('x86-1node'), 'dmesg.txt');
    writeFileSync(log, '[    0.000000] Linux version 6.1.0\n[    1.000000] Memory: 16069420K/16777216K available\n');
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: log } });

    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, 'x86-1node'), stubs);

    expect(run.stdout).toContain('\nallocfail 0 -\n');
    expect(parseGatherReport(run.stdout).allocFailures).toMatchObject({ count: 0, maxOrder: null, processes: [] });
  });
});

describe('Script: gather.sh limits', () => {
  it('stays under 2,500 characters for a typical two-NUMA-node host', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', gatherScriptWith(), join(FIXTURES, 'x86-2node'), stubs);

    expect(parseGatherReport(run.stdout).pagetypes?.zones).toHaveLength(4);
    expect(run.stdout.length).toBeLessThan(SSM_LIMITS.listedOutputChars);
  });

  it('prints the 8-NUMA-node host with wide counts in full, past the listing but within what GetCommandInvocation returns', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', gatherScriptWith(), join(FIXTURES, 'x86-8node-wide'), stubs);

    const report = parseGatherReport(run.stdout);
    expect(report.zones).toHaveLength(18);
    expect(report.kcompactd).toHaveLength(8);
    expect(fixture('x86-8node-wide', 'proc/sys/kernel/hostname').trim()).toHaveLength(64);
    expect(run.stdout.length).toBeGreaterThan(SSM_LIMITS.listedOutputChars);
    expect(run.stdout.length).toBeLessThan(SSM_LIMITS.fullOutputChars);
  });

  it('fits the 2,500-character listing up to 7 NUMA nodes of a typical host, as docs/diagnosis.md says', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8].map((nodes) => {
      const run = runScript('sh', gatherScriptWith(), numaLayout(nodes), stubs);
      expect(parseGatherReport(run.stdout).kcompactd).toHaveLength(nodes);
      return run.stdout.length;
    });

    const fitting = sizes.filter((size) => size < SSM_LIMITS.listedOutputChars).length;
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(fitting).toBeGreaterThanOrEqual(7);
  });

  it('runs in well under a second on the largest layout', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const fastest = Math.min(
      ...[1, 2, 3].map(() => runScript('sh', gatherScriptWith(), join(FIXTURES, 'x86-8node-wide'), stubs).ms),
    );

    expect(fastest).toBeLessThan(1000);
  });

  it('gives up on a journal that does not answer within its time bound', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'slow-journal' } });

    const run = runScript('sh', gatherScriptWith(), join(FIXTURES, 'x86-1node'), stubs, SLOW_SCRIPT_RUN_TIMEOUT_MS);

    expect(run.status).toBe(0);
    expect(parseGatherReport(run.stdout).allocFailures).toBeNull();
    expect(run.ms).toBeLessThan(10_000);
  });

  it("gives up on a /proc/pagetypeinfo that blocks (a FIFO) within its time bound and says 'pagetypes unknown'", () => {
    const root = copyLayout('x86-1node');
    rmSync(join(root, 'proc/pagetypeinfo'));
    expect(spawnSync('mkfifo', [join(root, 'proc/pagetypeinfo')]).status).toBe(0);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', gatherScriptWith(), root, stubs, SCRIPT_RUN_TIMEOUT_MS);

    expect(run.status).toBe(0);
    expect(run.stdout).toContain('\npagetypes unknown\nend\n');
    const report = parseGatherReport(run.stdout);
    expect(report.pagetypes).toBeNull();
    expect(report.zones).toHaveLength(3);
  });

  it('takes exactly one SSM parameter, since, and no other {{ }}', () => {
    const placeholders = readFileSync(GATHER_SCRIPT, 'utf8').match(/\{\{[^}]*\}\}/g);
    expect(placeholders).toEqual(['{{ since }}']);
  });

  it.each(['', '007', '12x', '-5', '1234567890123'])(
    'refuses since=%j with exit 2 before reading anything',
    (since) => {
      const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

      const run = runScript('sh', gatherScriptWith({ since }), join(FIXTURES, 'x86-1node'), stubs);

      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('since');
      expect(calls(stubs)).toEqual([]);
    },
  );

  it('writes nothing under the root it reads', () => {
    const root = copyLayout('x86-2node');
    const before = snapshot(root);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    runScript('sh', gatherScriptWith(), root, stubs);

    expect(snapshot(root)).toEqual(before);
  });

  it('prints the host name as-is for the parser to sanitize, but never more than its first line', () => {
    const root = copyLayout('x86-1node');
    const forged = 'zone 9 Normal 1 1 1 1 1 1 1 1 1 1 1';
    writeFileSync(join(root, 'proc/sys/kernel/hostname'), `evil\u001b]0;owned\u0007host\n${forged}\n`);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript('sh', gatherScriptWith(), root, stubs);
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

    const run = runScript('sh', gatherScriptWith(), root, stubs);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot read');
    expect(run.stdout.endsWith('\nend\n')).toBe(true);
    expect(() => parseGatherReport(run.stdout)).toThrow(ParseError);
  });
});

const BTIME = 1_700_000_000;

function logFile(text: string): string {
  const file = join(tempDir('log'), 'dmesg.txt');
  writeFileSync(file, text);
  return file;
}

describe.each(SHELLS)('Script: gather.sh kernel log since the previous scan, run by %s', (shell) => {
  const gather = (since: number, kernelLog: Parameters<typeof makeStubs>[0]['kernelLog'], layout = 'x86-1node') => {
    const stubs = makeStubs({ kernelLog });
    const run = runScript(
      shell,
      gatherScriptWith({ since: String(since) }),
      join(FIXTURES, layout),
      stubs,
      SLOW_SCRIPT_RUN_TIMEOUT_MS,
    );
    return { run, stubs, report: parseGatherReport(run.stdout) };
  };

  it('counts only the failures logged at or after since, by boot-relative seconds plus btime', () => {
    // Prepare: the log's failures are at boot + 8114 s (order 4), + 90211 s (order 6) and + 93007 s (order 2)
    const since = BTIME + 90_000;

    // Act
    const { report } = gather(since, { kind: 'dmesg', file: KERNEL_LOG });

    // Assess
    expect(report.kernelLog).toEqual({ source: 'dmesg', state: 'complete', since });
    expect(report.allocFailures).toMatchObject({
      count: 2,
      maxOrder: 6,
      processes: [
        { name: 'runc:[1:CHILD]', order: 6 },
        { name: 'kworker/u16:2', order: 2 },
      ],
    });
  });

  it('reports no failure once the old ones are before since, so a node compaction fixed can return to OK', () => {
    const { run, report } = gather(BTIME + 100_000, { kind: 'dmesg', file: KERNEL_LOG });

    expect(run.stdout).toContain('\nallocfail 0 -\n');
    expect(report.allocFailures).toMatchObject({ count: 0, maxOrder: null });
  });

  it('counts the whole log of this boot when the node rebooted after the previous scan', () => {
    const { report } = gather(BTIME - 600, { kind: 'dmesg', file: KERNEL_LOG });

    expect(report.allocFailures).toMatchObject({ count: 3, maxOrder: 6 });
  });

  it('applies the same clock to the journal fallback (short-monotonic timestamps)', () => {
    const { report, stubs } = gather(BTIME + 90_000, { kind: 'journal-only', file: KERNEL_LOG });

    expect(report.kernelLog?.source).toBe('journal');
    expect(report.allocFailures).toMatchObject({ count: 2, maxOrder: 6 });
    expect(
      calls(stubs)
        .find((call) => call.startsWith('journalctl'))
        ?.split(' '),
    ).toEqual(expect.arrayContaining(['-k', '-b', '-o', 'short-monotonic']));
  });

  it('says unknown, never a count, when dmesg timed out after printing, and does not read the journal as well', () => {
    const { run, report, stubs } = gather(0, { kind: 'dmesg-then-hang', file: KERNEL_LOG });

    expect(run.status).toBe(0);
    expect(run.stdout).toContain('\nklog dmesg cut 0\nallocfail unknown\n');
    expect(report.allocFailures).toBeNull();
    expect(calls(stubs).map((call) => call.split(' ')[0])).toEqual(['dmesg']);
    expect(run.ms).toBeLessThan(10_000);
  });

  it('puts its verdict on a line of its own when the time bound cut a log line in the middle', () => {
    const { run, report } = gather(0, { kind: 'dmesg-cut-mid-line', file: KERNEL_LOG });

    const keys = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split(' ')[0]);
    expect(keys).toContain('allocfail');
    expect(run.stdout).toContain('\nallocfail unknown\n');
    expect(run.stdout).not.toContain('audit');
    expect(report.kernelLog?.state).toBe('cut');
  });

  it('says untimed (unknown) when the log carries no timestamps and only recent failures were asked for', () => {
    const file = logFile('mysqld: page allocation failure: order:4, mode:0x10c0d0\n');

    const { report } = gather(BTIME + 10, { kind: 'dmesg', file });

    expect(report.kernelLog?.state).toBe('untimed');
    expect(report.allocFailures).toBeNull();
  });

  it('says untimed when the boot time is unknown (no /proc/stat)', () => {
    const root = copyLayout('x86-1node');
    rmSync(join(root, 'proc/stat'));
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript(shell, gatherScriptWith({ since: String(BTIME + 10) }), root, stubs);

    expect(parseGatherReport(run.stdout).kernelLog?.state).toBe('untimed');
    expect(parseGatherReport(run.stdout).load).toBeNull();
  });

  it('names the call sites above the allocator: veth queues on 5.15 (docker/for-linux#1443)', () => {
    const file = join(FIXTURES, 'kernel-log/docker-for-linux-1443-veth-5.15.txt');

    const { report } = gather(0, { kind: 'dmesg', file });

    expect(report.allocFailures).toEqual({
      count: 1,
      maxOrder: 4,
      processes: [{ name: 'dockerd', order: 4 }],
      callSites: ['veth_alloc_queues[veth]', 'veth_dev_init[veth]', 'register_netdevice'],
    });
  });

  it('names the conntrack netns cache on RHEL 7 (moby/moby#40835), old-style [<address>] frames', () => {
    const file = join(FIXTURES, 'kernel-log/moby-40835-rhel7-conntrack.txt');

    const { report } = gather(0, { kind: 'dmesg', file });

    expect(report.allocFailures?.processes).toEqual([{ name: 'runc:[1:CHILD]', order: 4 }]);
    expect(report.allocFailures?.callSites).toEqual(['kmem_cache_create', 'nf_conntrack_init_net[nf_conntrack]']);
  });

  it('keeps process names to a safe alphabet and 16 characters, and at most 5 of them', () => {
    const names = ['a b$(reboot)', 'p1', 'p2', 'p3', 'p4', 'p5'];
    const file = logFile(
      names.map((name, i) => `[  ${i + 1}.000000] ${name}: page allocation failure: order:${i}, mode:0x0\n`).join(''),
    );

    const { report } = gather(0, { kind: 'dmesg', file });

    expect(report.allocFailures?.count).toBe(6);
    expect(report.allocFailures?.maxOrder).toBe(5);
    expect(report.allocFailures?.processes?.map((p) => p.name)).toEqual(['a_b__reboot_', 'p1', 'p2', 'p3', 'p4']);
  });
});

describe.each(SHELLS)('Script: gather.sh diagnostics, run by %s', (shell) => {
  it('reads pageblocks and free pages per migrate type from a real pagetypeinfo (canonical/hotsos kubernetes root)', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, 'hotsos-k8s'), stubs);
    const report = parseGatherReport(run.stdout);

    expect(run.status).toBe(0);
    expect(report.pagetypes?.types).toEqual(['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate']);
    expect(report.pagetypes?.zones.find((zone) => zone.zone === 'Normal')).toEqual({
      node: 0,
      zone: 'Normal',
      blocks: { Unmovable: 46, Movable: 437, Reclaimable: 29, HighAtomic: 0, CMA: 0, Isolate: 0 },
      freePages: { Unmovable: 399, Movable: 3997, Reclaimable: 753, HighAtomic: 0, CMA: 0, Isolate: 0 },
      cappedTypes: [],
    });
    expect(report.memFreeKb).toBe(129248);
    expect(report.slabReclaimableKb).toBe(173756);
  });

  it('prints every diagnostic line even where the node lacks the source, as unknown', () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, 'hotsos-k8s'), stubs);
    const report = parseGatherReport(run.stdout);

    expect(run.stdout).toContain('\nbootid -\nuptime -\nload -\n');
    expect(report.sysctls).toEqual({
      compactionProactiveness: null,
      extfragThreshold: null,
      minFreeKbytes: null,
      watermarkScaleFactor: null,
    });
    expect(report.thp).toEqual({ enabled: null, defrag: null });
    expect(report.kcompactd).toBeNull();
  });

  it("says 'pagetypes unknown' on a kernel without /proc/pagetypeinfo (or when not root)", () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, 'arm64-64k'), stubs);

    expect(parseGatherReport(run.stdout).pagetypes).toBeNull();
  });

  it("reads the pre-4.8 single allocstall counter (linux-mm 2013, 3.6 kernel's /proc/vmstat)", () => {
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript(shell, gatherScriptWith(), join(FIXTURES, 'x86-1node'), stubs);

    expect(parseGatherReport(run.stdout).vmstat).toEqual({
      pgmajfault: 2023827,
      allocstall: 7647697,
      compact_stall: 145117,
      compact_fail: 138243,
      compact_success: 6874,
    });
  });

  it('marks free-page sums the kernel capped at 100000 entries as lower bounds (>N)', () => {
    const root = copyLayout('x86-1node');
    const capped = readFileSync(join(root, 'proc/pagetypeinfo'), 'utf8').replace(
      /(type +Movable +)[0-9]+/,
      (_match, head: string) => `${head}>100000`,
    );
    writeFileSync(join(root, 'proc/pagetypeinfo'), capped);
    const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });

    const run = runScript(shell, gatherScriptWith(), root, stubs);
    const report = parseGatherReport(run.stdout);

    const dma = report.pagetypes?.zones.find((zone) => zone.zone === 'DMA');
    expect(run.stdout).toMatch(/\nfreepages 0 DMA [0-9]+ >[0-9]+ /);
    expect(dma?.cappedTypes).toEqual(['Movable']);
    expect(dma?.freePages?.Movable).toBe(100000 + 512 + 3 * 1024);
  });
});
