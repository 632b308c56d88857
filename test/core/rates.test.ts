/**
 * Counters as rates, on real pairs of /proc/vmstat samples where there are public ones (test/fixtures/vmstat/SOURCES.md):
 * David Rientjes' two readings 5 s apart while 64 THP faults each stalled in direct compaction and failed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseVmstat } from '../../lib/core/procfs/vmstat.ts';
import { allocstalls, type CounterSample, counterRates, sampleOf } from '../../lib/core/rates.ts';

const vmstat = (name: string) =>
  parseVmstat(readFileSync(join(import.meta.dirname, '../fixtures/vmstat', name), 'utf8'));
const BOOT = '0f3e2d1c-4b5a-4978-8695-a4b3c2d1e0f9';
const OTHER_BOOT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const sample = (counters: Record<string, number>, over: Partial<CounterSample> = {}): CounterSample => ({
  at: 1_700_000_000_000,
  bootId: BOOT,
  uptimeSeconds: 1000,
  counters,
  ...over,
});

describe('Function: counterRates', () => {
  it('gives no rate for the first sample of a node', () => {
    const rates = counterRates(null, sample(vmstat('linux-mm-2014-rientjes-baseline.txt')));
    expect(rates).toMatchObject({ basis: 'first-sample', elapsedSeconds: null, deltas: {}, perMinute: {} });
  });

  it('turns two samples of the same boot into deltas and per-minute rates (linux-mm 2014, 5 s apart)', () => {
    // Prepare
    const before = sample(vmstat('linux-mm-2014-rientjes-baseline.txt'), { uptimeSeconds: 1000 });
    const after = sample(vmstat('linux-mm-2014-rientjes-5s-later.txt'), { uptimeSeconds: 1005, at: before.at + 5000 });

    // Act
    const rates = counterRates(before, after);

    // Assess
    expect(rates.basis).toBe('same-boot');
    expect(rates.elapsedSeconds).toBe(5);
    expect(rates.deltas).toEqual({ compact_stall: 64, compact_fail: 64, compact_success: 0 });
    expect(rates.perMinute.compact_stall).toBeCloseTo(768, 6);
  });

  it('prefers the node’s uptime to the scan times, and falls back to the scan times without it', () => {
    const before = sample({ compact_stall: 10 }, { uptimeSeconds: null });
    const after = sample({ compact_stall: 70 }, { uptimeSeconds: null, at: before.at + 900_000 });

    expect(counterRates(before, after)).toMatchObject({ elapsedSeconds: 900, perMinute: { compact_stall: 4 } });
  });

  it('runs the rates from boot when the boot id changed (a reboot between scans)', () => {
    const before = sample({ compact_stall: 5000, compact_fail: 4000 }, { uptimeSeconds: 90_000 });
    const after = sample({ compact_stall: 12, compact_fail: 3 }, { bootId: OTHER_BOOT, uptimeSeconds: 600 });

    const rates = counterRates(before, after);

    expect(rates.basis).toBe('since-boot');
    expect(rates.elapsedSeconds).toBe(600);
    expect(rates.deltas).toEqual({ compact_stall: 12, compact_fail: 3 });
    expect(rates.note).toContain('boot id changed');
  });

  it('detects a reboot from counters going down when no boot id was reported', () => {
    const before = sample({ compact_stall: 5000 }, { bootId: null, uptimeSeconds: null });
    const after = sample({ compact_stall: 7 }, { bootId: null, uptimeSeconds: 300 });

    expect(counterRates(before, after)).toMatchObject({ basis: 'since-boot', deltas: { compact_stall: 7 } });
  });

  it('gives no rate when counters went down within one boot, or a reboot without a known uptime', () => {
    const sameBoot = counterRates(sample({ compact_stall: 10 }), sample({ compact_stall: 9 }, { uptimeSeconds: 1100 }));
    const noUptime = counterRates(
      sample({ compact_stall: 10 }),
      sample({ compact_stall: 2 }, { bootId: OTHER_BOOT, uptimeSeconds: null }),
    );

    expect(sameBoot).toMatchObject({ basis: 'reset', deltas: {} });
    expect(noUptime).toMatchObject({ basis: 'reset', deltas: {} });
  });

  it('never gives a negative rate, whatever two samples it is given', () => {
    const counters = fc.dictionary(fc.constantFrom('compact_stall', 'compact_fail', 'allocstall_normal'), fc.nat());
    const node = fc.record({
      at: fc.nat(),
      bootId: fc.constantFrom(BOOT, OTHER_BOOT, null),
      uptimeSeconds: fc.option(fc.nat()),
      counters,
    });
    fc.assert(
      fc.property(node, node, (previous, current) => {
        const rates = counterRates(previous, current);
        for (const value of [...Object.values(rates.deltas), ...Object.values(rates.perMinute)]) {
          expect(value).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('Function: sampleOf and allocstalls', () => {
  it('takes no sample from a report without vmstat (v1)', () => {
    expect(sampleOf({ vmstat: null }, 0)).toBeNull();
    expect(sampleOf({ vmstat: { compact_stall: 1 }, bootId: BOOT, uptimeSeconds: 5 }, 7)).toEqual({
      at: 7,
      bootId: BOOT,
      uptimeSeconds: 5,
      counters: { compact_stall: 1 },
    });
  });

  it('adds the per-zone allocstall counters, or reads the single old one', () => {
    expect(allocstalls(vmstat('hotsos-kubernetes.txt'))).toBe(0);
    expect(allocstalls(vmstat('linux-mm-2013-kario-3.6.txt'))).toBe(7647697);
    expect(allocstalls({ allocstall_normal: 3, allocstall_movable: 4, compact_stall: 9 })).toBe(7);
    expect(allocstalls({ compact_stall: 9 })).toBeNull();
  });
});
