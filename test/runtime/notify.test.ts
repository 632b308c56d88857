import { describe, expect, it } from 'vitest';
import { isSanitized } from '../../lib/core/sanitize.ts';
import {
  formatIndex,
  MAX_BODY_BYTES,
  MAX_LISTED_NODES,
  remediationOutcome,
  type ScanSummaryInput,
  scanSummary,
  shouldNotifyScan,
  worstStatus,
} from '../../lib/runtime/notify.ts';
import type { RemediationRecord } from '../../lib/runtime/ports.ts';
import { nodeRecord } from '../support/runtime-fixtures.ts';

const HOSTILE = 'evil\u001b]0;pwned\u0007\u001b[2J\nhost\u202e';

function summary(overrides: Partial<ScanSummaryInput> = {}): ScanSummaryInput {
  return {
    scanId: 'scan-1',
    requestedAt: '2025-03-01T12:00:00.000Z',
    targets: 'tag:fleetscan=enabled',
    counts: { OK: 7, WARN: 1, CRITICAL: 1, ERROR: 1 },
    nodes: 10,
    worstUnusableIndex: 1000,
    problems: [
      nodeRecord({ nodeId: 'i-warn', status: 'WARN', worstUnusableIndex: 950 }),
      nodeRecord({
        nodeId: 'i-crit',
        status: 'CRITICAL',
        cause: 'fragmentation',
        findings: ['no-suitable-block@0/Normal/4'],
        consecutiveBreaches: 2,
        indices: [
          { node: 0, zone: 'Normal', order: 4, suitableBlocks: 0, unusableIndex: 1000, fragmentationIndex: 852 },
        ],
        worstUnusableIndex: 1000,
      }),
      nodeRecord({
        nodeId: 'i-err',
        status: 'ERROR',
        host: null,
        invocationState: 'Failed',
        error: 'invocation Failed (exit 1)',
        indices: [],
        worstUnusableIndex: null,
      }),
    ],
    remediations: [],
    ...overrides,
  };
}

const remediation: RemediationRecord = {
  remediationId: 'scan-1:i-crit',
  nodeId: 'i-crit',
  scanId: 'scan-1',
  commandId: 'cmd-9',
  action: 'compact-node',
  numaNode: 0,
  dryRun: false,
  requestedAt: '2025-03-01T12:01:00.000Z',
  status: 'PENDING',
};

