/**
 * `npm run build` (and `prepare`, so `npm ci` runs it): bundles the CLI into dist/cli/ with esbuild, so that
 * `fleetscan` starts as plain JavaScript instead of compiling TypeScript through tsx on every call.
 *
 * - ESM for Node 20, split into chunks: main.mjs is lib/cli/main.ts (the dispatcher and the usage), and each
 *   command's module is a chunk that main.mjs imports only when that command runs (main.ts's dynamic imports).
 * - Packages stay external: the SDK clients and dynalite load from node_modules, and only from the chunks that
 *   import them.
 * - sources.json lists the source files the bundle was made from, with their size and modification time, for
 *   bin/fleetscan.mjs to run the sources instead of a bundle that no longer matches them.
 *
 * The CDK app (bin/app.ts, run by tsx) and the Lambda bundles (NodejsFunction) do not use dist/.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Where the bundle goes; bin/fleetscan.mjs reads it from here. */
const CLI_DIST = join(ROOT, 'dist/cli');

/** Builds the CLI into {@link CLI_DIST}, replacing what was there. */
export async function buildCli(): Promise<void> {
  // Built beside the old bundle and swapped in, so a fleetscan started meanwhile finds a whole bundle or none.
  const staging = `${CLI_DIST}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    /** Each source file of the bundle (relative to the project root): its size in bytes and mtimeMs. */
    const sources: Record<string, [size: number, mtimeMs: number]> = {};
    await build({
      absWorkingDir: ROOT,
      entryPoints: { main: 'lib/cli/main.ts' },
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outExtension: { '.js': '.mjs' },
      // Less to read and compile at every start; identifiers kept, so stack traces stay readable.
      minifyWhitespace: true,
      minifySyntax: true,
      chunkNames: 'chunks/[name]-[hash]',
      // Only read when FLEETSCAN_DEBUG=1 turns them on (bin/fleetscan.mjs): stack traces then name lib/ lines.
      sourcemap: 'linked',
      logLevel: 'warning',
      plugins: [
        {
          name: 'sources',
          setup(bundler) {
            // Each file's stat just before esbuild reads it: an edit made after that leaves the bundle stale.
            bundler.onLoad({ filter: /.*/, namespace: 'file' }, ({ path }) => {
              const { size, mtimeMs } = statSync(path);
              sources[relative(ROOT, path)] = [size, mtimeMs];
              return undefined;
            });
          },
        },
      ],
    });
    const lines = Object.keys(sources)
      .sort()
      .map((path) => `  ${JSON.stringify(path)}: ${JSON.stringify(sources[path])}`);
    writeFileSync(join(staging, 'sources.json'), `{\n${lines.join(',\n')}\n}\n`);
    mkdirSync(join(CLI_DIST, '..'), { recursive: true });
    rmSync(CLI_DIST, { recursive: true, force: true });
    renameSync(staging, CLI_DIST);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await buildCli();
