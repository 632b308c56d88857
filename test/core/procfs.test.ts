/**
 * The /proc parsers behind the local reading, on public samples (test/fixtures/pagetypeinfo/SOURCES.md,
 * test/fixtures/vmstat/SOURCES.md) and on the kernel-log fixtures (test/fixtures/proc/README.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../lib/core/errors.ts';
import { scanKernelLog } from '../../lib/core/procfs/kernel-log.ts';
import { parsePagetypeinfo } from '../../lib/core/procfs/pagetypeinfo.ts';
import { parseVmstat } from '../../lib/core/procfs/vmstat.ts';

const fixture = (dir: string, name: string) =>
  readFileSync(join(import.meta.dirname, '../fixtures', dir, name), 'utf8');

describe('Function: parsePagetypeinfo', () => {
  it('reads pageblocks and free pages per type of a 5.x kernel with CMA (canonical/hotsos kubernetes)', () => {
    const parsed = parsePagetypeinfo(fixture('pagetypeinfo', 'hotsos-kubernetes.txt'));

    expect(parsed.types).toEqual(['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate']);
    expect(parsed.zones.map((zone) => zone.zone)).toEqual(['DMA', 'DMA32', 'Normal']);
    expect(parsed.zones[2]).toEqual({
      node: 0,
      zone: 'Normal',
      blocks: { Unmovable: 46, Movable: 437, Reclaimable: 29, HighAtomic: 0, CMA: 0, Isolate: 0 },
      freePages: { Unmovable: 399, Movable: 3997, Reclaimable: 753, HighAtomic: 0, CMA: 0, Isolate: 0 },
      cappedTypes: [],
    });
  });

  it('reads a kernel without CMA (kellyjonbrazil/jc) and this project’s 6.18 development VM', () => {
    const jc = parsePagetypeinfo(fixture('pagetypeinfo', 'jc-x86-1node.txt'));
    const vm = parsePagetypeinfo(fixture('pagetypeinfo', 'fleetscan-dev-vm-6.18.txt'));

    expect(jc.types).toEqual(['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate']);
    expect(jc.zones[2]?.blocks).toEqual({ Unmovable: 120, Movable: 345, Reclaimable: 47, HighAtomic: 0, Isolate: 0 });
    expect(jc.zones[2]?.freePages?.Unmovable).toBe(22 * 2 + 7 * 4 + 9 * 8);
    expect(vm.zones.map((zone) => zone.zone)).toEqual(['DMA', 'DMA32', 'Normal']);
  });

  it('reads the old Reserve type and its column order (linux-mm 2008, 2.6.25)', () => {
    const parsed = parsePagetypeinfo(fixture('pagetypeinfo', 'linux-mm-2008-reserve.txt'));

    expect(parsed.types).toEqual(['Unmovable', 'Reclaimable', 'Movable', 'Reserve', 'Isolate']);
    expect(parsed.zones.find((zone) => zone.zone === 'HighMem')?.blocks).toEqual({
      Unmovable: 2,
      Reclaimable: 0,
      Movable: 283,
      Reserve: 1,
      Isolate: 0,
    });
  });

  it("reads the kernel's >100000 cap as a lower bound (Michal Hocko's 2019 patch)", () => {
    const parsed = parsePagetypeinfo(fixture('pagetypeinfo', 'linux-mm-2019-capped-fragment.txt'));

    expect(parsed.zones).toEqual([
      {
        node: 6,
        zone: 'Normal',
        blocks: {},
        freePages: {
          Movable:
            100000 * (1 + 2 + 4 + 8) +
            41019 * 16 +
            31560 * 32 +
            23996 * 64 +
            10054 * 128 +
            3229 * 256 +
            983 * 512 +
            648 * 1024,
        },
        cappedTypes: ['Movable'],
      },
    ]);
  });

  it.each([
    ['a bad count', 'Node    0, zone   Normal, type    Unmovable      1     x', 'bad-token'],
    ['a row of the wrong width', 'Node    0, zone   Normal, type    Unmovable      1', 'column-mismatch'],
    [
      'a count beyond the safe integers',
      'Node    0, zone   Normal, type    Unmovable      1     9007199254740993',
      'count-too-large',
    ],
    ['a zone name with an escape', 'Node    0, zone   Nor\u001b[2Jmal, type    Unmovable      1     2', 'bad-token'],
    [
      'a migrate type with a bidi override',
      'Node    0, zone   Normal, type    Unmov\u202eable      1     2',
      'bad-token',
    ],
  ])('rejects %s with a ParseError naming the line', (_name, row, kind) => {
    const text = `Free pages count per migrate type at order       0      1\n${row}\n`;
    try {
      parsePagetypeinfo(text);
      expect.unreachable('it parsed');
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      expect({ kind: (error as ParseError).kind, line: (error as ParseError).line }).toEqual({ kind, line: 2 });
    }
  });

  it('rejects a blocks row whose zone name is not a kernel identifier', () => {
    const text =
      'Number of blocks type     Unmovable      Movable\nNode 0, zone   \u001b]0;pwned\u0007        46          437\n';
    try {
      parsePagetypeinfo(text);
      expect.unreachable('it parsed');
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      expect({ kind: (error as ParseError).kind, token: (error as ParseError).token }).toEqual({
        kind: 'bad-token',
        token: '\\x1b]0;pwned\\x07',
      });
    }
  });
});

describe('Function: parseVmstat', () => {
  it('keeps the compaction and reclaim counters of a 5.x kernel (canonical/hotsos kubernetes)', () => {
    expect(parseVmstat(fixture('vmstat', 'hotsos-kubernetes.txt'))).toEqual({
      allocstall_dma: 0,
      allocstall_dma32: 0,
      allocstall_normal: 0,
      allocstall_movable: 0,
      pgmajfault: 6124,
      pgscan_direct: 0,
      compact_migrate_scanned: 0,
      compact_free_scanned: 0,
      compact_stall: 0,
      compact_fail: 0,
      compact_success: 0,
      compact_daemon_wake: 0,
    });
  });

  it('keeps the single allocstall of a pre-4.8 kernel (linux-mm 2013, 3.6)', () => {
    expect(parseVmstat(fixture('vmstat', 'linux-mm-2013-kario-3.6.txt'))).toMatchObject({
      allocstall: 7647697,
      compact_stall: 145117,
      compact_fail: 138243,
    });
  });

  it('refuses a counter beyond Number.MAX_SAFE_INTEGER instead of rounding it', () => {
    expect(() => parseVmstat('compact_stall 1\ncompact_free_scanned 18446744073709551615\n')).toThrow(
      /line 2: compact_free_scanned is above/,
    );
  });
});

describe('Function: scanKernelLog', () => {
  const log = fixture('proc', 'kernel-log/allocation-failures.txt');

  it('counts every failure of this boot when since is 0, with the process names and highest orders', () => {
    expect(scanKernelLog(log, { source: 'dmesg', since: 0, bootTime: null })).toEqual({
      state: 'complete',
      allocFailures: {
        count: 3,
        maxOrder: 6,
        processes: [
          { name: 'mysqld', order: 4 },
          { name: 'runc:[1:CHILD]', order: 6 },
          { name: 'kworker/u16:2', order: 2 },
        ],
        callSites: [],
      },
    });
  });

  it('counts from since by boot time plus the boot-relative stamp, and only those', () => {
    const scan = scanKernelLog(log, { source: 'dmesg', since: 1_700_093_000, bootTime: 1_700_000_000 });
    expect(scan.allocFailures).toMatchObject({
      count: 1,
      maxOrder: 2,
      processes: [{ name: 'kworker/u16:2', order: 2 }],
    });
  });

  it('says untimed when recent failures were asked for but the boot time is unknown', () => {
    expect(scanKernelLog(log, { source: 'dmesg', since: 1_700_093_000, bootTime: null })).toEqual({
      state: 'untimed',
      allocFailures: null,
    });
  });
});
