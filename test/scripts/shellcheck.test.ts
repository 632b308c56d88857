import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GATHER_SCRIPT, REMEDIATE_SCRIPT } from './harness.ts';

describe('Script: shellcheck', () => {
  it.each([GATHER_SCRIPT, REMEDIATE_SCRIPT])('finds nothing in %s as a POSIX sh script', (script) => {
    // The agent may run the script with sh, so it is checked as sh, the stricter dialect.
    const result = spawnSync('shellcheck', ['--shell=sh', '--severity=style', '--format=gcc', script], {
      encoding: 'utf8',
    });

    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});
