/**
 * The bench's DynamoDB meter: it counts what reaches the server (retries included), sizes items from the wire and
 * bills them by DynamoDB's rules. Item sizes are checked against the store's own size function and packed records
 * against the store's own codec, so two independent implementations must agree.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { itemSize, remediationItem } from '../../lib/adapters/dynamo/codec.ts';
import { packRows } from '../../lib/adapters/dynamo/packed.ts';
import { keys } from '../../lib/adapters/dynamo/schema.ts';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import {
  DynamoMeter,
  kindOf,
  packedRecords,
  readUnits,
  storedByKind,
  type WireItem,
  wireItemSize,
  writeCost,
} from './dynamo-meter.ts';

const S = (value: string) => ({ S: value });
/** A wire item of about `bytes` bytes, in the indexes whose names are given. */
function item(pk: string, sk: string, bytes: number, indexes: Record<string, [string, string]> = {}): WireItem {
  const out: WireItem = { pk: S(pk), sk: S(sk) };
  for (const [name, [ipk, isk]] of Object.entries(indexes)) {
    out[`${name}pk`] = S(ipk);
    out[`${name}sk`] = S(isk);
  }
  out.pad = S('x'.repeat(Math.max(0, bytes - wireItemSize(out) - 3)));
  return out;
}

describe('writeCost: DynamoDB write units of one item write', () => {
  it.each([
    ['a new item of 1.5 KB in no index', undefined, item('A', 'B', 1536), { table: 2, index: 0 }],
    [
      'a new item in two indexes',
      undefined,
      item('A', 'B', 300, { gsi1: ['x', 'y'], gsi2: ['p', 'q'] }),
      { table: 1, index: 2 },
    ],
    ['an overwrite billed on the larger of the two', item('A', 'B', 3000), item('A', 'B', 100), { table: 3, index: 0 }],
    [
      'an index key that changed: delete and put',
      item('A', 'B', 200, { gsi4: ['DUE', 't1'] }),
      item('A', 'B', 200, { gsi4: ['DUE', 't2'] }),
      { table: 1, index: 2 },
    ],
    [
      'an entry removed from an index',
      item('A', 'B', 200, { gsi4: ['DUE', 't1'] }),
      item('A', 'B', 150),
      { table: 1, index: 1 },
    ],
    [
      'an attribute the index does not project that changed: the table only',
      item('A', 'B', 200, { gsi2: ['S', 't'] }),
      item('A', 'B', 2100, { gsi2: ['S', 't'] }),
      { table: 3, index: 0 },
    ],
    [
      'a projected attribute (ttl) that changed',
      item('A', 'B', 200, { gsi2: ['S', 't'] }),
      { ...item('A', 'B', 200, { gsi2: ['S', 't'] }), ttl: { N: '1800000000' } },
      { table: 1, index: 1 },
    ],
    [
      'a new 3 KB item in an index: the index entry is its keys and ttl, one unit',
      undefined,
      item('A', 'B', 3000, { gsi4: ['DUE', 't1'] }),
      { table: 3, index: 1 },
    ],
    [
      'an entry that stayed the same',
      item('A', 'B', 200, { gsi2: ['S', 't'] }),
      item('A', 'B', 200, { gsi2: ['S', 't'] }),
      { table: 1, index: 0 },
    ],
  ] as const)('%s', (_name, before, after, expected) => {
    expect(writeCost(before, after)).toEqual(expected);
  });

  it('reads cost a unit per started 4 KB, half when eventually consistent, at least the minimum', () => {
    expect([readUnits(0, true), readUnits(4096, true), readUnits(4097, false), readUnits(10_000, false)]).toEqual([
      1, 1, 1, 1.5,
    ]);
  });
});

