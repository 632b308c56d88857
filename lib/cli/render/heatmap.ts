/**
 * `fleetscan fleet` as text: one row per node (worst first), one character per scan (oldest left) on the unusable
 * index's own scale, a row of problem nodes per scan, a legend. A pure function of the model: every line fits
 * `width` (the oldest scans are dropped first, then columns, then text is cut), and no escape byte is written
 * unless `color` is true.
 */
import type { NodeStatus } from '../../runtime/ports.ts';
import type { FleetCell, FleetModel } from '../fleet-data.ts';
import { clean, type Paint, painter, plural, ratio, utc } from '../format.ts';
import { displayWidth, truncate, wrap } from '../kit/text.ts';

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

export function cellGlyph(cell: FleetCell | null): string {
  if (cell === null) return ABSENT_GLYPH;
  if (cell.status === 'ERROR') return ERROR_GLYPH;
  if (cell.worstUnusableIndex === null) return UNMEASURED_GLYPH;
  const quarter = Math.floor(Math.min(Math.max(cell.worstUnusableIndex, 0), 1000) / 250);
  return SHADES[Math.min(quarter, SHADES.length - 1)] ?? '█';
}

function cellText(cell: FleetCell | null, paint: Paint): string {
  const glyph = cellGlyph(cell);
  return cell === null ? paint.dim(glyph) : paint.status(cell.status, glyph);
}

/** The worst status among a scan's records; null for a scan without problems. */
function worstProblem(counts: Readonly<Record<NodeStatus, number>>): NodeStatus | null {
  if (counts.CRITICAL > 0) return 'CRITICAL';
  if (counts.ERROR > 0) return 'ERROR';
  if (counts.WARN > 0) return 'WARN';
  return null;
}

/** One bar per scan, its height the scan's problem nodes (not OK) against the window's most: █ = `max`. */
function histogram(scans: FleetModel['scans'], paint: Paint): { bars: string; max: number } {
  const problems = scans.map((scan) => scan.nodes - scan.counts.OK);
  const max = Math.max(0, ...problems);
  const bars = scans.map((scan, index) => {
    const count = problems[index] ?? 0;
    const worst = worstProblem(scan.counts);
    if (count === 0 || worst === null) return ' ';
    const step = Math.max(1, Math.ceil((count / max) * BARS.length));
    return paint.status(worst, BARS[step - 1] ?? '█');
  });
  return { bars: bars.join(''), max };
}

const STATUS_WIDTH = 'CRITICAL'.length;
const WORST_WIDTH = '0.000'.length;
const MAX_ID_WIDTH = 24;

export function renderHeatmap(model: FleetModel, options: TextOptions): string[] {
  const paint = painter(options.color);
  const width = Math.max(1, Math.floor(options.width));
  const toWidth = (text: string) => truncate(text, width).trimEnd();
  if (model.scans.length === 0) return [toWidth('no scans to show')];
  if (model.nodes.length === 0) return [toWidth(`no node records in the last ${model.scans.length} scans`)];

  // Columns: the node id, then (when the width allows one scan beside them) its latest status and worst index.
  const ids = model.nodes.map((node) => clean(node.nodeId, 64));
  let idWidth = Math.min(MAX_ID_WIDTH, Math.max('NODE'.length, ...ids.map(displayWidth)));
  const detailWidth = 2 + STATUS_WIDTH + 2 + WORST_WIDTH;
  const details = idWidth + detailWidth + 2 + 1 <= width;
  if (idWidth + 2 + 1 > width) idWidth = Math.max(1, width - 3);
  const prefix = idWidth + (details ? detailWidth : 0) + 2;
  const shown = Math.max(0, Math.min(model.scans.length, width - prefix));
  const first = model.scans.length - shown;
  const scans = model.scans.slice(first);

  const lead = (label: string, status?: NodeStatus | 'LATEST', worst = ''): string => {
    const id = truncate(label, idWidth);
    let text = `${id}${' '.repeat(idWidth - displayWidth(id))}`;
    if (details) {
      const padded = (status ?? '').padEnd(STATUS_WIDTH);
      text += `  ${status === undefined || status === 'LATEST' ? padded : paint.status(status, padded)}`;
      text += `  ${worst.padStart(WORST_WIDTH)}`;
    }
    return `${text}  `;
  };

  const lines: string[] = [];
  lines.push(
    toWidth(
      paint.bold(
        `worst unusable free space index per node and scan — ${model.nodes.length} of ${model.totalNodes} nodes, worst first`,
      ),
    ),
  );
  lines.push(toWidth(`${lead('NODE', 'LATEST', 'WORST')}${shown > 1 ? 'scans, oldest → newest' : 'newest scan'}`));
  for (const [index, node] of model.nodes.entries()) {
    const cells = node.cells
      .slice(first)
      .map((cell) => cellText(cell, paint))
      .join('');
    lines.push(toWidth(`${lead(ids[index] ?? '', node.latest, ratio(node.worst))}${cells}`));
  }
  const { bars, max } = histogram(scans, paint);
  lines.push(toWidth(`${lead('problems')}${bars}`));

  const legend = [
    `${SHADES[0]} <0.250`,
    `${SHADES[1]} <0.500`,
    `${SHADES[2]} <0.750`,
    `${SHADES[3]} ≥0.750`,
    `${ERROR_GLYPH} ERROR (no verdict)`,
    `${ABSENT_GLYPH} not in that scan`,
    `${UNMEASURED_GLYPH} no watched index`,
    `problems: nodes not OK per scan (█ = ${max})`,
  ];
  if (options.color) {
    legend.push(
      `colour: ${(['OK', 'WARN', 'CRITICAL', 'ERROR'] as const).map((status) => paint.status(status)).join(' ')}`,
    );
  }
  lines.push(...wrapItems(legend, width));

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
  if (first > 0) notes.push(`${plural(first, 'older scan')} left out to fit ${width} columns`);
  if (model.skippedScans > 0) notes.push(`${plural(model.skippedScans, 'older scan')} beyond the read budget`);
  if (model.totalNodes > model.nodes.length) notes.push('more nodes with --limit N');
  if (options.source !== undefined) {
    notes.push(
      `read ${plural(model.reads.records, 'record')} in ${plural(model.reads.pages, 'page')} from ${options.source}`,
    );
  }
  lines.push(...wrap(notes.join('; '), width).map((text) => paint.dim(toWidth(text))));
  return lines;
}

/** Legend items on as few lines as fit, two spaces apart. */
function wrapItems(items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const item of items) {
    const candidate = current === '' ? item : `${current}  ${item}`;
    if (current !== '' && displayWidth(candidate) > width) {
      lines.push(current);
      current = item;
    } else {
      current = candidate;
    }
  }
  if (current !== '') lines.push(current);
  return lines.flatMap((text) => (displayWidth(text) <= width ? [text] : wrap(text, width)));
}
