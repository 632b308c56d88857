import { defineConfig } from 'vitest/config';

/**
 * `npm run test:system`: the tests that need Debian packages `.ci/run` installs — the HTML report opened in
 * headless Chromium, the completion scripts run by zsh and fish. Kept out of `npm test`, which must pass on a
 * machine with only Node.js (bash's completion is tested there).
 */
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    testTimeout: 60_000,
    // The set-up runs the demo, writes the report and starts the browser.
    hookTimeout: 180_000,
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
