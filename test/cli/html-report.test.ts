import { describe, expect, it } from 'vitest';
import { type FleetModel, readFleet } from '../../lib/cli/fleet-data.ts';
import { REMEDIATION_ROWS, TREND_NODES } from '../../lib/cli/picture-limits.ts';
import { escapeHtml, indexColour, renderHtmlReport, untrusted } from '../../lib/cli/render/html-report.ts';
import type { RemediationRecord } from '../../lib/runtime/ports.ts';
import { FakeReader, gridHistory, nodeRecord, remediation, scanRecord } from './fleet-fixtures.ts';

const SCRIPT_HOST = '<script>alert(1)</script>';
const ATTRIBUTE_HOST = '"><img src=x onerror=alert(1)>';
const URL_TEXT = 'fetch https://evil.example/x.js and http://evil.example/y';

const OPTIONS = { source: 'table fleetscan-history', generatedAt: '2025-06-01T12:00:00.000Z' };

/** Ten nodes over four scans, one of them hostile in every field a node fills. */
async function hostileModel(extraRemediations: RemediationRecord[] = []): Promise<FleetModel> {
  const grid: Record<string, string[]> = {
    'i-0aaaaaaaaaaaaa01': ['O100', 'W930', 'C1000', 'C990'],
    'i-0aaaaaaaaaaaaa02': ['O300', 'E', 'E', 'E'],
    'i-0aaaaaaaaaaaaa03': ['O0', '-', 'O249', 'O250'],
  };
  for (let i = 4; i <= 10; i += 1)
    grid[`i-0aaaaaaaaaaaaa${String(i).padStart(2, '0')}`] = ['O100', 'O200', 'O300', 'O400'];
  const history = gridHistory(grid, true);
  const scans = history.scans.map((entry, column) => ({
    scan: entry.scan,
    records: [
      ...entry.records,
      { ...nodeRecord(entry.scan, 'i-0bad<b>x</b>', column === 3 ? 'ERROR' : 'CRITICAL', 1000, SCRIPT_HOST) },
      { ...nodeRecord(entry.scan, 'i-0bad00000000002', 'WARN', 950, ATTRIBUTE_HOST) },
      { ...nodeRecord(entry.scan, 'i-0bad00000000003', 'WARN', 940, URL_TEXT) },
    ],
  }));
  const last = scans[3]?.scan;
  const hostileRemediation: RemediationRecord[] =
    last === undefined
      ? []
      : [
          {
            ...remediation(last, 'i-0bad<b>x</b>', 'failed'),
            host: ATTRIBUTE_HOST,
            error: SCRIPT_HOST,
            detail: URL_TEXT,
          },
        ];
  const reader = new FakeReader({
    scans,
    remediations: [...(history.remediations ?? []), ...hostileRemediation, ...extraRemediations],
  });
  return readFleet(reader, { scans: 24, limit: 100, remediations: true });
}

const count = (html: string, pattern: RegExp) => html.match(pattern)?.length ?? 0;

