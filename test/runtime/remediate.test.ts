import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../lib/core/policy.ts';
import { parseRemediationReport } from '../../lib/core/report.ts';
import {
  measureEffect,
  planRemediation,
  remediateComment,
  scanOfRemediateComment,
} from '../../lib/runtime/remediate.ts';
import { FRAGMENTED, HEALTHY, remediationOutput } from '../support/runtime-fixtures.ts';

describe('planRemediation', () => {
  it.each([
    ['compact-node', [1], { action: 'compact-node', numaNode: 1 }],
    ['compact-node', [0, 1], { action: 'compact', numaNode: null }],
    ['compact-node', [], { action: 'compact', numaNode: null }],
    ['compact', [0], { action: 'compact-node', numaNode: 0 }],
    ['drop-caches-and-compact', [1], { action: 'drop-caches-and-compact', numaNode: 1 }],
    ['drop-caches-and-compact', [0, 1], { action: 'drop-caches-and-compact', numaNode: null }],
    ['drop-caches', [1], { action: 'drop-caches', numaNode: null }],
  ] as const)('with %s and fragmented NUMA nodes %j does %j', (action, numa, expected) => {
    expect(planRemediation({ action }, numa)).toEqual(expected);
  });
});

describe('measureEffect', () => {
  const report = (options: { before: number[][]; after: number[][]; dryRun?: boolean; numaNode?: number | null }) =>
    parseRemediationReport(
      remediationOutput({
        action: 'compact-node',
        numaNode: options.numaNode === undefined ? 0 : options.numaNode,
        dryRun: options.dryRun ?? false,
        before: options.before,
        after: options.after,
      }),
    );

  it('is improved when the worst watched unusable index drops', () => {
    const result = measureEffect(report({ before: [[...FRAGMENTED]], after: [[...HEALTHY]] }), DEFAULT_THRESHOLDS);
    expect(result.effect).toBe('improved');
    expect(result.before[0]).toMatchObject({ node: 0, zone: 'Normal', order: 6, unusableIndex: 1000 });
  });

  it('is improved when suitable blocks at a watched order rise although the worst index stays', () => {
    const before = [100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const after = [100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    after[4] = 1;
    const withSecondZone = measureEffect(
      report({ before: [before, FRAGMENTED.slice()], after: [after, FRAGMENTED.slice()], numaNode: null }),
      DEFAULT_THRESHOLDS,
    );
    expect(withSecondZone.effect).toBe('improved');
  });

  it('is no-effect when nothing watched moved', () => {
    expect(
      measureEffect(report({ before: [[...FRAGMENTED]], after: [[...FRAGMENTED]] }), DEFAULT_THRESHOLDS).effect,
    ).toBe('no-effect');
  });

  it('is dry-run for a dry run, whatever the numbers say', () => {
    expect(
      measureEffect(report({ before: [[...FRAGMENTED]], after: [[...FRAGMENTED]], dryRun: true }), DEFAULT_THRESHOLDS)
        .effect,
    ).toBe('dry-run');
  });

  it('measures only the NUMA node acted on', () => {
    const result = measureEffect(
      report({ before: [[...HEALTHY], [...FRAGMENTED]], after: [[...HEALTHY], [...HEALTHY]], numaNode: 1 }),
      DEFAULT_THRESHOLDS,
    );
    expect(result.effect).toBe('improved');
    expect(result.before.every((index) => index.node === 1)).toBe(true);
  });
});

describe('remediateComment', () => {
  const scanId = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it("names the scan whole, first, within SSM's 100 characters, for every action", () => {
    for (const action of ['compact', 'compact-node', 'drop-caches', 'drop-caches-and-compact'] as const) {
      const comment = remediateComment(scanId, { action, numaNode: 127 }, true);
      expect(comment.length).toBeLessThanOrEqual(100);
      expect(comment.startsWith(`fleetscan remediate ${scanId} ${action}`)).toBe(true);
      expect(scanOfRemediateComment(comment)).toBe(scanId);
    }
    expect(remediateComment(scanId, { action: 'compact-node', numaNode: 1 }, false)).toBe(
      `fleetscan remediate ${scanId} compact-node numa 1`,
    );
  });

  it('refuses a scan id it could not fit whole (SSM could not tell the scan back)', () => {
    expect(() => remediateComment('x'.repeat(90), { action: 'compact', numaNode: null }, false)).toThrow(RangeError);
  });

  it('reads no scan from a comment fleetscan did not write', () => {
    expect(scanOfRemediateComment('fleetscan gather 2025-03-01T12:00:00.000Z tag:fleetscan=enabled')).toBeNull();
    expect(scanOfRemediateComment('compact by hand')).toBeNull();
    expect(scanOfRemediateComment('')).toBeNull();
  });
});
