/**
 * A counting proxy in front of a DynamoDB endpoint (dynalite in the bench): every request the SDK sends — retries
 * included, as AWS would bill and throttle them — is counted by operation, and the items written are sized by
 * DynamoDB's rules from the request bodies, so item sizes and write units are measured on the wire rather than
 * trusted from the code that wrote them.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type AttributeValue = Record<string, unknown>;
type WireItem = Record<string, AttributeValue>;

/** Per DynamoDB's item-size rules: names and values in UTF-8 bytes, numbers ~1 byte per 2 significant digits + 1. */
export function wireValueSize(value: AttributeValue): number {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner), 'utf8');
    case 'N':
      return numberSize(String(inner));
    case 'B':
      return Buffer.from(String(inner), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((sum, s) => sum + Buffer.byteLength(s, 'utf8'), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, n) => sum + numberSize(n), 0);
    case 'BS':
      return (inner as string[]).reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, entry) => sum + 1 + wireValueSize(entry), 0);
    case 'M':
      return (
        3 +
        Object.entries(inner as WireItem).reduce(
          (sum, [name, entry]) => sum + 1 + Buffer.byteLength(name, 'utf8') + wireValueSize(entry),
          0,
        )
      );
    default:
      return 0;
  }
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

export function wireItemSize(item: WireItem): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + wireValueSize(value),
    0,
  );
}

/** Global secondary indexes an item lands in: one per `gsiNpk` attribute it carries (all indexes project ALL). */
export function indexesOf(item: WireItem): number {
  return Object.keys(item).filter((name) => /^gsi[0-9]+pk$/.test(name)).length;
}

/** Write request units for putting `item`: one per KB, in the table and again in every index it lands in. */
export function writeUnits(item: WireItem): number {
  return Math.ceil(wireItemSize(item) / 1024) * (1 + indexesOf(item));
}

export interface PutStats {
  /** Items put (BatchWriteItem PutRequests and PutItem), by kind (JRNL, PROB, HIST, HOST, CMD by partition; META, SHARD, REM, STATE by sort key). */
  readonly count: Record<string, number>;
  readonly maxBytes: Record<string, number>;
  readonly totalBytes: Record<string, number>;
  readonly writeUnits: Record<string, number>;
  /** Puts made with PutItem (one item per call) rather than BatchWriteItem, by kind. */
  readonly single: Record<string, number>;
}

export interface MeterSnapshot {
  readonly apiCalls: Record<string, number>;
  /** Requests answered with an error, by error type. */
  readonly errors: Record<string, number>;
  readonly puts: PutStats;
  /** Keys of UpdateItem requests (for sizing the items they left behind), as `pk|sk` with a count. */
  readonly updatedKeys: Record<string, number>;
  /** Keys asked for by BatchGetItem and GetItem (one read unit each at most 4 KB, strongly consistent). */
  readonly keysRead: number;
  /** Bytes of Query results (read units ≈ bytes / 4 KB, strongly consistent). */
  readonly queryBytes: number;
}

/** Item kinds named by their partition key (journal, problem, history, host, layout, command items) … */
const PARTITION_KINDS = new Set(['JRNL', 'PROB', 'HIST', 'HOST', 'LAYOUT', 'CMD']);

/** … or, for a scan's and a node's items, by their sort key (META, SHARD, REM, STATE). */
function kindOf(item: WireItem): string {
  const partition = item.pk?.S;
  const pk = typeof partition === 'string' ? partition.split('#')[0] : undefined;
  if (pk !== undefined && PARTITION_KINDS.has(pk)) return pk;
  const sk = item.sk?.S;
  return typeof sk === 'string' ? (sk.split('#')[0] ?? sk) : 'unknown';
}

