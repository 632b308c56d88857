/**
 * Global setup of the integration tests: builds the CLI bundle (scripts/build.ts) from the sources as they are, so
 * that the tests that spawn bin/fleetscan.mjs run what `npm ci` gives a user, never a dist/ left from older sources.
 */
import { buildCli } from '../../scripts/build.ts';

export default async function setup(): Promise<void> {
  await buildCli();
}
