#!/usr/bin/env node
// Runs the CLI bundle that `npm ci` builds into dist/cli/ (scripts/build.ts). Without one that matches the sources
// (installed with --ignore-scripts, or lib/ edited since the last `npm run build`), runs the TypeScript sources
// through tsx instead: the same commands, slower to start.
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Node 22 keeps compiled code between runs (Node 20 lacks this and starts a little slower).
module.enableCompileCache?.();

// A path, not a URL: parsing a URL per source file would cost as much as the stat calls themselves.
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Whether every source file the bundle was built from is as it was then (scripts/build.ts wrote sources.json). */
function bundleIsCurrent() {
  let sources;
  try {
    sources = JSON.parse(readFileSync(`${ROOT}dist/cli/sources.json`, 'utf8'));
  } catch {
    return false;
  }
  return Object.entries(sources).every(([path, [size, mtimeMs]]) => {
    const stat = statSync(ROOT + path, { throwIfNoEntry: false });
    return stat?.size === size && stat.mtimeMs === mtimeMs;
  });
}

async function loadMain() {
  if (bundleIsCurrent()) return import('../dist/cli/main.mjs');
  const { register } = await import('tsx/esm/api');
  register();
  return import('../lib/cli/main.ts');
}

// FLEETSCAN_DEBUG=1 prints stack traces: with the bundle's source maps, they name the lines in lib/.
if (process.env.FLEETSCAN_DEBUG === '1') process.setSourceMapsEnabled(true);
const { main } = await loadMain();
process.exitCode = await main(process.argv.slice(2));
