/**
 * `fleetscan report --html`: the fleet model as one self-contained HTML page — inline CSS and inline SVG only, no
 * script, no font, no image, nothing fetched (its Content-Security-Policy forbids it too), so the file can be
 * mailed, attached to a ticket or opened offline. It shows the heatmap of the worst nodes, severity counts per
 * scan, remediation outcomes with their table, and the worst nodes' trend lines.
 *
 * Everything that came from a node (ids, host names, errors, details) is sanitized, then HTML-escaped, its colons
 * written as character references so that no text from a node can spell out a URL in the file; it only ever
 * lands in text content, never in an attribute.
 */
import { sanitizeText } from '../../core/sanitize.ts';
import type { NodeStatus, RemediationRecord } from '../../runtime/ports.ts';
import {
  type FleetCell,
  type FleetModel,
  type FleetNode,
  OUTCOME_KEYS,
  type OutcomeKey,
  outcomeOf,
} from '../fleet-data.ts';
import { ratio, utc } from '../format.ts';
import { REMEDIATION_ROWS, TREND_NODES } from '../picture-limits.ts';
import { measuredEffect } from './remediations.ts';

export interface HtmlOptions {
  /** Where the history was read from (shown in the header). */
  readonly source: string;
  /** ISO-8601. */
  readonly generatedAt: string;
  /** @default TREND_NODES */
  readonly trendNodes?: number;
  /** Remediation table rows at most. @default REMEDIATION_ROWS */
  readonly remediationRows?: number;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Text that came from a node: sanitized, escaped, colons as references. Only for text content. */
export function untrusted(value: string | null | undefined, max: number): string {
  return escapeHtml(sanitizeText(value ?? '', max)).replace(/:/g, '&#58;');
}

export const STATUS_COLOURS: Readonly<Record<NodeStatus, string>> = {
  OK: '#2e7d32',
  WARN: '#e6a100',
  CRITICAL: '#c62828',
  ERROR: '#6a1b9a',
};

const OUTCOME_COLOURS: Readonly<Record<OutcomeKey, string>> = {
  improved: '#2e7d32',
  'no-effect': '#e6a100',
  failed: '#c62828',
  skipped: '#8c959f',
  deferred: '#5b8fd9',
  'dry-run': '#1a9c9c',
  pending: '#c9d1d9',
};

const ABSENT_STROKE = '#afb8c1';
const UNMEASURED_FILL = '#d0d7de';

/** The index's colour: yellow at 0.000 through orange and red to dark red at 1.000. */
const RAMP: readonly (readonly [number, readonly [number, number, number]])[] = [
  [0, [255, 255, 204]],
  [250, [254, 217, 118]],
  [500, [253, 141, 60]],
  [750, [227, 26, 28]],
  [1000, [128, 0, 38]],
];

export function indexColour(thousandths: number): string {
  const value = Math.min(Math.max(thousandths, 0), 1000);
  for (let i = 1; i < RAMP.length; i += 1) {
    const [high, to] = RAMP[i] as (typeof RAMP)[number];
    const [low, from] = RAMP[i - 1] as (typeof RAMP)[number];
    if (value > high) continue;
    const t = (value - low) / (high - low);
    const channel = (k: 0 | 1 | 2) => Math.round(from[k] + (to[k] - from[k]) * t);
    return `#${[channel(0), channel(1), channel(2)].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
  }
  return '#800026';
}

const n = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** An accessible inline SVG: role img, its title and description first (both HTML, escaped by the caller). */
function svg(id: string, width: number, height: number, titleHtml: string, descHtml: string, body: string): string {
  return (
    `<svg id="${id}" role="img" aria-labelledby="${id}-title ${id}-desc" width="${n(width)}" height="${n(height)}" ` +
    `viewBox="0 0 ${n(width)} ${n(height)}"><title id="${id}-title">${titleHtml}</title>` +
    `<desc id="${id}-desc">${descHtml}</desc>${body}</svg>`
  );
}

function cellText(cell: FleetCell | null): string {
  if (cell === null) return 'not in this scan';
  if (cell.status === 'ERROR') return 'ERROR: no verdict';
  return cell.worstUnusableIndex === null
    ? `${cell.status}, no watched index`
    : `${cell.status}, worst unusable index ${ratio(cell.worstUnusableIndex)}`;
}

/** A scan's axis label: its time of day when the window is one day, else month-day and time. */
function scanLabeller(model: FleetModel): (iso: string) => string {
  const days = new Set(model.scans.map((scan) => utc(scan.requestedAt).slice(0, 10)));
  return days.size <= 1 ? (iso) => utc(iso).slice(11, 16) : (iso) => utc(iso).slice(5, 16);
}

function heatmap(model: FleetModel): string {
  const scans = model.scans.length;
  const cell = scans <= 24 ? 18 : scans <= 48 ? 12 : scans <= 120 ? 7 : 4;
  const rowHeight = 16;
  const labelWidth = 16 + 7.3 * Math.max(4, ...model.nodes.map((node) => sanitizeText(node.nodeId, 64).length));
  const top = 78;
  // Room on the right for the last label, rotated up and to the right.
  const width = labelWidth + scans * cell + 40;
  const scanTime = scanLabeller(model);
  const height = top + model.nodes.length * rowHeight + 4;
  const every = Math.max(1, Math.ceil(14 / cell));
  const parts: string[] = [];
  for (const [column, scan] of model.scans.entries()) {
    if (column % every !== 0 && column !== scans - 1) continue;
    const x = labelWidth + column * cell + cell / 2;
    parts.push(
      `<text class="axis" x="${n(x)}" y="${top - 6}" transform="rotate(-60 ${n(x)} ${top - 6})">` +
        `${escapeHtml(scanTime(scan.requestedAt))}</text>`,
    );
  }
  for (const [row, node] of model.nodes.entries()) {
    const y = top + row * rowHeight;
    parts.push(`<g class="hm-row" data-rank="${row + 1}">`);
    parts.push(
      `<rect x="2" y="${y + 3}" width="8" height="8" fill="${STATUS_COLOURS[node.latest]}"><title>latest: ${node.latest}</title></rect>`,
      `<text class="id" x="14" y="${y + 11}">${untrusted(node.nodeId, 64)}<title>${untrusted(node.host ?? 'no host name', 255)}</title></text>`,
    );
    for (const [column, entry] of node.cells.entries()) {
      const x = labelWidth + column * cell;
      const scan = model.scans[column];
      const tip = `<title>${untrusted(node.nodeId, 64)} at ${escapeHtml(utc(scan?.requestedAt))} UTC: ${cellText(entry)}</title>`;
      const size = `x="${n(x + 0.5)}" y="${y + 1}" width="${n(cell - 1)}" height="${rowHeight - 2}"`;
      if (entry === null) {
        parts.push(
          `<rect class="absent" ${size} fill="none" stroke="${ABSENT_STROKE}" stroke-dasharray="2 2">${tip}</rect>`,
        );
      } else if (entry.status === 'ERROR') {
        parts.push(`<rect class="error" ${size} fill="${STATUS_COLOURS.ERROR}">${tip}</rect>`);
      } else {
        const fill = entry.worstUnusableIndex === null ? UNMEASURED_FILL : indexColour(entry.worstUnusableIndex);
        parts.push(`<rect class="cell" ${size} fill="${fill}">${tip}</rect>`);
      }
    }
    parts.push('</g>');
  }
  const title = `Heatmap: worst unusable free space index of the ${plural(model.nodes.length, 'worst node')} in ${plural(scans, 'scan')}`;
  const desc =
    'One row per node, worst first; one column per scan, oldest on the left. Yellow is 0.000, dark red 1.000; ' +
    'purple is ERROR (no verdict); a dashed outline means the scan has no record of the node.';
  return svg('heatmap', width, height, escapeHtml(title), escapeHtml(desc), parts.join(''));
}

function heatmapLegend(): string {
  const swatch = (fill: string, label: string, extra = '') =>
    `<span class="key"><svg width="14" height="14" aria-hidden="true"><rect x="0.5" y="0.5" width="13" height="13" fill="${fill}"${extra}/></svg>${escapeHtml(label)}</span>`;
  return (
    '<p class="legend">' +
    [0, 250, 500, 750, 1000].map((value) => swatch(indexColour(value), ratio(value))).join('') +
    swatch(STATUS_COLOURS.ERROR, 'ERROR (no verdict)') +
    swatch('none', 'not in the scan', ` stroke="${ABSENT_STROKE}" stroke-dasharray="2 2"`) +
    swatch(UNMEASURED_FILL, 'no watched index') +
    '</p>'
  );
}

/** Node counts for an axis: 0, then whole round steps (1, 2, 5, 10, 20, …) up to at least `max`. */
function ticks(max: number): number[] {
  if (max <= 1) return [0, 1];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough);
  const out: number[] = [];
  for (let value = 0; value < max + step; value += step) out.push(value);
  return out;
}

const PROBLEMS: readonly NodeStatus[] = ['CRITICAL', 'ERROR', 'WARN'];

function severityChart(model: FleetModel): string {
  const scans = model.scans.length;
  const step = Math.min(40, Math.max(6, 760 / Math.max(1, scans)));
  const left = 58;
  const top = 12;
  const plot = 200;
  const width = left + scans * step + 12;
  const height = top + plot + 62;
  const scale = ticks(Math.max(1, ...model.scans.map((scan) => scan.nodes - scan.counts.OK)));
  const max = scale.at(-1) ?? 1;
  const y = (value: number) => top + plot - (value / max) * plot;
  const parts: string[] = [];
  for (const tick of scale) {
    parts.push(
      `<line class="grid" x1="${left}" x2="${n(width - 8)}" y1="${n(y(tick))}" y2="${n(y(tick))}"/>`,
      `<text class="axis" x="${left - 6}" y="${n(y(tick) + 4)}" text-anchor="end">${tick}</text>`,
    );
  }
  const scanTime = scanLabeller(model);
  parts.push(
    `<text class="axis" x="12" y=""${top + plot / 2}" transform="rotate(-90 12 ${top + plot / 2})" text-anchor="middle">nodes not OK</text>`,
  );
  const every = Math.max(1, Math.ceil(48 / step));
  for (const [column, scan] of model.scans.entries()) {
    const x = left + column * step;
    let base = 0;
    const counts = PROBLEMS.map((status) => `${scan.counts[status]} ${status}`).join(', ');
    const tip = `${utc(scan.requestedAt)} UTC: ${scan.nodes} nodes — ${scan.counts.OK} OK, ${counts}`;
    parts.push(`<g class="scan-bar"><title>${escapeHtml(tip)}</title>`);
    for (const status of PROBLEMS) {
      const count = scan.counts[status];
      if (count === 0) continue;
      parts.push(
        `<rect class="bar ${status.toLowerCase()}" x="${n(x + 1)}" y="${n(y(base + count))}" width="${n(step - 2)}" ` +
          `height="${n(y(base) - y(base + count))}" fill="${STATUS_COLOURS[status]}"/>`,
      );
      base += count;
    }
    parts.push('</g>');
    if (column % every === 0 || column === scans - 1) {
      const cx = x + step / 2;
      parts.push(
        `<text class="axis" x="${n(cx)}" y="${top + plot + 14}" transform="rotate(-35 ${n(cx)} ${top + plot + 14})" text-anchor="end">${escapeHtml(scanTime(scan.requestedAt))}</text>`,
      );
    }
  }
  const title = `Nodes not OK per scan, by severity, over ${plural(scans, 'scan')}`;
  const desc = 'Stacked bars, one per scan, oldest on the left: CRITICAL (red), ERROR (purple), WARN (amber).';
  return svg('severity', width, height, escapeHtml(title), escapeHtml(desc), parts.join(''));
}

function severityTable(model: FleetModel): string {
  const rows = [...model.scans]
    .reverse()
    .map(
      (scan) =>
        `<tr><td>${escapeHtml(utc(scan.requestedAt))}</td><td>${escapeHtml(scan.status)}</td><td class="num">${scan.nodes}</td>` +
        (['OK', 'WARN', 'CRITICAL', 'ERROR'] as const)
          .map((status) => `<td class="num">${scan.counts[status]}</td>`)
          .join('') +
        '</tr>',
    );
  return (
    '<details><summary>The counts, newest scan first</summary><table id="severity-table"><thead><tr>' +
    '<th>Scan (UTC)</th><th>Status</th><th>Nodes</th><th>OK</th><th>WARN</th><th>CRITICAL</th><th>ERROR</th>' +
    `</tr></thead><tbody>${rows.join('')}</tbody></table></details>`
  );
}

function outcomeChart(counts: Readonly<Record<OutcomeKey, number>>): string {
  const left = 84;
  const barHeight = 18;
  const span = 320;
  const max = Math.max(1, ...OUTCOME_KEYS.map((key) => counts[key]));
  const parts = OUTCOME_KEYS.map((key, row) => {
    const y = 4 + row * (barHeight + 6);
    const length = (counts[key] / max) * span;
    return (
      `<g class="outcome"><text class="axis" x="${left - 8}" y="${y + 13}" text-anchor="end">${key}</text>` +
      `<rect x="${left}" y="${y}" width="${n(Math.max(length, counts[key] > 0 ? 2 : 0))}" height="${barHeight}" fill="${OUTCOME_COLOURS[key]}"/>` +
      `<text class="axis" x="${n(left + length + 6)}" y="${y + 13}">${counts[key]}</text></g>`
    );
  });
  const total = OUTCOME_KEYS.reduce((sum, key) => sum + counts[key], 0);
  const title = `Remediation outcomes: ${plural(total, 'remediation')} by outcome`;
  const desc = OUTCOME_KEYS.map((key) => `${key} ${counts[key]}`).join(', ');
  return svg(
    'outcomes',
    left + span + 48,
    4 + OUTCOME_KEYS.length * (barHeight + 6),
    escapeHtml(title),
    escapeHtml(desc),
    parts.join(''),
  );
}

function remediationTable(items: readonly RemediationRecord[], rows: number): string {
  if (items.length === 0) return '<p>No remediations in these scans.</p>';
  const body = items.slice(0, rows).map((record) => {
    const outcome = outcomeOf(record);
    const why = record.detail ?? record.error ?? '';
    return (
      `<tr><td>${escapeHtml(utc(record.requestedAt))}</td><td class="mono">${untrusted(record.nodeId, 64)}</td>` +
      `<td>${untrusted(record.host, 255)}</td><td>${escapeHtml(record.action)}${record.numaNode === null ? '' : ` (node ${record.numaNode})`}</td>` +
      `<td>${record.dryRun ? 'yes' : 'no'}</td>` +
      `<td><span class="dot" style="background:${OUTCOME_COLOURS[outcome]}"></span>${outcome}${record.blocked === true ? ', node blocked' : ''}</td>` +
      `<td>${untrusted(measuredEffect(record), 160)}</td><td>${untrusted(why, 200)}</td></tr>`
    );
  });
  const more = items.length > rows ? `<p class="note">The ${rows} newest of ${items.length} shown.</p>` : '';
  return (
    '<table id="remediations"><thead><tr><th>Requested (UTC)</th><th>Node</th><th>Host</th><th>Action</th>' +
    '<th>Dry run</th><th>Outcome</th><th>Worst watched index before → after</th><th>Why</th></tr></thead>' +
    `<tbody>${body.join('')}</tbody></table>${more}`
  );
}

function trend(node: FleetNode, model: FleetModel, index: number): string {
  const width = 340;
  const height = 150;
  const left = 34;
  const right = 10;
  const top = 10;
  const plot = 110;
  const scans = model.scans.length;
  const x = (column: number) =>
    scans <= 1 ? left + (width - left - right) / 2 : left + (column / (scans - 1)) * (width - left - right);
  const y = (value: number) => top + plot - (Math.min(Math.max(value, 0), 1000) / 1000) * plot;
  const parts: string[] = [];
  for (const tick of [0, 250, 500, 750, 1000]) {
    parts.push(
      `<line class="grid" x1="${left}" x2="${width - right}" y1="${n(y(tick))}" y2="${n(y(tick))}"/>`,
      `<text class="axis" x="${left - 4}" y="${n(y(tick) + 4)}" text-anchor="end">${ratio(tick).replace(/0+$/, '').replace(/\.$/, '')}</text>`,
    );
  }
  let segment: string[] = [];
  const flush = () => {
    if (segment.length > 1) parts.push(`<polyline class="line" points="${segment.join(' ')}"/>`);
    segment = [];
  };
  for (const [column, cell] of node.cells.entries()) {
    const cx = x(column);
    if (cell === null || cell.worstUnusableIndex === null || cell.status === 'ERROR') {
      flush();
      if (cell?.status === 'ERROR') {
        const cy = top + plot + 12;
        parts.push(
          `<path class="error-mark" d="M${n(cx - 3)} ${n(cy - 3)}L${n(cx + 3)} ${n(cy + 3)}M${n(cx - 3)} ${n(cy + 3)}L${n(cx + 3)} ${n(cy - 3)}" stroke="${STATUS_COLOURS.ERROR}"/>`,
        );
      }
      continue;
    }
    const cy = y(cell.worstUnusableIndex);
    segment.push(`${n(cx)},${n(cy)}`);
    parts.push(
      `<circle cx="${n(cx)}" cy="${n(cy)}" r="2.6" fill="${STATUS_COLOURS[cell.status]}"><title>${escapeHtml(utc(model.scans[column]?.requestedAt))} UTC: ${cellText(cell)}</title></circle>`,
    );
  }
  flush();
  const first = model.scans[0];
  const last = model.scans.at(-1);
  if (first !== undefined && last !== undefined) {
    parts.push(
      `<text class="axis" x="${left}" y="${height - 4}">${escapeHtml(utc(first.requestedAt))}</text>`,
      `<text class="axis" x="${width - right}" y="${height - 4}" text-anchor="end">${escapeHtml(utc(last.requestedAt))}</text>`,
    );
  }
  const desc = `Latest ${node.latest}, worst ${ratio(node.worst)} in the window; crosses below the axis mark ERROR scans.`;
  const caption =
    `<figcaption><span class="mono">${untrusted(node.nodeId, 64)}</span> ` +
    `<span class="host">${untrusted(node.host ?? '', 255)}</span><br>` +
    `<span class="dot" style="background:${STATUS_COLOURS[node.latest]}"></span>${node.latest} now, worst ${ratio(node.worst)}, ` +
    `not OK in ${node.problems} of ${plural(scans, 'scan')}</figcaption>`;
  const title = `Trend of node ${untrusted(node.nodeId, 64)}: worst unusable index per scan`;
  return `<figure class="trend">${svg(`trend-${index + 1}`, width, height, title, escapeHtml(desc), parts.join(''))}${caption}</figure>`;
}

const CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1240px; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p { margin: 6px 0; }
.note, .lede { color: var(--muted); }
.mono { white-space: nowrap; }
.mono, svg text.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
svg text { font-size: 11px; fill: var(--ink); }
svg text.id { font-size: 12px; }
svg text.axis { fill: var(--muted); }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
svg .line { fill: none; stroke: #57606a; stroke-width: 1.5; }
svg .error-mark { stroke-width: 1.8; }
.scroll { overflow-x: auto; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.tile b { display: block; font-size: 22px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; color: var(--muted); font-size: 12px; }
.key { display: inline-flex; align-items: center; gap: 5px; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 5px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.trends { display: grid; grid-template-columns: repeat(auto-fill, minmax(350px, 1fr)); gap: 18px; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); }
figcaption .mono { color: var(--ink); }
details { margin: 8px 0; }
`;

/** The document's policy: its own inline styles, nothing else — no script, no fetch of any kind. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'";

export function renderHtmlReport(model: FleetModel, options: HtmlOptions): string {
  const source = untrusted(options.source, 300);
  const oldest = model.scans[0];
  const newest = model.scans.at(-1);
  const body: string[] = ['<h1>fleetscan report</h1>'];
  if (oldest === undefined || newest === undefined) {
    body.push(`<p class="lede">No scans in ${source} yet.</p>`);
  } else {
    body.push(
      `<p class="lede">${plural(model.scans.length, 'scan')} from ${escapeHtml(utc(oldest.requestedAt))} to ${escapeHtml(utc(newest.requestedAt))} UTC ` +
        `in ${source}; ${plural(model.totalNodes, 'node')} seen. Generated ${escapeHtml(utc(options.generatedAt))} UTC.</p>`,
    );
    const tiles = (['CRITICAL', 'ERROR', 'WARN', 'OK'] as const).map(
      (status) =>
        `<div class="tile"><b style="color:${STATUS_COLOURS[status]}">${newest.counts[status]}</b>${status} in the newest scan</div>`,
    );
    body.push(
      `<div class="tiles">${tiles.join('')}<div class="tile"><b>${newest.nodes}</b>nodes in the newest scan</div></div>`,
    );
    if (model.skippedScans > 0) {
      body.push(
        `<p class="note">${plural(model.skippedScans, 'older scan')} left out: more records than one report reads.</p>`,
      );
    }

    body.push('<h2 id="fleet">Fleet heatmap</h2>');
    body.push(
      `<p>The worst unusable free space index of the ${plural(model.nodes.length, 'worst node')} of ${model.totalNodes}, ` +
        'ranked by their latest status (CRITICAL, ERROR, WARN, OK), then their worst index in these scans. ' +
        'Hover a cell for its value.</p>',
    );
    body.push(heatmapLegend(), `<div class="scroll">${heatmap(model)}</div>`);

    body.push('<h2 id="severity-over-time">Severity counts over time</h2>');
    body.push(`<div class="scroll">${severityChart(model)}</div>`);
    body.push(
      `<p class="legend">${PROBLEMS.map((status) => `<span class="key"><span class="dot" style="background:${STATUS_COLOURS[status]}"></span>${status}</span>`).join('')}</p>`,
      severityTable(model),
    );

    body.push('<h2 id="remediation-outcomes">Remediation outcomes</h2>');
    const remediations = model.remediations;
    if (remediations === null) {
      body.push('<p>Remediations were not read.</p>');
    } else {
      body.push(outcomeChart(remediations.counts));
      body.push(remediationTable(remediations.items, options.remediationRows ?? REMEDIATION_ROWS));
      if (remediations.more) body.push('<p class="note">More remediations in these scans than were read.</p>');
    }

    const trends = model.nodes.slice(0, options.trendNodes ?? TREND_NODES);
    body.push('<h2 id="trends">Trends of the worst nodes</h2>');
    body.push(
      `<p>The worst unusable index of the ${plural(trends.length, 'worst node')}, scan by scan; dots coloured by status, ` +
        'a gap where the scan had no record or no verdict.</p>',
    );
    body.push(`<div class="trends">${trends.map((node, index) => trend(node, model, index)).join('')}</div>`);
    body.push(
      `<p class="note">Read ${model.reads.records} node records in ${model.reads.pages} pages. ` +
        'Text that came from nodes is shown as text, stripped of control characters.</p>',
    );
  }
  const title =
    newest === undefined
      ? 'fleetscan report'
      : `fleetscan report: ${plural(model.totalNodes, 'node')}, ${plural(model.scans.length, 'scan')} to ${utc(newest.requestedAt)} UTC`;
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><style>${CSS}</style></head>\n<body>${body.join('\n')}</body></html>\n`
  );
}
