/**
 * `fleetscan fleet` as text: one row per node (worst first), one character per scan (oldest left) on the unusable
 * index's own scale, a row of problem nodes per scan, a legend. A pure function of the model: every line fits
 * `width` (the oldest scans are dropped first, then columns, then text is cut), and no escape byte is written
 * unless `color` is true.
 */
import type { NodeStatus } from '../../runtime/ports.ts';
import type { FleetCell, FleetModel } from '../fleet-data.ts';
import { clean, ratio, utc } from '../format.ts';

export interface TextOptions {
  readonly color: boolean;
  /** Columns no line may exceed. */
  readonly width: number;
  /** Where the history was read from, for the last line. */
  readonly source?: string;
}

/** The index's scale in quarters: below 0.250, below 0.500, below 0.750, 0.750 and above. */
export const SHADES = ['░', '▒', '▓', '█'] as const;
export const ERROR_GLYPH = '×';
export const ABSENT_GLYPH = '·';
/** A verdict without a watched index (no watched zone on the node). */
export const UNMEASURED_GLYPH = '?';
const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

const SGR: Readonly<Record<NodeStatus | 'absent' | 'dim' | 'bold', string>> = {
  OK: '32',
  WARN: '33',
  CRITICAL: '31',
  ERROR: '35',
  absent: '2',
  dim: '2',
  bold: '1',
};

/** A run of text and how to colour it. */
interface Span {
  readonly text: string;
  readonly sgr?: string;
}

const length = (text: string) => [...text].length;

/** Cuts to `width` characters, the last one '…' when something was cut. */
function cut(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 0 ? '' : `${chars.slice(0, width - 1).join('')}…`;
}

/** One line: spans cut to `width` characters, then coloured (adjacent spans of one colour share one sequence). */
function line(spans: readonly Span[], width: number, color: boolean): string {
  const total = spans.reduce((sum, span) => sum + length(span.text), 0);
  let room = total > width ? Math.max(0, width - 1) : width;
  const kept: Span[] = [];
  for (const span of spans) {
    if (room <= 0) break;
    const text = [...span.text].slice(0, room).join('');
    room -= length(text);
    const last = kept.at(-1);
    if (last !== undefined && last.sgr === span.sgr) kept[kept.length - 1] = { text: last.text + text, sgr: span.sgr };
    else kept.push(span.sgr === undefined ? { text } : { text, sgr: span.sgr });
  }
  if (total > width && width > 0) kept.push({ text: '…' });
  return kept
    .map((span) => (color && span.sgr !== undefined ? `\u001b[${span.sgr}m${span.text}\u001b[0m` : span.text))
    .join('')
    .trimEnd();
}

/** Words on as few lines as fit; a word wider than a line is left for line() to cut. */
function words(text: string, width: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && length(current) + 1 + length(word) > width) {
      out.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  if (current !== '') out.push(current);
  return out;
}

/** Items on as few lines as fit, two spaces apart; a one-colour item wider than a line is broken between words. */
function wrap(items: readonly (readonly Span[])[], width: number, color: boolean): string[] {
  const size = (item: readonly Span[]) => item.reduce((sum, span) => sum + length(span.text), 0);
  const pieces = items.flatMap((item) => {
    const [only] = item;
    if (item.length !== 1 || only === undefined || size(item) <= width) return [item];
    return words(only.text, width).map((text) => [{ ...only, text }]);
  });
  const lines: Span[][] = [];
  let current: Span[] = [];
  let used = 0;
  for (const item of pieces) {
    if (current.length > 0 && used + 2 + size(item) > width) {
      lines.push(current);
      current = [];
      used = 0;
    }
    if (current.length > 0) {
      current.push({ text: '  ' });
      used += 2;
    }
    current.push(...item);
    used += size(item);
  }
  if (current.length > 0) lines.push(current);
  return lines.map((spans) => line(spans, width, color));
}

export function cellGlyph(cell: FleetCell | null): string {
  if (cell === null) return ABSENT_GLYPH;
  if (cell.status === 'ERROR') return ERROR_GLYPH;
  if (cell.worstUnusableIndex === null) return UNMEASURED_GLYPH;
  const quarter = Math.floor(Math.min(Math.max(cell.worstUnusableIndex, 0), 1000) / 250);
  return SHADES[Math.min(quarter, SHADES.length - 1)] ?? '█';
}

function cellSpan(cell: FleetCell | null): Span {
  return { text: cellGlyph(cell), sgr: cell === null ? SGR.absent : SGR[cell.status] };
}

/** The worst status among a scan's records; null for a scan without problems. */
function worstProblem(counts: Readonly<Record<NodeStatus, number>>): NodeStatus | null {
  if (counts.CRITICAL > 0) return 'CRITICAL';
  if (counts.ERROR > 0) return 'ERROR';
  if (counts.WARN > 0) return 'WARN';
  return null;
}

