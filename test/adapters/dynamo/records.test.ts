/**
 * NodeRecordStore on dynalite: the journal (first writer wins), what one node's record can and cannot do to the
 * others, problem records merged in rank order across shards, sealing into the node history and reading it back
 * (by scan, by node and time, by host name), previous records for the next scan.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoHistory } from '../../../lib/adapters/dynamo/history.ts';
import { bucketOf, keys } from '../../../lib/adapters/dynamo/schema.ts';
import type { NodeRecord, NodeStatus, ScanRecord, StoredRecord } from '../../../lib/runtime/ports.ts';
import { type LocalTable, startDynalite } from '../../support/dynalite.ts';
import { nodeRecord } from '../../support/runtime-fixtures.ts';

let db: LocalTable;
let store: DynamoHistory;
const now = { value: new Date('2025-03-01T13:00:00.000Z') };

beforeEach(async () => {
  db = await startDynalite();
  store = db.store({ clock: { now: () => now.value } });
});

afterEach(async () => {
  await db.stop();
});

const AT = '2025-03-01T12:00:00.000Z';

function scan(scanId: string, requestedAt = AT, overrides: Partial<ScanRecord> = {}): ScanRecord {
  return {
    scanId,
    commandId: `${scanId}-cmd`,
    requestedAt,
    collectAfter: requestedAt,
    status: 'COMPLETED',
    targets: 't',
    shards: 1,
    ...overrides,
  };
}

/** A record whose indices are those its zone line gives (as the collector writes them). */
function record(nodeId: string, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return nodeRecord({
    scanId: 's',
    nodeId,
    at: AT,
    host: `ip-10-0-0-${nodeId.length}.ec2.internal`,
    zones: ['0 Normal 1163 1101 932 222 10 5 3 1 0 0 0'],
    indices: [
      { node: 0, zone: 'Normal', order: 6, suitableBlocks: 5, unusableIndex: 943, fragmentationIndex: -1000 },
      { node: 0, zone: 'Normal', order: 4, suitableBlocks: 32, unusableIndex: 847, fragmentationIndex: -1000 },
    ],
    worstUnusableIndex: 943,
    worstFragmentationIndex: -1000,
    ...overrides,
  });
}

function problem(nodeId: string, status: NodeStatus, worst: number | null): StoredRecord {
  return {
    record: record(nodeId, {
      status,
      indices:
        worst === null
          ? []
          : [{ node: 0, zone: 'Normal', order: 4, suitableBlocks: 0, unusableIndex: worst, fragmentationIndex: 900 }],
      zones: [],
      worstUnusableIndex: worst,
      worstFragmentationIndex: worst === null ? null : 900,
    }),
  };
}

/** Counts the Query calls the store sends for one partition, from now on. */
function spyOnQueries(history: DynamoHistory, partition: string): () => number {
  const client = history.table.client as unknown as { send: (command: unknown) => Promise<unknown> };
  const send = client.send.bind(client);
  let count = 0;
  client.send = (command: unknown) => {
    const input = (command as { input?: { ExpressionAttributeValues?: Record<string, unknown> } }).input;
    if (input?.ExpressionAttributeValues?.[':pk'] === partition) count += 1;
    return send(command);
  };
  return () => count;
}

async function sealed(s: ScanRecord): Promise<ScanRecord> {
  const result = await store.records.seal(s, null, () => Number.POSITIVE_INFINITY);
  expect(result.done).toBe(true);
  return { ...s, sealed: true, seal: result.progress };
}

