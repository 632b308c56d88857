/**
 * What a sealing pass holds per node, measured: the journal rows of a real run unpacked and held as
 * `DynamoNodeRecordStore.seal` holds them (one entry per node: its row, the orders, the node id), the heap they
 * take after a full garbage collection. The 1,000,000-node model multiplies it by the rows a pass holds at most.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rowNode, unpackRows } from '../../lib/adapters/dynamo/packed.ts';
import { kindOf, type WireItem } from './dynamo-meter.ts';

/** Rows held for the measurement: enough that the heap's own noise is under 1 %. */
const MEASURED_ROWS = 50_000;

function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Heap bytes per node a sealing pass holds, from the run's journal items (null when it has none). */
export function sealHeapBytesPerRow(items: readonly WireItem[]): number | null {
  const journal = items
    .filter((item) => kindOf({ pk: item.pk?.S, sk: item.sk?.S }) === 'JRNL')
    .map((item) => item.r?.B)
    .filter((bytes): bytes is Uint8Array => bytes instanceof Uint8Array);
  if (journal.length === 0) return null;
  const gc = collector();
  gc();
  const before = process.memoryUsage().heapUsed;
  const held: { row: readonly unknown[]; orders: number[]; nodeId: string; ok: boolean }[] = [];
  for (let next = 0; held.length < MEASURED_ROWS; next += 1) {
    const { orders, rows } = unpackRows(journal[next % journal.length] as Uint8Array);
    for (const row of rows) {
      const node = rowNode(row);
      if (node !== null) held.push({ row, orders, nodeId: node.nodeId, ok: node.ok });
    }
  }
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / held.length;
  held.length = 0;
  return bytes;
}
