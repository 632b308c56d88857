import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError, type ParseErrorKind } from '../../lib/core/errors.ts';
import {
  formatGatherReport,
  formatRemediationReport,
  type GatherDiagnostics,
  parseAny,
  parseGatherReport,
  parseRemediationReport,
} from '../../lib/core/report.ts';

const report = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/reports', name), 'utf8');

function errorOf(parse: () => unknown): ParseError {
  try {
    parse();
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw new Error(`expected a ParseError, got ${String(error)}`);
  }
  throw new Error('expected a ParseError, but the input parsed');
}

const NO_DIAGNOSTICS: GatherDiagnostics = {
  memFreeKb: null,
  slabReclaimableKb: null,
  bootId: null,
  uptimeSeconds: null,
  load: null,
  kernelLog: null,
  vmstat: null,
  sysctls: null,
  thp: null,
  kcompactd: null,
  pagetypes: null,
};

const VALID = [
  'fleetscan-gather 1',
  'host node-a',
  'kernel 6.1.0',
  'pagesize 4096',
  'meminfo 1000 500',
  'allocfail 0 -',
  'zone 0 Normal 1 2 3',
  'end',
];
const withLine = (index: number, line: string | null) =>
  VALID.flatMap((existing, i) => (i === index ? (line === null ? [] : [line]) : [existing])).join('\n');

describe('Function: parseGatherReport', () => {
  it('reads every field of a two-NUMA-node report', () => {
    // Act
    const parsed = parseGatherReport(report('gather-2numa.txt'));
    // Assess
    expect(parsed).toEqual({
      version: 1,
      ...NO_DIAGNOSTICS,
      host: 'ip-10-0-3-17.eu-west-1.compute.internal',
      kernel: '6.1.0-18-amd64',
      pageSize: 4096,
      memTotalKb: 65842624,
      memAvailableKb: 41237812,
      allocFailures: { count: 3, maxOrder: 4 },
      zones: [
        { node: 0, zone: 'DMA', freeBlocks: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3] },
        { node: 0, zone: 'DMA32', freeBlocks: [2725, 624, 489, 178, 0, 0, 0, 0, 0, 0, 0] },
        { node: 0, zone: 'Normal', freeBlocks: [1163, 1101, 932, 222, 0, 0, 0, 0, 0, 0, 0] },
        { node: 1, zone: 'Normal', freeBlocks: [29196, 20577, 9900, 5734, 1915, 349, 53, 3, 0, 0, 0] },
      ],
    });
  });

  it("reads 'allocfail unknown' as an unreadable kernel log and ignores the agent's stderr section after end", () => {
    const parsed = parseGatherReport(report('gather-no-kernel-log.txt'));
    expect(parsed.allocFailures).toBeNull();
    expect(parsed.zones).toHaveLength(3);
  });

  it('reads a 64 KiB-page arm64 report with 14 orders', () => {
    const parsed = parseGatherReport(report('arm64-64k.txt'));
    expect(parsed.pageSize).toBe(65536);
    expect(parsed.zones.map((zone) => zone.freeBlocks.length)).toEqual([14, 14]);
  });

  it('raises kind truncated when the output was cut before end, naming the last line', () => {
    const error = errorOf(() => parseGatherReport(report('gather-truncated.txt')));
    expect(error.kind).toBe('truncated');
    expect(error.message).toContain("no 'end' line");
  });

  it('ignores keys a later v1 script may add', () => {
    const parsed = parseGatherReport(withLine(5, 'allocfail 0 -\nthp always'));
    expect(parsed.zones).toHaveLength(1);
  });

  it('strips control characters and escape sequences from the host name', () => {
    const parsed = parseGatherReport(withLine(1, 'host evil\u001b]0;pwned\u0007\u001b[2Jname'));
    expect(parsed.host).toBe('evilname');
  });

  it('round-trips a version-2 report through formatGatherReport, byte for byte', () => {
    const parsed = parseGatherReport(report('gather-2numa-v2.txt'));
    expect(formatGatherReport(parsed)).toBe(report('gather-2numa-v2.txt'));
    expect(parseGatherReport(formatGatherReport(parsed))).toEqual(parsed);
  });

  it('prints a version-1 report as version 2 with the same verdict inputs', () => {
    const v1 = parseGatherReport(report('gather-2numa.txt'));
    const v2 = parseGatherReport(formatGatherReport(v1));
    expect(v2.version).toBe(2);
    expect({ ...v2, version: 1 }).toEqual({
      ...v1,
      allocFailures: { ...v1.allocFailures, processes: [], callSites: [] },
    });
  });

  const malformed: { name: string; text: string; kind: ParseErrorKind; line: number }[] = [
    { name: 'empty', text: '', kind: 'empty', line: 1 },
    {
      name: 'another header',
      text: VALID.join('\n').replace('fleetscan-gather', 'gather'),
      kind: 'bad-header',
      line: 1,
    },
    { name: 'version 3', text: withLine(0, 'fleetscan-gather 3'), kind: 'unsupported-version', line: 1 },
    {
      name: 'an allocfail count beyond the safe integers (v1)',
      text: withLine(5, 'allocfail 9007199254740993 4'),
      kind: 'count-too-large',
      line: 6,
    },
    { name: 'missing end', text: withLine(7, null), kind: 'truncated', line: 7 },
    { name: 'bad page size', text: withLine(3, 'pagesize 4000'), kind: 'bad-value', line: 4 },
    { name: 'bad meminfo', text: withLine(4, 'meminfo lots 5'), kind: 'bad-value', line: 5 },
    { name: 'bad allocfail', text: withLine(5, 'allocfail many'), kind: 'bad-value', line: 6 },
    { name: 'no zone line', text: withLine(6, null), kind: 'missing-field', line: 6 },
    { name: 'no host line', text: withLine(1, null), kind: 'missing-field', line: 6 },
    { name: 'no pagesize line', text: withLine(3, null), kind: 'missing-field', line: 6 },
    { name: 'zone without counts', text: withLine(6, 'zone 0 Normal'), kind: 'too-few-fields', line: 7 },
    { name: 'zone with a bad count', text: withLine(6, 'zone 0 Normal 1 two 3'), kind: 'bad-token', line: 7 },
    {
      name: 'a zone name carrying a window title',
      text: withLine(6, 'zone 0 \u001b]0;pwned\u0007Normal 1 2 3'),
      kind: 'bad-token',
      line: 7,
    },
    { name: 'zone with a negative count', text: withLine(6, 'zone 0 Normal 1 -2 3'), kind: 'negative-count', line: 7 },
    { name: 'mail-quoted line', text: withLine(6, '> zone 0 Normal 1 2 3'), kind: 'mail-quoted', line: 7 },
    {
      name: 'zones of different widths',
      text: withLine(6, 'zone 0 Normal 1 2 3\nzone 1 Normal 1 2'),
      kind: 'column-mismatch',
      line: 8,
    },
  ];
  it.each(malformed)('rejects $name with kind $kind at line $line', ({ text, kind, line }) => {
    const error = errorOf(() => parseGatherReport(text));
    expect({ kind: error.kind, line: error.line }).toEqual({ kind, line });
  });
});

