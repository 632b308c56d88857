/**
 * `fleetscan report --html` opened in a real browser: Debian's headless Chromium, driven by playwright-core (which
 * downloads no browser). The history is the demo's — the real runtime on a simulated fleet — plus one replayed node
 * whose gather report carries a hostile host name. Not part of `npm test` (it needs Chromium): `npm run
 * test:system`, which `.ci/run` runs after installing `chromium` from Debian.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetNode, FleetScan } from '../../lib/cli/fleet-data.ts';
import { TREND_NODES } from '../../lib/cli/picture-limits.ts';
import type { RemediationJson } from '../../lib/cli/views.ts';
import { fleetscan, ROOT } from '../cli/run-cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE_HOST = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';
const HOSTILE_NODE = 'i-0badbadbadbadbad1';
const SCANS = 6;
const NODES = 30;
const SCREENSHOT = path.join(ROOT, '.tmp', 'report-browser.png');

/** A fragmented node's gather report (no order-6 block left) under a host name meant to become markup. */
const HOSTILE_REPORT = [
  'fleetscan-gather 1',
  `host ${HOSTILE_HOST}`,
  'kernel 6.1.0-18-amd64',
  'pagesize 4096',
  'meminfo 65842624 41237812',
  'allocfail 0 -',
  'zone 0 Normal 1163 1101 932 222 10 0 0 0 0 0 0',
  'end',
  '',
].join('\n');

let work: string;
let file: string;
let browser: Browser;
let page: Page;
let model: { scans: FleetScan[]; nodes: FleetNode[]; totalNodes: number };
let remediations: RemediationJson[];
const requests: string[] = [];
const dialogs: string[] = [];
const errors: string[] = [];

async function cli(args: string[]): Promise<string> {
  const run = await fleetscan(args);
  if (run.code !== 0) throw new Error(`fleetscan ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  }
  await mkdir(path.join(ROOT, '.tmp'), { recursive: true });
  work = await mkdtemp(path.join(ROOT, '.tmp', 'browser-'));
  const replay = path.join(work, 'replay');
  await mkdir(replay);
  await writeFile(path.join(replay, `${HOSTILE_NODE}.txt`), HOSTILE_REPORT);
  const data = ['--local', '--data-dir', path.join(work, 'data')];
  const demo = ['--nodes', String(NODES), '--scans', String(SCANS), '--seed', '3', '--replay', replay, '--json'];
  await cli(['demo', ...demo, '--data-dir', path.join(work, 'data')]);
  file = path.join(work, 'report.html');
  await cli(['report', '--html', file, ...data]);
  model = JSON.parse(await cli(['fleet', '--json', '--limit', '1000', ...data]));
  remediations = JSON.parse(await cli(['remediations', '--json', '--limit', '1000', ...data]));

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (request) => requests.push(request.url()));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('Browser: the HTML report in headless Chromium', () => {
  it('loads the file and requests nothing else', async () => {
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(errors).toEqual([]);
    expect(await page.title()).toMatch(
      new RegExp(
        `^fleetscan report: ${model.totalNodes} nodes, ${SCANS} scans to \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`,
      ),
    );
  });

  it('renders every picture at a visible size', async () => {
    const pictures = page.locator('svg[role="img"]');
    // The heatmap, the severity chart, the outcomes chart and a trend per worst node.
    expect(await pictures.count()).toBe(3 + TREND_NODES);
    for (const picture of await pictures.all()) {
      const box = await picture.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(100);
      expect(box?.height ?? 0).toBeGreaterThan(50);
    }
  });

  it('draws a heatmap row per node, worst first, and a cell per scan', async () => {
    const rows = page.locator('#heatmap g.hm-row');
    expect(model.totalNodes).toBe(NODES + 1);
    expect(await rows.count()).toBe(model.totalNodes);
    const ids = await page
      .locator('#heatmap g.hm-row text.id')
      .evaluateAll((nodes) => nodes.map((node) => node.firstChild?.textContent ?? ''));
    expect(ids).toEqual(model.nodes.map((node) => node.nodeId));
    for (const row of await rows.all())
      expect(await row.locator('rect.cell, rect.absent, rect.error').count()).toBe(SCANS);
    const box = await page.locator('#heatmap g.hm-row').first().locator('rect.cell, rect.error').first().boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(4);
  });

  it('shows the severity counts of every scan, as bars and as numbers', async () => {
    expect(await page.locator('#severity g.scan-bar').count()).toBe(SCANS);
    const problems = model.scans.some((scan) => scan.counts.CRITICAL > 0);
    expect(problems).toBe(true);
    expect(await page.locator('#severity rect.bar.critical').count()).toBe(
      model.scans.filter((scan) => scan.counts.CRITICAL > 0).length,
    );
    const newest = await page.locator('#severity-table tbody tr').first().locator('td').allTextContents();
    const last = model.scans.at(-1);
    expect(newest.slice(2)).toEqual(
      [last?.nodes, last?.counts.OK, last?.counts.WARN, last?.counts.CRITICAL, last?.counts.ERROR].map(String),
    );
  });

  it('lists the remediations with their outcomes', async () => {
    expect(remediations.length).toBeGreaterThan(0);
    expect(await page.locator('#remediations tbody tr').count()).toBe(remediations.length);
    const outcomes = await page.locator('#outcomes g.outcome').allTextContents();
    const improved = remediations.filter((entry) => entry.effect === 'improved').length;
    expect(outcomes).toContain(`improved${improved}`);
  });

  it('draws the worst nodes’ trend lines', async () => {
    const captions = await page.locator('figure.trend figcaption .mono').allTextContents();
    expect(captions).toEqual(model.nodes.slice(0, TREND_NODES).map((node) => node.nodeId));
    expect(await page.locator('figure.trend polyline').count()).toBeGreaterThan(0);
  });

  it('shows the hostile host name as text: no element, no script, no dialog', async () => {
    const hostile = model.nodes.find((node) => node.nodeId === HOSTILE_NODE);
    expect(hostile?.host).toBe(HOSTILE_HOST);
    const found = {
      text: (await page.locator('body').textContent())?.includes(HOSTILE_HOST) === true,
      scripts: await page.locator('script').count(),
      images: await page.locator('img, image').count(),
      handlers: await page
        .locator('*')
        .evaluateAll(
          (elements) =>
            elements.filter((element) => element.getAttributeNames().some((name: string) => name.startsWith('on')))
              .length,
        ),
    };
    expect(found).toEqual({ text: true, scripts: 0, images: 0, handlers: 0 });
    expect(dialogs).toEqual([]);
  });

  it('takes a screenshot of the whole page for a person to look at', async () => {
    await rm(SCREENSHOT, { force: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const height = await page.locator('html').evaluate((html) => html.scrollHeight);
    // PNG: the IHDR chunk's width and height, big-endian, at bytes 16 and 20.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, height]);
    expect(height).toBeGreaterThan(900);
  });
});