describe('Records: the journal', () => {
  it('stores a page once, first writer wins: a second write of the page gets back what the first stored', async () => {
    const ref = { scanId: 's', at: AT, shard: 0, page: 0 };
    const first = await store.records.putPage(ref, [{ record: record('i-a') }, { record: record('i-b') }]);
    const second = await store.records.putPage(ref, [
      { record: record('i-a', { status: 'ERROR', error: 'stale listing' }) },
    ]);
    expect(first.map((entry) => entry.record.nodeId)).toEqual(['i-a', 'i-b']);
    expect(second).toEqual(first);
    expect(second[0]?.record).toEqual(record('i-a'));
    expect(await store.records.shardNodeIds('s', 0)).toEqual(new Set(['i-a', 'i-b']));
  });

  it('gives back every figure of a record, the watched indices recomputed from the counts when they match', async () => {
    const ref = { scanId: 's', at: AT, shard: 0, page: 0 };
    const original = record('i-exact');
    // Indices that the counts do not give (as seeded by hand) are kept as they are.
    const handmade = record('i-hand', {
      zones: [],
      indices: [
        { node: 0, zone: 'Normal', order: 4, suitableBlocks: 7, unusableIndex: 999, fragmentationIndex: -1000 },
      ],
      worstUnusableIndex: 999,
    });
    const [exact, hand] = await store.records.putPage(ref, [{ record: original }, { record: handmade }]);
    expect(exact?.record).toEqual(original);
    expect(hand?.record).toEqual(handmade);
  });

  it('replaces a record that cannot be stored with that node’s ERROR record, and stores the rest of the page', async () => {
    const ref = { scanId: 's', at: AT, shard: 0, page: 0 };
    const poisoned = record('i-poisoned', { allocFailures: 2 ** 53, status: 'WARN' });
    const stored = await store.records.putPage(ref, [
      { record: record('i-before') },
      { record: poisoned },
      { record: record('i-huge', { host: 'h'.repeat(100_000) }) },
      { record: record('i-after') },
    ]);
    expect(stored.map((entry) => [entry.record.nodeId, entry.record.status])).toEqual([
      ['i-before', 'OK'],
      ['i-poisoned', 'ERROR'],
      ['i-huge', 'ERROR'],
      ['i-after', 'OK'],
    ]);
    expect(stored[1]?.record.error).toBe(
      'record could not be stored: allocFailures 9007199254740992 is not a safe integer',
    );
    expect(stored[2]?.record.error).toBe('record could not be stored: host is 100000 characters (at most 512)');
    const read = await store.listScanNodes('s', { limit: 10 });
    expect(read.items).toHaveLength(0); // no scan item: nothing to read it by
  });

  it('bounds a record of thousands of zones in one pass, keeping the worst zones and its indices', async () => {
    const zones = Array.from({ length: 2000 }, (_, node) => `${node} Normal 1163 1101 932 222 10 5 3 1 0 0 0`);
    const wide = record('i-wide', { zones, findings: Array.from({ length: 30 }, (_, index) => `finding-${index}`) });
    const [stored] = await store.records.putPage({ scanId: 's', at: AT, shard: 0, page: 0 }, [{ record: wide }]);
    expect(stored?.record.status).toBe('OK');
    expect(stored?.record.zones.length).toBeGreaterThan(10);
    expect(stored?.record.zones.length).toBeLessThan(200);
    expect(stored?.record.zones[0]).toBe(zones[0]);
    expect(stored?.record.findings).toHaveLength(8);
    expect(stored?.record.indices).toEqual(wide.indices);
  });

  it('writes the page as one compressed item that expires with the journal; its problems are read from it', async () => {
    const ref = { scanId: 's', at: AT, shard: 0, page: 3 };
    await store.records.putPage(ref, [{ record: record('i-ok') }, problem('i-bad', 'CRITICAL', 1000)]);
    const page = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.journal('s', 0, 3) }));
    expect(page.Item).toMatchObject({ n: 2, r: expect.any(Uint8Array) });
    expect(page.Item?.ttl).toBe(Date.parse(AT) / 1000 + 3 * 86_400);
    const problems = await store.records.listProblemNodes('s', { limit: 10 }, 1);
    expect(problems.items.map((entry) => entry.nodeId)).toEqual(['i-bad']);
  });
});

