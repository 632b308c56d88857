/**
 * A recording proxy in front of a DynamoDB endpoint (dynalite): it forwards every request unchanged and remembers
 * what was asked — the operation (X-Amz-Target), the table, and for a Query the index — so a test can compare what
 * code really calls with what IAM grants it. It sits on the wire, below whatever store classes the code builds,
 * so it keeps measuring the truth however the store is refactored.
 *
 *   const recorder = await DynamoRecorder.start(db.endpoint);
 *   process.env.AWS_ENDPOINT_URL_DYNAMODB = recorder.endpoint;   // or pass it as the client's endpoint
 *   ...
 *   recorder.access();          // { items: ['GetItem', ...], queries: ['table', 'due'], tables: [...] }
 *   recorder.failNext((call) => call.operation === 'PutItem');   // one request answered with an error
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  readonly operation: string;
  readonly table: string | null;
  /** Query only: the index it read (null: the table's own key). */
  readonly index: string | null;
  readonly body: Record<string, unknown>;
}

export interface RecordedAccess {
  /** Operations other than Query, sorted. */
  readonly items: string[];
  /** Where Query read: 'table' or an index name, sorted. */
  readonly queries: string[];
  readonly tables: string[];
}

function tableOf(operation: string, body: Record<string, unknown>): string | null {
  if (typeof body.TableName === 'string') return body.TableName;
  if (operation.startsWith('Batch')) {
    const [table] = Object.keys((body.RequestItems ?? {}) as object);
    return table ?? null;
  }
  return null;
}

/** What calls amount to, in IAM's terms: the operations, where Query read, which tables. */
export function summarize(calls: readonly RecordedCall[]): RecordedAccess {
  const items = new Set<string>();
  const queries = new Set<string>();
  const tables = new Set<string>();
  for (const call of calls) {
    if (call.operation === 'Query') queries.add(call.index ?? 'table');
    else items.add(call.operation);
    if (call.table !== null) tables.add(call.table);
  }
  return { items: [...items].sort(), queries: [...queries].sort(), tables: [...tables].sort() };
}

export class DynamoRecorder {
  readonly calls: RecordedCall[] = [];
  private server: Server | undefined;
  private port = 0;
  private failing: ((call: RecordedCall) => boolean) | undefined;

  private constructor(private readonly target: URL) {}

  static async start(target: string): Promise<DynamoRecorder> {
    const recorder = new DynamoRecorder(new URL(target));
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '(none)';
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          body = {};
        }
        const call: RecordedCall = {
          operation,
          table: tableOf(operation, body),
          index: operation === 'Query' ? ((body.IndexName as string | undefined) ?? null) : null,
          body,
        };
        recorder.calls.push(call);
        if (recorder.failing?.(call)) {
          recorder.failing = undefined;
          // A client error the SDK does not retry: the caller fails as if it had died at this call.
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: 'injected' }));
          return;
        }
        const upstream = request(
          {
            host: recorder.target.hostname,
            port: recorder.target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (reply) => {
            res.writeHead(reply.statusCode ?? 500, reply.headers);
            reply.pipe(res);
          },
        );
        upstream.on('error', (error) => res.destroy(error));
        upstream.end(raw);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    recorder.server = server;
    recorder.port = (server.address() as AddressInfo).port;
    return recorder;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Answers the next request `match` accepts with a ValidationException instead of forwarding it. */
  failNext(match: (call: RecordedCall) => boolean): void {
    this.failing = match;
  }

  /** What every call so far amounts to, in IAM's terms. */
  access(): RecordedAccess {
    return summarize(this.calls);
  }

  reset(): void {
    this.calls.length = 0;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }
}
