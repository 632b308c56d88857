/** `fleetscan doctor --local` against a real demo data directory (no AWS, no mocks). */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Check } from '../../lib/cli/doctor.ts';
import { runDemo } from '../../lib/local/demo.ts';
import { runMain } from './buffer-io.ts';

const invoke = (args: string[]) => runMain(args);

describe('CLI: fleetscan doctor --local', () => {
  const dir = mkdtempSync(join(import.meta.dirname, '../../.tmp/doctor-local-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('checks the demo’s data: its simulated nodes, its last scan, remediation, and nothing to fix', async () => {
    const demo = await runDemo({ dataDir: dir, scans: 2, reset: true, nodes: 20, readThisHost: async () => null });
    const last = demo.scans.at(-1);

    const result = await invoke(['doctor', '--local', '--data-dir', dir, '--json']);
    const parsed = JSON.parse(result.stdout) as { checks: Check[]; problems: number; local: boolean };

    expect(result.code, result.stderr).toBe(0);
    expect(parsed).toMatchObject({ local: true, problems: 0 });
    expect(parsed.checks.map((entry) => `${entry.status} ${entry.check}`)).toEqual(
      expect.arrayContaining(['ok data', 'ok nodes', 'ok last scan', 'info remediation', 'info deployment']),
    );
    expect(parsed.checks.find((entry) => entry.check === 'nodes')?.message).toBe(
      '20 simulated nodes of 20 carry tag:fleetscan=enabled',
    );
    expect(parsed.checks.find((entry) => entry.status === 'ok' && entry.check === 'last scan')?.message).toContain(
      `${last?.scanId.slice(0, 8)}`,
    );
  });

  it('says what to run when the demo never ran there, exit 1', async () => {
    const empty = mkdtempSync(join(import.meta.dirname, '../../.tmp/doctor-empty-'));
    try {
      const result = await invoke(['doctor', '--local', '--data-dir', empty]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^fleetscan doctor: no local demo data in .*: run 'npx fleetscan demo' first \(or pass --data-dir\)\n$/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