const V2 = report('gather-2numa-v2.txt');
const v2With = (key: string, line: string) => V2.replace(new RegExp(`^${key} .*$`, 'm'), line);
const lineOf = (key: string) => V2.split('\n').findIndex((line) => line.startsWith(`${key} `)) + 1;

describe('Function: parseGatherReport, version 2', () => {
  it('reads what explains a verdict: failures since the previous scan, counters, pageblocks, load, boot id', () => {
    const parsed = parseGatherReport(V2);

    expect(parsed.version).toBe(2);
    expect(parsed.kernelLog).toEqual({ source: 'dmesg', state: 'complete', since: 1700008000 });
    expect(parsed.allocFailures).toEqual({
      count: 3,
      maxOrder: 6,
      processes: [
        { name: 'mysqld', order: 4 },
        { name: 'runc:[1:CHILD]', order: 6 },
        { name: 'kworker/u16:2', order: 2 },
      ],
      callSites: [],
    });
    expect(parsed.bootId).toBe('0f3e2d1c-4b5a-4978-8695-a4b3c2d1e0f9');
    expect(parsed.load).toEqual({ one: 0.52, five: 0.58, fifteen: 0.59, cpus: 16 });
    expect(parsed.vmstat).toMatchObject({ compact_stall: 0, pgmajfault: 1592 });
    expect(parsed.kcompactd).toEqual([
      { node: 0, state: 'S' },
      { node: 1, state: 'S' },
    ]);
    expect(parsed.pagetypes?.zones.map((zone) => `${zone.node}/${zone.zone}`)).toEqual([
      '0/DMA',
      '0/DMA32',
      '0/Normal',
      '1/Normal',
    ]);
    expect(parsed.pagetypes?.zones[3]?.blocks).toEqual({
      Unmovable: 3,
      Movable: 26,
      Reclaimable: 1,
      HighAtomic: 0,
      CMA: 0,
      Isolate: 0,
    });
  });

  it('reads every missing version-2 line as null', () => {
    const parsed = parseGatherReport(VALID.join('\n').replace('fleetscan-gather 1', 'fleetscan-gather 2'));
    expect(parsed).toMatchObject({ version: 2, ...NO_DIAGNOSTICS });
  });

  it('reads the allocsite frames and a capped free-page count as a lower bound', () => {
    const text = V2.replace(
      /^allocfail .*$/m,
      'allocfail 1 4 dockerd:4\nallocsite veth_alloc_queues[veth] register_netdevice',
    ).replace(/^freepages 1 Normal ([0-9]+) [0-9]+/m, 'freepages 1 Normal $1 >100000');

    const parsed = parseGatherReport(text);

    expect(parsed.allocFailures?.callSites).toEqual(['veth_alloc_queues[veth]', 'register_netdevice']);
    expect(parsed.pagetypes?.zones[3]?.cappedTypes).toEqual(['Movable']);
    expect(parsed.pagetypes?.zones[3]?.freePages?.Movable).toBe(100000);
  });

  const malformed: { name: string; key: string; line: string; kind: ParseErrorKind }[] = [
    {
      name: 'a vmstat counter beyond the safe integers',
      key: 'vmstat',
      line: 'vmstat compact_stall=9007199254740993',
      kind: 'count-too-large',
    },
    { name: 'a vmstat entry without =', key: 'vmstat', line: 'vmstat compact_stall', kind: 'bad-value' },
    {
      name: 'an allocfail count beyond the safe integers',
      key: 'allocfail',
      line: 'allocfail 99999999999999999 4',
      kind: 'count-too-large',
    },
    {
      name: 'an allocfail process without an order',
      key: 'allocfail',
      line: 'allocfail 1 4 mysqld',
      kind: 'bad-value',
    },
    {
      name: 'an allocfail process with a space-free shell word',
      key: 'allocfail',
      line: 'allocfail 1 4 $(x):4',
      kind: 'bad-value',
    },
    {
      name: 'six allocfail processes',
      key: 'allocfail',
      line: 'allocfail 6 1 a:1 b:1 c:1 d:1 e:1 f:1',
      kind: 'bad-value',
    },
    { name: 'an unknown klog state', key: 'klog', line: 'klog dmesg partial 0', kind: 'bad-value' },
    {
      name: 'a klog since that is not a number',
      key: 'klog',
      line: 'klog dmesg complete yesterday',
      kind: 'bad-value',
    },
    { name: 'a bad boot id', key: 'bootid', line: 'bootid not-a-uuid', kind: 'bad-value' },
    { name: 'a bad load average', key: 'load', line: 'load high 0.58 0.59 16', kind: 'bad-value' },
    { name: 'a load without its CPU count', key: 'load', line: 'load 0.52 0.58 0.59', kind: 'bad-value' },
    { name: 'zero CPUs', key: 'load', line: 'load 0.52 0.58 0.59 0', kind: 'bad-value' },
    { name: 'a sysctl that is not a number', key: 'sysctl', line: 'sysctl extfrag_threshold=lots', kind: 'bad-value' },
    { name: 'a kcompactd entry without a state', key: 'kcompactd', line: 'kcompactd 0', kind: 'bad-value' },
    {
      name: 'a pageblocks row of the wrong width',
      key: 'pageblocks 0 DMA',
      line: 'pageblocks 0 DMA 2 21',
      kind: 'column-mismatch',
    },
    {
      name: 'a pageblocks count beyond the safe integers',
      key: 'pageblocks 0 DMA',
      line: 'pageblocks 0 DMA 9007199254740993 21 0 0 0 0',
      kind: 'count-too-large',
    },
    {
      name: 'a pageblocks zone name clearing the screen',
      key: 'pageblocks 0 DMA',
      line: 'pageblocks 0 DMA\u001b[2J 2 21 0 0 0 0',
      kind: 'bad-token',
    },
    {
      name: 'a freepages zone name with a right-to-left override',
      key: 'freepages 0 DMA',
      line: 'freepages 0 DMA\u202e 0 0 0 0 0 0',
      kind: 'bad-token',
    },
    {
      name: 'a pageblocks row twice',
      key: 'pageblocks 0 DMA32',
      line: 'pageblocks 0 DMA 2 21 0 0 0 0',
      kind: 'duplicate-zone',
    },
  ];
  it.each(malformed)('rejects $name with kind $kind, naming the line', ({ key, line, kind }) => {
    const error = errorOf(() => parseGatherReport(v2With(key, line)));
    expect({ kind: error.kind, line: error.line }).toEqual({ kind, line: lineOf(key) });
  });

  it('rejects pageblocks before the pagetypes line says which types they count', () => {
    const text = V2.replace(/^pagetypes .*\n/m, '').replace(
      /^end$/m,
      'pagetypes Unmovable Movable Reclaimable HighAtomic CMA Isolate\nend',
    );
    expect(errorOf(() => parseGatherReport(text)).reason).toContain("before a 'pagetypes' line");
  });
});

