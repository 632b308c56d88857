/**
 * The CLI's one formatting kit: index values as the kernel prints them, UTC times, byte sizes, counts with their
 * noun, a sparkline, colours, and the one way untrusted node text reaches the terminal. Tables are
 * lib/cli/kit/table.ts; every command's output goes through these.
 */
import { formatThousandths } from '../core/metrics.ts';
import { sanitizeText } from '../core/sanitize.ts';
import type { NodeStatus } from '../runtime/ports.ts';
import { grouped } from './kit/text.ts';

/** Node-originated text (host, kernel, errors, findings), cleaned for a terminal line. */
export function clean(value: string | null | undefined, max = 120): string {
  return value === null || value === undefined ? '' : sanitizeText(value, max);
}

/** Thousandths as the kernel's debugfs prints them: 0.998, -1.000; '-' when unknown. */
export function ratio(thousandths: number | null | undefined): string {
  return thousandths === null || thousandths === undefined ? '-' : formatThousandths(thousandths);
}

/** `2025-06-01 10:15:00` (UTC) from an ISO-8601 time; the input (cleaned) when it is not one. */
export function utc(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return clean(iso, 40);
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** `1 node`, `3 nodes`; `irregular` for nouns whose plural is not noun + s. */
export function plural(count: number, noun: string, irregular = `${noun}s`): string {
  return `${grouped(count)} ${count === 1 ? noun : irregular}`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Bytes in binary units with one decimal (4.0 KiB, 659.3 MiB); '?' when unknown. */
export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '?';
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < BYTE_UNITS.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${scaled.toFixed(unit === 0 ? 0 : 1)} ${BYTE_UNITS[unit]}`;
}

/** Kilobytes (as /proc/meminfo gives them) in binary units; '-' when unknown. */
export function kib(kb: number | null | undefined): string {
  return kb === null || kb === undefined ? '-' : bytes(kb * 1024);
}

/** A count, or '-' when unknown. */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : String(value);
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

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'] as const;

/** A horizontal bar of `fraction` (0–1) of `width` columns, in eighths of a column. */
export function bar(fraction: number, width: number): string {
  const eighths = Math.round(Math.min(Math.max(fraction, 0), 1) * width * 8);
  return `${'█'.repeat(Math.floor(eighths / 8))}${EIGHTHS[eighths % 8] ?? ''}`;
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
  INCOMPLETE: '35',
  improved: '32',
  'no-effect': '33',
  failed: '31',
  'dry-run': '36',
  skipped: '36',
  deferred: '36',
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
