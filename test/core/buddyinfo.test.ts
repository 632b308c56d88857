import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ORDERS, parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { ParseError, type ParseErrorKind } from '../../lib/core/errors.ts';
import { forbiddenIn } from '../support/forbidden-text.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/buddyinfo');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function parseError(text: string): ParseError {
  try {
    parseBuddyinfo(text);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw new Error(`expected a ParseError, got ${String(error)}`);
  }
  throw new Error('expected a ParseError, but the input parsed');
}

describe('Function: parseBuddyinfo', () => {
  describe('valid layouts', () => {
    const cases: { name: string; text: string; expected: { node: number; zone: string; freeBlocks: number[] }[] }[] = [
      {
        name: 'one order column',
        text: 'Node 0, zone   Normal      7\n',
        expected: [{ node: 0, zone: 'Normal', freeBlocks: [7] }],
      },
      {
        name: 'trailing spaces and no final newline',
        text: 'Node 0, zone      DMA      1      0      1 ',
        expected: [{ node: 0, zone: 'DMA', freeBlocks: [1, 0, 1] }],
      },
      {
        name: 'CRLF line ends and blank lines',
        text: '\r\nNode 0, zone DMA32 1 2\r\n\r\nNode 0, zone Normal 3 4\r\n',
        expected: [
          { node: 0, zone: 'DMA32', freeBlocks: [1, 2] },
          { node: 0, zone: 'Normal', freeBlocks: [3, 4] },
        ],
      },
      {
        name: 'two NUMA nodes, zones in input order',
        text: 'Node 0, zone Normal 1 2 3\nNode 1, zone Normal 4 5 6\nNode 1, zone Movable 7 8 9\n',
        expected: [
          { node: 0, zone: 'Normal', freeBlocks: [1, 2, 3] },
          { node: 1, zone: 'Normal', freeBlocks: [4, 5, 6] },
          { node: 1, zone: 'Movable', freeBlocks: [7, 8, 9] },
        ],
      },
      {
        name: 'arm64 with 64 KiB pages prints 14 orders',
        text: `Node 0, zone   Normal ${Array.from({ length: 14 }, (_, o) => 14 - o).join(' ')} \n`,
        expected: [{ node: 0, zone: 'Normal', freeBlocks: [14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1] }],
      },
      {
        name: 'wide counts (nine digits)',
        text: 'Node 3, zone Normal 123456789 2 3\n',
        expected: [{ node: 3, zone: 'Normal', freeBlocks: [123456789, 2, 3] }],
      },
      {
        name: 'a zone name the parser has never heard of',
        text: 'Node 0, zone Device 0 1\n',
        expected: [{ node: 0, zone: 'Device', freeBlocks: [0, 1] }],
      },
    ];
    it.each(cases)('parses $name', ({ text, expected }) => {
      // Act
      const zones = parseBuddyinfo(text);
      // Assess
      expect(zones).toEqual(expected);
    });

    it('parses the procfs fixture (prometheus/procfs testdata) exactly', () => {
      expect(parseBuddyinfo(fixture('01-procfs-fixture-x86-single-node.txt'))).toEqual([
        { node: 0, zone: 'DMA', freeBlocks: [1, 0, 1, 0, 2, 1, 1, 0, 1, 1, 3] },
        { node: 0, zone: 'DMA32', freeBlocks: [759, 572, 791, 475, 194, 45, 12, 0, 0, 0, 0] },
        { node: 0, zone: 'Normal', freeBlocks: [4381, 1093, 185, 1530, 567, 102, 4, 0, 0, 0, 0] },
      ]);
    });

    it.each([
      '04-jc-fixture-normal-no-high-orders.txt',
      '14-linux-mm-2011-i386-highmem.txt',
      '18-hotsos-vault-fragmented-no-order8plus.txt',
      '19-hotsos-ceph-mon-healthy.txt',
      '20-hotsos-openstack-normal-no-order9-10.txt',
      '21-hotsos-kubernetes.txt',
    ])('parses the public sample %s into three 11-order zones', (name) => {
      const zones = parseBuddyinfo(fixture(name));
      expect(zones.map((zone) => zone.freeBlocks.length)).toEqual([11, 11, 11]);
      expect(zones[0]?.zone).toBe('DMA');
    });
  });

  describe('malformed input', () => {
    const normal = 'Node 0, zone Normal 1 2 3';
    const cases: { name: string; text: string; kind: ParseErrorKind; line: number; token: string }[] = [
      { name: 'empty input', text: '', kind: 'empty', line: 1, token: '' },
      { name: 'only blank lines', text: '\n  \n', kind: 'empty', line: 1, token: '' },
      { name: 'too few fields', text: 'Node 0, zone\n', kind: 'too-few-fields', line: 1, token: 'Node 0, zone' },
      {
        name: 'non-numeric count',
        text: `${normal}\nNode 0, zone Movable 1 x 3\n`,
        kind: 'bad-token',
        line: 2,
        token: 'x',
      },
      { name: 'negative count', text: 'Node 0, zone Normal 1 -2 3\n', kind: 'negative-count', line: 1, token: '-2' },
      { name: 'hex count', text: 'Node 0, zone Normal 1 0x2 3\n', kind: 'bad-token', line: 1, token: '0x2' },
      {
        name: 'count beyond 2^53',
        text: 'Node 0, zone Normal 1 99999999999999999999 3\n',
        kind: 'count-too-large',
        line: 1,
        token: '99999999999999999999',
      },
      {
        name: 'column-count mismatch (more)',
        text: `${normal}\nNode 0, zone Movable 1 2 3 4\n`,
        kind: 'column-mismatch',
        line: 2,
        token: '4',
      },
      {
        name: 'column-count mismatch (fewer)',
        text: `${normal}\nNode 0, zone Movable 1 2\n`,
        kind: 'column-mismatch',
        line: 2,
        token: '2',
      },
      {
        name: 'row truncated with ...',
        text: 'Node 0, zone Normal 1 2 ...\n',
        kind: 'truncated-row',
        line: 1,
        token: '...',
      },
      { name: 'row truncated with …', text: 'Node 0, zone Normal 1 2…\n', kind: 'truncated-row', line: 1, token: '2…' },
      { name: 'line of dots', text: `${normal}\n...\n`, kind: 'truncated-row', line: 2, token: '...' },
      { name: 'mail-quoted', text: `> ${normal}\n`, kind: 'mail-quoted', line: 1, token: '>' },
      {
        name: 'wrapped row',
        text: 'Node 0, zone Normal 1 2\n 3\nNode 0, zone DMA 1 2 3\n',
        kind: 'wrapped-row',
        line: 2,
        token: '3',
      },
      { name: 'missing Node word', text: 'Nod 0, zone Normal 1 2 3\n', kind: 'bad-token', line: 1, token: 'Nod' },
      { name: 'missing comma', text: 'Node 0 zone Normal 1 2 3\n', kind: 'bad-token', line: 1, token: '0' },
      { name: 'bad node id', text: 'Node a, zone Normal 1 2 3\n', kind: 'bad-token', line: 1, token: 'a' },
      { name: 'missing zone word', text: 'Node 0, zona Normal 1 2 3\n', kind: 'bad-token', line: 1, token: 'zona' },
      {
        name: 'duplicate zone',
        text: `${normal}\n${normal}\n`,
        kind: 'duplicate-zone',
        line: 2,
        token: 'Normal',
      },
      {
        name: 'more order columns than any kernel',
        text: `Node 0, zone Normal ${Array.from({ length: MAX_ORDERS + 1 }, () => '1').join(' ')}\n`,
        kind: 'too-many-columns',
        line: 1,
        token: '1',
      },
    ];
    it.each(cases)('rejects $name with a ParseError naming line $line', ({ text, kind, line, token }) => {
      // Act
      const error = parseError(text);
      // Assess
      expect(error.kind).toBe(kind);
      expect(error.line).toBe(line);
      expect(error.token).toBe(token);
      expect(error.message).toMatch(new RegExp(`^line ${line}: `));
    });

    it('rejects the procfs short-lines sample like procfs does, naming the fields found', () => {
      const error = parseError(fixture('02-procfs-negative-short-lines.txt'));
      expect(error.message).toBe("line 1: expected 'Node <n>, zone <name> <counts...>' (found 'Node 0, zone')");
    });

    it('rejects the procfs bucket-mismatch sample at the 12-column line', () => {
      const error = parseError(fixture('03-procfs-negative-bucket-mismatch.txt'));
      expect(error.kind).toBe('column-mismatch');
      expect(error.message).toContain('line 2: column-count mismatch: 12 order columns, but line 1 has 11');
    });

    // Zone names are the kernel's fixed identifiers (mm/page_alloc.c zone_names); anything else is not a zone.
    const hostileZones: { name: string; zone: string; token: string }[] = [
      { name: 'an OSC window title', zone: '\u001b]0;pwned\u0007', token: '\\x1b]0;pwned\\x07' },
      { name: 'a CSI clear screen', zone: '\u001b[2JNormal', token: '\\x1b[2JNormal' },
      { name: 'an 8-bit CSI', zone: '\u009b2JNormal', token: '\\x9b2JNormal' },
      { name: 'a right-to-left override', zone: 'Normal\u202e', token: 'Normal\\u{202e}' },
      { name: 'a zero width space', zone: 'Nor\u200bmal', token: 'Nor\\u{200b}mal' },
      { name: 'a soft hyphen', zone: 'Nor\u00admal', token: 'Nor\\xadmal' },
      { name: 'a tag character', zone: 'Normal\u{e0041}', token: 'Normal\\u{e0041}' },
      { name: 'a lone surrogate', zone: 'Normal\ud800', token: 'Normal\\u{d800}' },
      { name: 'an accented letter', zone: 'Nörmal', token: 'Nörmal' },
      { name: 'a hyphen', zone: 'DMA-32', token: 'DMA-32' },
      { name: 'a leading digit', zone: '32DMA', token: '32DMA' },
      { name: 'seventeen characters', zone: 'NormalNormalNorma', token: 'NormalNormalNorma' },
    ];
    it.each(hostileZones)('rejects a zone name with $name, showing it escaped', ({ zone, token }) => {
      const error = parseError(`Node 0, zone ${zone} 1 2 3\n`);
      expect({ kind: error.kind, line: error.line, token: error.token }).toEqual({ kind: 'bad-token', line: 1, token });
      expect(error.message).toBe(
        `line 1: zone name is not a kernel zone identifier (a letter, then letters, digits or _; at most 16) (found '${token}')`,
      );
      expect(forbiddenIn(error.message)).toBeNull();
    });

    it.each(['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device', 'Future_Zone2', 'NormalNormalNorm'])(
      'accepts the well-formed zone name %s, known or not',
      (zone) => {
        expect(parseBuddyinfo(`Node 0, zone ${zone} 1 2 3\n`)).toEqual([{ node: 0, zone, freeBlocks: [1, 2, 3] }]);
      },
    );

    it('shows control characters in the offending token escaped, never raw', () => {
      const error = parseError('Node 0, zone Normal 1 \u001b[31m 3\n');
      expect(error.token).toBe('\\x1b[31m');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
      expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    });
  });
});
