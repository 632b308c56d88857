/**
 * Spawns the real executable (`node bin/fleetscan.mjs ...`) as a user's shell would, with an environment that
 * holds no real AWS credentials: dummy keys by default, a region, empty AWS config files, and no instance
 * metadata lookups (so a credential chain without keys fails fast instead of probing the network).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { CLI_RUN_TIMEOUT_MS } from '../support/timeouts.ts';

export const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/fleetscan.mjs');
const EMPTY = join(ROOT, '.tmp', 'cli-empty-aws-config');

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function baseEnv(): Record<string, string> {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(EMPTY, '');
  return {
    PATH: process.env.PATH ?? '',
    HOME: join(ROOT, '.tmp'),
    NO_COLOR: '1',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'dummy',
    AWS_SECRET_ACCESS_KEY: 'dummy',
    AWS_CONFIG_FILE: EMPTY,
    AWS_SHARED_CREDENTIALS_FILE: EMPTY,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export function fleetscan(args: readonly string[], env: Record<string, string> = baseEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env, timeout: CLI_RUN_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** One line on stderr, nothing on stdout, no stack trace, the given exit status. */
export function expectOneLineError(run: Run, code: number, pattern: RegExp): void {
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(code);
}
