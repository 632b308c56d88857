import { describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/errors.ts';
import { painter } from '../../lib/cli/format.ts';
import { closest, parseFlags, wholeNumber } from '../../lib/cli/kit/args.ts';
import { colorEnabled, outputFlags, outputWidth, resolveOutput } from '../../lib/cli/kit/output.ts';
import { type Column, renderTable } from '../../lib/cli/kit/table.ts';
import { displayWidth, grouped, truncate, wrap } from '../../lib/cli/kit/text.ts';
import { toYaml } from '../../lib/cli/kit/yaml.ts';
import { bufferIo } from './buffer-io.ts';

const ESC = String.fromCharCode(27);
const plain = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');
const width = (text: string) => [...plain(text)].length;

describe('Function: parseFlags', () => {
  const flags = [
    { name: 'nodes', type: 'string', help: '' },
    { name: 'reset', type: 'boolean', help: '' },
    ...outputFlags(),
  ] as const;
  const parse = (args: string[]) => parseFlags('demo', args, flags, [{ name: 'FILE', required: false }]);

  it('takes --name value, --name=value, -o value and -ovalue, and a value that starts with a dash', () => {
    expect(parse(['--nodes', '5']).flags.nodes).toBe('5');
    expect(parse(['--nodes=7']).flags.nodes).toBe('7');
    expect(parse(['-o', 'json']).flags.output).toBe('json');
    expect(parse(['-oyaml']).flags.output).toBe('yaml');
    expect(parse(['--nodes', '-1']).flags.nodes).toBe('-1');
    expect(parse(['--reset', '--', '--not-a-flag']).positionals).toEqual(['--not-a-flag']);
    expect(parse(['-']).positionals).toEqual(['-']);
  });

  it('names the flag and the allowed values for a bad one, and suggests the flag a typo meant', () => {
    expect(() => parse(['-o', 'xml'])).toThrow("--output: 'xml' is not one of table, wide, json, yaml, tsv");
    expect(() => parse(['--node', '5'])).toThrow(
      "unknown option '--node' — did you mean --nodes? (see 'fleetscan demo --help')",
    );
    expect(() => parse(['--nodes'])).toThrow('--nodes needs a value');
    expect(() => parse(['--reset=yes'])).toThrow("--reset takes no value (found 'yes')");
    expect(() => parse(['a', 'b'])).toThrow("unexpected argument 'b'");
    expect(() => parse(['-x'])).toThrow(CliError);
  });

  it('turns a whole number out of range into one line naming the flag and the range', () => {
    expect(() => wholeNumber('nodes', '-1', 1, 5000)).toThrow("--nodes: '-1' is not a whole number from 1 to 5,000");
    expect(() => wholeNumber('nodes', '1.5', 1, 5000)).toThrow(/--nodes: '1.5'/);
    expect(wholeNumber('nodes', '42', 1, 5000)).toBe(42);
    expect(wholeNumber('nodes', undefined, 1, 5000)).toBeUndefined();
  });

  it('suggests only what is within two edits', () => {
    expect(closest('scna', ['scan', 'scans', 'nodes'])).toBe('scan');
    expect(closest('zzzzz', ['scan', 'scans'])).toBeUndefined();
  });
});

describe('Function: resolveOutput', () => {
  const terminal = (env: Record<string, string>) => bufferIo({ isTty: true, env }).io;

  it('colours only a terminal without NO_COLOR or TERM=dumb, unless --color says otherwise', () => {
    expect(colorEnabled(undefined, terminal({ TERM: 'xterm' }))).toBe(true);
    expect(colorEnabled('auto', terminal({ TERM: 'dumb' }))).toBe(false);
    expect(colorEnabled('auto', terminal({ NO_COLOR: '1' }))).toBe(false);
    expect(colorEnabled('auto', bufferIo({ env: {} }).io)).toBe(false);
    expect(colorEnabled('always', bufferIo({ env: { NO_COLOR: '1' } }).io)).toBe(true);
    expect(colorEnabled('never', terminal({}))).toBe(false);
  });

  it('fits $COLUMNS first, then the terminal, and nothing on a pipe', () => {
    expect(outputWidth(bufferIo({ env: { COLUMNS: '100' }, columns: 200 }).io)).toBe(100);
    expect(outputWidth(bufferIo({ env: {}, columns: 132 }).io)).toBe(132);
    expect(outputWidth(bufferIo({ env: { COLUMNS: 'wide' } }).io)).toBeNull();
  });

  it('takes --json as -o json, and refuses a format the command does not print', () => {
    const io = bufferIo().io;
    expect(resolveOutput({ json: true }, io).format).toBe('json');
    expect(resolveOutput({ output: 'tsv', 'no-headers': true }, io)).toMatchObject({ format: 'tsv', headers: false });
    expect(() => resolveOutput({ json: true, output: 'yaml' }, io)).toThrow(CliError);
    expect(() => resolveOutput({ output: 'wide' }, io, ['table', 'json'])).toThrow(
      "--output: 'wide' is not one of table, json",
    );
  });
});

describe('Function: renderTable', () => {
  interface Row {
    readonly id: string;
    readonly status: string;
    readonly note: string;
    readonly extra: string;
  }
  const paint = painter(true);
  const columns: Column<Row>[] = [
    { header: 'ID', cell: (row) => row.id, keep: true },
    {
      header: 'STATUS',
      cell: (row) => row.status,
      keep: true,
      paint: (padded, row) => paint.status(row.status, padded),
    },
    { header: 'EXTRA', cell: (row) => row.extra, rank: 1 },
    { header: 'NOTE', cell: (row) => row.note, shrink: 8, rank: 2 },
    { header: 'WIDE ONLY', cell: () => 'w', view: 'wide' },
  ];
  const rows: Row[] = [
    {
      id: 'i-0123456789abcdef0',
      status: 'CRITICAL',
      note: 'no-suitable-block@0/Normal/6, high-unusable-index@0/Normal/4',
      extra: 'extra-column',
    },
    { id: 'i-1', status: 'OK', note: '', extra: 'x' },
  ];

  it('aligns on the text width even when cells are coloured, the last column unpadded', () => {
    const lines = renderTable(columns.slice(0, 2), rows, { format: 'table', headers: true, width: null });
    expect(lines.map(plain)).toEqual([
      'ID                   STATUS',
      'i-0123456789abcdef0  CRITICAL',
      'i-1                  OK',
    ]);
    expect(lines[1]).toContain(`${ESC}[31mCRITICAL${ESC}[0m`);
  });

  it('never prints a line wider than the width: cuts the column that may be cut, then leaves out the least important', () => {
    for (const limit of [120, 80, 60, 45, 30]) {
      const lines = renderTable(columns, rows, { format: 'table', headers: true, width: limit });
      for (const line of lines) expect(width(line), `${limit}: ${plain(line)}`).toBeLessThanOrEqual(limit);
      expect(plain(lines[1] ?? '')).toContain('i-0123456789abcdef0');
    }
    const at60 = renderTable(columns, rows, { format: 'table', headers: true, width: 60 }).map(plain);
    expect(at60[0]).toMatch(/^ID\s+STATUS\s+EXTRA\s+NOTE$/);
    expect(at60[1]).toMatch(/ {2}extra-column {2}no-suitable-bl…$/);
    const at45 = renderTable(columns, rows, { format: 'table', headers: true, width: 45 }).map(plain);
    expect(at45[0]).toMatch(/^ID\s+STATUS\s+NOTE$/);
  });

  it('adds the wide-only columns with -o wide, and prints raw values tab-separated with -o tsv', () => {
    const wide = renderTable(columns, rows, { format: 'wide', headers: true, width: null }).map(plain);
    expect(wide[0]).toMatch(/WIDE ONLY$/);
    const tsv = renderTable(columns, rows, { format: 'tsv', headers: false, width: 10 });
    expect(tsv[1]).toBe('i-1\tOK\tx\t\tw');
    expect(tsv.join('')).not.toContain(ESC);
  });
});

describe('Function: displayWidth, truncate and wrap', () => {
  it('counts colour as nothing and wide characters as two columns', () => {
    expect(displayWidth(`${ESC}[31mOK${ESC}[0m`)).toBe(2);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('█▌')).toBe(2);
  });

  it('cuts with an ellipsis, resetting colour it cut through', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(truncate(`${ESC}[31mabcdef${ESC}[0m`, 3)).toBe(`${ESC}[31mab…${ESC}[0m`);
  });

  it('wraps prose at spaces, keeping a list item under its indentation', () => {
    expect(wrap('the quick brown fox jumps', 10, '  ')).toEqual(['the quick', '  brown', '  fox', '  jumps']);
    expect(wrap('  - one two three four', 12, '  ')).toEqual(['  - one two', '    three', '    four']);
  });
});

