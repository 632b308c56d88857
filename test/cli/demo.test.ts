import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { NodeRecordJson, ScanJson } from '../../lib/cli/views.ts';
import { DEMO_CONFIG, type DemoResult } from '../../lib/local/demo.ts';
import { SimulatedFleet } from '../../lib/local/fleet.ts';
import { parseNotificationLog } from '../../lib/local/notifier.ts';
import { openLocalStore } from '../../lib/local/store.ts';
import type { NodeRecord, RemediationRecord } from '../../lib/runtime/ports.ts';
import { fleetscan, ROOT } from './run-cli.ts';

const NODES = 30;
const SCANS = 3;
const SEED = 7;

describe('CLI: fleetscan demo', () => {
  it('runs the pipeline on a simulated fleet, stores, remediates within budget, notifies, and --local reads it back', async () => {
    // Prepare
    const dataDir = path.join('.tmp', `demo-cli-${process.pid}-${Date.now()}`);
    onTestFinished(() => rm(path.join(ROOT, dataDir), { recursive: true, force: true }));
    const fleet = SimulatedFleet.create({ seed: SEED, size: NODES });
    const args = ['--nodes', String(NODES), '--scans', String(SCANS), '--seed', String(SEED), '--data-dir', dataDir];

    // Act
    const demo = await fleetscan(['demo', ...args, '--json']);

    // Assess: what the run says
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stderr).toBe('');
    const result = JSON.parse(demo.stdout) as DemoResult;
    expect(result.scans).toHaveLength(SCANS);
    expect(result.nodes).toBe(NODES);

    // Assess: what was stored, read with the production store
    const local = await openLocalStore({ dataDir: path.join(ROOT, dataDir), create: false });
    const records = new Map<string, readonly NodeRecord[]>();
    const remediations: RemediationRecord[] = [];
    try {
      const scans = (await local.store.listScans({ limit: 10 })).items;
      expect(scans.map((scan) => scan.scanId)).toEqual(result.scans.map((scan) => scan.scanId).reverse());
      for (const scan of scans) {
        expect(scan.status).toBe('COMPLETED');
        const nodes = (await local.store.listScanNodes(scan.scanId, { limit: 100 })).items;
        records.set(scan.scanId, nodes);
        remediations.push(...(await local.store.remediations.listScanRemediations(scan.scanId)));
      }
    } finally {
      await local.close();
    }
    const ids = fleet.nodes.map((node) => node.instanceId).sort();
    for (const nodes of records.values()) expect(nodes.map((node) => node.nodeId).sort()).toEqual(ids);
    const unreachable = fleet.nodes.filter((node) => node.profile === 'unreachable').map((node) => node.instanceId);
    const garbage = fleet.nodes.filter((node) => node.profile === 'garbage').map((node) => node.instanceId);
    for (const nodes of records.values()) {
      const errors = nodes.filter((node) => node.status === 'ERROR').map((node) => node.nodeId);
      expect(errors.sort()).toEqual([...unreachable, ...garbage].sort());
      for (const node of nodes.filter((entry) => entry.status === 'ERROR')) expect(node.error).toBeTruthy();
    }
    const large = fleet.nodes.find((node) => node.profile === 'large')?.instanceId;
    for (const nodes of records.values()) expect(nodes.find((node) => node.nodeId === large)?.status).not.toBe('ERROR');

    // Assess: remediation rationed — the budget per scan, no node twice within the cooldown, never an opted-out node
    const optedOut = new Set(
      fleet.nodes.filter((node) => node.index === 0 || node.index % 10 === 5).map((node) => node.instanceId),
    );
    expect(remediations.length).toBeGreaterThan(0);
    for (const scan of result.scans) {
      const own = remediations.filter((record) => record.scanId === scan.scanId);
      expect(own.length).toBeLessThanOrEqual(DEMO_CONFIG.remediation.maxNodesPerScan);
      for (const record of own) {
        const judged = records.get(scan.scanId)?.find((node) => node.nodeId === record.nodeId);
        expect(judged?.status).toBe('CRITICAL');
        expect(judged?.cause).toBe('fragmentation');
      }
    }
    const perNode = new Map<string, number[]>();
    for (const record of remediations) {
      expect(optedOut.has(record.nodeId)).toBe(false);
      expect(record.dryRun).toBe(false);
      expect(record.status).toBe('COMPLETED');
      perNode.set(record.nodeId, [...(perNode.get(record.nodeId) ?? []), Date.parse(record.requestedAt)]);
    }
    for (const times of perNode.values()) {
      const sorted = [...times].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i += 1) {
        expect((sorted[i] ?? 0) - (sorted[i - 1] ?? 0)).toBeGreaterThanOrEqual(
          DEMO_CONFIG.remediation.cooldownSeconds * 1000,
        );
      }
    }

    // Assess: notified — the log holds every notification the run counted, for the run's scans
    const logged = parseNotificationLog(await readFile(path.join(ROOT, dataDir, 'notifications.log'), 'utf8'));
    expect(logged).toHaveLength(result.scans.reduce((sum, scan) => sum + scan.notifications, 0));
    const scanIds = new Set(result.scans.map((scan) => scan.scanId));
    for (const entry of logged) expect(scanIds.has(entry.scanId)).toBe(true);
    expect(logged.filter((entry) => /remediat|compact/.test(entry.subject + entry.body)).length).toBeGreaterThan(0);

    // Act + Assess: the history commands read the demo's store afterwards
    const scansRun = await fleetscan(['scans', '--local', '--data-dir', dataDir, '--json']);
    expect(scansRun.code, scansRun.stderr).toBe(0);
    const listed = JSON.parse(scansRun.stdout) as ScanJson[];
    expect(listed.map((scan) => scan.scanId)).toEqual(result.scans.map((scan) => scan.scanId).reverse());
    expect(listed.map((scan) => scan.counts)).toEqual(result.scans.map((scan) => scan.counts).reverse());
    const node = remediations[0]?.nodeId ?? '';
    const history = await fleetscan(['history', node, '--local', '--data-dir', dataDir, '--json']);
    expect(history.code, history.stderr).toBe(0);
    const shown = JSON.parse(history.stdout) as { records: NodeRecordJson[] };
    expect(shown.records.map((record) => record.scanId)).toEqual(result.scans.map((scan) => scan.scanId).reverse());
  });

  it('prints one progress line per scan and what to run next', async () => {
    const dataDir = path.join('.tmp', `demo-cli-text-${process.pid}-${Date.now()}`);
    onTestFinished(() => rm(path.join(ROOT, dataDir), { recursive: true, force: true }));
    const run = await fleetscan(['demo', '--nodes', '12', '--scans', '2', '--seed', '4', '--data-dir', dataDir]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((line) => /^scan \d\/2 /.test(line))).toHaveLength(2);
    expect(lines.find((line) => line.startsWith('scan 1/2'))).toMatch(
      / 12 nodes: \d+ OK, \d+ WARN, \d+ CRITICAL, \d+ ERROR; worst \d\.\d{3}$/,
    );
    expect(run.stdout).toContain(`npx fleetscan scans --local --data-dir ${dataDir}`);
    expect(run.stdout).toMatch(new RegExp(`npx fleetscan history i-0[0-9a-f]{16} --local --data-dir ${dataDir}`));
    expect(run.stdout).not.toContain('\u001b');
  });

  it('rejects a bad --nodes as a usage error', async () => {
    const run = await fleetscan(['demo', '--nodes', 'many']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd()).toMatch(/^fleetscan demo: --nodes: 'many' is not a whole number from 1 to [\d,]+$/);
  });
});

