import { configDefaults, defineConfig } from 'vitest/config';
import { HOOK_TIMEOUT_MS, INTEGRATION_TEST_TIMEOUT_MS, TEST_TIMEOUT_MS } from './test/support/timeouts.ts';

/**
 * The test files that synthesize stacks, run the SSM documents' shell scripts or spawn the CLI: the integration
 * project. Everything else runs in-process, in the unit project (`npm run test:unit`).
 */
const INTEGRATION = [
  // Synthesis (test/infra/support.ts): `npx cdk synth`, and variants in-process.
  'test/infra/{alarms,cli,cli-policies,collect-handoff,dashboard,gather-live,stack,stack-config,table-access}.test.ts',
  // gather.sh and remediate.sh run by bash and dash (test/scripts/harness.ts).
  'test/scripts/*.test.ts',
  'test/core/read-local.test.ts',
  // bin/fleetscan.mjs spawned (test/cli/run-cli.ts).
  'test/cli/{clear,conventions,demo,history,inspect,pictures,startup}.test.ts',
  'test/local/replay.test.ts',
];

/** They need Debian's Chromium, zsh and fish: `npm run test:system` (vitest.system.config.ts). */
const SYSTEM = [...configDefaults.exclude, 'test/system/**'];

export default defineConfig({
  test: {
    testTimeout: TEST_TIMEOUT_MS,
    hookTimeout: HOOK_TIMEOUT_MS,
    pool: 'forks',
    // The SDK's notice that its 2027 releases will need Node 22 is noise in every test file's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...INTEGRATION, ...SYSTEM] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          testTimeout: INTEGRATION_TEST_TIMEOUT_MS,
          // The CLI bundle, built from the sources as they are; a directory per run for the stacks
          // test/infra/support.ts synthesizes once for every file.
          globalSetup: ['test/support/build-cli.ts', 'test/infra/global-setup.ts'],
        },
      },
    ],
  },
});
