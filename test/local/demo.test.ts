import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCAN_INTERVAL_MS } from '../../lib/local/clock.ts';
import { DemoSetupError, runDemo } from '../../lib/local/demo.ts';
import { SimulatedFleet } from '../../lib/local/fleet.ts';
import { NOTIFICATIONS_JSONL } from '../../lib/local/notifier.ts';
import { openLocalStore } from '../../lib/local/store.ts';

// Near the real time: the store hides items whose TTL (requestedAt + retention) has passed.
const HOUR = 3_600_000;
const NOW = new Date(Math.floor(Date.now() / HOUR) * HOUR + 7 * 60_000);
const created: string[] = [];
async function tmp(): Promise<string> {
  await mkdir(path.join(process.cwd(), '.tmp'), { recursive: true });
  const dir = await mkdtemp(path.join(process.cwd(), '.tmp', 'demo-engine-'));
  created.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of created) await rm(dir, { recursive: true, force: true });
});
// Node 0 is this machine; a synthetic stand-in keeps these runs identical on every machine.
const synthetic = async () => null;

describe('runDemo', () => {
  it('is the same demo for the same seed: scan ids, counts and remediations', async () => {
    const options = { nodes: 20, scans: 2, seed: 3, reset: false, now: NOW, readThisHost: synthetic };
    const a = await runDemo({ ...options, dataDir: await tmp() });
    const b = await runDemo({ ...options, dataDir: await tmp() });
    expect(b.scans).toEqual(a.scans);
    expect(a.scans.map((scan) => scan.nodes)).toEqual([20, 20]);
    expect(a.thisHost).toBeNull();
  });

  it('ends a new timeline on the current quarter hour, one schedule interval between scans', async () => {
    const result = await runDemo({
      dataDir: await tmp(),
      nodes: 5,
      scans: 3,
      seed: 1,
      reset: false,
      now: NOW,
      readThisHost: synthetic,
    });
    const times = result.scans.map((scan) => Date.parse(scan.requestedAt));
    expect(times[2]).toBe(NOW.getTime() - 7 * 60_000);
    expect(times[1]).toBe((times[2] ?? 0) - SCAN_INTERVAL_MS);
    expect(times[0]).toBe((times[1] ?? 0) - SCAN_INTERVAL_MS);
  });

  it('continues the saved fleet and its timeline in a later run, and refuses another fleet without --reset', async () => {
    const dataDir = await tmp();
    const first = await runDemo({
      dataDir,
      nodes: 12,
      scans: 2,
      seed: 5,
      reset: false,
      now: NOW,
      readThisHost: synthetic,
    });
    const second = await runDemo({ dataDir, scans: 1, reset: false, now: NOW, readThisHost: synthetic });
    expect(second.continued).toBe(true);
    expect(second.nodes).toBe(12);
    expect(second.seed).toBe(5);
    const last = first.scans[first.scans.length - 1];
    expect(Date.parse(second.scans[0]?.requestedAt ?? '')).toBe(Date.parse(last?.requestedAt ?? '') + SCAN_INTERVAL_MS);
    await expect(runDemo({ dataDir, seed: 6, scans: 1, reset: false, readThisHost: synthetic })).rejects.toThrow(
      DemoSetupError,
    );
    const local = await openLocalStore({ dataDir, create: false });
    try {
      const scans = await local.store.listScans({ limit: 10 });
      expect(scans.items.map((scan) => scan.scanId)).toEqual(
        [...first.scans, ...second.scans].map((scan) => scan.scanId).reverse(),
      );
    } finally {
      await local.close();
    }
  });

  it('diagnoses the fleet from its kernel signals: compaction is futile on the unmovable node, which is left alone', async () => {
    const dataDir = await tmp();
    const fleet = SimulatedFleet.create({ seed: 4, size: 10 });
    const unmovable = fleet.nodes.find((node) => node.profile === 'unmovable')?.instanceId ?? '';
    const result = await runDemo({
      dataDir,
      nodes: 10,
      scans: 10,
      seed: 4,
      reset: false,
      now: NOW,
      readThisHost: synthetic,
    });
    const local = await openLocalStore({ dataDir, create: false });
    try {
      const history = await local.store.nodeHistory(unmovable, { limit: 10 });
      const last = history.items[0];
      expect(last?.status).toBe('CRITICAL');
      expect(last?.findings).toContainEqual(expect.stringMatching(/^compaction-futile/));
      // The counters a verdict judges as rates are stored with each record, with the boot they belong to.
      expect(last?.counters?.compact_stall).toBeGreaterThan(0);
      expect(last?.bootId).toMatch(/^[0-9a-f]{8}$/);
      const remediated = result.scans.flatMap((scan) => scan.remediations.map((entry) => entry.nodeId));
      expect(remediated).not.toContain(unmovable);
      expect(remediated.length).toBeGreaterThan(0);
      const scans = await local.store.listScans({ limit: 10 });
      expect(
        scans.items.some((scan) => (scan.notRemediated?.['compaction cannot help (drain or reboot)'] ?? 0) > 0),
      ).toBe(true);
    } finally {
      await local.close();
    }
    // Every message is also a line of notifications.jsonl, with what it is about by node id.
    const lines = (await readFile(path.join(dataDir, NOTIFICATIONS_JSONL), 'utf8')).trim().split('\n');
    const messages = lines.map((line) => JSON.parse(line));
    expect(messages).toHaveLength(result.scans.reduce((sum, scan) => sum + scan.notifications, 0));
    expect(messages[0]).toMatchObject({ kind: 'change', kinds: ['change', 'digest'] });
    expect(messages.some((message) => message.newProblems.includes(unmovable))).toBe(true);
    for (const message of messages) {
      expect(Object.keys(message).sort()).toEqual([
        'at',
        'kind',
        'kinds',
        'newProblems',
        'ongoing',
        'recovered',
        'remediations',
        'scanId',
        'severity',
        'subject',
      ]);
      if (message.kind === 'change') expect(message.newProblems.length + message.recovered.length).toBeGreaterThan(0);
      if (message.kind === 'outcome') expect(message.remediations.length).toBeGreaterThan(0);
    }
  });

  it('starts over with reset', async () => {
    const dataDir = await tmp();
    await runDemo({ dataDir, nodes: 6, scans: 1, seed: 2, reset: false, now: NOW, readThisHost: synthetic });
    const fresh = await runDemo({
      dataDir,
      nodes: 8,
      scans: 1,
      seed: 9,
      reset: true,
      now: NOW,
      readThisHost: synthetic,
    });
    expect(fresh.continued).toBe(false);
    expect(fresh.scans[0]?.nodes).toBe(8);
    const fleet = SimulatedFleet.create({ seed: 9, size: 8 });
    const local = await openLocalStore({ dataDir, create: false });
    try {
      const nodes = await local.store.listScanNodes(fresh.scans[0]?.scanId ?? '', { limit: 100 });
      expect(nodes.items.map((node) => node.nodeId).sort()).toEqual(fleet.nodes.map((node) => node.instanceId).sort());
      expect((await local.store.listScans({ limit: 10 })).items).toHaveLength(1);
    } finally {
      await local.close();
    }
  });
});
