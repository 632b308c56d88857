/**
 * Synthesized stacks, made once per test run and shared by every test file that reads them.
 *
 * Synthesis (and bundling the Lambdas with esbuild) is the slowest thing the suite does, so each named fixture is
 * made by the first test file that asks for it and read from disk by the others: into `.tmp/synth-<run>/<name>/`
 * (the run's directory comes from test/infra/global-setup.ts, which removes it at the end). Test files run in
 * parallel processes, so the first one takes a lock (an atomic mkdir) and the others wait for its `done` marker.
 *
 * The default stack is made by the real `npx cdk synth`, as a user runs it from a fresh clone — no AWS
 * credentials, no region — so the bundles and the cdk-nag report every file reads are the CLI's own. Variants
 * with other context are synthesized in-process, without bundling unless asked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { inject } from 'vitest';
import { buildApp } from '../../lib/infra/app.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long a spawned `npx cdk synth` (tsx start, synthesis, two esbuild bundles, cdk-nag) may take. */
export const CDK_SPAWN_TIMEOUT_MS = 150_000;
/** How long a file waits for a fixture another file is making: at most that file's cdk spawn, then writing it. */
const FIXTURE_WAIT_MS = CDK_SPAWN_TIMEOUT_MS + 10_000;
/**
 * What a test (or hook) may take that spawns cdk, or reads fixtures: the longest wait (one made by cdk; the others
 * are synthesized in-process in seconds), plus margin. Longer than the spawn's and the wait's own bounds, so that
 * they fail first, with their own message.
 */
export const SYNTH_TEST_TIMEOUT_MS = FIXTURE_WAIT_MS + 20_000;

declare module 'vitest' {
  export interface ProvidedContext {
    /** This test run's directory for shared synthesized stacks (test/infra/global-setup.ts). */
    synthRoot: string;
  }
}

/** The context `cdk synth` runs with: cdk.json's (feature flags), plus the test's own keys. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: object };
  return { ...cdkJson.context };
}

const created: string[] = [];

/** A fresh cloud assembly directory under the project's ignored .tmp/ (for a test's own synthesis). */
export function outdir(name: string): string {
  const tmp = join(PROJECT_ROOT, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, `cdk.out-${name}-`));
  created.push(dir);
  return dir;
}

/** Removes every assembly this file's tests made with {@link outdir} (call from afterAll). */
export function removeOutdirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** `npx cdk ...` as a user runs it: without AWS credentials or a region, without CDK_ settings. */
export function cdk(args: readonly string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_)/.test(key)) env[key] = value;
  }
  return spawnSync('npx', ['cdk', ...args, '--no-notices'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: CDK_SPAWN_TIMEOUT_MS,
    // vitest's NODE_ENV=test would make the app throw instead of printing the way it does for a user.
    env: { ...env, NODE_ENV: 'production', CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: 'true' },
  });
}

export interface Synthesized {
  readonly stackName: string;
  /** The cloud assembly directory (templates, bundles, validation-report.json). */
  readonly directory: string;
  readonly template: Record<string, unknown>;
  readonly templateText: string;
  /** For the default stack: how `npx cdk synth` exited and what it printed on stderr. */
  readonly cli?: { readonly status: number | null; readonly stderr: string };
}

interface FixtureSpec {
  /** Extra context; the stack name is `fleetscan:stackName` or Fleetscan. */
  readonly context?: Record<string, unknown>;
  /** Bundle the Lambdas (in-process variants only; the default stack is always bundled, by the CLI). */
  readonly bundle?: boolean;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function runRoot(): string {
  let root: string | undefined;
  try {
    root = inject('synthRoot');
  } catch {
    root = undefined;
  }
  // Outside the configured run (another config, a single file run by hand): a directory of this process.
  return root ?? join(PROJECT_ROOT, '.tmp', `synth-pid${process.pid}`);
}

function load(dir: string): Synthesized {
  const meta = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as {
    stackName: string;
    cli?: Synthesized['cli'];
  };
  const directory = join(dir, 'out');
  const assembly = new CloudAssembly(directory);
  const artifact = assembly.getStackByName(meta.stackName);
  const templateText = readFileSync(join(directory, artifact.templateFile), 'utf8');
  return {
    stackName: meta.stackName,
    directory,
    template: JSON.parse(templateText) as Record<string, unknown>,
    templateText,
    ...(meta.cli === undefined ? {} : { cli: meta.cli }),
  };
}

function produce(dir: string, name: string, spec: FixtureSpec): void {
  const out = join(dir, 'out');
  if (name === 'default') {
    const result = cdk(['synth', '--quiet', '-o', out]);
    writeFileSync(
      join(dir, 'fixture.json'),
      JSON.stringify({ stackName: 'Fleetscan', cli: { status: result.status, stderr: result.stderr ?? '' } }),
    );
    if (result.status !== 0) throw new Error(`npx cdk synth failed (${result.status}): ${result.stderr}`);
    return;
  }
  const context = { ...cdkJsonContext(), ...spec.context, ...(spec.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) };
  const { app, stack } = buildApp({ outdir: out, context });
  app.synth();
  writeFileSync(join(dir, 'fixture.json'), JSON.stringify({ stackName: stack.stackName }));
}

/**
 * The named stack, synthesized once per test run: `default` is `npx cdk synth` of cdk.json as it is; any other
 * name is that context synthesized in-process. Call it from beforeAll with {@link SYNTH_TEST_TIMEOUT_MS}.
 */
export function synthesized(name: string, spec: FixtureSpec = {}): Synthesized {
  const dir = join(runRoot(), name);
  const done = join(dir, 'done');
  const failed = join(dir, 'failed');
  mkdirSync(runRoot(), { recursive: true });
  let mine = false;
  try {
    mkdirSync(dir);
    mine = true;
  } catch {
    mine = false;
  }
  if (mine) {
    try {
      produce(dir, name, spec);
      writeFileSync(done, '');
    } catch (error) {
      writeFileSync(failed, error instanceof Error ? error.message : String(error));
      throw error;
    }
  } else {
    const deadline = Date.now() + FIXTURE_WAIT_MS;
    while (!existsSync(done)) {
      if (existsSync(failed))
        throw new Error(`fixture ${name} failed in another test file: ${readFileSync(failed, 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`fixture ${name} was not ready after ${FIXTURE_WAIT_MS} ms`);
      Atomics.wait(sleeper, 0, 0, 200);
    }
  }
  return load(dir);
}
