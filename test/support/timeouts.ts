/**
 * How long tests, and the processes they spawn, may take (vitest.config.ts reads the test timeouts from here).
 *
 * Every spawn has its own timeout, shorter than its test's: a hung process fails its test as that process's error,
 * with what it printed, rather than as vitest's bare "Test timed out". So a test's timeout covers every process it
 * spawns at their longest, plus a margin for its own work. Synthesis has its own figures in test/infra/support.ts.
 */

/** A test that spawns nothing (vitest's testTimeout for the unit project). */
export const TEST_TIMEOUT_MS = 30_000;
/** A beforeAll/afterAll hook: starting dynalite, seeding a table. */
export const HOOK_TIMEOUT_MS = 60_000;
/** What a spawning test keeps for its own work besides the processes it waits for. */
const MARGIN_MS = 10_000;

/** One run of the CLI (bin/fleetscan.mjs): the bundle starts in a tenth of a second, the demo takes seconds. */
export const CLI_RUN_TIMEOUT_MS = 20_000;
/** One run of an SSM document's script by bash or dash against a fixture tree (test/scripts/harness.ts). */
export const SCRIPT_RUN_TIMEOUT_MS = 10_000;
/** A script run that waits out one of the script's own time bounds (a hanging dmesg or journalctl). */
export const SLOW_SCRIPT_RUN_TIMEOUT_MS = 20_000;

/** What a test may take that waits for `runs` processes, each bounded by `each` ms: all of them, then the margin. */
function spawningTest(runs: number, each: number): number {
  return runs * each + MARGIN_MS;
}

/**
 * A test of the integration project (vitest.config.ts): the most processes one of them waits for is eight script
 * runs (gather.test.ts, a report per NUMA layout); the CLI tests wait for at most three runs of the CLI.
 */
export const INTEGRATION_TEST_TIMEOUT_MS = Math.max(
  spawningTest(8, SCRIPT_RUN_TIMEOUT_MS),
  spawningTest(3, CLI_RUN_TIMEOUT_MS),
);