describe('Records: problems and candidates', () => {
  it('merges the shards’ problems CRITICAL, ERROR, WARN, worst first, page by page', async () => {
    await store.scans.createScan(scan('p', AT, { status: 'RUNNING', shards: 3 }), []);
    const byShard: StoredRecord[][] = [
      [problem('i-w1', 'WARN', 950), problem('i-c1', 'CRITICAL', 990)],
      [problem('i-e1', 'ERROR', null), problem('i-c2', 'CRITICAL', 1000), problem('i-w2', 'WARN', 990)],
      [problem('i-c3', 'CRITICAL', 980), { record: record('i-ok') }],
    ];
    for (const [shard, records] of byShard.entries()) {
      await store.records.putPage({ scanId: 'p', at: AT, shard, page: 0 }, records);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listProblemNodes('p', cursor === undefined ? { limit: 2 } : { limit: 2, cursor });
      seen.push(...page.items.map((entry) => entry.nodeId));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(seen).toEqual(['i-c2', 'i-c1', 'i-c3', 'i-e1', 'i-w2', 'i-w1']);
  });

  it('reads back remediation candidates, worst first, only CRITICAL ones with a candidacy', async () => {
    const ref = { scanId: 'c', at: AT, shard: 0, page: 0 };
    const candidate = (nodeId: string, worst: number): StoredRecord => ({
      ...problem(nodeId, 'CRITICAL', worst),
      candidacy: { action: 'compact-node', numaNode: 1 },
    });
    await store.scans.createScan(scan('c', AT, { status: 'RUNNING' }), []);
    await store.records.putPage(ref, [
      candidate('i-2', 990),
      problem('i-lowmem', 'CRITICAL', 1000),
      candidate('i-1', 1000),
      problem('i-w', 'WARN', 999),
    ]);
    expect(await store.records.candidates('c', 1, 10)).toEqual([
      { nodeId: 'i-1', worstUnusableIndex: 1000, action: 'compact-node', numaNode: 1 },
      { nodeId: 'i-2', worstUnusableIndex: 990, action: 'compact-node', numaNode: 1 },
    ]);
    expect(await store.records.candidates('c', 1, 1)).toHaveLength(1);
  });
});

describe('Records: the problem list of a sealed scan', () => {
  it('is written once when the scan is sealed, in rank order, a chunk per item, and read page by page', async () => {
    // 70 problems over two shards and three pages, among OK nodes: three chunks of at most 32.
    const s = scan('ranked', AT, { shards: 2, nodes: 150, status: 'COMPLETED' });
    await store.scans.createScan(s, []);
    const statuses: NodeStatus[] = ['CRITICAL', 'ERROR', 'WARN'];
    const entries = Array.from({ length: 150 }, (_, index): StoredRecord => {
      const id = `i-${String(index).padStart(17, '0')}`;
      if (index % 15 >= 7) return { record: record(id) };
      const status = statuses[index % 3] as NodeStatus;
      return {
        ...problem(id, status, status === 'ERROR' ? null : 900 + (index % 100)),
        ...(status === 'CRITICAL' ? { candidacy: { action: 'compact' as const, numaNode: null } } : {}),
      };
    });
    await store.records.putPage({ scanId: 'ranked', at: AT, shard: 0, page: 0 }, entries.slice(0, 50));
    await store.records.putPage({ scanId: 'ranked', at: AT, shard: 0, page: 1 }, entries.slice(50, 100));
    await store.records.putPage({ scanId: 'ranked', at: AT, shard: 1, page: 0 }, entries.slice(100));
    const readAll = async () => {
      const seen: NodeRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listProblemNodes('ranked', cursor === undefined ? { limit: 9 } : { limit: 9, cursor });
        seen.push(...page.items);
        cursor = page.next;
      } while (cursor !== undefined);
      return seen;
    };
    const open = await readAll();
    const candidatesOpen = await store.records.candidates('ranked', 2, 100);

    const done = await sealed(s);
    await store.scans.markSealed('ranked', done.seal ?? { bits: 0, next: 1 });
    const chunks = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.problemPartition('ranked') },
      }),
    );
    expect(chunks.Items?.map((item) => item.n)).toEqual([32, 32, 6]);
    const afterSeal = await readAll();

    // The same problems, in the same order, whether read from the journal or from the sealed list.
    expect(open).toHaveLength(70);
    expect(afterSeal.map((r) => r.nodeId)).toEqual(open.map((r) => r.nodeId));
    const rank = { CRITICAL: 0, ERROR: 1, WARN: 2, OK: 3 } as const;
    const order = afterSeal.map((r) => [rank[r.status], -(r.worstUnusableIndex ?? -1)] as const);
    expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    expect(await store.records.candidates('ranked', 2, 100)).toEqual(candidatesOpen);
    expect(candidatesOpen).toHaveLength(afterSeal.filter((r) => r.status === 'CRITICAL').length);
    const errors = await store.listScanNodes('ranked', { limit: 100, status: ['ERROR'] });
    expect(errors.items.map((r) => r.nodeId)).toEqual(
      afterSeal.filter((r) => r.status === 'ERROR').map((r) => r.nodeId),
    );
  });
});

