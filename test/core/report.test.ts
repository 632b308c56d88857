import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError, type ParseErrorKind } from '../../lib/core/errors.ts';
import {
  formatGatherReport,
  formatRemediationReport,
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

  it('round-trips through formatGatherReport', () => {
    const parsed = parseGatherReport(report('gather-2numa.txt'));
    expect(parseGatherReport(formatGatherReport(parsed))).toEqual(parsed);
    expect(formatGatherReport(parsed)).toBe(report('gather-2numa.txt'));
  });

  const malformed: { name: string; text: string; kind: ParseErrorKind; line: number }[] = [
    { name: 'empty', text: '', kind: 'empty', line: 1 },
    {
      name: 'another header',
      text: VALID.join('\n').replace('fleetscan-gather', 'gather'),
      kind: 'bad-header',
      line: 1,
    },
    { name: 'version 2', text: withLine(0, 'fleetscan-gather 2'), kind: 'unsupported-version', line: 1 },
    { name: 'missing end', text: withLine(7, null), kind: 'truncated', line: 7 },
    { name: 'bad page size', text: withLine(3, 'pagesize 4000'), kind: 'bad-value', line: 4 },
    { name: 'bad meminfo', text: withLine(4, 'meminfo lots 5'), kind: 'bad-value', line: 5 },
    { name: 'bad allocfail', text: withLine(5, 'allocfail many'), kind: 'bad-value', line: 6 },
    { name: 'no zone line', text: withLine(6, null), kind: 'missing-field', line: 6 },
    { name: 'no host line', text: withLine(1, null), kind: 'missing-field', line: 6 },
    { name: 'no pagesize line', text: withLine(3, null), kind: 'missing-field', line: 6 },
    { name: 'zone without counts', text: withLine(6, 'zone 0 Normal'), kind: 'too-few-fields', line: 7 },
    { name: 'zone with a bad count', text: withLine(6, 'zone 0 Normal 1 two 3'), kind: 'bad-token', line: 7 },
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