/** One bar per scan, its height the scan's problem nodes (not OK) against the window's most: █ = `max`. */
function histogram(scans: FleetModel['scans']): { spans: Span[]; max: number } {
  const problems = scans.map((scan) => scan.nodes - scan.counts.OK);
  const max = Math.max(0, ...problems);
  const spans = scans.map((scan, index): Span => {
    const count = problems[index] ?? 0;
    const worst = worstProblem(scan.counts);
    if (count === 0 || worst === null) return { text: ' ' };
    const step = Math.max(1, Math.ceil((count / max) * BARS.length));
    return { text: BARS[step - 1] ?? '█', sgr: SGR[worst] };
  });
  return { spans, max };
}

const STATUS_WIDTH = 'CRITICAL'.length;
const WORST_WIDTH = '0.000'.length;
const MAX_ID_WIDTH = 24;

export function renderHeatmap(model: FleetModel, options: TextOptions): string[] {
  const { color } = options;
  const width = Math.max(1, Math.floor(options.width));
  const toWidth = (spans: readonly Span[]) => line(spans, width, color);
  if (model.scans.length === 0) return [toWidth([{ text: 'no scans to show' }])];
  if (model.nodes.length === 0) return [toWidth([{ text: `no node records in the last ${model.scans.length} scans` }])];

  // Columns: the node id, then (when the width allows one scan beside them) its latest status and worst index.
  const ids = model.nodes.map((node) => clean(node.nodeId, 64));
  let idWidth = Math.min(MAX_ID_WIDTH, Math.max('NODE'.length, ...ids.map(length)));
  const detailWidth = 2 + STATUS_WIDTH + 2 + WORST_WIDTH;
  const details = idWidth + detailWidth + 2 + 1 <= width;
  if (idWidth + 2 + 1 > width) idWidth = Math.max(1, width - 3);
  const prefix = idWidth + (details ? detailWidth : 0) + 2;
  const shown = Math.max(0, Math.min(model.scans.length, width - prefix));
  const first = model.scans.length - shown;
  const scans = model.scans.slice(first);

  const lead = (label: string, status: Span = { text: '' }, worst = ''): Span[] => {
    const spans: Span[] = [{ text: cut(label, idWidth).padEnd(idWidth) }];
    if (details) {
      spans.push({ text: '  ' }, { ...status, text: status.text.padEnd(STATUS_WIDTH) });
      spans.push({ text: `  ${worst.padStart(WORST_WIDTH)}` });
    }
    spans.push({ text: '  ' });
    return spans;
  };

  const lines: string[] = [];
  const title = `worst unusable free space index per node and scan — ${model.nodes.length} of ${model.totalNodes} nodes, worst first`;
  lines.push(toWidth([{ text: title, sgr: SGR.bold }]));
  const axis = shown > 1 ? 'scans, oldest → newest' : 'newest scan';
  lines.push(toWidth([...lead('NODE', { text: 'LATEST' }, 'WORST'), { text: axis }]));
  for (const [index, node] of model.nodes.entries()) {
    const status: Span = { text: node.latest, sgr: SGR[node.latest] };
    lines.push(
      toWidth([...lead(ids[index] ?? '', status, ratio(node.worst)), ...node.cells.slice(first).map(cellSpan)]),
    );
  }
  const bars = histogram(scans);
  lines.push(toWidth([...lead('problems'), ...bars.spans]));

  const legend: Span[][] = [
    [{ text: `${SHADES[0]} <0.250` }],
    [{ text: `${SHADES[1]} <0.500` }],
    [{ text: `${SHADES[2]} <0.750` }],
    [{ text: `${SHADES[3]} ≥0.750` }],
    [{ text: `${ERROR_GLYPH} ERROR (no verdict)` }],
    [{ text: `${ABSENT_GLYPH} not in that scan` }],
    [{ text: `${UNMEASURED_GLYPH} no watched index` }],
    [{ text: `problems: nodes not OK per scan (█ = ${bars.max})` }],
  ];
  if (color) {
    legend.push([
      { text: 'colour: ' },
      ...(['OK', 'WARN', 'CRITICAL', 'ERROR'] as const).flatMap((status, index): Span[] => [
        ...(index > 0 ? [{ text: ' ' }] : []),
        { text: status, sgr: SGR[status] },
      ]),
    ]);
  }
  lines.push(...wrap(legend, width, color));

  const oldest = scans[0];
  const newest = scans.at(-1);
  const notes: string[] = [];
  if (oldest !== undefined && newest !== undefined) {
    notes.push(
      shown === 1
        ? `scan of ${utc(newest.requestedAt)} UTC`
        : `${shown} scans, ${utc(oldest.requestedAt)} → ${utc(newest.requestedAt)} UTC`,
    );
  }
  if (first > 0) notes.push(`${first} older scan${first === 1 ? '' : 's'} left out to fit ${width} columns`);
  if (model.skippedScans > 0) {
    notes.push(`${model.skippedScans} older scan${model.skippedScans === 1 ? '' : 's'} beyond the read budget`);
  }
  if (model.totalNodes > model.nodes.length) notes.push('more nodes with --limit N');
  if (options.source !== undefined) {
    notes.push(`read ${model.reads.records} records in ${model.reads.pages} pages from ${options.source}`);
  }
  lines.push(...wrap([[{ text: notes.join('; '), sgr: SGR.dim }]], width, color));
  return lines;
}
