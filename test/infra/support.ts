import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp } from '../../lib/infra/app.ts';
import type { FleetscanStack } from '../../lib/infra/fleetscan-stack.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The context `cdk synth` runs with: cdk.json's (feature flags), plus the test's own keys. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: object };
  return { ...cdkJson.context };
}

const created: string[] = [];

/** A fresh cloud assembly directory under the project's ignored .tmp/. */
export function outdir(name: string): string {
  const tmp = join(PROJECT_ROOT, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, `cdk.out-${name}-`));
  created.push(dir);
  return dir;
}

/** Removes every assembly this file's tests made (call from afterAll). */
export function removeOutdirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Synthesized {
  readonly stack: FleetscanStack;
  readonly assembly: CloudAssembly;
  readonly template: Record<string, unknown>;
  readonly templateText: string;
}

/** Synthesizes the real app, cdk-nag included, as `cdk synth` would. Bundles the Lambdas unless told not to. */
export function synthesize(name: string, context: Record<string, unknown> = {}, bundle = true): Synthesized {
  const { app, stack } = buildApp({
    outdir: outdir(name),
    context: { ...cdkJsonContext(), ...context, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const templateText = readFileSync(join(assembly.directory, artifact.templateFile), 'utf8');
  return { stack, assembly, template: artifact.template as Record<string, unknown>, templateText };
}
