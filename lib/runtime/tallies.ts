/** Tallies of node records: what a shard's checkpoint carries and a scan's completion sums. */
import type { NodeRecord, StoredRecord, Tallies } from './ports.ts';

export const NO_TALLIES: Tallies = {
  nodes: 0,
  counts: { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 },
  worstUnusableIndex: null,
  candidates: 0,
};

function worst(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

export function addRecords(tallies: Tallies, stored: readonly StoredRecord[]): Tallies {
  const counts = { ...tallies.counts };
  let worstIndex = tallies.worstUnusableIndex;
  let candidates = tallies.candidates;
  for (const { record, candidacy } of stored) {
    counts[record.status] += 1;
    worstIndex = worst(worstIndex, record.worstUnusableIndex);
    if (candidacy !== undefined) candidates += 1;
  }
  return { nodes: tallies.nodes + stored.length, counts, worstUnusableIndex: worstIndex, candidates };
}

export function sumTallies(all: readonly Tallies[]): Tallies {
  return all.reduce(
    (sum, tallies) => ({
      nodes: sum.nodes + tallies.nodes,
      counts: {
        OK: sum.counts.OK + tallies.counts.OK,
        WARN: sum.counts.WARN + tallies.counts.WARN,
        CRITICAL: sum.counts.CRITICAL + tallies.counts.CRITICAL,
        ERROR: sum.counts.ERROR + tallies.counts.ERROR,
      },
      worstUnusableIndex: worst(sum.worstUnusableIndex, tallies.worstUnusableIndex),
      candidates: sum.candidates + tallies.candidates,
    }),
    NO_TALLIES,
  );
}

/** Records' tallies from scratch. */
export function talliesOf(records: readonly NodeRecord[]): Tallies {
  return addRecords(
    NO_TALLIES,
    records.map((record) => ({ record })),
  );
}
