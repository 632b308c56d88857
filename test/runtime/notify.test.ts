import { describe, expect, it } from 'vitest';
import {
  commandOutcome,
  formatIndex,
  MAX_BODY_BYTES,
  MAX_LISTED_NODES,
  type ScanSummaryInput,
  scanMessageKinds,
  scanSummary,
  shouldNotifyScan,
  worstStatus,
} from '../../lib/runtime/notify.ts';
import type { Changes, RemediationRecord } from '../../lib/runtime/ports.ts';
import { NO_CHANGES } from '../../lib/runtime/tallies.ts';
import { forbiddenIn, HOSTILE_TEXT } from '../support/forbidden-text.ts';
import { nodeRecord } from '../support/runtime-fixtures.ts';

const HOSTILE = `evil${HOSTILE_TEXT}\nhost`;

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

/** i-crit newly CRITICAL (was OK), i-err newly ERROR (a node never seen before), i-ok recovered. */
const CHANGES: Changes = {
  newProblems: { OK: 0, WARN: 0, CRITICAL: 1, ERROR: 1 },
  recovered: 1,
  listed: [
    { nodeId: 'i-crit', status: 'CRITICAL', from: 'OK' },
    { nodeId: 'i-err', status: 'ERROR', from: null },
    { nodeId: 'i-ok', status: 'OK', from: 'WARN' },
  ],
};

describe('scanMessageKinds and shouldNotifyScan', () => {
  it('sends nothing for a scan that only confirms what is known, however bad', () => {
    const quiet = { changes: NO_CHANGES, remediations: [] };
    expect(scanMessageKinds(quiet)).toEqual([]);
    expect(shouldNotifyScan(quiet)).toBe(false);
    // Remediations started are told by their own outcome message, not by the scan's.
    expect(shouldNotifyScan({ ...quiet, remediations: [remediation] })).toBe(false);
  });

  it('sends news: a node newly in trouble, a node recovered; not a remediation deferred again', () => {
    expect(scanMessageKinds({ changes: CHANGES, remediations: [] })).toEqual(['change']);
    const recoveredOnly = { ...NO_CHANGES, recovered: 1 };
    expect(scanMessageKinds({ changes: recoveredOnly, remediations: [] })).toEqual(['change']);
    const deferred = { ...remediation, status: 'COMPLETED' as const, effect: 'deferred' as const };
    expect(scanMessageKinds({ changes: NO_CHANGES, remediations: [deferred] })).toEqual([]);
  });

  it('sends the digest when due and a scan-failed message for an INCOMPLETE scan', () => {
    expect(scanMessageKinds({ changes: NO_CHANGES, remediations: [], digest: true })).toEqual(['digest']);
    expect(scanMessageKinds({ changes: CHANGES, remediations: [], incompleteReason: 'gave up', digest: true })).toEqual(
      ['scan-failed', 'change', 'digest'],
    );
  });

  it('ranks severity CRITICAL, then ERROR, then WARN', () => {
    expect(worstStatus({ OK: 1, WARN: 1, CRITICAL: 0, ERROR: 1 })).toBe('ERROR');
    expect(worstStatus({ OK: 1, WARN: 1, CRITICAL: 0, ERROR: 0 })).toBe('WARN');
    expect(worstStatus({ OK: 1, WARN: 0, CRITICAL: 0, ERROR: 0 })).toBe('OK');
  });
});

