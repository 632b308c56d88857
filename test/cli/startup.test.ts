/**
 * How `fleetscan` starts: from the bundle `npm ci` builds (dist/cli/, scripts/build.ts; the integration tests'
 * global setup rebuilds it), loading only the modules the command needs; and, without a bundle that matches the
 * sources, from the TypeScript sources through tsx, silently. How fast it starts is measured by
 * test/bench/startup.ts, not here.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_RUN_TIMEOUT_MS } from '../support/timeouts.ts';
import { ROOT } from './run-cli.ts';

let scratch: string;
beforeAll(() => {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  scratch = mkdtempSync(join(ROOT, '.tmp', 'startup-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SAMPLE = join(ROOT, 'test/fixtures/buddyinfo/01-procfs-fixture-x86-single-node.txt');
const HOOK = join(ROOT, 'test/support/loaded-modules.mjs');

interface Started {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The modules the process loaded: paths relative to the project, node: builtins as they are. */
  readonly modules: string[];
}

/** Runs `root`/bin/fleetscan.mjs with `args`, recording the modules it loads. */
function start(args: readonly string[], root = ROOT): Promise<Started> {
  const list = join(mkdtempSync(join(scratch, 'run-')), 'modules.txt');
  writeFileSync(list, '');
  const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1', LOADED_MODULES_FILE: list };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', pathToFileURL(HOOK).href, join(root, 'bin/fleetscan.mjs'), ...args],
      { cwd: root, env, timeout: CLI_RUN_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        const base = pathToFileURL(`${ROOT}/`).href;
        const modules = [...new Set(readFileSync(list, 'utf8').split('\n').filter(Boolean))]
          .filter((url) => url !== pathToFileURL(HOOK).href)
          .map((url) => (url.startsWith(base) ? url.slice(base.length) : url));
        resolve({ code, stdout, stderr, modules });
      },
    );
  });
}

/** What is neither Node's own nor the bundle's: packages (the SDK, dynalite, aws-cdk-lib, tsx), TypeScript sources. */
const foreign = (modules: readonly string[]) =>
  modules.filter((module) => !/^(node:|dist\/cli\/|bin\/fleetscan\.mjs$)/.test(module));

describe('CLI: start-up from the bundle', () => {
  it('judges a buddyinfo file with the bundle alone: no package, no TypeScript source', async () => {
    const run = await start(['inspect', SAMPLE, '--json']);

    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).verdict.level).toBe('CRITICAL');
    expect(run.modules).toContain('dist/cli/main.mjs');
    expect(run.modules).toContainEqual(expect.stringMatching(/^dist\/cli\/chunks\/inspect-/));
    expect(foreign(run.modules)).toEqual([]);
  });

  it('prints the usage from the dispatcher alone, without loading any command', async () => {
    const run = await start(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: fleetscan <command>/);
    expect(run.modules).toContain('dist/cli/main.mjs');
    expect(
      run.modules.filter((module) => /\/(inspect|demo|scans?|history|remediations|clear|doctor)-/.test(module)),
    ).toEqual([]);
    expect(foreign(run.modules)).toEqual([]);
  });
});

describe('CLI: start-up without a current bundle', () => {
  /** A copy of the project's bin/ whose lib/ and node_modules/ are the project's own, and `dist` if given. */
  function project(name: string, dist?: (dir: string) => void): string {
    const root = join(scratch, name);
    mkdirSync(join(root, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'bin/fleetscan.mjs'), join(root, 'bin/fleetscan.mjs'));
    for (const linked of ['lib', 'node_modules', 'package.json', 'tsconfig.json']) {
      symlinkSync(join(ROOT, linked), join(root, linked));
    }
    if (dist !== undefined) {
      cpSync(join(ROOT, 'dist/cli'), join(root, 'dist/cli'), { recursive: true });
      dist(join(root, 'dist/cli'));
    }
    return root;
  }

  it('runs the TypeScript sources when there is no bundle (npm ci --ignore-scripts), printing nothing more', async () => {
    const bundled = await start(['inspect', SAMPLE]);
    const sources = await start(['inspect', SAMPLE], project('no-dist'));

    expect(sources.modules).toContain('lib/cli/main.ts');
    expect(sources.modules.some((module) => module.startsWith('dist/'))).toBe(false);
    expect(sources).toMatchObject({ code: bundled.code, stdout: bundled.stdout, stderr: '' });
  });

  it('runs the sources, not the bundle, once a source file differs from the one the bundle was built from', async () => {
    const stale = project('stale-dist', (dist) => {
      const sources = JSON.parse(readFileSync(join(dist, 'sources.json'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(sources)).toContain('lib/cli/main.ts');
      sources['lib/cli/main.ts'] = [0, 0];
      writeFileSync(join(dist, 'sources.json'), JSON.stringify(sources));
    });
    const current = project('current-dist', () => {});

    const fromStale = await start(['--help'], stale);
    const fromCurrent = await start(['--help'], current);

    expect(fromStale.modules).toContain('lib/cli/main.ts');
    expect(fromStale.stderr).toBe('');
    expect(fromCurrent.modules.some((module) => module.endsWith('dist/cli/main.mjs'))).toBe(true);
    expect(fromStale.stdout).toBe(fromCurrent.stdout);
  });
});
