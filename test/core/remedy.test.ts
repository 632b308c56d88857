/** The action chooser and the effect judge (lib/core/remedy.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { DEFAULT_THRESHOLDS, evaluate, type PolicyInput } from '../../lib/core/policy.ts';
import { parsePagetypeinfo } from '../../lib/core/procfs/pagetypeinfo.ts';
import { allowedActionsFor, chooseAction, judgeEffect } from '../../lib/core/remedy.ts';
import { parseGatherReport, parseRemediationReport, type RemediationReport } from '../../lib/core/report.ts';

const read = (path: string) => readFileSync(join(import.meta.dirname, '../fixtures', path), 'utf8');
const ALL = ['drop-caches', 'compact', 'compact-node', 'drop-caches-and-compact'] as const;

function choose(input: PolicyInput, allowed: readonly (typeof ALL)[number][], thresholds = DEFAULT_THRESHOLDS) {
  const verdict = evaluate(input, thresholds);
  return chooseAction({
    verdict,
    report: { memFreeKb: null, pagetypes: null, memTotalKb: null, memAvailableKb: null, ...input },
    allowed,
    thresholds,
  });
}

describe('Function: chooseAction', () => {
  it('compacts the one fragmented NUMA node (two-node report: node 0 Normal has no order-4 block)', () => {
    const report = parseGatherReport(read('reports/gather-2numa.txt'));

    expect(choose(report, allowedActionsFor('compact-node'))).toEqual({
      action: 'compact-node',
      numaNode: 0,
      reason: 'only NUMA node 0 is fragmented',
      recommendation: null,
    });
  });

  it('compacts every node when several are fragmented', () => {
    const zones = parseBuddyinfo('Node 0, zone Normal 900 80 0 0 0 0 0\nNode 1, zone Normal 900 80 0 0 0 0 0\n');

    expect(choose({ zones }, ALL)).toMatchObject({ action: 'compact', numaNode: null });
  });

  it('does nothing and says drain or reboot when free memory sits in unmovable pageblocks (linux-mm 2015)', () => {
    const input = {
      zones: parseBuddyinfo(read('pagetypeinfo/linux-mm-2015-unmovable-driver.buddyinfo')),
      pagetypes: parsePagetypeinfo(read('pagetypeinfo/linux-mm-2015-unmovable-driver.txt')),
    };

    const choice = choose(input, ALL, { ...DEFAULT_THRESHOLDS, warnUnusableIndex: 600 });

    expect(choice.action).toBeNull();
    expect(choice.reason).toMatch(/^compaction cannot help: 59% of node 0 Normal's free memory/);
    expect(choice.recommendation).toMatch(/drain the node/);
  });

  it('frees slab first (drop-caches-and-compact) when the free memory sits in reclaimable pageblocks', () => {
    const zones = parseBuddyinfo('Node 0, zone Normal 900 80 0 0 0 0 0\n');
    const pagetypes = {
      types: ['Unmovable', 'Movable', 'Reclaimable'],
      zones: [
        {
          node: 0,
          zone: 'Normal',
          blocks: {},
          freePages: { Unmovable: 60, Movable: 700, Reclaimable: 300 },
          cappedTypes: [],
        },
      ],
    };

    expect(choose({ zones, pagetypes }, ALL)).toMatchObject({ action: 'drop-caches-and-compact', numaNode: 0 });
    expect(choose({ zones, pagetypes }, ['compact'])).toMatchObject({ action: 'compact' });
  });

  it('drops caches when a lack of free memory, not fragmentation, blocks the order and page cache is reclaimable', () => {
    // Normal has one free page: the fragmentation index says lack of memory, while 7 of 16 GiB are reclaimable cache.
    const input = {
      zones: parseBuddyinfo('Node 0, zone Normal 1 0 0 0 0 0 0 0 0 0 0\n'),
      memTotalKb: 16_000_000,
      memAvailableKb: 8_000_000,
      memFreeKb: 1_000_000,
    };

    expect(choose(input, ALL)).toMatchObject({ action: 'drop-caches', numaNode: null });
    expect(choose(input, allowedActionsFor('compact-node'))).toMatchObject({
      action: null,
      recommendation: expect.stringContaining('allow drop-caches'),
    });
  });

  it('does nothing and passes on the advice when a known kernel case explains the failures', () => {
    const report = parseGatherReport(read('reports/gather-2numa.txt'));
    const input = {
      ...report,
      kernel: '3.10.0-1160.el7.x86_64',
      allocFailures: {
        count: 1,
        maxOrder: 4,
        processes: [{ name: 'runc:[1:CHILD]', order: 4 }],
        callSites: ['nf_conntrack_init_net[nf_conntrack]'],
      },
    };

    const choice = choose(input, ALL);

    expect(choice.action).toBeNull();
    expect(choice.recommendation).toMatch(/^upgrade the kernel/);
  });

  it('does nothing for an OK node, and says so when the allowed actions do not fit', () => {
    const healthy = parseBuddyinfo(read('buddyinfo/19-hotsos-ceph-mon-healthy.txt'));
    const report = parseGatherReport(read('reports/gather-2numa.txt'));

    expect(choose({ zones: healthy }, ALL)).toMatchObject({ action: null, reason: 'the node is OK' });
    expect(choose(report, ['drop-caches'])).toMatchObject({
      action: null,
      recommendation: expect.stringContaining('allowedActions'),
    });
  });
});

describe('Function: allowedActionsFor', () => {
  it('lets compact-node fall back to compact, and nothing else', () => {
    expect(allowedActionsFor('compact-node')).toEqual(['compact-node', 'compact']);
    expect(allowedActionsFor('drop-caches')).toEqual(['drop-caches']);
  });
});

function remediation(before: number[], after: number[], over: Partial<RemediationReport> = {}): RemediationReport {
  return {
    host: 'node-a',
    pageSize: 4096,
    action: 'drop-caches',
    numaNode: null,
    dryRun: false,
    steps: [{ name: 'drop-caches', result: 'ok' }],
    before: [{ node: 0, zone: 'Normal', freeBlocks: before }],
    after: [{ node: 0, zone: 'Normal', freeBlocks: after }],
    ...over,
  };
}
const ORDER_4 = { ...DEFAULT_THRESHOLDS, orders: [4] };

describe('Function: judgeEffect', () => {
  it('calls a compaction that raised the blocks and lowered the index improved (compact-node report)', () => {
    const judged = judgeEffect(parseRemediationReport(read('reports/remediate-compact-node.txt')), DEFAULT_THRESHOLDS);

    expect(judged).toMatchObject({ effect: 'improved', countsAsNoEffect: false, order: 6 });
    expect(judged.before?.suitableBlocks).toBeLessThan(judged.after?.suitableBlocks ?? 0);
  });

  it('calls drop-caches no-effect when the blocks rose but the index got worse (0.098 → 0.112)', () => {
    // 1568 single pages and 902 order-4 blocks; after dropping caches, 1837 and 910.
    const judged = judgeEffect(
      remediation([1568, 0, 0, 0, 902, 0, 0, 0, 0, 0, 0], [1837, 0, 0, 0, 910, 0, 0, 0, 0, 0, 0]),
      ORDER_4,
    );

    expect(judged).toEqual({
      effect: 'no-effect',
      countsAsNoEffect: true,
      order: 4,
      before: { suitableBlocks: 902, unusableIndex: 98 },
      after: { suitableBlocks: 910, unusableIndex: 112 },
      reason:
        'mixed: more blocks, but a larger share of free memory is unusable (order 4: 902 → 910 blocks, unusable 0.098 → 0.112)',
    });
  });

  it('calls fewer blocks and a higher index worse, which counts towards the no-effect streak', () => {
    const judged = judgeEffect(remediation([100, 0, 0, 0, 50], [300, 0, 0, 0, 40]), ORDER_4);
    expect(judged).toMatchObject({ effect: 'worse', countsAsNoEffect: true });
  });

  it('calls an unchanged state no-effect', () => {
    expect(judgeEffect(remediation([100, 0, 0, 0, 50], [100, 0, 0, 0, 50]), ORDER_4).reason).toMatch(/^no change/);
  });

  it('measures only the NUMA node acted on', () => {
    const report = remediation([100, 0, 0, 0, 50], [100, 0, 0, 0, 50], {
      action: 'compact-node',
      numaNode: 1,
      before: [
        { node: 0, zone: 'Normal', freeBlocks: [100, 0, 0, 0, 50] },
        { node: 1, zone: 'Normal', freeBlocks: [900, 0, 0, 0, 1] },
      ],
      after: [
        { node: 0, zone: 'Normal', freeBlocks: [100, 0, 0, 0, 10] },
        { node: 1, zone: 'Normal', freeBlocks: [100, 0, 0, 0, 51] },
      ],
    });

    expect(judgeEffect(report, ORDER_4)).toMatchObject({
      effect: 'improved',
      before: { suitableBlocks: 1 },
      after: { suitableBlocks: 51 },
    });
  });

  it.each([
    [
      'skipped',
      { steps: [{ name: 'drop-caches', result: 'skipped' as const, reason: 'precheck-load' }] },
      'held back by precheck-load on the node',
    ],
    [
      'dry-run',
      { dryRun: true, steps: [{ name: 'drop-caches', result: 'dry-run' as const }] },
      'dry run: nothing was written',
    ],
    ['failed', { steps: [{ name: 'drop-caches', result: 'failed' as const }] }, 'step drop-caches failed'],
  ])('says %s, which never counts as no effect', (effect, over, reason) => {
    expect(judgeEffect(remediation([1, 0, 0, 0, 0], [1, 0, 0, 0, 0], over), ORDER_4)).toMatchObject({
      effect,
      countsAsNoEffect: false,
      reason,
    });
  });
});