describe('scanSummary', () => {
  it('names what changed in a one-line subject and lists the nodes newly in trouble with what they were', () => {
    const message = scanSummary(summary({ changes: CHANGES }));
    expect(message.subject).toBe('fleetscan: 1 new CRITICAL, 1 new ERROR, 1 recovered');
    expect(message.severity).toBe('CRITICAL');
    expect(message.kinds).toEqual(['change']);
    expect(message.facts).toEqual({
      newProblems: ['i-crit', 'i-err'],
      recovered: ['i-ok'],
      ongoing: [],
      remediations: [],
    });
    const body = message.body;
    expect(body).toContain('Newly in trouble since their previous scan (2):');
    expect(body).toMatch(
      /CRITICAL +i-crit \(ip-10-0-0-1\.ec2\.internal\): node 0 Normal order 4: unusable 1\.000, fragmentation 0\.852, 0 suitable blocks; cause fragmentation.* \(was OK\)/,
    );
    expect(body).toMatch(/ERROR +i-err: Failed - invocation Failed \(exit 1\) \(new node\)/);
    expect(body).toContain('Recovered (1): i-ok');
    // Ongoing problems are the digest's: the WARN node that stayed WARN is not news.
    expect(body).not.toContain('i-warn');
    expect(body).toContain('fleetscan scan scan-1');
  });

  it('takes its severity from the news, not from problems already known', () => {
    const warnOnly: Changes = { newProblems: { OK: 0, WARN: 1, CRITICAL: 0, ERROR: 0 }, recovered: 0, listed: [] };
    expect(scanSummary(summary({ changes: warnOnly })).severity).toBe('WARN');
    expect(scanSummary(summary({ changes: { ...NO_CHANGES, recovered: 2 } })).severity).toBe('OK');
  });

  it('lists ongoing problems worst first in the digest, and counts every one', () => {
    const message = scanSummary(summary({ digest: true }));
    expect(message.kinds).toEqual(['digest']);
    expect(message.subject).toBe('fleetscan: 1 CRITICAL, 1 ERROR, 1 WARN of 10 nodes');
    expect(message.severity).toBe('CRITICAL');
    expect(message.facts.ongoing).toEqual(['i-crit', 'i-err', 'i-warn']);
    const body = message.body;
    expect(body).toContain('Ongoing problems, worst first (3 of 3):');
    expect(body.indexOf('i-crit')).toBeLessThan(body.indexOf('i-err'));
    expect(body.indexOf('i-err')).toBeLessThan(body.indexOf('i-warn'));
    expect(body).toContain('fleetscan history i-crit');
  });

  it('says why an INCOMPLETE scan stopped, as an ERROR even when no node is in trouble', () => {
    const message = scanSummary(
      summary({
        counts: { OK: 10, WARN: 0, CRITICAL: 0, ERROR: 0 },
        problems: [],
        incompleteReason: 'attempt limit 5',
      }),
    );
    expect(message.kinds).toEqual(['scan-failed']);
    expect(message.severity).toBe('ERROR');
    expect(message.subject).toBe('fleetscan: INCOMPLETE scan; all OK of 10 nodes');
    expect(message.body).toContain('INCOMPLETE: collection stopped before every node was recorded (attempt limit 5).');
  });

  it('lists deferred remediations and why CRITICAL nodes were left alone', () => {
    const deferred: RemediationRecord = {
      ...remediation,
      commandId: null,
      status: 'COMPLETED',
      effect: 'deferred',
      detail: 'outside the remediation windows; next window opens 2025-03-02T02:00:00.000Z',
    };
    const message = scanSummary(
      summary({ changes: CHANGES, remediations: [deferred], notRemediated: { 'compaction-futile': 3 } }),
    );
    expect(message.subject).toBe('fleetscan: 1 new CRITICAL, 1 new ERROR, 1 recovered; 1 remediation deferred');
    expect(message.body).toContain('i-crit: compact-node on NUMA node 0 - deferred');
    expect(message.body).toContain('Not remediated: 3 compaction-futile');
    expect(message.facts.remediations).toEqual([{ nodeId: 'i-crit', action: 'compact-node', effect: 'deferred' }]);
  });

  it('sanitizes every string that came from a node', () => {
    const message = scanSummary(
      summary({
        digest: true,
        changes: { ...CHANGES, listed: [{ nodeId: HOSTILE, status: 'WARN', from: 'OK' }] },
        problems: [
          nodeRecord({
            nodeId: 'i-1',
            status: 'WARN',
            host: HOSTILE,
            kernel: HOSTILE,
            findings: [HOSTILE],
            indices: [
              { node: 0, zone: HOSTILE, order: 4, suitableBlocks: 0, unusableIndex: 990, fragmentationIndex: 5 },
            ],
          }),
          nodeRecord({ nodeId: 'i-2', status: 'ERROR', error: HOSTILE }),
        ],
      }),
    );
    expect(message.body).toContain('(evil');
    expect(message.body).toContain('node 0 evilx host order 4');
    expect(forbiddenIn(message.body, { multiline: true })).toBeNull();
    expect(forbiddenIn(message.subject)).toBeNull();
  });

  it('bounds the body for a huge scan: at most 20 nodes listed, and how many more', () => {
    const problems = Array.from({ length: 10_000 }, (_, index) =>
      nodeRecord({ nodeId: `i-${index}`, status: 'CRITICAL', host: 'h'.repeat(255), worstUnusableIndex: index % 1000 }),
    );
    const changes: Changes = {
      newProblems: { OK: 0, WARN: 0, CRITICAL: 10_000, ERROR: 0 },
      recovered: 0,
      listed: problems.slice(0, 20).map((record) => ({ nodeId: record.nodeId, status: 'CRITICAL', from: 'OK' })),
    };
    const message = scanSummary(
      summary({
        problems,
        changes,
        digest: true,
        counts: { OK: 0, WARN: 0, CRITICAL: 10_000, ERROR: 0 },
        nodes: 10_000,
      }),
    );
    expect(message.body.split('\n').filter((line) => line.startsWith('  CRITICAL'))).toHaveLength(2 * MAX_LISTED_NODES);
    expect(message.body).toContain(`... and ${10_000 - MAX_LISTED_NODES} more`);
    expect(Buffer.byteLength(message.body)).toBeLessThan(MAX_BODY_BYTES);
  });

  it('lists only the worst nodes it was given but counts every problem (a digest rebuilt from the index)', () => {
    const problems = Array.from({ length: MAX_LISTED_NODES }, (_, index) =>
      nodeRecord({ nodeId: `i-${index}`, status: 'CRITICAL', worstUnusableIndex: 999 }),
    );
    const message = scanSummary(
      summary({
        problems,
        digest: true,
        problemCount: 250,
        counts: { OK: 0, WARN: 0, CRITICAL: 250, ERROR: 0 },
        nodes: 250,
      }),
    );
    expect(message.body).toContain(`Ongoing problems, worst first (${MAX_LISTED_NODES} of 250):`);
    expect(message.body).toContain(`... and ${250 - MAX_LISTED_NODES} more: fleetscan scan scan-1`);
  });
});

