/**
 * Tables that fit: columns are declared once (header, how a row shows in it, alignment, whether it is `wide` only,
 * which to give up first), and the same declaration prints the narrow table, `-o wide`, and `-o tsv`. A table never
 * wraps: given a width it first shortens the columns that may be cut (with '…'), then leaves out the least
 * important columns, and only then cuts lines. Colour is applied after padding, so it never moves a column.
 */
import type { OutputOptions } from './output.ts';
import { displayWidth, truncate } from './text.ts';

export interface Column<Row> {
  readonly header: string;
  /** The cell as shown in a table (already sanitized by the caller when it came from a node). */
  readonly cell: (row: Row) => string;
  /** The cell in `-o tsv`: raw values (full ids, ISO times, integers) where the table shows rounded ones. */
  readonly tsv?: (row: Row) => string | number | null;
  readonly align?: 'left' | 'right';
  /** Colour for the padded cell. */
  readonly paint?: (padded: string, row: Row) => string;
  /** Only in the default table (`narrow`), or only in `-o wide` and tsv (`wide`); absent: in both. */
  readonly view?: 'narrow' | 'wide';
  /** May be cut with '…' down to this many characters to fit the width. */
  readonly shrink?: number;
  /** When the table is too wide even after shrinking, columns with the lowest rank are left out first. @default 0 */
  readonly rank?: number;
  /** Never left out (identifiers). */
  readonly keep?: boolean;
}

const GAP = 2;

function fitColumns<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  width: number | null,
  headers: boolean,
) {
  const natural = columns.map((column) =>
    Math.max(headers ? displayWidth(column.header) : 0, ...rows.map((row) => displayWidth(column.cell(row)))),
  );
  const chosen = columns.map((_, index) => index);
  const widths = [...natural];
  const total = () => chosen.reduce((sum, index) => sum + (widths[index] ?? 0), 0) + GAP * (chosen.length - 1);
  if (width === null || total() <= width) return { chosen, widths };
  // 1. Cut the columns that may be cut, least important first, each down to its floor before the next.
  const floorOf = (index: number) => {
    const column = columns[index];
    return Math.max(column?.shrink ?? Number.POSITIVE_INFINITY, headers ? displayWidth(column?.header ?? '') : 1);
  };
  const cuttable = chosen
    .filter((index) => columns[index]?.shrink !== undefined)
    .sort((a, b) => (columns[a]?.rank ?? 0) - (columns[b]?.rank ?? 0) || b - a);
  for (const index of cuttable) {
    const excess = total() - width;
    if (excess <= 0) break;
    widths[index] = Math.max(floorOf(index), (widths[index] ?? 0) - excess);
  }
  // 2. Leave out whole columns, least important (then rightmost) first.
  while (total() > width) {
    const droppable = chosen.filter((index) => columns[index]?.keep !== true);
    if (droppable.length === 0) break;
    const victim = droppable.reduce((a, b) => ((columns[b]?.rank ?? 0) <= (columns[a]?.rank ?? 0) ? b : a));
    chosen.splice(chosen.indexOf(victim), 1);
    // A left-out column gives its room back to the cut ones, up to their natural width.
    for (const index of chosen) {
      if (columns[index]?.shrink === undefined) continue;
      while ((widths[index] ?? 0) < (natural[index] ?? 0) && total() < width) widths[index] = (widths[index] ?? 0) + 1;
    }
  }
  return { chosen, widths };
}

function pad(text: string, width: number, align: 'left' | 'right', last: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  if (align === 'right') return `${fill}${text}`;
  return last ? text : `${text}${fill}`;
}

/** The table's lines (header first unless `headers` is off); `-o tsv` gives tab-separated raw values. */
export function renderTable<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  options: Pick<OutputOptions, 'format' | 'headers' | 'width'> & { readonly bold?: (text: string) => string },
): string[] {
  const wide = options.format === 'wide' || options.format === 'tsv';
  const shownColumns = columns.filter(
    (column) => column.view === undefined || column.view === (wide ? 'wide' : 'narrow'),
  );
  if (options.format === 'tsv') {
    const field = (value: string | number | null) => (value === null ? '' : String(value).replace(/[\t\n\r]/g, ' '));
    const body = rows.map((row) => shownColumns.map((column) => field((column.tsv ?? column.cell)(row))).join('\t'));
    return options.headers ? [shownColumns.map((column) => column.header).join('\t'), ...body] : body;
  }
  const { chosen, widths } = fitColumns(shownColumns, rows, options.width, options.headers);
  const line = (cells: (index: number, width: number, last: boolean) => string) =>
    chosen
      .map((index, position) => cells(index, widths[index] ?? 0, position === chosen.length - 1))
      .join(' '.repeat(GAP))
      .trimEnd();
  const out: string[] = [];
  if (options.headers) {
    const head = line((index, width, last) =>
      pad(truncate(shownColumns[index]?.header ?? '', width), width, shownColumns[index]?.align ?? 'left', last),
    );
    out.push(options.bold ? options.bold(head) : head);
  }
  for (const row of rows) {
    out.push(
      line((index, width, last) => {
        const column = shownColumns[index];
        if (column === undefined) return '';
        const padded = pad(truncate(column.cell(row), width), width, column.align ?? 'left', last);
        return column.paint ? column.paint(padded, row) : padded;
      }),
    );
  }
  // The last resort: never a wrapped row.
  return options.width === null ? out : out.map((text) => truncate(text, options.width ?? 0));
}
