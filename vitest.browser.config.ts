import { defineConfig } from 'vitest/config';

/**
 * `npm run test:browser`: the tests that open fleetscan's HTML report in Debian's headless Chromium
 * (test/browser/*.browser.test.ts). Kept out of `npm test`, which must pass on a machine with only Node.js.
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.test.ts'],
    testTimeout: 60_000,
    // The set-up runs the demo, writes the report and starts the browser.
    hookTimeout: 180_000,
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