describe('commandOutcome', () => {
  const completed: RemediationRecord = {
    ...remediation,
    status: 'COMPLETED',
    effect: 'improved',
    completedAt: '2025-03-01T12:02:00.000Z',
    host: 'ip-10-0-0-1',
    before: [{ node: 0, zone: 'Normal', order: 4, suitableBlocks: 0, unusableIndex: 1000, fragmentationIndex: 852 }],
    after: [{ node: 0, zone: 'Normal', order: 4, suitableBlocks: 900, unusableIndex: 310, fragmentationIndex: -1000 }],
  };

  it('reports one node’s effect with the watched indices before and after', () => {
    const message = commandOutcome({ commandId: 'cmd-9', scanId: 'scan-1', records: [completed], maxNoEffect: 2 });
    expect(message.subject).toBe('fleetscan: i-crit compact-node improved (unusable 1.000 -> 0.310)');
    expect(message.severity).toBe('OK');
    expect(message.kinds).toEqual(['outcome']);
    expect(message.body).toContain('node 0 Normal order 4: unusable 1.000 -> 0.310, suitable blocks 0 -> 900');
  });

  it('tells a whole command in one message: a tally, a line per node, why each was skipped or had no effect', () => {
    const records: RemediationRecord[] = [
      completed,
      { ...completed, nodeId: 'i-b', effect: 'no-effect', noEffectCount: 1, detail: 'order 4: nothing moved' },
      { ...completed, nodeId: 'i-c', effect: 'skipped', detail: 'held back by precheck-load on the node' },
    ];
    const message = commandOutcome({ commandId: 'cmd-9', scanId: 'scan-1', records, maxNoEffect: 2 });
    expect(message.subject).toBe('fleetscan: 3 nodes compact-node 1 improved, 1 no-effect, 1 skipped');
    expect(message.severity).toBe('WARN');
    expect(message.body).toMatch(
      /no-effect +i-b \(ip-10-0-0-1\) \(unusable 1\.000 -> 0\.310\) - order 4: nothing moved/,
    );
    expect(message.body).toMatch(/skipped +i-c .* - held back by precheck-load on the node/);
    expect(message.body).toContain('i-b: no effect 1 time(s) in a row; blocked after 2.');
    // Nodes in id order, in the body and the facts alike.
    expect(message.facts.remediations.map((entry) => `${entry.nodeId} ${entry.effect}`)).toEqual([
      'i-b no-effect',
      'i-c skipped',
      'i-crit improved',
    ]);
  });

  it('says when the node is now blocked, and why', () => {
    const message = commandOutcome({
      commandId: 'cmd-9',
      scanId: 'scan-1',
      records: [{ ...completed, effect: 'no-effect', after: completed.before, blocked: true, host: HOSTILE }],
      maxNoEffect: 2,
    });
    expect(message.severity).toBe('CRITICAL');
    expect(message.subject).toContain('node blocked');
    expect(message.subject.length).toBeLessThan(100);
    expect(message.body).toContain('BLOCKED: i-crit had no effect from 2 remediations in a row');
    expect(forbiddenIn(message.body, { multiline: true })).toBeNull();
  });

  it('prints thousandths as the kernel does', () => {
    expect(formatIndex(998)).toBe('0.998');
    expect(formatIndex(-1000)).toBe('-1.000');
    expect(formatIndex(null)).toBe('-');
  });
});