describe('HTML report: renderHtmlReport', () => {
  it('is one self-contained document: a title, inline SVG with titles, no script and no URL', async () => {
    const html = renderHtmlReport(await hostileModel(), OPTIONS);

    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toMatch(/<title>fleetscan report: 13 nodes, 4 scans to 2025-06-01 10:45:00 UTC<\/title>/);
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/,
    );
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<(script|img|image|link|iframe|object|embed|use|foreignObject)\b/i);
    expect(html).not.toMatch(/<[^>]*\s(src|href|xlink:href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    const svgs =
      html.match(/<svg id="[^"]+" role="img" aria-labelledby="[^"]+"[^>]*><title id="[^"]+">[^<]+<\/title>/g) ?? [];
    expect(svgs.length).toBe(3 + TREND_NODES);
  });

  it('shows hostile node text only as escaped text, never as markup', async () => {
    const html = renderHtmlReport(await hostileModel(), OPTIONS);

    expect(html).not.toContain(SCRIPT_HOST);
    expect(html).not.toContain(ATTRIBUTE_HOST);
    expect(html).not.toContain('<b>x</b>');
    expect(html).not.toMatch(/<[^>]*\sonerror\s*=/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('i-0bad&lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('fetch https&#58;//evil.example/x.js');
  });

  it('draws a heatmap row per node and a cell per scan, absent and ERROR cells apart', async () => {
    const model = await hostileModel();
    const html = renderHtmlReport(model, OPTIONS);

    expect(count(html, /<g class="hm-row"/g)).toBe(model.nodes.length);
    const cells = model.nodes.flatMap((node) => node.cells);
    expect(count(html, /<rect class="(cell|absent|error)"/g)).toBe(cells.length);
    expect(count(html, /<rect class="absent"/g)).toBe(cells.filter((cell) => cell === null).length);
    expect(count(html, /<rect class="error"/g)).toBe(cells.filter((cell) => cell?.status === 'ERROR').length);
    expect(count(html, /<rect class="absent"/g)).toBe(1);
    expect(count(html, /<rect class="error"/g)).toBe(4);
  });

  it('stacks each scan’s problem nodes by severity and lists every count', async () => {
    const model = await hostileModel();
    const html = renderHtmlReport(model, OPTIONS);

    expect(count(html, /<g class="scan-bar">/g)).toBe(model.scans.length);
    const critical = model.scans.filter((scan) => scan.counts.CRITICAL > 0).length;
    expect(count(html, /<rect class="bar critical"/g)).toBe(critical);
    const table = html.slice(html.indexOf('<table id="severity-table">'));
    const newest = model.scans.at(-1);
    expect(table).toContain(
      `<td class="num">${newest?.nodes}</td><td class="num">${newest?.counts.OK}</td><td class="num">${newest?.counts.WARN}</td>` +
        `<td class="num">${newest?.counts.CRITICAL}</td><td class="num">${newest?.counts.ERROR}</td>`,
    );
  });

  it('counts remediation outcomes and lists the newest in a table, at most REMEDIATION_ROWS', async () => {
    const model = await hostileModel();
    const html = renderHtmlReport(model, OPTIONS);

    const outcomes = html.slice(
      html.indexOf('<svg id="outcomes"'),
      html.indexOf('</svg>', html.indexOf('<svg id="outcomes"')),
    );
    expect(outcomes).toContain('improved 1, no-effect 1, failed 1, skipped 0, deferred 0, dry-run 0, pending 1');
    const table = html.slice(
      html.indexOf('<table id="remediations">'),
      html.indexOf('</table>', html.indexOf('<table id="remediations">')),
    );
    expect(count(table, /<tr>/g)).toBe(1 + 4);

    // The window's first scan, under other ids: remediations the window holds.
    const many = Array.from({ length: REMEDIATION_ROWS + 5 }, (_, i) =>
      remediation({ ...scanRecord(0, 1), scanId: `5ca0ffee-${i}` }, `i-0many${i}`, 'improved'),
    );
    const crowded = renderHtmlReport(await hostileModel(many), OPTIONS);
    const crowdedTable = crowded.slice(crowded.indexOf('<table id="remediations">'));
    expect(count(crowdedTable.slice(0, crowdedTable.indexOf('</table>')), /<tr>/g)).toBe(1 + REMEDIATION_ROWS);
    expect(crowded).toContain(`The ${REMEDIATION_ROWS} newest of ${REMEDIATION_ROWS + 9} shown.`);
  });

  it('draws trend lines of the worst nodes, broken where a scan had no verdict', async () => {
    const model = await hostileModel();
    const html = renderHtmlReport(model, OPTIONS);

    expect(count(html, /<figure class="trend">/g)).toBe(TREND_NODES);
    const trend = (rank: number) => {
      const from = html.indexOf(`<svg id="trend-${rank}"`);
      return html.slice(from, html.indexOf('</svg>', from));
    };
    // The second worst: CRITICAL in the first three scans, ERROR in the last — one line of three points and a cross.
    expect(model.nodes[1]?.nodeId).toBe('i-0bad<b>x</b>');
    expect(count(trend(2), /<polyline/g)).toBe(1);
    expect(count(trend(2), /<circle/g)).toBe(3);
    expect(count(trend(2), /class="error-mark"/g)).toBe(1);
    // The third: OK once, then ERROR: a point, no line, three crosses.
    expect(model.nodes[2]?.cells.map((cell) => cell?.status)).toEqual(['OK', 'ERROR', 'ERROR', 'ERROR']);
    expect(count(trend(3), /<polyline/g)).toBe(0);
    expect(count(trend(3), /<circle/g)).toBe(1);
    expect(count(trend(3), /class="error-mark"/g)).toBe(3);
  });

  it('says there is nothing to show for an empty history, still as a whole document', async () => {
    const model = await readFleet(new FakeReader({ scans: [] }), { scans: 24, limit: 100, remediations: true });
    const html = renderHtmlReport(model, { ...OPTIONS, source: 'the local demo data in .fleetscan' });
    expect(html).toContain('No scans in the local demo data in .fleetscan yet.');
    expect(html).not.toContain('<svg');
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });
});

describe('HTML report: helpers', () => {
  it('escapes the five characters HTML gives meaning to', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('sanitizes untrusted text before escaping it, and writes its colons as references', () => {
    expect(untrusted('a\u001b[2J<b>\u0007: x', 100)).toBe('a&lt;b&gt;&#58; x');
    expect(untrusted(null, 10)).toBe('');
  });

  it('colours the index from pale yellow at 0.000 to dark red at 1.000, clamped', () => {
    expect(indexColour(0)).toBe('#ffffcc');
    expect(indexColour(1000)).toBe('#800026');
    expect(indexColour(-1000)).toBe('#ffffcc');
    expect(indexColour(500)).toBe('#fd8d3c');
    expect(indexColour(625)).toBe('#f0542c');
  });
});
