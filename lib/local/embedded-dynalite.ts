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

export interface EmbeddedDynalite {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite; `path` persists to disk (in memory without it). */
export async function startDynalite(options: { readonly path?: string } = {}): Promise<EmbeddedDynalite> {
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
