/** Tallies of node records: what a shard's checkpoint carries and a scan's completion sums. */
import type { Changes, NodeStatus, SeverityCounts, StatusChange, StoredRecord, Tallies } from './ports.ts';

/** Status changes a scan lists by node (the rest are counted). */
export const MAX_LISTED_CHANGES = 20;

const NO_COUNTS: SeverityCounts = { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 };

export const NO_CHANGES: Changes = { newProblems: NO_COUNTS, recovered: 0, listed: [] };

export const NO_TALLIES: Tallies = {
  nodes: 0,
  counts: NO_COUNTS,
  worstUnusableIndex: null,
  candidates: 0,
  held: {},
  changes: NO_CHANGES,
};

function worst(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function add(a: SeverityCounts, b: SeverityCounts): SeverityCounts {
  return { OK: a.OK + b.OK, WARN: a.WARN + b.WARN, CRITICAL: a.CRITICAL + b.CRITICAL, ERROR: a.ERROR + b.ERROR };
}

function addReasons(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out = { ...a };
  for (const [reason, count] of Object.entries(b)) out[reason] = (out[reason] ?? 0) + count;
  return out;
}

/**
 * What a node's status change is news of: newly in trouble (OK or unseen → WARN/CRITICAL/ERROR; WARN or ERROR →
 * CRITICAL; WARN → ERROR), recovered (anything but OK → OK), or nothing (the same, or better but still in trouble,
 * or CRITICAL → ERROR: no news about it could be had).
 */
export function changeOf(from: NodeStatus | null, to: NodeStatus): 'new' | 'recovered' | null {
  if (to === 'OK') return from !== null && from !== 'OK' ? 'recovered' : null;
  if (from === null || from === 'OK') return 'new';
  if (to === 'CRITICAL') return from === 'CRITICAL' ? null : 'new';
  if (to === 'ERROR') return from === 'WARN' ? 'new' : null;
  return null;
}

function addChangeList(a: Changes, changes: readonly StatusChange[]): Changes {
  let { newProblems, recovered } = a;
  const listed = [...a.listed];
  for (const change of changes) {
    const kind = changeOf(change.from, change.status);
    if (kind === null) continue;
    if (kind === 'new') newProblems = { ...newProblems, [change.status]: newProblems[change.status] + 1 };
    else recovered += 1;
    if (listed.length < MAX_LISTED_CHANGES * 2) listed.push(change);
  }
  return { newProblems, recovered, listed };
}

function mergeChanges(a: Changes, b: Changes): Changes {
  return {
    newProblems: add(a.newProblems, b.newProblems),
    recovered: a.recovered + b.recovered,
    listed: [...a.listed, ...b.listed].slice(0, MAX_LISTED_CHANGES * 2),
  };
}

/** Adds a page's stored records, the CRITICAL ones no action suits (by why), and its nodes' status changes. */
export function addRecords(
  tallies: Tallies,
  stored: readonly StoredRecord[],
  extra: { readonly held?: Readonly<Record<string, number>>; readonly changes?: readonly StatusChange[] } = {},
): Tallies {
  const counts = { ...tallies.counts };
  let worstIndex = tallies.worstUnusableIndex;
  let candidates = tallies.candidates;
  for (const { record, candidacy } of stored) {
    counts[record.status] += 1;
    worstIndex = worst(worstIndex, record.worstUnusableIndex);
    if (candidacy !== undefined) candidates += 1;
  }
  return {
    nodes: tallies.nodes + stored.length,
    counts,
    worstUnusableIndex: worstIndex,
    candidates,
    held: addReasons(tallies.held, extra.held ?? {}),
    changes: addChangeList(tallies.changes, extra.changes ?? []),
  };
}

export function sumTallies(all: readonly Tallies[]): Tallies {
  return all.reduce(
    (sum, tallies) => ({
      nodes: sum.nodes + tallies.nodes,
      counts: add(sum.counts, tallies.counts),
      worstUnusableIndex: worst(sum.worstUnusableIndex, tallies.worstUnusableIndex),
      candidates: sum.candidates + tallies.candidates,
      held: addReasons(sum.held, tallies.held),
      changes: mergeChanges(sum.changes, tallies.changes),
    }),
    NO_TALLIES,
  );
}
