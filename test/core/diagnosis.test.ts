/**
 * Whether compaction can help, and the findings the counters add, on public samples (test/fixtures/pagetypeinfo/ and
 * test/fixtures/vmstat/, sources in their SOURCES.md):
 * - linux-mm 2015 (Gioh Kim): a driver's unmovable pages leave 59% of the free memory in unmovable/reclaimable
 *   pageblocks; its author found "compaction is not helpful because it is only for movable pages";
 * - kellyjonbrazil/jc and canonical/hotsos kubernetes: free memory mostly movable;
 * - linux-mm 2014 (David Rientjes): 64 direct compactions in 5 s, all failed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { compactionOutlook, counterFindings, zoneMobility } from '../../lib/core/diagnosis.ts';
import { DEFAULT_THRESHOLDS, evaluate } from '../../lib/core/policy.ts';
import { parsePagetypeinfo } from '../../lib/core/procfs/pagetypeinfo.ts';
import { parseVmstat } from '../../lib/core/procfs/vmstat.ts';
import { type CounterSample, counterRates } from '../../lib/core/rates.ts';

const read = (path: string) => readFileSync(join(import.meta.dirname, '../fixtures', path), 'utf8');
const pagetypes = (name: string) => parsePagetypeinfo(read(`pagetypeinfo/${name}`));
const vmstat = (name: string) => parseVmstat(read(`vmstat/${name}`));

const GIOH = {
  zones: parseBuddyinfo(read('pagetypeinfo/linux-mm-2015-unmovable-driver.buddyinfo')),
  pagetypes: pagetypes('linux-mm-2015-unmovable-driver.txt'),
};
const JC = {
  zones: parseBuddyinfo(read('buddyinfo/04-jc-fixture-normal-no-high-orders.txt')),
  pagetypes: pagetypes('jc-x86-1node.txt'),
};
const HOTSOS = {
  zones: parseBuddyinfo(read('buddyinfo/21-hotsos-kubernetes.txt')),
  pagetypes: pagetypes('hotsos-kubernetes.txt'),
};
/** Order 4 at 0.656 warns with this threshold, so that the 2015 node has a finding to explain. */
const WARN_AT_600 = { ...DEFAULT_THRESHOLDS, warnUnusableIndex: 600 };

function pair(before: Record<string, number>, after: Record<string, number>, seconds: number) {
  const base: CounterSample = {
    at: 0,
    bootId: '0f3e2d1c-4b5a-4978-8695-a4b3c2d1e0f9',
    uptimeSeconds: 1000,
    counters: before,
  };
  return counterRates(base, { ...base, uptimeSeconds: 1000 + seconds, at: seconds * 1000, counters: after });
}
const RIENTJES = pair(vmstat('linux-mm-2014-rientjes-baseline.txt'), vmstat('linux-mm-2014-rientjes-5s-later.txt'), 5);

describe('Function: zoneMobility', () => {
  it('measures the share of free memory compaction cannot use (59% in the 2015 unmovable-driver sample)', () => {
    const normal = GIOH.zones[0];
    expect(normal && zoneMobility(normal, GIOH.pagetypes)).toEqual({
      node: 0,
      zone: 'Normal',
      freePages: 27590,
      unmovablePages: 14752,
      reclaimablePages: 1614,
      immovablePercent: 59,
      lowerBound: false,
    });
  });

  it('is null for a zone pagetypeinfo does not list', () => {
    expect(zoneMobility({ node: 3, zone: 'Normal', freeBlocks: [1, 2] }, GIOH.pagetypes)).toBeNull();
  });
});

