import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // They need Debian's Chromium, zsh and fish: `npm run test:system` (vitest.system.config.ts).
    exclude: [...configDefaults.exclude, 'test/system/**'],
    // A directory per run where test/infra/support.ts keeps the stacks it synthesizes once for every file.
    globalSetup: ['test/infra/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The SDK's notice that its 2027 releases will need Node 22 is noise in every test file's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