describe('scanSummary', () => {
  it('names the counts in a one-line subject under 100 characters and lists the worst nodes first', () => {
    const message = scanSummary(summary({ remediations: [remediation] }));
    expect(message.subject).toBe('fleetscan: 1 CRITICAL, 1 ERROR, 1 WARN of 10 nodes, 1 remediation');
    expect(message.severity).toBe('CRITICAL');
    expect(message.scanId).toBe('scan-1');
    const body = message.body;
    expect(body.indexOf('i-crit')).toBeLessThan(body.indexOf('i-err'));
    expect(body.indexOf('i-err')).toBeLessThan(body.indexOf('i-warn'));
    expect(body).toContain('node 0 Normal order 4: unusable 1.000, fragmentation 0.852, 0 suitable blocks');
    expect(body).toContain('cause fragmentation');
    expect(body).toContain('i-crit: compact-node on NUMA node 0 - sent (command cmd-9)');
    expect(body).toContain('fleetscan scan scan-1');
    expect(body).toContain('fleetscan history i-crit');
  });

  it('sanitizes every string that came from a node', () => {
    const message = scanSummary(
      summary({
        problems: [
          nodeRecord({ nodeId: 'i-1', status: 'WARN', host: HOSTILE, kernel: HOSTILE }),
          nodeRecord({ nodeId: 'i-2', status: 'ERROR', error: HOSTILE }),
        ],
      }),
    );
    expect(message.body).not.toContain('\u001b');
    expect(message.body).not.toContain('\u202e');
    expect(isSanitized(message.body, { multiline: true })).toBe(true);
    expect(isSanitized(message.subject)).toBe(true);
  });

  it('bounds the body for a huge scan: at most 20 nodes listed, and how many more', () => {
    const problems = Array.from({ length: 10_000 }, (_, index) =>
      nodeRecord({ nodeId: `i-${index}`, status: 'CRITICAL', host: 'h'.repeat(255), worstUnusableIndex: index % 1000 }),
    );
    const message = scanSummary(
      summary({ problems, counts: { OK: 0, WARN: 0, CRITICAL: 10_000, ERROR: 0 }, nodes: 10_000 }),
    );
    expect(message.body.split('\n').filter((line) => line.startsWith('  CRITICAL'))).toHaveLength(MAX_LISTED_NODES);
    expect(message.body).toContain(`... and ${10_000 - MAX_LISTED_NODES} more`);
    expect(Buffer.byteLength(message.body)).toBeLessThan(MAX_BODY_BYTES);
  });

  it('lists only the worst nodes it was given but counts every problem (a summary rebuilt from the index)', () => {
    const problems = Array.from({ length: MAX_LISTED_NODES }, (_, index) =>
      nodeRecord({ nodeId: `i-${index}`, status: 'CRITICAL', worstUnusableIndex: 999 }),
    );
    const message = scanSummary(
      summary({ problems, problemCount: 250, counts: { OK: 0, WARN: 0, CRITICAL: 250, ERROR: 0 }, nodes: 250 }),
    );
    expect(message.body).toContain(`Worst nodes (${MAX_LISTED_NODES} of 250):`);
    expect(message.body).toContain(`... and ${250 - MAX_LISTED_NODES} more: fleetscan scan scan-1`);
  });

  it('says a remediation written but not yet sent is being sent, and names the command once it is', () => {
    const message = scanSummary(summary({ remediations: [{ ...remediation, commandId: null }] }));
    expect(message.body).toContain('i-crit: compact-node on NUMA node 0 - being sent');
  });

  it('is sent only when something is not OK or something was done', () => {
    expect(shouldNotifyScan({ counts: { OK: 5, WARN: 0, CRITICAL: 0, ERROR: 0 }, remediations: [] })).toBe(false);
    expect(shouldNotifyScan({ counts: { OK: 5, WARN: 0, CRITICAL: 0, ERROR: 1 }, remediations: [] })).toBe(true);
    expect(shouldNotifyScan({ counts: { OK: 5, WARN: 0, CRITICAL: 0, ERROR: 0 }, remediations: [remediation] })).toBe(
      true,
    );
  });

  it('ranks severity CRITICAL, then ERROR, then WARN', () => {
    expect(worstStatus({ OK: 1, WARN: 1, CRITICAL: 0, ERROR: 1 })).toBe('ERROR');
    expect(worstStatus({ OK: 1, WARN: 1, CRITICAL: 0, ERROR: 0 })).toBe('WARN');
    expect(worstStatus({ OK: 1, WARN: 0, CRITICAL: 0, ERROR: 0 })).toBe('OK');
  });
});

describe('remediationOutcome', () => {
  const completed: RemediationRecord = {
    ...remediation,
    status: 'COMPLETED',
    effect: 'improved',
    completedAt: '2025-03-01T12:02:00.000Z',
    before: [{ node: 0, zone: 'Normal', order: 4, suitableBlocks: 0, unusableIndex: 1000, fragmentationIndex: 852 }],
    after: [{ node: 0, zone: 'Normal', order: 4, suitableBlocks: 900, unusableIndex: 310, fragmentationIndex: -1000 }],
  };

  it('reports the effect with the watched indices before and after', () => {
    const message = remediationOutcome({
      record: completed,
      host: 'ip-10-0-0-1',
      noEffectCount: 0,
      maxNoEffect: 2,
      blocked: false,
    });
    expect(message.subject).toBe('fleetscan: i-crit compact-node improved (unusable 1.000 -> 0.310)');
    expect(message.severity).toBe('OK');
    expect(message.body).toContain('node 0 Normal order 4: unusable 1.000 -> 0.310, suitable blocks 0 -> 900');
  });

  it('says when the node is now blocked, and why', () => {
    const message = remediationOutcome({
      record: { ...completed, effect: 'no-effect', after: completed.before, blocked: true },
      host: HOSTILE,
      noEffectCount: 2,
      maxNoEffect: 2,
      blocked: true,
    });
    expect(message.severity).toBe('CRITICAL');
    expect(message.subject).toContain('node blocked');
    expect(message.subject.length).toBeLessThan(100);
    expect(message.body).toContain('BLOCKED: i-crit had no effect from 2 remediations in a row');
    expect(isSanitized(message.body, { multiline: true })).toBe(true);
  });

  it('prints thousandths as the kernel does', () => {
    expect(formatIndex(998)).toBe('0.998');
    expect(formatIndex(-1000)).toBe('-1.000');
    expect(formatIndex(null)).toBe('-');
  });
});