describe('kindOf and packedRecords: items named by their keys, packed records read without the store', () => {
  it('names each kind of the schema', () => {
    expect(
      [
        keys.journal('s', 0, 1),
        { pk: keys.problemPartition('s'), sk: keys.problemChunk('1#0000#i-1') },
        keys.history(4, 3, '2026-01-01T00:00:00.000Z', 's'),
        keys.host('web-1', 'i-1'),
        keys.layout(),
        keys.command('c'),
        keys.digest(),
        keys.scan('s'),
        keys.shard('s', 2),
        keys.remediation('s', 'i-1'),
        keys.nodeState('i-1'),
      ].map(kindOf),
    ).toEqual(['JRNL', 'PROB', 'HIST', 'HOST', 'LAYOUT', 'CMD', 'DIGEST', 'SCAN', 'SHARD', 'REM', 'STATE']);
  });

  it('reads the node ids and the scan of a journal page and a history bucket as the store packs them', () => {
    const rows = [
      ['i-0a', 'O'],
      ['i-0b', 'E'],
    ];
    const r = { B: Buffer.from(packRows(rows, [4, 6])).toString('base64') };
    const journal = { pk: S('JRNL#scan-1#0'), sk: S('P#000000'), r };
    const history = { pk: S('HIST#4#3'), sk: S('2026-01-01T00:00:00.000Z#scan-2'), r };
    expect(packedRecords(journal)).toEqual({ scanId: 'scan-1', nodeIds: ['i-0a', 'i-0b'] });
    expect(packedRecords(history)).toEqual({ scanId: 'scan-2', nodeIds: ['i-0a', 'i-0b'] });
    expect(packedRecords({ ...journal, r: { B: Buffer.from('not deflated').toString('base64') } })).toBeNull();
    expect(packedRecords({ pk: S('SCAN#s'), sk: S('META') })).toBeNull();
  });
});

describe('storedByKind: what a table holds, by lifetime', () => {
  it('splits items by TTL into journal-short, retained and standing, with their index copies', () => {
    const now = 1_800_000_000;
    const stored = storedByKind(
      [
        { ...item('JRNL#s#0', 'P#000000', 400), ttl: { N: String(now + 3 * 86_400) } },
        { ...item('HIST#4#1', 'at#s', 900), ttl: { N: String(now + 90 * 86_400) } },
        { ...item('SCAN#s', 'META', 500, { gsi2: ['SCANS', 'at#s'] }), ttl: { N: String(now + 90 * 86_400) } },
        item('NODE#i-1', 'STATE', 150),
      ],
      now,
    );
    const size = (pk: string, sk: string, bytes: number, extra: Record<string, unknown> = {}) =>
      wireItemSize({ ...item(pk, sk, bytes), ...(extra as WireItem) });
    expect(stored.short.JRNL).toEqual({
      items: 1,
      tableBytes: size('JRNL#s#0', 'P#000000', 400, { ttl: { N: String(now + 3 * 86_400) } }) + 100,
      indexBytes: 0,
    });
    expect(Object.keys(stored.retained).sort()).toEqual(['HIST', 'SCAN']);
    // The index holds the scan's keys, its index keys and ttl: a fraction of the 500 B item.
    const scanEntry = wireItemSize({
      pk: S('SCAN#s'),
      sk: S('META'),
      gsi2pk: S('SCANS'),
      gsi2sk: S('at#s'),
      ttl: { N: String(now + 90 * 86_400) },
    });
    expect(stored.retained.SCAN?.indexBytes).toBe(scanEntry + 100);
    expect(stored.standing.STATE?.items).toBe(1);
  });
});

