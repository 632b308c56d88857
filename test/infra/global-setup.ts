/**
 * One directory per test run for the synthesized stacks test files share (test/infra/support.ts), removed when
 * the run ends.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export default function setup(project: TestProject): () => void {
  const root = join(PROJECT_ROOT, '.tmp', `synth-${process.pid}-${Date.now()}`);
  project.provide('synthRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
