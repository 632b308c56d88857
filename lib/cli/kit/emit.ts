/**
 * Printing a command's result in the chosen format: its JSON view for json/yaml, its table for table/wide/tsv,
 * with the lines a person reads above and below a table (a header about the scan, "3 scans, newest first") only in
 * table/wide and only with headers. No line is wider than the output's width.
 */
import type { Paint } from '../format.ts';
import type { Io } from '../io.ts';
import { isStructured, type OutputOptions, structured } from './output.ts';
import { type Column, renderTable } from './table.ts';
import { displayWidth, wrap } from './text.ts';

export interface Printable<Row> {
  /** The `-o json` / `-o yaml` view. */
  readonly view: () => unknown;
  readonly columns: readonly Column<Row>[];
  readonly rows: readonly Row[];
  /** Lines above the table (table and wide formats, with headers). */
  readonly above?: readonly string[];
  /** Lines below it, e.g. how many were shown and how to see more (table and wide formats, with headers). */
  readonly below?: readonly string[];
  /** What to print instead of an empty table (table and wide formats). */
  readonly empty?: string;
}

/**
 * Prose lines fitted to the output's width: a longer line continues on the next, indented, so the terminal never
 * wraps it mid-word. (Table rows are fitted by the table itself.)
 */
export function fitted(lines: readonly string[], output: Pick<OutputOptions, 'width'>): string[] {
  const width = output.width;
  if (width === null) return [...lines];
  return lines.flatMap((line) => (displayWidth(line) <= width ? [line] : wrap(line, width, '    ')));
}

export function emit<Row>(io: Io, output: OutputOptions, paint: Paint, printable: Printable<Row>): void {
  if (isStructured(output.format)) {
    io.stdout(structured(printable.view(), output.format));
    return;
  }
  const table = renderTable(printable.columns, printable.rows, { ...output, bold: paint.bold });
  if (output.format === 'tsv') {
    if (table.length > 0) io.stdout(`${table.join('\n')}\n`);
    return;
  }
  const lines: string[] = [];
  if (output.headers) lines.push(...(printable.above ?? []));
  if (printable.rows.length === 0) {
    if (printable.empty !== undefined) lines.push(printable.empty);
  } else {
    if (output.headers && (printable.above?.length ?? 0) > 0) lines.push('');
    lines.push(...table);
  }
  if (output.headers && printable.rows.length > 0)
    lines.push(...(printable.below ?? []).map((line) => paint.dim(line)));
  if (lines.length > 0) io.stdout(`${fitted(lines, output).join('\n')}\n`);
}