describe('Records: sealing into the node history', () => {
  it('moves every node of every shard into its bucket, once, and reads the scan back from the buckets', async () => {
    const s = scan('seal', AT, { shards: 2, nodes: 120 });
    await store.scans.createScan(s, []);
    const ids = Array.from({ length: 120 }, (_, index) => `i-${String(index).padStart(17, '0')}`);
    for (let page = 0; page < 2; page += 1) {
      await store.records.putPage(
        { scanId: 'seal', at: AT, shard: 0, page },
        ids.slice(page * 50, page * 50 + 50).map((id) => ({ record: record(id) })),
      );
    }
    // Shard 1 holds the rest, and one node shard 0 also listed (kept once).
    await store.records.putPage(
      { scanId: 'seal', at: AT, shard: 1, page: 0 },
      [...ids.slice(100), ids[0] as string].map((id) => ({ record: record(id) })),
    );
    const done = await sealed(s);
    await store.scans.markSealed('seal', done.seal ?? { bits: 0, next: 1 });
    expect(done.seal?.bits).toBe(2);
    const nodes: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listScanNodes('seal', cursor === undefined ? { limit: 33 } : { limit: 33, cursor });
      nodes.push(...page.items.map((entry) => entry.nodeId));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(nodes).toHaveLength(120);
    expect(new Set(nodes)).toEqual(new Set(ids));
    // Bucket by bucket, each node in the bucket its id hashes to.
    const buckets = nodes.map((id) => bucketOf(id, 2));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('reads an unsealed scan from its journal, page by page across shards, each node once', async () => {
    const s = scan('open', AT, { shards: 2, nodes: 170, status: 'RUNNING' });
    await store.scans.createScan(s, []);
    const ids = Array.from({ length: 170 }, (_, index) => `i-${String(index).padStart(17, '0')}`);
    for (let page = 0; page < 3; page += 1) {
      await store.records.putPage(
        { scanId: 'open', at: AT, shard: 0, page },
        ids.slice(page * 50, page * 50 + 50).map((id) => ({ record: record(id) })),
      );
    }
    await store.records.putPage(
      { scanId: 'open', at: AT, shard: 1, page: 0 },
      ids.slice(150).map((id) => ({ record: record(id) })),
    );
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listScanNodes('open', cursor === undefined ? { limit: 33 } : { limit: 33, cursor });
      pages.push(page.items.map((entry) => entry.nodeId));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(pages.map((page) => page.length)).toEqual([33, 33, 33, 33, 33, 5]);
    expect(pages.flat()).toEqual(ids);
  });

  it('seals a scan larger than a pass in passes of a range of buckets, each node once, the problems complete', async () => {
    // 300 nodes in 16 buckets (bits 4), passes of about 60 rows: 3 buckets a pass, the journal read once a pass.
    const small = db.store({ clock: { now: () => now.value }, sealRowsPerPass: 60 });
    const s = scan('passes', AT, { shards: 2, nodes: 300 });
    await small.scans.createScan(s, []);
    const ids = Array.from({ length: 300 }, (_, index) => `i-${String(index).padStart(17, '0')}`);
    const entry = (id: string, index: number): StoredRecord =>
      index % 10 === 0 ? problem(id, index % 20 === 0 ? 'CRITICAL' : 'WARN', 990) : { record: record(id) };
    for (let page = 0; page < 6; page += 1) {
      await small.records.putPage(
        { scanId: 'passes', at: AT, shard: page % 2, page: Math.floor(page / 2) },
        ids.slice(page * 50, page * 50 + 50).map((id, offset) => entry(id, page * 50 + offset)),
      );
    }
    const journalReads = spyOnQueries(small, 'JRNL#passes#0');
    const result = await small.records.seal(s, null, () => Number.POSITIVE_INFINITY);
    expect(result).toEqual({ done: true, progress: { bits: 4, next: 16 } });
    // ⌈16 / 3⌉ = 6 passes, each reading shard 0's journal once (its 3 pages in one Query page).
    expect(journalReads()).toBe(6);
    await small.scans.markSealed('passes', result.progress);
    const nodes: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await small.listScanNodes('passes', cursor === undefined ? { limit: 100 } : { limit: 100, cursor });
      nodes.push(...page.items.map((record) => record.nodeId));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(nodes.sort()).toEqual(ids);
    const problems = await small.listProblemNodes('passes', { limit: 100 });
    expect(problems.items).toHaveLength(30);
    expect(problems.items.slice(0, 15).every((record) => record.status === 'CRITICAL')).toBe(true);
  });

  it('resumes sealing where the deadline stopped it', async () => {
    const s = scan('slow', AT, { nodes: 1000 });
    const ids = Array.from({ length: 1000 }, (_, index) => `i-${String(index).padStart(17, '0')}`);
    for (let page = 0; page < 20; page += 1) {
      await store.records.putPage(
        { scanId: 'slow', at: AT, shard: 0, page },
        ids.slice(page * 50, page * 50 + 50).map((id) => ({ record: record(id) })),
      );
    }
    // Time left for the pass to start and one batch of 25 buckets to be written, none after.
    let looks = 0;
    const first = await store.records.seal(s, null, () => (looks++ < 2 ? 1_000 : 0));
    expect(first).toEqual({ done: false, progress: { bits: 5, next: 25 } });
    const rest = await store.records.seal(s, first.progress, () => Number.POSITIVE_INFINITY);
    expect(rest).toEqual({ done: true, progress: { bits: 5, next: 32 } });
    await store.scans.createScan(s, []);
    await store.scans.markSealed('slow', rest.progress);
    const all = await store.listScanNodes('slow', { limit: 1000 });
    expect(all.items).toHaveLength(1000);
  });

  it('answers one node’s history newest first from its own bucket, since a time, across layouts', async () => {
    // Three scans of 40 nodes, then the fleet grows to 300 (another layout), two scans more.
    const times = ['12:00', '12:15', '12:30', '12:45', '13:00'].map((hm) => `2025-03-01T${hm}:00.000Z`);
    const fleet = Array.from({ length: 300 }, (_, index) => `i-${String(index).padStart(17, '0')}`);
    for (const [n, at] of times.entries()) {
      const members = n < 3 ? fleet.slice(0, 40) : fleet;
      const s = scan(`h${n}`, at, { nodes: members.length });
      await store.scans.createScan(s, []);
      for (let page = 0; page * 50 < members.length; page += 1) {
        await store.records.putPage(
          { scanId: s.scanId, at, shard: 0, page },
          members.slice(page * 50, page * 50 + 50).map((id) => ({ record: record(id, { consecutiveBreaches: n }) })),
        );
      }
      const done = await sealed(s);
      await store.scans.markSealed(s.scanId, done.seal ?? { bits: 0, next: 1 });
    }
    const node = fleet[7] as string;
    const history = await store.nodeHistory(node, { limit: 10 });
    expect(history.items.map((entry) => [entry.scanId, entry.at, entry.consecutiveBreaches])).toEqual(
      [4, 3, 2, 1, 0].map((n) => [`h${n}`, times[n], n]),
    );
    const since = await store.nodeHistory(node, { limit: 10, since: times[2] as string });
    expect(since.items.map((entry) => entry.scanId)).toEqual(['h4', 'h3', 'h2']);
    // Two at a time, with a cursor, across the layout change.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.nodeHistory(node, cursor === undefined ? { limit: 2 } : { limit: 2, cursor });
      paged.push(...page.items.map((entry) => entry.scanId));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(paged).toEqual(['h4', 'h3', 'h2', 'h1', 'h0']);
    expect((await store.nodeHistory(fleet[200] as string, { limit: 10 })).items.map((entry) => entry.scanId)).toEqual([
      'h4',
      'h3',
    ]);
  });

  it('hands the collector each node’s record of the previous sealed scan', async () => {
    const s = scan('prev', AT, { nodes: 3 });
    await store.scans.createScan(s, []);
    await store.records.putPage(
      { scanId: 'prev', at: AT, shard: 0, page: 0 },
      ['i-1', 'i-2', 'i-3'].map((id) => ({ record: record(id, { host: `host-${id}` }) })),
    );
    const done = await sealed(s);
    await store.scans.markSealed('prev', done.seal ?? { bits: 0, next: 1 });
    const previous = await store.records.previousRecords({ ...s, sealed: true, seal: done.seal }, [
      'i-1',
      'i-3',
      'i-new',
    ]);
    expect([...previous.keys()].sort()).toEqual(['i-1', 'i-3']);
    expect(previous.get('i-3')?.host).toBe('host-i-3');
    expect(await store.records.previousRecords(s, ['i-1'])).toEqual(new Map());
  });
});

describe('Records: node names', () => {
  it('resolves a host name to the nodes that reported it, and takes ids as they are', async () => {
    await store.records.putPage(
      { scanId: 'n', at: AT, shard: 0, page: 0 },
      [{ record: record('i-0aaaaaaaaaaaaaaa1') }],
      {
        newHosts: [
          { nodeId: 'i-0aaaaaaaaaaaaaaa1', host: 'ip-10-0-210-114.ec2.internal' },
          { nodeId: 'mi-0bbbbbbbbbbbbbbb2', host: 'ip-10-0-210-114.ec2.internal' },
        ],
      },
    );
    expect(await store.resolveNode('ip-10-0-210-114.ec2.internal')).toEqual([
      'i-0aaaaaaaaaaaaaaa1',
      'mi-0bbbbbbbbbbbbbbb2',
    ]);
    expect(await store.resolveNode('ip-10-9-9-9.ec2.internal')).toEqual([]);
    expect(await store.resolveNode('i-0123456789abcdef0')).toEqual(['i-0123456789abcdef0']);
    // A node id of another shape (a replayed node, an on-premises id) is taken once fleetscan knows that node.
    expect(await store.resolveNode('web-1')).toEqual([]);
    await store.states.recordVerdict({
      nodeId: 'web-1',
      scanId: 'n',
      at: AT,
      previousBreaches: 0,
      consecutiveBreaches: 0,
    });
    expect(await store.resolveNode('web-1')).toEqual(['web-1']);
  });
});