describe('Function: parseRemediationReport', () => {
  it('reads the action, the NUMA node, the steps and both states', () => {
    const parsed = parseRemediationReport(report('remediate-compact-node.txt'));
    expect(parsed.action).toBe('compact-node');
    expect(parsed.numaNode).toBe(1);
    expect(parsed.dryRun).toBe(false);
    expect(parsed.steps).toEqual([{ name: 'compact-node', result: 'ok' }]);
    expect(parsed.before[1]?.freeBlocks[7]).toBe(3);
    expect(parsed.after[1]?.freeBlocks[10]).toBe(41);
  });

  it('round-trips through formatRemediationReport', () => {
    const parsed = parseRemediationReport(report('remediate-compact-node.txt'));
    expect(formatRemediationReport(parsed)).toBe(report('remediate-compact-node.txt'));
  });

  it.each([
    ['an unknown action', 'action nuke', 'bad-value'],
    ['a bad numa value', 'numa 1;reboot', 'bad-value'],
    ['a bad dryrun value', 'dryrun maybe', 'bad-value'],
    ['a bad step result', 'step compact-node exploded', 'bad-value'],
  ])('rejects %s', (_name, line, kind) => {
    const key = line.split(' ')[0] ?? '';
    const text = report('remediate-compact-node.txt').replace(new RegExp(`^${key} .*$`, 'm'), line);
    expect(errorOf(() => parseRemediationReport(text)).kind).toBe(kind);
  });

  it('reads the version-2 prechecks, step reasons and settle time, and round-trips them', () => {
    const text = report('remediate-prechecks-v2.txt');
    const parsed = parseRemediationReport(text);

    expect(parsed.version).toBe(2);
    expect(parsed.prechecks).toEqual([
      { name: 'load', result: 'ok', observed: ['0.52', '16', '1'] },
      { name: 'kcompactd', result: 'ok', observed: ['1:S'] },
      { name: 'proactiveness', result: 'ok', observed: ['20', '20'] },
    ]);
    expect(parsed.settleSeconds).toBe(10);
    expect(formatRemediationReport(parsed)).toBe(text);
    const skipped = text.replace('step compact-node ok', 'step compact-node skipped precheck-load');
    expect(parseRemediationReport(skipped).steps).toEqual([
      { name: 'compact-node', result: 'skipped', reason: 'precheck-load' },
    ]);
  });

  it.each([
    ['an unknown precheck', 'precheck uptime ok 1'],
    ['a bad precheck result', 'precheck load maybe 0.52 16 1'],
    ['a precheck observation with a shell word', 'precheck load ok $(x) 16 1'],
  ])('rejects %s', (_name, line) => {
    const text = report('remediate-prechecks-v2.txt').replace(/^precheck load .*$/m, line);
    expect(errorOf(() => parseRemediationReport(text)).kind).toBe('bad-value');
  });

  it('rejects a zone name outside the kernel identifiers, quoting it escaped', () => {
    const text = report('remediate-compact-node.txt').replace(/^zone 0 Normal /m, 'zone 0 Nor\u200bmal\u001b[2J ');
    const error = errorOf(() => parseRemediationReport(text));
    expect({ kind: error.kind, token: error.token }).toEqual({ kind: 'bad-token', token: 'Nor\\u{200b}mal\\x1b[2J' });
  });

  it('rejects zone lines outside a before/after section', () => {
    const text = report('remediate-compact-node.txt').replace('before\n', '');
    expect(errorOf(() => parseRemediationReport(text)).reason).toContain("outside a 'before' or 'after' section");
  });
});

describe('Function: parseAny', () => {
  it('tells raw buddyinfo, gather and remediation reports apart by their first line', () => {
    expect(parseAny('Node 0, zone Normal 1 2\n').kind).toBe('buddyinfo');
    expect(parseAny(report('gather-2numa.txt')).kind).toBe('gather');
    expect(parseAny(`\n${report('remediate-compact-node.txt')}`).kind).toBe('remediate');
  });
});