describe('Function: toYaml', () => {
  it('prints JSON values as YAML, quoting the strings YAML would read as something else', () => {
    expect(
      toYaml({
        scanId: 'a6725469-6198-471a-934f-c26e670ff8e2',
        at: '2026-12-07T14:45:00.000Z',
        ok: 'yes',
        count: 3,
        missing: null,
        empty: [],
        nodes: [{ id: 'i-1', zones: ['0 Normal 1 2'] }, 'x'],
        nested: [[1, 2]],
      }),
    ).toBe(
      [
        'scanId: a6725469-6198-471a-934f-c26e670ff8e2',
        'at: "2026-12-07T14:45:00.000Z"',
        'ok: "yes"',
        'count: 3',
        'missing: null',
        'empty: []',
        'nodes:',
        '  - id: i-1',
        '    zones:',
        '      - 0 Normal 1 2',
        '  - x',
        'nested:',
        '  - - 1',
        '    - 2',
        '',
      ].join('\n'),
    );
    expect(toYaml('042')).toBe('"042"\n');
    expect(toYaml('a: b')).toBe('"a: b"\n');
  });
});

describe('Function: grouped', () => {
  it('separates thousands as en-US does, without loading ICU', () => {
    for (const value of [0, 7, 999, 1000, 12_500, 1_000_000, 250_000, 123_456_789, -4321, 1234.5]) {
      expect(grouped(value)).toBe(value.toLocaleString('en-US', { maximumFractionDigits: 20 }));
    }
  });
});
