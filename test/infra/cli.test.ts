/**
 * `npx cdk synth` itself, spawned as a user runs it from a fresh clone: no AWS credentials, no region, no network.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outdir, PROJECT_ROOT, removeOutdirs } from './support.ts';

afterAll(removeOutdirs);

function cdk(args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_)/.test(key)) env[key] = value;
  }
  return spawnSync('npx', ['cdk', ...args, '--no-notices'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    // vitest's NODE_ENV=test would make the app throw instead of printing the way it does for a user.
    env: { ...env, NODE_ENV: 'production', CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: 'true' },
  });
}

describe('CLI: npx cdk synth', () => {
  it('prints a bad setting as one line naming the key, without a stack trace, and fails', () => {
    const result = cdk(['synth', '-c', 'fleetscan:remediation.action=nuke', '-o', outdir('cli-bad')]);

    expect(result.status).not.toBe(0);
    const ours = result.stderr.split('\n').filter((line) => line.startsWith('fleetscan:'));
    expect(ours).toEqual([
      "fleetscan: invalid configuration: fleetscan:remediation.action: 'nuke' is not one of drop-caches, compact, compact-node, drop-caches-and-compact",
    ]);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain('ConfigError');
  });

  it('synthesizes offline into an environment-agnostic template, with the region the CLI defaults to nowhere', () => {
    const out = outdir('cli');

    const result = cdk(['synth', '--quiet', '-o', out]);

    expect(result.stderr).not.toMatch(/AwsSolutions-/);
    expect(result.status).toBe(0);
    const template = readFileSync(join(out, 'Fleetscan.template.json'), 'utf8');
    expect(template).toContain('"Fleetscan-Gather"');
    expect(template).not.toContain('us-east-1');
    expect(template).not.toMatch(/(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { environment?: string }>;
    };
    expect(manifest.artifacts.Fleetscan?.environment).toBe('aws://unknown-account/unknown-region');
  });
});
