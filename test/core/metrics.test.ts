import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { hostMetrics, SUITABLE_BLOCK_EXISTS, zoneMetrics } from '../../lib/core/metrics.ts';

const sample = (name: string) =>
  parseBuddyinfo(readFileSync(join(import.meta.dirname, '../fixtures/buddyinfo', name), 'utf8'));
const normalZoneOf = (name: string) => {
  const zone = sample(name).find((candidate) => candidate.zone === 'Normal');
  if (zone === undefined) throw new Error(`${name} has no Normal zone`);
  return zone;
};

describe('Function: zoneMetrics (mm/vmstat.c formulas)', () => {
  // prometheus/procfs testdata, Normal zone: 4381 1093 185 1530 567 102 4 0 0 0 0
  // F = 4381 + 1093·2 + 185·4 + 1530·8 + 567·16 + 102·32 + 4·64 = 32139 pages; T = 7862 blocks
  const normal = normalZoneOf('01-procfs-fixture-x86-single-node.txt');

  it('counts free pages, free bytes and the highest free order', () => {
    const metrics = zoneMetrics(normal, 4096);
    expect(metrics.freePages).toBe(32139);
    expect(metrics.freeBytes).toBe(32139 * 4096);
    expect(metrics.highestFreeOrder).toBe(6);
  });

  it.each([
    // order 4: S = 567 + 102·2 + 4·4 = 787; unusable = ⌊(32139 − 787·16)·1000 / 32139⌋ = ⌊19547000/32139⌋ = 608
    { order: 4, suitable: 787, unusable: 608, fragmentation: SUITABLE_BLOCK_EXISTS },
    // order 6: S = 4; unusable = ⌊(32139 − 256)·1000 / 32139⌋ = ⌊31883000/32139⌋ = 992 — yet a block exists (the trap)
    { order: 6, suitable: 4, unusable: 992, fragmentation: SUITABLE_BLOCK_EXISTS },
    // order 7: S = 0; fragmentation = 1000 − ⌊(1000 + ⌊32139000/128⌋) / 7862⌋ = 1000 − ⌊252085/7862⌋ = 1000 − 32 = 968
    { order: 7, suitable: 0, unusable: 1000, fragmentation: 968 },
    // order 10: 1000 − ⌊(1000 + ⌊32139000/1024⌋) / 7862⌋ = 1000 − ⌊32385/7862⌋ = 1000 − 4 = 996
    { order: 10, suitable: 0, unusable: 1000, fragmentation: 996 },
    // order 0: every free page is usable
    { order: 0, suitable: 32139, unusable: 0, fragmentation: SUITABLE_BLOCK_EXISTS },
  ])('order $order: $suitable suitable blocks, unusable $unusable, fragmentation $fragmentation', (expected) => {
    const metrics = zoneMetrics(normal, 4096);
    expect(metrics.suitableBlocks[expected.order]).toBe(expected.suitable);
    expect(metrics.unusableIndex[expected.order]).toBe(expected.unusable);
    expect(metrics.fragmentationIndex[expected.order]).toBe(expected.fragmentation);
  });

  it('gives the fragmented vault sample (canonical/hotsos) its kernel numbers at order 9', () => {
    // Normal: 29196 20577 9900 5734 1915 349 53 3 0 0 0 → F = 201406, T = 67727, nothing at order ≥ 8
    // order 9: unusable 1000; fragmentation = 1000 − ⌊(1000 + ⌊201406000/512⌋) / 67727⌋ = 1000 − ⌊394371/67727⌋ = 995
    const metrics = zoneMetrics(normalZoneOf('18-hotsos-vault-fragmented-no-order8plus.txt'), 4096);
    expect(metrics.freePages).toBe(201406);
    expect(metrics.unusableIndex[9]).toBe(1000);
    expect(metrics.fragmentationIndex[9]).toBe(995);
    expect(metrics.unusableIndex[6]).toBe(981);
  });

  it('follows the kernel on an empty zone: unusable 1000, fragmentation 0, no highest order', () => {
    const metrics = zoneMetrics({ node: 0, zone: 'Movable', freeBlocks: [0, 0, 0, 0] }, null);
    expect(metrics.freePages).toBe(0);
    expect(metrics.freeBytes).toBeNull();
    expect(metrics.highestFreeOrder).toBeNull();
    expect(metrics.unusableIndex).toEqual([1000, 1000, 1000, 1000]);
    expect(metrics.fragmentationIndex).toEqual([0, 0, 0, 0]);
  });

  it('keeps integer precision for wide counts at high orders', () => {
    // 2^40 blocks of order 15 would overflow a double's integer range in F·1000 if done in Number
    const metrics = zoneMetrics({ node: 0, zone: 'Normal', freeBlocks: [...Array(15).fill(0), 2 ** 40] }, null);
    expect(metrics.unusableIndex[15]).toBe(0);
    expect(metrics.suitableBlocks[15]).toBe(2 ** 40);
  });

  it('agrees with a direct transcription of the C code for any small counts', () => {
    // The kernel's code, line by line with plain numbers (safe for these magnitudes).
    const kernel = (counts: number[], order: number) => {
      let freePages = 0;
      let total = 0;
      let suitable = 0;
      counts.forEach((n, o) => {
        total += n;
        freePages += n * 2 ** o;
        if (o >= order) suitable += n * 2 ** (o - order);
      });
      const unusable = freePages === 0 ? 1000 : Math.floor(((freePages - suitable * 2 ** order) * 1000) / freePages);
      const frag =
        total === 0
          ? 0
          : suitable > 0
            ? -1000
            : 1000 - Math.floor((1000 + Math.floor((freePages * 1000) / 2 ** order)) / total);
      return { unusable, frag };
    };
    fc.assert(
      fc.property(fc.array(fc.nat(100_000), { minLength: 1, maxLength: 16 }), (counts) => {
        const metrics = zoneMetrics({ node: 0, zone: 'Normal', freeBlocks: counts }, 4096);
        counts.forEach((_, order) => {
          const expected = kernel(counts, order);
          expect(metrics.unusableIndex[order]).toBe(expected.unusable);
          expect(metrics.fragmentationIndex[order]).toBe(expected.frag);
        });
      }),
    );
  });
});

describe('Function: hostMetrics', () => {
  it('summarizes per NUMA node and per host by adding counts order by order', () => {
    const zones = [
      { node: 0, zone: 'Normal', freeBlocks: [4, 0, 0] },
      { node: 1, zone: 'DMA32', freeBlocks: [0, 1, 0] },
      { node: 1, zone: 'Normal', freeBlocks: [0, 0, 1] },
    ];
    const metrics = hostMetrics(zones, 4096);
    expect(metrics.zones.map((zone) => zone.zone)).toEqual(['Normal', 'DMA32', 'Normal']);
    expect(metrics.numaNodes.map((node) => [node.node, node.zones, node.freePages])).toEqual([
      [0, 1, 4],
      [1, 2, 6],
    ]);
    // node 1 merged: 0 1 1 → F = 6; order 2: S = 1 → unusable ⌊(6 − 4)·1000/6⌋ = 333
    expect(metrics.numaNodes[1]?.unusableIndex[2]).toBe(333);
    // host merged: 4 1 1 → F = 10, order 2 unusable ⌊(10 − 4)·1000/10⌋ = 600; highest order 2
    expect(metrics.host.unusableIndex[2]).toBe(600);
    expect(metrics.host.highestFreeOrder).toBe(2);
    expect(metrics.host.freeBytes).toBe(10 * 4096);
  });
});