describe('DynamoMeter', () => {
  let db: LocalTable;
  let meter: DynamoMeter;
  let doc: DynamoDBDocumentClient;
  beforeAll(async () => {
    db = await startDynalite();
    meter = await DynamoMeter.start(db.endpoint);
    doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: meter.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
  });
  beforeEach(() => meter.reset());
  afterAll(async () => {
    doc.destroy();
    await meter.close();
    await db.stop();
  });

  it('counts calls by operation and bills written items as the store sizes them', async () => {
    // Prepare: a journal page (no index) and a remediation record (in the byNode and byTime indexes).
    const journal = { ...keys.journal('s', 0, 0), n: 1, r: packRows([['i-0000000000000001a', 'O']], [4, 6]) };
    const remediation = remediationItem(
      {
        remediationId: 's:i-1',
        nodeId: 'i-0000000000000001a',
        scanId: 's',
        commandId: null,
        action: 'compact',
        numaNode: null,
        dryRun: true,
        requestedAt: '2025-03-01T12:00:00.000Z',
        status: 'PENDING',
      },
      90,
    );
    // Act
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [db.tableName]: [{ PutRequest: { Item: journal } }, { PutRequest: { Item: remediation } }] },
      }),
    );
    // Assess
    const seen = meter.snapshot();
    expect(seen.apiCalls).toEqual({ BatchWriteItem: 1 });
    expect(seen.writes.JRNL).toMatchObject({ writes: 1, bytes: itemSize(journal), tableUnits: 1, indexUnits: 0 });
    expect(seen.writes.REM).toMatchObject({ writes: 1, bytes: itemSize(remediation), tableUnits: 1, indexUnits: 2 });
    expect(seen.recordsWritten).toEqual({ JRNL: 1 });
  });

  it('bills an update on the larger of the item before and after, and its index entry moved as two writes', async () => {
    // Prepare: a 2.5 KB item on the due index.
    const key = keys.shard('update', 0);
    await doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: { ...key, gsi4pk: 'DUE', gsi4sk: 't1', big: 'x'.repeat(2500) },
      }),
    );
    meter.reset();
    // Act: the update shrinks it to a few bytes and moves its due entry.
    await doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: key,
        UpdateExpression: 'SET gsi4sk = :t REMOVE big',
        ExpressionAttributeValues: { ':t': 't2' },
      }),
    );
    // Assess: 3 units for the table (the 2.5 KB before); in the index (keys only), 1 to delete the old entry, 1 to put
    // the new.
    expect(meter.snapshot().writes.SHARD).toMatchObject({ writes: 1, tableUnits: 3, indexUnits: 2, single: 0 });
  });

  it('bills a write its condition refused on the item as it stands, and does not count its records', async () => {
    const page = {
      ...keys.journal('refused', 0, 0),
      n: 2,
      r: packRows([['i-1'], ['i-2']], [4, 6]),
      pad: 'y'.repeat(1500),
    };
    await doc.send(new PutCommand({ TableName: db.tableName, Item: page }));
    meter.reset();
    await expect(
      doc.send(
        new PutCommand({ TableName: db.tableName, Item: page, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    ).rejects.toThrow();
    const seen = meter.snapshot();
    expect(seen.writes.JRNL).toMatchObject({ writes: 0, refused: 1, tableUnits: 2 });
    expect(seen.errors).toEqual({ ConditionalCheckFailedException: 1 });
    expect(seen.recordsWritten).toEqual({});
    expect(seen.recordsRewritten).toEqual({});
  });

  it('counts a node record written again for the same scan as rewritten, across resets, and not for another scan', async () => {
    // Prepare
    const rows = [['i-a'], ['i-b'], ['i-c']];
    const page = (scanId: string) => ({ ...keys.journal(scanId, 0, 0), n: 3, r: packRows(rows, [4, 6]) });
    await doc.send(new PutCommand({ TableName: db.tableName, Item: page('first') }));
    meter.reset();
    // Act: the same page again (a retry that wrote without its condition), and the same nodes in another scan.
    await doc.send(new PutCommand({ TableName: db.tableName, Item: page('first') }));
    await doc.send(new PutCommand({ TableName: db.tableName, Item: page('second') }));
    // Assess
    const seen = meter.snapshot();
    expect(seen.recordsWritten).toEqual({ JRNL: 6 });
    expect(seen.recordsRewritten).toEqual({ JRNL: 3 });
  });

  it('bills reads: per item for gets (a missing one the minimum), over all items for a query', async () => {
    // Prepare: two 5 KB items in one partition.
    const big = 'z'.repeat(5000);
    for (const sk of ['a', 'b']) {
      await doc.send(new PutCommand({ TableName: db.tableName, Item: { pk: 'HOST#reads', sk, big } }));
    }
    meter.reset();
    // Act
    await doc.send(
      new GetCommand({ TableName: db.tableName, Key: { pk: 'HOST#reads', sk: 'a' }, ConsistentRead: true }),
    );
    await doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: 'HOST#reads', sk: 'none' } }));
    await doc.send(
      new BatchGetCommand({
        RequestItems: {
          [db.tableName]: {
            Keys: [
              { pk: 'HOST#reads', sk: 'b' },
              { pk: 'HOST#reads', sk: 'missing' },
            ],
          },
        },
      }),
    );
    await doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'HOST#reads' },
      }),
    );
    // Assess: 2 (5 KB, strong) + 0.5 (missing, eventual); 1 + 0.5 (eventual); ⌈10 KB / 4 KB⌉ × 0.5.
    expect(meter.snapshot().reads).toEqual({
      'GetItem HOST': { requests: 2, items: 1, units: 2.5 },
      'BatchGetItem HOST': { requests: 1, items: 1, units: 1.5 },
      'Query HOST': { requests: 1, items: 2, units: 1.5 },
    });
  });
});
