import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FleetModel, readFleet } from '../../lib/cli/fleet-data.ts';
import { cellGlyph, renderHeatmap } from '../../lib/cli/render/heatmap.ts';
import { FakeReader, gridHistory } from './fleet-fixtures.ts';

const GRID = {
  'i-0aaaaaaaaaaaaa01': ['O100', 'W600', 'C1000', 'C980'],
  'i-0aaaaaaaaaaaaa02': ['O300', 'E', 'E', 'E'],
  'i-0aaaaaaaaaaaaa03': ['O0', '-', 'O249', 'O250'],
  'i-0aaaaaaaaaaaaa04': ['O?', 'O499', 'O500', 'O749'],
};

async function model(grid: Readonly<Record<string, readonly string[]>> = GRID, limit = 100): Promise<FleetModel> {
  return readFleet(new FakeReader(gridHistory(grid)), { scans: 24, limit });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping the colour sequences is the point
const SGR = /\u001b\[[0-9;]*m/g;
const width = (line: string) => [...line].length;

describe('Heatmap: renderHeatmap', () => {
  it('draws one row per node, worst first, one character per scan on the index scale, ERROR and absent apart', async () => {
    const lines = renderHeatmap(await model(), { color: false, width: 100 });

    const rows = lines.filter((line) => line.startsWith('i-0'));
    expect(rows).toEqual([
      'i-0aaaaaaaaaaaaa01  CRITICAL  1.000  ░▓██',
      'i-0aaaaaaaaaaaaa02  ERROR     0.300  ▒×××',
      'i-0aaaaaaaaaaaaa04  OK        0.749  ?▒▓▓',
      'i-0aaaaaaaaaaaaa03  OK        0.250  ░·░▒',
    ]);
    expect(lines[1]).toMatch(/^NODE\s+LATEST\s+WORST\s+scans, oldest → newest$/);
  });

  it('adds a row of problem nodes per scan, the tallest bar the window’s most', async () => {
    const lines = renderHeatmap(await model(), { color: false, width: 100 });

    // Problems per scan: 0, 2 (WARN + ERROR), 2, 2.
    const row = lines.find((line) => line.startsWith('problems'));
    expect(row?.slice(-3)).toBe('███');
    expect(row?.at(-4)).toBe(' ');
    expect(lines.join('\n')).toContain('problems: nodes not OK per scan (█ = 2)');
  });

  it('explains every glyph it uses in the legend', async () => {
    const lines = renderHeatmap(await model(), { color: false, width: 100 });
    const legend = lines.slice(lines.findIndex((line) => line.startsWith('problems')) + 1).join('\n');
    for (const glyph of ['░', '▒', '▓', '█', '×', '·', '?']) expect(legend).toContain(`${glyph} `);
    expect(legend).toContain('× ERROR (no verdict)');
    expect(legend).toContain('· not in that scan');
  });

  it('drops the oldest scans first when the width is short, and says how many', async () => {
    // The prefix (id, status, worst index) takes 37 columns; 39 leaves room for the two newest scans.
    const lines = renderHeatmap(await model(), { color: false, width: 39 });

    expect(lines.find((line) => line.startsWith('i-0aaaaaaaaaaaaa01'))).toBe('i-0aaaaaaaaaaaaa01  CRITICAL  1.000  ██');
    expect(lines.find((line) => line.startsWith('i-0aaaaaaaaaaaaa03'))?.endsWith('░▒')).toBe(true);
    expect(lines.join(' ')).toContain('2 older scans left out to fit 39 columns');
  });

  it('never writes a line wider than the width, whatever the model', async () => {
    const cell = fc.constantFrom('O100', 'W930', 'C1000', 'E', '-', 'O?', 'O0');
    const grid = fc.dictionary(
      fc.stringMatching(/^i-0[0-9a-f]{8,30}$/),
      fc.array(cell, { minLength: 1, maxLength: 60 }),
      { minKeys: 1, maxKeys: 8 },
    );
    await fc.assert(
      fc.asyncProperty(grid, fc.integer({ min: 1, max: 160 }), fc.boolean(), async (rows, columns, color) => {
        const lines = renderHeatmap(await model(rows), { color, width: columns, source: 'table fleetscan-history' });
        for (const line of lines) expect(width(line.replace(SGR, ''))).toBeLessThanOrEqual(columns);
      }),
      { numRuns: 150 },
    );
  });

  it('writes no escape byte without colour, and the same text with colour once its sequences are stripped', async () => {
    const fleet = await model();
    const plain = renderHeatmap(fleet, { color: false, width: 80 });
    const coloured = renderHeatmap(fleet, { color: true, width: 80 });

    expect(plain.join('\n')).not.toContain('\u001b');
    expect(coloured.join('\n')).toContain('\u001b[31m');
    // Colour adds a legend line of its own; the rest is the same text.
    expect(coloured.map((line) => line.replace(SGR, '')).filter((line) => !line.startsWith('colour:'))).toEqual(plain);
  });

  it('shows a hostile node id only as its printable characters', async () => {
    const hostile = 'i-0bad\u001b]0;owned\u0007\u001b[2Jnode';
    const lines = renderHeatmap(await model({ [hostile]: ['C1000'] }), { color: false, width: 80 });
    const text = lines.join('\n');
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u0007');
    expect(text).toContain('i-0badnode');
  });

  it('says so when there is nothing to draw', async () => {
    expect(renderHeatmap(await model({}), { color: false, width: 80 })).toEqual(['no scans to show']);
  });

  it.each([
    [null, '·'],
    [{ status: 'ERROR', worstUnusableIndex: null }, '×'],
    [{ status: 'OK', worstUnusableIndex: null }, '?'],
    [{ status: 'OK', worstUnusableIndex: 0 }, '░'],
    [{ status: 'WARN', worstUnusableIndex: 499 }, '▒'],
    [{ status: 'WARN', worstUnusableIndex: 500 }, '▓'],
    [{ status: 'CRITICAL', worstUnusableIndex: 750 }, '█'],
    [{ status: 'CRITICAL', worstUnusableIndex: 1000 }, '█'],
  ] as const)('cell %j is %s', (cell, glyph) => {
    expect(cellGlyph(cell)).toBe(glyph);
  });
});
