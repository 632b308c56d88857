/**
 * An embedded DynamoDB-compatible engine (dynalite) on an ephemeral 127.0.0.1 port inside this process, persisted
 * to a LevelDB directory so that what `fleetscan demo` stored is there for the history commands afterwards.
 * LevelDB takes a lock on its directory: one process at a time per data directory.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

type DynaliteFactory = (options: { path?: string; createTableMs?: number; updateTableMs?: number }) => Server;

const require = createRequire(import.meta.url);

interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}
type LevelFactory = { Level: new (path: string) => LevelDatabase };

/** The data directory is locked by another process (LevelDB allows one at a time). */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
}

/**
 * dynalite opens its LevelDB lazily and, when the open fails, throws from inside its request handler — an
 * uncaught exception. Opening (and closing) the directory first turns a held lock into an error we can report.
 */
async function probe(path: string): Promise<void> {
  // dynalite's own copy of `level`, so the probe reads the directory exactly as dynalite will.
  const { Level } = createRequire(require.resolve('dynalite'))('level') as LevelFactory;
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new StoreLockedError(`${path} is in use by another process`, { cause: error });
    }
    throw error;
  }
  await db.close();
}

export interface EmbeddedDynalite {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite; `path` persists to disk (in memory without it). */
export async function startDynalite(options: { readonly path?: string } = {}): Promise<EmbeddedDynalite> {
  if (options.path !== undefined) await probe(options.path);
  const dynalite = require('dynalite') as DynaliteFactory;
  const server = dynalite({
    ...(options.path === undefined ? {} : { path: options.path }),
    createTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      if (closed) return;
      closed = true;
      // Keep-alive sockets of SDK clients would hold the graceful close open for dynalite's 30 s timeout.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