describe('CLI: fleetscan demo and the process around it', () => {
  const BIN = path.join(ROOT, 'bin/fleetscan.mjs');

  async function storedScans(dataDir: string) {
    const run = await fleetscan(['scans', '--local', '--data-dir', dataDir, '--all', '--json']);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as ScanJson[];
  }

  it('ends quietly when its reader goes away (demo | head -1), and still runs and stores every scan', async () => {
    const dataDir = path.join('.tmp', `demo-epipe-${process.pid}-${Date.now()}`);
    onTestFinished(() => rm(path.join(ROOT, dataDir), { recursive: true, force: true }));
    const shell = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" "${BIN}" demo --nodes 8 --scans 5 --data-dir ${dataDir} | head -1`,
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    expect(shell.stdout).toMatch(/^scan 1\/5 /);
    expect(shell.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(shell.stderr).toBe('');
    expect(shell.status).toBe(0);
    const scans = await storedScans(dataDir);
    expect(scans.map((scan) => scan.status)).toEqual(Array(5).fill('COMPLETED'));
  });

  it('stops after the scan in progress on Ctrl-C, with the store consistent, exit 130', async () => {
    const dataDir = path.join('.tmp', `demo-sigint-${process.pid}-${Date.now()}`);
    onTestFinished(() => rm(path.join(ROOT, dataDir), { recursive: true, force: true }));
    const child = spawn(process.execPath, [BIN, 'demo', '--nodes', '20', '--scans', '200', '--data-dir', dataDir], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        // One Ctrl-C: a second one ends the process at once, by design.
        if (!interrupted && /^scan 2\/200 /m.test(stdout)) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      child.on('close', (status) => resolve(status));
    });
    expect(code).toBe(130);
    const ran = Number(/interrupted after (\d+) scans? of 200; the store is consistent/.exec(stderr)?.[1]);
    expect(ran).toBeGreaterThanOrEqual(2);
    expect(ran).toBeLessThan(200);
    expect(stderr).not.toMatch(/\n\s+at /);
    const scans = await storedScans(dataDir);
    expect(scans).toHaveLength(ran);
    expect(scans.every((scan) => scan.status === 'COMPLETED')).toBe(true);
    // The saved fleet matches its history: the next run continues it.
    const next = await fleetscan(['demo', '--scans', '1', '--data-dir', dataDir]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/^Continued a fleet of 20 nodes/m);
  });

  it('says a corrupt store cannot be read, in one line, exit 1', async () => {
    const dataDir = path.join('.tmp', `demo-corrupt-${process.pid}-${Date.now()}`);
    onTestFinished(() => rm(path.join(ROOT, dataDir), { recursive: true, force: true }));
    await mkdir(path.join(ROOT, dataDir, 'store'), { recursive: true });
    await writeFile(path.join(ROOT, dataDir, 'store', 'CURRENT'), 'MANIFEST-000099\n');
    const run = await fleetscan(['scans', '--local', '--data-dir', dataDir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(
        `^fleetscan scans: the local demo data in ${dataDir} cannot be read \\(.+\\): run 'fleetscan demo --reset' to start over\\n$`,
      ),
    );
  });
});
