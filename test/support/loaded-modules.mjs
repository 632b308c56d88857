/**
 * `node --import ./test/support/loaded-modules.mjs PROGRAM`: writes every module PROGRAM loaded to the file named
 * by $LOADED_MODULES_FILE, one URL a line: the ES modules as they are resolved (a loader hook, run in Node's hooks
 * thread), and the CommonJS ones require() loaded (require.cache, when the process exits).
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const file = process.env.LOADED_MODULES_FILE;

if (isMainThread && file !== undefined) {
  register(import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const urls = Object.keys(cache).map((path) => pathToFileURL(path).href);
    if (urls.length > 0) appendFileSync(file, `${urls.join('\n')}\n`);
  });
}

/** The loader hook (in the hooks thread): records each module as it is resolved. */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (file !== undefined) appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}
