import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuddyinfo, type ZoneCounts } from '../../lib/core/buddyinfo.ts';
import { DEFAULT_THRESHOLDS, evaluate, type PolicyInput, type Thresholds } from '../../lib/core/policy.ts';

const sample = (name: string) =>
  parseBuddyinfo(readFileSync(join(import.meta.dirname, '../fixtures/buddyinfo', name), 'utf8'));
const normal = (freeBlocks: number[], node = 0): ZoneCounts => ({ node, zone: 'Normal', freeBlocks });
const pad11 = (head: number[]) => [...head, ...Array(11 - head.length).fill(0)];

// Free memory in order-0..3 blocks only: an order-4 request fails although 20,000+ pages are free.
const FRAGMENTED = pad11([8000, 4000, 1000, 200]);
// A host with almost nothing free: one order-0 and one order-1 block (fragmentation index 0.407 at order 4).
const EXHAUSTED = pad11([1, 1]);
const HEALTHY = pad11([500, 400, 300, 200, 150, 100, 80, 60, 40, 20, 10]);

describe('Function: evaluate', () => {
  const cases: {
    name: string;
    input: PolicyInput;
    thresholds?: Partial<Thresholds>;
    level: 'OK' | 'WARN' | 'CRITICAL';
    cause: 'fragmentation' | 'low-memory' | null;
    codes: string[];
    consecutiveBreaches: number;
  }[] = [
    {
      name: 'a healthy host (canonical/hotsos ceph-mon sample)',
      input: { zones: sample('19-hotsos-ceph-mon-healthy.txt') },
      level: 'OK',
      cause: null,
      codes: [],
      consecutiveBreaches: 0,
    },
    {
      name: 'a first fragmentation breach: WARN until the breach repeats',
      input: { zones: [normal(FRAGMENTED)], previousBreaches: 0 },
      level: 'WARN',
      cause: 'fragmentation',
      codes: ['no-suitable-block', 'no-suitable-block'],
      consecutiveBreaches: 1,
    },
    {
      name: 'a second fragmentation breach in a row: CRITICAL',
      input: { zones: [normal(FRAGMENTED)], previousBreaches: 1 },
      level: 'CRITICAL',
      cause: 'fragmentation',
      codes: ['no-suitable-block', 'no-suitable-block'],
      consecutiveBreaches: 2,
    },
    {
      name: 'a breach with hysteresis off: CRITICAL at once',
      input: { zones: [normal(FRAGMENTED)] },
      thresholds: { consecutiveBreachesForCritical: 1 },
      level: 'CRITICAL',
      cause: 'fragmentation',
      codes: ['no-suitable-block', 'no-suitable-block'],
      consecutiveBreaches: 1,
    },
    {
      name: 'nothing free at all: the kernel index says lack of memory, not fragmentation',
      input: { zones: [normal(EXHAUSTED)], previousBreaches: 5 },
      level: 'CRITICAL',
      cause: 'low-memory',
      codes: ['no-suitable-block', 'no-suitable-block'],
      consecutiveBreaches: 6,
    },
    {
      name: 'the trap: unusable 0.999 but one order-4 block left (fragmentation index −1.000)',
      input: { zones: [normal(pad11([2_000_000, 0, 0, 0, 1]))], previousBreaches: 1 },
      level: 'CRITICAL',
      cause: 'fragmentation',
      codes: ['no-suitable-block', 'few-suitable-blocks'],
      consecutiveBreaches: 2,
    },
    {
      name: 'unusable 0.999 with one order-10 block: plenty of order-4/6 blocks by splitting, still a warning',
      input: { zones: [normal(pad11([2_000_000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))] },
      level: 'WARN',
      cause: 'fragmentation',
      codes: ['high-unusable-index', 'high-unusable-index'],
      consecutiveBreaches: 0,
    },
    {
      name: 'a breach that clears resets the count',
      input: { zones: [normal(HEALTHY)], previousBreaches: 4 },
      level: 'OK',
      cause: null,
      codes: [],
      consecutiveBreaches: 0,
    },
    {
      name: 'fragmented but MemAvailable under 5%: compaction cannot help',
      input: { zones: [normal(FRAGMENTED)], previousBreaches: 1, memTotalKb: 8_000_000, memAvailableKb: 200_000 },
      level: 'CRITICAL',
      cause: 'low-memory',
      codes: ['no-suitable-block', 'no-suitable-block', 'low-available-memory'],
      consecutiveBreaches: 2,
    },
    {
      name: 'healthy indices but the kernel log shows order-4 allocation failures',
      input: { zones: [normal(HEALTHY)], allocFailures: { count: 2, maxOrder: 4 } },
      level: 'WARN',
      cause: null,
      codes: ['allocation-failures'],
      consecutiveBreaches: 0,
    },
    {
      name: 'order-1 allocation failures are below the watched orders',
      input: { zones: [normal(HEALTHY)], allocFailures: { count: 9, maxOrder: 1 } },
      level: 'OK',
      cause: null,
      codes: [],
      consecutiveBreaches: 0,
    },
    {
      name: 'the fragmented vault sample (canonical/hotsos): high unusable index at order 6',
      input: { zones: sample('18-hotsos-vault-fragmented-no-order8plus.txt') },
      level: 'WARN',
      cause: 'fragmentation',
      codes: ['high-unusable-index'],
      consecutiveBreaches: 0,
    },
  ];

  it.each(cases)('$name → $level', ({ input, thresholds, level, cause, codes, consecutiveBreaches }) => {
    // Act
    const verdict = evaluate(input, { ...DEFAULT_THRESHOLDS, ...thresholds });
    // Assess
    expect(verdict.level).toBe(level);
    expect(verdict.cause).toBe(cause);
    expect(verdict.findings.map((finding) => finding.code)).toEqual(codes);
    expect(verdict.consecutiveBreaches).toBe(consecutiveBreaches);
    expect(verdict.reasons.length).toBeGreaterThanOrEqual(codes.length);
  });

  it('says how many more breaches it takes before CRITICAL', () => {
    const verdict = evaluate(
      { zones: [normal(FRAGMENTED)] },
      { ...DEFAULT_THRESHOLDS, consecutiveBreachesForCritical: 3 },
    );
    expect(verdict.reasons).toContain('breach 1 of 3: CRITICAL after 2 more');
  });

  it('names the zone, order and indices in its reasons', () => {
    const verdict = evaluate({ zones: [normal(FRAGMENTED)], previousBreaches: 1 });
    expect(verdict.reasons[0]).toMatch(
      /^node 0 Normal order [46]: no free block of order ≥[46] \(unusable 1\.000, fragmentation index 0\.\d{3}: fragmentation\)$/,
    );
  });

  it('judges DMA32 where a host has no Normal zone', () => {
    const zones = [
      { node: 0, zone: 'DMA', freeBlocks: pad11([1, 1]) },
      { node: 0, zone: 'DMA32', freeBlocks: FRAGMENTED },
    ];
    const verdict = evaluate({ zones, previousBreaches: 1 });
    expect(verdict.watchedZones).toEqual(['DMA32']);
    expect(verdict.findings.every((finding) => finding.zone === 'DMA32')).toBe(true);
    expect(verdict.level).toBe('CRITICAL');
  });

  it('ignores DMA32 when Normal exists, however fragmented DMA32 is', () => {
    const zones = [
      { node: 0, zone: 'DMA32', freeBlocks: FRAGMENTED },
      { node: 0, zone: 'Normal', freeBlocks: HEALTHY },
    ];
    expect(evaluate({ zones }).level).toBe('OK');
  });

  it('lists the NUMA nodes with a fragmentation breach, for per-node compaction', () => {
    const zones = [normal(HEALTHY, 0), normal(FRAGMENTED, 1), normal(HEALTHY, 2)];
    const verdict = evaluate({ zones, previousBreaches: 1 });
    expect(verdict.fragmentedNumaNodes).toEqual([1]);
  });

  it('skips watched orders a row does not have', () => {
    const verdict = evaluate({ zones: [normal([10, 10, 10])] });
    expect(verdict.level).toBe('OK');
    expect(verdict.worstUnusableIndex).toBeNull();
  });

  it('reports the worst indices over the watched zones and orders', () => {
    const verdict = evaluate({ zones: sample('01-procfs-fixture-x86-single-node.txt') });
    // Normal zone (hand-computed in metrics.test.ts): unusable 608 at order 4, 992 at order 6
    expect(verdict.worstUnusableIndex).toBe(992);
    expect(verdict.worstFragmentationIndex).toBe(-1000);
  });
});
