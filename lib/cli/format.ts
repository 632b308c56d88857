/**
 * Small text helpers the history commands share: index values as the kernel prints them, UTC times, a sparkline,
 * aligned columns that stay aligned when coloured, and the one way untrusted node text reaches the terminal.
 */
import { sanitizeText } from '../core/sanitize.ts';
import type { NodeStatus } from '../runtime/ports.ts';

/** Node-originated text (host, kernel, errors, findings), cleaned for a terminal line. */
export function clean(value: string | null | undefined, max = 120): string {
  return value === null || value === undefined ? '' : sanitizeText(value, max);
}

/** Thousandths as the kernel's debugfs prints them: 0.998, -1.000; '-' when unknown. */
export function ratio(thousandths: number | null | undefined): string {
  if (thousandths === null || thousandths === undefined) return '-';
  return (thousandths / 1000).toFixed(3);
}

/** `2025-06-01 10:15:00` (UTC) from an ISO-8601 time; the input unchanged when it is not one. */
export function utc(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return clean(iso, 40);
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * One character per value on the index's own scale (0.000 → ▁, 1.000 → █), so two nodes' lines compare;
 * a missing value (a scan without a verdict) is a gap.
 */
export function sparkline(values: readonly (number | null)[], max = 1000): string {
  return values
    .map((value) => {
      if (value === null) return ' ';
      const step = Math.round((Math.min(Math.max(value, 0), max) / max) * (BARS.length - 1));
      return BARS[step] ?? '█';
    })
    .join('');
}

export interface Paint {
  status(status: NodeStatus | string, text?: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const STATUS_COLOURS: Readonly<Record<string, string>> = {
  OK: '32',
  WARN: '33',
  CRITICAL: '31',
  ERROR: '35',
  improved: '32',
  'no-effect': '33',
  failed: '31',
  'dry-run': '36',
};

export function painter(color: boolean): Paint {
  const wrap = (code: string | undefined, text: string) =>
    color && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
  return {
    status: (status, text = status) => wrap(STATUS_COLOURS[status], text),
    dim: (text) => wrap('2', text),
    bold: (text) => wrap('1', text),
  };
}

/** A cell: its plain text (what the width counts) and how to show it. */
export interface Cell {
  readonly text: string;
  readonly show?: (padded: string) => string;
  readonly right?: boolean;
}

export type CellInput = string | Cell;

function cell(input: CellInput): Cell {
  return typeof input === 'string' ? { text: input } : input;
}

/** Aligned columns, two spaces apart, the last column unpadded; colours applied after padding. */
export function columns(rows: readonly (readonly CellInput[])[]): string[] {
  const cells = rows.map((row) => row.map(cell));
  const widths: number[] = [];
  for (const row of cells) {
    row.forEach((entry, index) => {
      widths[index] = Math.max(widths[index] ?? 0, [...entry.text].length);
    });
  }
  return cells.map((row) =>
    row
      .map((entry, index) => {
        const width = widths[index] ?? 0;
        const last = index === row.length - 1;
        const fill = ' '.repeat(Math.max(0, width - [...entry.text].length));
        const padded = entry.right ? `${fill}${entry.text}` : last ? entry.text : `${entry.text}${fill}`;
        return entry.show ? entry.show(padded) : padded;
      })
      .join('  ')
      .trimEnd(),
  );
}

/** Byte counts in binary units (page sizes, memory). */
export function kib(kb: number | null | undefined): string {
  if (kb === null || kb === undefined) return '-';
  if (kb >= 1024 * 1024) return `${(kb / 1024 / 1024).toFixed(1)} GiB`;
  if (kb >= 1024) return `${(kb / 1024).toFixed(0)} MiB`;
  return `${kb} KiB`;
}
