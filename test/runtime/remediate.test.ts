import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../lib/core/policy.ts';
import { parseRemediationReport } from '../../lib/core/report.ts';
import { measureEffect, remediateComment, scanOfRemediateComment } from '../../lib/runtime/remediate.ts';
import { FRAGMENTED, HEALTHY, remediationOutput } from '../support/runtime-fixtures.ts';

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

  it('counts worse as no effect (it adds to the no-effect streak), saying what got worse', () => {
    const result = measureEffect(report({ before: [[...HEALTHY]], after: [[...FRAGMENTED]] }), DEFAULT_THRESHOLDS);
    expect(result.effect).toBe('no-effect');
    expect(result.error).toBeNull();
    expect(result.detail).toMatch(/worse/);
  });

  it('is skipped, not failed, when a precheck on the node held the action back, and names the precheck', () => {
    const text = remediationOutput({
      action: 'compact',
      numaNode: null,
      dryRun: false,
      before: [[...FRAGMENTED]],
      after: [[...FRAGMENTED]],
    })
      .replace('fleetscan-remediate 1', 'fleetscan-remediate 2')
      .replace('dryrun false\n', 'dryrun false\nprecheck load skip 9.80 4 1\n')
      .replace('step compact ok', 'step compact skipped precheck-load\nsettle 0');
    const result = measureEffect(parseRemediationReport(text), DEFAULT_THRESHOLDS);
    expect(result.effect).toBe('skipped');
    expect(result.error).toBeNull();
    expect(result.detail).toBe('held back by precheck-load on the node');
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