export class DynamoMeter {
  private server: Server | undefined;
  private port = 0;
  private readonly target: URL;
  private apiCalls: Record<string, number> = {};
  private errors: Record<string, number> = {};
  private puts: {
    count: Record<string, number>;
    maxBytes: Record<string, number>;
    totalBytes: Record<string, number>;
    writeUnits: Record<string, number>;
    single: Record<string, number>;
  } = { count: {}, maxBytes: {}, totalBytes: {}, writeUnits: {}, single: {} };
  private updatedKeys: Record<string, number> = {};
  private keysRead = 0;
  private queryBytes = 0;

  private constructor(target: string) {
    this.target = new URL(target);
  }

  static async start(target: string): Promise<DynamoMeter> {
    const meter = new DynamoMeter(target);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '(none)';
        meter.observeRequest(operation, body);
        const upstream = request(
          {
            host: meter.target.hostname,
            port: meter.target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (reply) => {
            const replyChunks: Buffer[] = [];
            reply.on('data', (chunk: Buffer) => replyChunks.push(chunk));
            reply.on('end', () => {
              const replyBody = Buffer.concat(replyChunks);
              meter.observeResponse(operation, reply.statusCode ?? 0, replyBody);
              res.writeHead(reply.statusCode ?? 500, reply.headers);
              res.end(replyBody);
            });
          },
        );
        upstream.on('error', (error) => res.destroy(error));
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    meter.server = server;
    meter.port = (server.address() as AddressInfo).port;
    return meter;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  snapshot(): MeterSnapshot {
    return structuredClone({
      apiCalls: this.apiCalls,
      errors: this.errors,
      puts: this.puts,
      updatedKeys: this.updatedKeys,
      keysRead: this.keysRead,
      queryBytes: this.queryBytes,
    });
  }

  reset(): void {
    this.apiCalls = {};
    this.errors = {};
    this.puts = { count: {}, maxBytes: {}, totalBytes: {}, writeUnits: {}, single: {} };
    this.updatedKeys = {};
    this.keysRead = 0;
    this.queryBytes = 0;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  private put(item: WireItem, single: boolean): void {
    const kind = kindOf(item);
    if (single) this.puts.single[kind] = (this.puts.single[kind] ?? 0) + 1;
    const size = wireItemSize(item);
    this.puts.count[kind] = (this.puts.count[kind] ?? 0) + 1;
    this.puts.maxBytes[kind] = Math.max(this.puts.maxBytes[kind] ?? 0, size);
    this.puts.totalBytes[kind] = (this.puts.totalBytes[kind] ?? 0) + size;
    this.puts.writeUnits[kind] = (this.puts.writeUnits[kind] ?? 0) + writeUnits(item);
  }

  private observeRequest(operation: string, body: Buffer): void {
    this.apiCalls[operation] = (this.apiCalls[operation] ?? 0) + 1;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return;
    }
    if (operation === 'BatchWriteItem') {
      const tables = (parsed.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: WireItem } }[]>;
      for (const requests of Object.values(tables)) {
        for (const entry of requests) if (entry.PutRequest) this.put(entry.PutRequest.Item, false);
      }
    } else if (operation === 'PutItem') {
      this.put(parsed.Item as WireItem, true);
    } else if (operation === 'UpdateItem') {
      const key = parsed.Key as WireItem;
      const id = `${String(key.pk?.S)}|${String(key.sk?.S)}`;
      this.updatedKeys[id] = (this.updatedKeys[id] ?? 0) + 1;
    } else if (operation === 'BatchGetItem') {
      const tables = (parsed.RequestItems ?? {}) as Record<string, { Keys: unknown[] }>;
      for (const request of Object.values(tables)) this.keysRead += request.Keys.length;
    } else if (operation === 'GetItem') {
      this.keysRead += 1;
    }
  }

  private observeResponse(operation: string, status: number, body: Buffer): void {
    if (status >= 400) {
      let type = `HTTP${status}`;
      try {
        type =
          String((JSON.parse(body.toString('utf8')) as { __type?: string }).__type ?? type)
            .split('#')
            .pop() ?? type;
      } catch {
        // keep the status as the name
      }
      this.errors[type] = (this.errors[type] ?? 0) + 1;
      return;
    }
    if (operation === 'Query') this.queryBytes += body.length;
  }
}
