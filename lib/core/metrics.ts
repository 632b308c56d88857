/**
 * The kernel's fragmentation metrics, computed exactly as mm/vmstat.c does (fill_contig_page_info,
 * unusable_free_index, __fragmentation_index), as integer thousandths. Sums are done in BigInt so that wide
 * counts at high orders cannot lose precision before the kernel's integer divisions.
 */
import type { ZoneCounts } from './buddyinfo.ts';

/** The kernel's fragmentation index when a suitable block exists: the order-k request would succeed. */
export const SUITABLE_BLOCK_EXISTS = -1000;

/** An index in thousandths as the kernel's debugfs prints it: 998 → 0.998, −1000 → -1.000. */
export function formatThousandths(thousandths: number): string {
  return (thousandths / 1000).toFixed(3);
}

export interface ZoneMetrics {
  readonly node: number;
  readonly zone: string;
  readonly freeBlocks: readonly number[];
  /** F = Σ n[o]·2^o */
  readonly freePages: number;
  /** F × page size; null when the page size is unknown. */
  readonly freeBytes: number | null;
  /** Highest order with a free block; null when the zone has none. */
  readonly highestFreeOrder: number | null;
  /** suitableBlocks[k] = S_k = Σ_{o≥k} n[o]·2^(o−k): order-k blocks the free lists could hand out. */
  readonly suitableBlocks: readonly number[];
  /** unusableIndex[k] in thousandths: share of free memory in blocks smaller than order k. */
  readonly unusableIndex: readonly number[];
  /** fragmentationIndex[k] in thousandths; −1000 where a suitable block exists. */
  readonly fragmentationIndex: readonly number[];
}

export interface ContigInfo {
  readonly freePages: bigint;
  readonly freeBlocksTotal: bigint;
  readonly suitableBlocks: bigint;
}

/** mm/vmstat.c fill_contig_page_info() for one requested order. */
export function contigInfo(freeBlocks: readonly number[], order: number): ContigInfo {
  let freePages = 0n;
  let freeBlocksTotal = 0n;
  let suitableBlocks = 0n;
  freeBlocks.forEach((count, o) => {
    const blocks = BigInt(count);
    freeBlocksTotal += blocks;
    freePages += blocks << BigInt(o);
    if (o >= order) suitableBlocks += blocks << BigInt(o - order);
  });
  return { freePages, freeBlocksTotal, suitableBlocks };
}

/** mm/vmstat.c unusable_free_index(): ⌊(F − S·2^k)·1000 / F⌋, or 1000 when nothing is free. */
export function unusableFreeIndex(info: ContigInfo, order: number): number {
  if (info.freePages === 0n) return 1000;
  return Number(((info.freePages - (info.suitableBlocks << BigInt(order))) * 1000n) / info.freePages);
}

/** mm/vmstat.c __fragmentation_index(): 1000 − ⌊(1000 + ⌊F·1000/2^k⌋) / T⌋, −1000 when S > 0, 0 when T = 0. */
export function fragmentationIndex(info: ContigInfo, order: number): number {
  if (info.freeBlocksTotal === 0n) return 0;
  if (info.suitableBlocks > 0n) return SUITABLE_BLOCK_EXISTS;
  return Number(1000n - (1000n + (info.freePages * 1000n) / (1n << BigInt(order))) / info.freeBlocksTotal);
}

function toNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** All of a zone's metrics, for every order its row has. */
export function zoneMetrics(zone: ZoneCounts, pageSize: number | null): ZoneMetrics {
  const orders = zone.freeBlocks.map((_, order) => ({ order, info: contigInfo(zone.freeBlocks, order) }));
  const freePages = orders[0]?.info.freePages ?? 0n;
  let highestFreeOrder: number | null = null;
  zone.freeBlocks.forEach((count, order) => {
    if (count > 0) highestFreeOrder = order;
  });
  return {
    node: zone.node,
    zone: zone.zone,
    freeBlocks: zone.freeBlocks,
    freePages: toNumber(freePages),
    freeBytes: pageSize === null ? null : toNumber(freePages * BigInt(pageSize)),
    highestFreeOrder,
    suitableBlocks: orders.map(({ info }) => toNumber(info.suitableBlocks)),
    unusableIndex: orders.map(({ order, info }) => unusableFreeIndex(info, order)),
    fragmentationIndex: orders.map(({ order, info }) => fragmentationIndex(info, order)),
  };
}

/** Adds the counts of several zones order by order (a NUMA node's or a host's view). */
export function mergeCounts(zones: readonly ZoneCounts[]): number[] {
  const width = Math.max(0, ...zones.map((zone) => zone.freeBlocks.length));
  return Array.from({ length: width }, (_, order) =>
    toNumber(zones.reduce((sum, zone) => sum + BigInt(zone.freeBlocks[order] ?? 0), 0n)),
  );
}

export interface Summary {
  readonly zones: number;
  readonly freePages: number;
  readonly freeBytes: number | null;
  readonly highestFreeOrder: number | null;
  /** The same formulas over the zones' counts added together. */
  readonly unusableIndex: readonly number[];
  readonly fragmentationIndex: readonly number[];
}

function summarize(zones: readonly ZoneCounts[], pageSize: number | null): Summary {
  const merged = zoneMetrics({ node: -1, zone: '*', freeBlocks: mergeCounts(zones) }, pageSize);
  return {
    zones: zones.length,
    freePages: merged.freePages,
    freeBytes: merged.freeBytes,
    highestFreeOrder: merged.highestFreeOrder,
    unusableIndex: merged.unusableIndex,
    fragmentationIndex: merged.fragmentationIndex,
  };
}

export interface HostMetrics {
  readonly pageSize: number | null;
  readonly zones: ZoneMetrics[];
  readonly numaNodes: ({ readonly node: number } & Summary)[];
  readonly host: Summary;
}

/** Per-zone metrics in input order, per-NUMA-node summaries in node order, and the host summary. */
export function hostMetrics(zones: readonly ZoneCounts[], pageSize: number | null): HostMetrics {
  const nodeIds = [...new Set(zones.map((zone) => zone.node))].sort((a, b) => a - b);
  return {
    pageSize,
    zones: zones.map((zone) => zoneMetrics(zone, pageSize)),
    numaNodes: nodeIds.map((node) => ({
      node,
      ...summarize(
        zones.filter((zone) => zone.node === node),
        pageSize,
      ),
    })),
    host: summarize(zones, pageSize),
  };
}
