import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { CLI_RUN_TIMEOUT_MS } from '../support/timeouts.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/fleetscan.mjs');
const sample = (name: string) => join(ROOT, 'test/fixtures/buddyinfo', name);
const report = (name: string) => join(ROOT, 'test/fixtures/reports', name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns the real executable, as a user's shell would. */
function fleetscan(args: string[], stdin?: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1', FLEETSCAN_DEBUG: '', COLUMNS: '', ...env },
        timeout: CLI_RUN_TIMEOUT_MS,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('CLI: fleetscan inspect', () => {
  it("reads this machine's /proc/buddyinfo by default and prints its zones with a verdict", async () => {
    // Prepare: the zones this kernel prints (counts move between reads; the zones do not)
    const zones = parseBuddyinfo(readFileSync('/proc/buddyinfo', 'utf8')).map((zone) => [zone.node, zone.zone]);
    // Act
    const table = await fleetscan(['inspect']);
    const json = await fleetscan(['inspect', '--json']);
    // Assess
    expect([0, 1]).toContain(table.code);
    expect(table.stdout).toMatch(/^\/proc: host .+, kernel .+, page size \d+\.\d (KiB|MiB)\n/);
    expect(table.stdout).toMatch(/\nverdict: (OK|WARN|CRITICAL)/);
    expect(table.stdout).toMatch(/\nkernel log \((dmesg|journal|none)\): /);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.input).toBe('local');
    expect(parsed.zones.map((zone: { node: number; zone: string }) => [zone.node, zone.zone])).toEqual(zones);
    expect(parsed.pageSize).toBeGreaterThanOrEqual(4096);
    expect(json.code).toBe(parsed.verdict.level === 'OK' ? 0 : 1);
    // The sources the gather document reads, read here too: the fleet's verdict for this host.
    expect(parsed.vmstat.nr_free_pages ?? parsed.vmstat.pgmajfault).toBeTypeOf('number');
    expect(Object.values(parsed.vmstat).every((value) => typeof value === 'number')).toBe(true);
    expect([true, false, null]).toContain(parsed.verdict.compaction.canHelp);
    expect(parsed.verdict.compaction.reasons).toBeInstanceOf(Array);
    // /proc/pagetypeinfo is root-only (mode 0400): pageblocks are there exactly when this test runs as root.
    if (process.getuid?.() === 0) {
      expect(parsed.pageblocks.map((zone: { zone: string }) => zone.zone)).toEqual(zones.map(([, zone]) => zone));
      expect(parsed.pageblocks[0].blocks.Movable).toBeTypeOf('number');
    } else {
      expect(parsed.pageblocks).toBeNull();
    }
  });

  it('judges a v2 gather report with its evidence: counters, pageblocks, the compaction outlook, a known case', async () => {
    const run = await fleetscan(['inspect', report('gather-2numa-v2.txt'), '-o', 'json']);
    expect(run.code).toBe(1);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.input).toBe('gather');
    expect(parsed.vmstat).toMatchObject({ compact_stall: 0, pgmajfault: 1592 });
    expect(parsed.pageblocks[2]).toMatchObject({
      node: 0,
      zone: 'Normal',
      blocks: { Unmovable: 14, Movable: 123, Reclaimable: 5 },
    });
    expect(parsed.kernelLog).toMatchObject({ source: 'dmesg', state: 'complete', allocFailures: 3, maxOrder: 6 });
    expect(parsed.kernelLog.processes).toContainEqual({ name: 'runc:[1:CHILD]', order: 6 });
    expect(parsed.verdict.compaction.canHelp).toBe(true);
    expect(parsed.verdict.knownIssues.map((known: { id: string }) => known.id)).toEqual(['veth-queues']);
    expect(parsed.verdict.action.action).toBeNull();
    const table = await fleetscan(['inspect', report('gather-2numa-v2.txt')]);
    expect(table.stdout).toContain(
      'pageblocks node 0 Normal: 14 unmovable, 123 movable, 5 reclaimable; 9% of its free memory is unmovable/reclaimable',
    );
    expect(table.stdout).toContain('\ncompaction can help: ');
    expect(table.stdout).toMatch(/\nrecommendation: upgrade the kernel/);
  });

  it("draws where a watched zone's free memory is, per order, and leaves FRAG blank where a block is left", async () => {
    const run = await fleetscan(['inspect', sample('01-procfs-fixture-x86-single-node.txt')], undefined, {
      COLUMNS: '100',
    });
    const lines = run.stdout.split('\n');
    const chart = lines.indexOf('free memory by block order, node 0 Normal (32,139 pages free):');
    expect(chart).toBeGreaterThan(0);
    // Normal: 1530 blocks of order 3 hold 12,240 of 32,139 free pages (38.1%), the largest share: the full bar.
    expect(lines[chart + 4]).toBe(`  o3   38.1%  ${'█'.repeat(30)}`);
    expect(lines[chart + 5]).toMatch(/^ {2}o4 {3}28\.2% {2}█+[▏▎▍▌▋▊▉]? +◀ watched$/);
    expect(lines[chart + 8]).toBe('  o7    0.0%');
    const normal = lines.find((line) => /^0\s+Normal\*\s+6\s/.test(line));
    expect(normal?.split(/\s+/)).toEqual(['0', 'Normal*', '6', '787', '0.608', '-', '4', '0.992', '-']);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(100);
  });

  it('prints tsv rows and yaml for scripts, with -o and --no-headers', async () => {
    const tsv = await fleetscan([
      'inspect',
      sample('01-procfs-fixture-x86-single-node.txt'),
      '-o',
      'tsv',
      '--no-headers',
    ]);
    expect(tsv.stdout.split('\n')[2]?.split('\t').slice(0, 4)).toEqual(['0', 'Normal', '32139', '4381']);
    const yaml = await fleetscan(['inspect', sample('01-procfs-fixture-x86-single-node.txt'), '-o', 'yaml']);
    expect(yaml.stdout).toMatch(/\nverdict:\n {2}level: CRITICAL\n {2}cause: fragmentation\n/);
  });

  it("never puts a node's escape sequences on the terminal: a crafted zone name is refused or cleaned in every format", async () => {
    const crafted = 'Node 0, zone   Normal\u001b]0;owned\u0007\u001b[2J 1 2 3 4 5 6 7 8 9 10 11\n';
    for (const format of ['table', 'wide', 'json', 'yaml', 'tsv', 'prometheus']) {
      const run = await fleetscan(['inspect', '-', '-o', format], crafted);
      expect(run.stdout + run.stderr, format).not.toContain('\u001b');
      // Zone names are checked against the kernel's charset when parsed: the row is bad input.
      expectOneLineError(run, /^fleetscan inspect: stdin: line 1: .*zone name/);
    }
  });

  it('prints the --json contract with the kernel numbers of the procfs sample, and exits 1 for CRITICAL', async () => {
    // Act
    const run = await fleetscan(['inspect', sample('01-procfs-fixture-x86-single-node.txt'), '--json']);
    // Assess
    expect(run.code).toBe(1);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.zones.map((zone: { zone: string }) => zone.zone)).toEqual(['DMA', 'DMA32', 'Normal']);
    expect(parsed.zones[2]).toMatchObject({
      node: 0,
      zone: 'Normal',
      freeBlocks: [4381, 1093, 185, 1530, 567, 102, 4, 0, 0, 0, 0],
      freePages: 32139,
      highestFreeOrder: 6,
    });
    // hand-computed in test/core/metrics.test.ts; order 5: S = 102 + 4·2 = 110, ⌊(32139 − 3520)·1000/32139⌋ = 890
    expect(parsed.zones[2].unusableIndex.slice(4, 8)).toEqual([608, 890, 992, 1000]);
    expect(parsed.zones[2].fragmentationIndex.slice(6, 8)).toEqual([-1000, 968]);
    expect(parsed.pageSize).toBeNull();
    expect(parsed.verdict).toMatchObject({ level: 'CRITICAL', cause: 'fragmentation', watchedZones: ['Normal'] });
    expect(parsed.verdict.reasons[0]).toContain('node 0 Normal order 6: only 4 free blocks');
  });

  it('exits 0 for a healthy sample and prints a readable table', async () => {
    const run = await fleetscan(['inspect', sample('19-hotsos-ceph-mon-healthy.txt'), '--page-size', '4096']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Normal*');
    expect(run.stdout).toMatch(/\nverdict: OK: watched orders 4, 6 in Normal have contiguous memory to spare\n$/);
    expect(run.stdout).not.toContain('\u001b[');
  });

  it('reads standard input with -, and detects a gather report from its content', async () => {
    const text = readFileSync(report('gather-2numa.txt'), 'utf8');
    const run = await fleetscan(['inspect', '-', '--json'], text);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.input).toBe('gather');
    expect(parsed.host).toBe('ip-10-0-3-17.eu-west-1.compute.internal');
    expect(parsed.pageSize).toBe(4096);
    expect(parsed.zones).toHaveLength(4);
    expect(parsed.verdict.reasons).toContain('kernel log shows 3 page allocation failures, up to order 4');
  });

  it('prints node_exporter-compatible buddyinfo metrics and the two indices', async () => {
    const run = await fleetscan(['inspect', sample('01-procfs-fixture-x86-single-node.txt'), '--format', 'prometheus']);
    expect(run.stdout).toContain('# TYPE node_buddyinfo_blocks gauge\n');
    expect(run.stdout).toContain('node_buddyinfo_blocks{node="0",size="3",zone="Normal"} 1530\n');
    expect(run.stdout).toContain('fleetscan_unusable_free_space_index{node="0",order="6",zone="Normal"} 0.992\n');
    expect(run.stdout).toContain('fleetscan_fragmentation_index{node="0",order="7",zone="Normal"} 0.968\n');
    expect(run.stdout).toContain('fleetscan_fragmentation_index{node="0",order="4",zone="Normal"} -1.000\n');
  });

  it('watches the orders given with --orders', async () => {
    const run = await fleetscan([
      'inspect',
      sample('01-procfs-fixture-x86-single-node.txt'),
      '--orders',
      '2',
      '--json',
    ]);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.verdict.watchedOrders).toEqual([2]);
    expect(parsed.verdict.level).toBe('OK');
    expect(run.code).toBe(0);
  });

  it('rejects malformed input with one line naming the file and line, exit 2', async () => {
    const run = await fleetscan(['inspect', sample('03-procfs-negative-bucket-mismatch.txt')]);
    expectOneLineError(
      run,
      /^fleetscan inspect: .*03-procfs-negative-bucket-mismatch\.txt: line 2: column-count mismatch/,
    );
  });

  it('names the line of a bad token read from stdin', async () => {
    const run = await fleetscan(['inspect', '-'], 'Node 0, zone Normal 1 2 3\nNode 0, zone Movable 1 x 3\n');
    expectOneLineError(run, /^fleetscan inspect: stdin: line 2: free-block count is not a number \(found 'x'\)$/);
  });

  it('rejects empty input', async () => {
    const run = await fleetscan(['inspect', '-'], '');
    expectOneLineError(run, /stdin: line 1: input is empty/);
  });

  it.each([
    [['inspect', '/nonexistent/buddyinfo'], /cannot read \/nonexistent\/buddyinfo: there is no such file$/],
    [['inspect', '/tmp'], /cannot read \/tmp: it is a directory, not a file$/],
    [
      ['inspect', sample('01-procfs-fixture-x86-single-node.txt'), '--orders', '4,99'],
      /--orders: this input has orders 0 to 10; 99 is not one of them$/,
    ],
    [
      ['inspect', sample('01-procfs-fixture-x86-single-node.txt'), '--zones', 'Bogus'],
      /--zones: 'Bogus' is not a zone of this input \(it has DMA, DMA32, Normal\)$/,
    ],
    [['inspect', '-o', 'xml'], /--output: 'xml' is not one of table, wide, json, yaml, tsv, prometheus$/],
    [['inspect', '--format', 'xml'], /--format: 'xml' is not one of table, json, prometheus$/],
    [['inspect', '--orders', '4,x'], /--orders: 'x' is not valid/],
    [['inspect', '--page-size', '4000'], /--page-size: '4000' is not a power of two/],
    [['inspect', '--bogus'], /unknown option '--bogus'/],
    [['inspect', '--order', '4'], /unknown option '--order' — did you mean --orders\?/],
    [['inspect', 'a', 'b'], /unexpected argument 'b' — usage: fleetscan inspect \[FILE\] \[options\]$/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('fails usage errors with exit 2: %j', async (args, pattern) => {
    const run = await fleetscan(args);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(pattern);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints its help with --help and exits 0', async () => {
    const run = await fleetscan(['inspect', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: fleetscan inspect \[FILE\|-\]/);
  });
});