describe('Function: evaluate — compaction', () => {
  it('says compaction-futile, with drain-or-reboot advice, when free memory sits in unmovable pageblocks', () => {
    // Act
    const verdict = evaluate(GIOH, WARN_AT_600);

    // Assess
    expect(verdict.compaction.canHelp).toBe(false);
    expect(verdict.compaction.reasons[0]).toBe(
      "59% of node 0 Normal's free memory is in unmovable/reclaimable pageblocks, which compaction cannot empty or fill",
    );
    expect(verdict.findings.map((f) => f.code)).toEqual([
      'high-unusable-index',
      'high-unusable-index',
      'compaction-futile',
    ]);
    expect(verdict.level).toBe('WARN');
    expect(verdict.recommendation).toMatch(/^do not compact: drain the node .* or reboot it/);
  });

  it('does not tell a node with nothing wrong to drain, even when compaction could not help it', () => {
    const verdict = evaluate(GIOH);

    expect(verdict.level).toBe('OK');
    expect(verdict.compaction.canHelp).toBe(false);
    expect(verdict.findings).toEqual([]);
    expect(verdict.recommendation).toBeNull();
  });

  it.each([
    ['kellyjonbrazil/jc', JC, '2%'],
    ['canonical/hotsos kubernetes', HOTSOS, '22%'],
  ])('says compaction can help where free memory is mostly movable (%s)', (_name, sample, share) => {
    const verdict = evaluate(sample);

    expect(verdict.compaction).toEqual({
      canHelp: true,
      reasons: [`${share} of node 0 Normal's free memory is in unmovable/reclaimable pageblocks: the rest is movable`],
    });
  });

  it('has no opinion (null) without pagetypeinfo, as for a version-1 report', () => {
    expect(evaluate({ zones: HOTSOS.zones }).compaction).toEqual({
      canHelp: null,
      reasons: ['not enough evidence: no /proc/pagetypeinfo in the report'],
    });
  });

  it("judges compaction futile when the kernel's own compactions all failed since the previous scan (linux-mm 2014)", () => {
    const verdict = evaluate({ ...HOTSOS, rates: RIENTJES });

    expect(verdict.compaction.canHelp).toBe(false);
    expect(verdict.compaction.reasons[0]).toBe(
      "the kernel's direct compaction failed 64 of 64 times since the previous scan (5 s) (100%)",
    );
    expect(verdict.findings.map((f) => f.code)).toEqual(['compaction-stalling']);
  });

  it('leaves the verdict to pagetypeinfo when too few stalls happened to judge their failures', () => {
    const few = pair({ compact_stall: 100, compact_fail: 90 }, { compact_stall: 105, compact_fail: 95 }, 900);

    expect(evaluate({ ...HOTSOS, rates: few }).compaction.canHelp).toBe(true);
  });

  it('judges compaction futile after fleetscan’s own compactions had no effect twice in a row', () => {
    const verdict = evaluate({ ...HOTSOS, noEffectStreak: 2 });

    expect(verdict.compaction).toMatchObject({
      canHelp: false,
      reasons: ["fleetscan's last 2 compactions of this node had no effect", expect.stringContaining('22%')],
    });
  });

  it('says the node is short of memory rather than compaction-futile when MemAvailable is low', () => {
    const verdict = evaluate({ ...JC, memTotalKb: 4_000_000, memAvailableKb: 100_000 });

    expect(verdict.compaction.canHelp).toBe(false);
    expect(verdict.findings.map((f) => f.code)).not.toContain('compaction-futile');
  });
});

describe('Function: evaluate — counters and known cases', () => {
  it('reports compaction-stalling from the stall rate since the previous scan', () => {
    const [finding] = counterFindings(RIENTJES);

    expect(finding).toMatchObject({ code: 'compaction-stalling', delta: 64, perMinute: 768 });
    expect(finding?.message).toBe(
      'direct compaction stalled allocations 64 times since the previous scan (5 s) (768.0/min, 64 failed): the workload is paying for fragmentation now',
    );
  });

  it('reports reclaim-pressure from direct reclaim stalls (allocstall on a 3.6 kernel, 600 more in a minute)', () => {
    const before = vmstat('linux-mm-2013-kario-3.6.txt');
    const after = { ...before, allocstall: (before.allocstall ?? 0) + 600 };

    const verdict = evaluate({ ...JC, rates: pair(before, after, 60) });

    expect(verdict.level).toBe('WARN');
    expect(verdict.findings.map((f) => f.code)).toEqual(['reclaim-pressure']);
    expect(verdict.reasons[0]).toContain('600 times');
  });

  it('reports nothing from the counters on a first scan or after a counter reset', () => {
    expect(
      counterFindings(counterRates(null, { at: 0, bootId: null, uptimeSeconds: 1, counters: { compact_stall: 9 } })),
    ).toEqual([]);
  });

  it('names a known kernel case and turns it into the recommendation (veth on 5.15, docker/for-linux#1443)', () => {
    const verdict = evaluate({
      ...HOTSOS,
      kernel: '5.15.0-91-generic',
      allocFailures: {
        count: 1,
        maxOrder: 4,
        processes: [{ name: 'dockerd', order: 4 }],
        callSites: ['veth_alloc_queues[veth]', 'veth_dev_init[veth]', 'register_netdevice'],
      },
    });

    expect(verdict.findings.map((f) => f.code)).toEqual(['allocation-failures', 'known-kernel-issue']);
    expect(verdict.knownIssues.map((k) => k.id)).toEqual(['veth-queues']);
    expect(verdict.recommendation).toMatch(/^upgrade the kernel/);
  });

  it('returns a node to OK once its failures are older than the previous scan and its buddyinfo recovered', () => {
    const recovered = evaluate({
      ...HOTSOS,
      allocFailures: { count: 0, maxOrder: null, processes: [], callSites: [] },
    });
    const stillLogged = evaluate({ ...HOTSOS, allocFailures: { count: 3, maxOrder: 4 } });

    expect(recovered.level).toBe('OK');
    expect(stillLogged.findings.map((f) => f.code)).toEqual(['allocation-failures']);
  });
});

describe('Function: compactionOutlook', () => {
  it('reads a capped free-list count as a lower bound and says so', () => {
    const normal = { node: 0, zone: 'Normal', freeBlocks: [100, 0, 0, 0] };
    const capped = {
      types: ['Unmovable', 'Movable', 'Reclaimable'],
      zones: [
        {
          ...normal,
          blocks: {},
          freePages: { Unmovable: 80, Movable: 20, Reclaimable: 0 },
          cappedTypes: ['Unmovable'],
        },
      ],
    };

    const outlook = compactionOutlook({
      watchedZones: [normal],
      troubled: new Set(),
      pagetypes: capped,
      rates: null,
      noEffectStreak: 0,
      lowMemory: false,
    });

    expect(outlook.canHelp).toBe(false);
    expect(outlook.reasons[0]).toMatch(/^at least 80% of node 0 Normal/);
  });
});
