/**
 * `npx cdk synth` itself, spawned as a user runs it from a fresh clone: no AWS credentials, no region, no network.
 * The successful synth is the shared `default` fixture (support.ts), which every template test reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cdk, outdir, removeOutdirs, SYNTH_TEST_TIMEOUT_MS, synthesized } from './support.ts';

afterAll(removeOutdirs);

/** The lines the app printed itself (the CLI adds its own failure notice after them). */
const ours = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('fleetscan:'));

describe('CLI: npx cdk synth', () => {
  it(
    'prints a bad setting as one line naming the key, without a stack trace, and fails',
    () => {
      const result = cdk(['synth', '-c', 'fleetscan:remediation.action=nuke', '-o', outdir('cli-bad')]);

      expect(result.status).not.toBe(0);
      expect(ours(result.stderr)).toEqual([
        "fleetscan: invalid configuration: fleetscan:remediation.action: 'nuke' is not one of drop-caches, compact, compact-node, drop-caches-and-compact",
      ]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stderr).not.toContain('ConfigError');
    },
    SYNTH_TEST_TIMEOUT_MS,
  );

  it(
    'refuses a schedule shorter than delivery + execution timeout, naming the schedule and both timeouts',
    () => {
      const result = cdk(['synth', '-c', 'fleetscan:schedule=rate(1 minute)', '-o', outdir('cli-overlap')]);

      expect(result.status).not.toBe(0);
      expect(ours(result.stderr)).toEqual([
        "fleetscan: invalid configuration: fleetscan:schedule: 'rate(1 minute)' starts a scan every 1 minute, before the previous one can end: fleetscan:deliveryTimeoutSeconds (600) + fleetscan:executionTimeoutSeconds (60) give a scan 11 minutes; schedule scans at least that far apart, or lower those timeouts",
      ]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    },
    SYNTH_TEST_TIMEOUT_MS,
  );

  it(
    'synthesizes offline into an environment-agnostic template, with the region the CLI defaults to nowhere',
    () => {
      const synth = synthesized('default');

      expect(synth.cli?.status).toBe(0);
      expect(synth.cli?.stderr).not.toMatch(/AwsSolutions-/);
      expect(synth.templateText).toContain('"Fleetscan-Gather"');
      expect(synth.templateText).not.toContain('us-east-1');
      expect(synth.templateText).not.toMatch(/(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])/);
      const manifest = JSON.parse(readFileSync(join(synth.directory, 'manifest.json'), 'utf8')) as {
        artifacts: Record<string, { environment?: string }>;
      };
      expect(manifest.artifacts.Fleetscan?.environment).toBe('aws://unknown-account/unknown-region');
    },
    SYNTH_TEST_TIMEOUT_MS,
  );
});
