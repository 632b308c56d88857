import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoHistory } from '../../../lib/adapters/dynamo/history.ts';
import type { NodeClaim, ScanRecord } from '../../../lib/runtime/ports.ts';
import { type LocalTable, startDynalite } from '../../support/dynalite.ts';

let db: LocalTable;
let store: DynamoHistory;
const now = { value: new Date('2025-03-01T13:00:00.000Z') };

beforeAll(async () => {
  db = await startDynalite();
  store = db.store({ clock: { now: () => now.value } });
});

afterAll(async () => {
  await db.stop();
});

function scan(scanId: string, requestedAt: string): ScanRecord {
  return {
    scanId,
    commandId: scanId,
    requestedAt,
    collectAfter: new Date(Date.parse(requestedAt) + 780_000).toISOString(),
    status: 'RUNNING',
    targets: 'tag:fleetscan=enabled',
  };
}

describe('Node states: node state', () => {
  it('folds a verdict once per scan and never over a newer scan', async () => {
    const base = { nodeId: 'i-verdict', previousBreaches: 0, consecutiveBreaches: 1 };
    expect(await store.states.recordVerdict({ ...base, scanId: 's-2', at: '2025-03-01T12:00:00.000Z' })).toBe(true);
    expect(
      await store.states.recordVerdict({
        ...base,
        scanId: 's-2',
        at: '2025-03-01T12:00:00.000Z',
        consecutiveBreaches: 5,
      }),
    ).toBe(false);
    expect(await store.states.recordVerdict({ ...base, scanId: 's-1', at: '2025-03-01T11:45:00.000Z' })).toBe(false);
    expect(
      await store.states.recordVerdict({
        ...base,
        scanId: 's-3',
        at: '2025-03-01T12:15:00.000Z',
        previousBreaches: 1,
        consecutiveBreaches: 2,
      }),
    ).toBe(true);
    expect(await store.states.getNodeState('i-verdict')).toMatchObject({
      consecutiveBreaches: 2,
      previousBreaches: 1,
      lastScanId: 's-3',
      lastScanAt: '2025-03-01T12:15:00.000Z',
    });
  });

  it('reads many states at once and leaves absent nodes out', async () => {
    await store.states.recordVerdict({
      nodeId: 'i-s1',
      scanId: 's',
      at: 'a',
      previousBreaches: 0,
      consecutiveBreaches: 1,
    });
    const states = await store.states.getNodeStates(['i-s1', 'i-absent', 'i-s1']);
    expect([...states.keys()]).toEqual(['i-s1']);
  });
});

describe('Node states: remediation claims', () => {
  const claim = (overrides: Partial<NodeClaim> = {}): NodeClaim => ({
    nodeId: 'i-claim',
    scanId: 'scan-a',
    remediationId: 'scan-a:i-claim',
    at: '2025-03-01T12:00:00.000Z',
    cooldownCutoff: '2025-03-01T06:00:00.000Z',
    cooldownUntil: '2025-03-01T18:00:00.000Z',
    ...overrides,
  });

  it('claims a node once per scan and refuses within the cooldown', async () => {
    const first = await store.states.claimNode(claim());
    expect(first).toEqual({
      claimed: true,
      previous: { lastRemediationAt: null, lastRemediationId: null, lastRemediationScanId: null, cooldownUntil: null },
    });
    expect(await store.states.claimNode(claim())).toEqual({ claimed: false });
    // Another scan an hour later: still cooling down (6 h).
    expect(
      await store.states.claimNode(
        claim({
          scanId: 'scan-b',
          remediationId: 'scan-b:i-claim',
          at: '2025-03-01T13:00:00.000Z',
          cooldownCutoff: '2025-03-01T07:00:00.000Z',
        }),
      ),
    ).toEqual({ claimed: false });
    // Seven hours later: allowed again, and the previous claim is reported.
    const later = await store.states.claimNode(
      claim({
        scanId: 'scan-c',
        remediationId: 'scan-c:i-claim',
        at: '2025-03-01T19:00:00.000Z',
        cooldownCutoff: '2025-03-01T13:00:00.000Z',
      }),
    );
    expect(later).toEqual({
      claimed: true,
      previous: {
        lastRemediationAt: '2025-03-01T12:00:00.000Z',
        lastRemediationId: 'scan-a:i-claim',
        lastRemediationScanId: 'scan-a',
        cooldownUntil: '2025-03-01T18:00:00.000Z',
      },
    });
  });

  it('puts back what a claim overwrote when the claim is released', async () => {
    const c = claim({ nodeId: 'i-release', remediationId: 'scan-a:i-release' });
    const result = await store.states.claimNode(c);
    if (!result.claimed) throw new Error('expected a claim');
    await store.states.releaseNode(c, result.previous);
    const state = await store.states.getNodeState('i-release');
    expect(state).toMatchObject({ lastRemediationAt: null, lastRemediationId: null, lastRemediationScanId: null });
    expect((await store.states.claimNode(c)).claimed).toBe(true);
  });

  it('refuses to claim a blocked node until it is cleared', async () => {
    const nodeId = 'i-blocked';
    for (const scanId of ['r1', 'r2']) {
      await store.states.recordRemediationOutcome({
        nodeId,
        remediationId: `${scanId}:${nodeId}`,
        effect: 'no-effect',
        maxNoEffect: 2,
        at: 'x',
      });
    }
    expect((await store.states.getNodeState(nodeId))?.blocked).toBe(true);
    expect(await store.states.claimNode(claim({ nodeId }))).toEqual({ claimed: false });
    expect(await store.states.clearNode(nodeId)).toBe(true);
    expect(await store.states.getNodeState(nodeId)).toMatchObject({ blocked: false, noEffectCount: 0 });
    expect((await store.states.claimNode(claim({ nodeId }))).claimed).toBe(true);
  });

  it('clears nothing for a node without state', async () => {
    expect(await store.states.clearNode('i-never-seen')).toBe(false);
  });

  it('gives out at most max budget slots per scan', async () => {
    await store.scans.createScan(scan('scan-budget', '2025-03-01T12:00:00.000Z'), []);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => store.scans.takeRemediationSlot('scan-budget', `i-${index}`, 3)),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
    expect((await store.scans.getScan('scan-budget'))?.remediations).toBe(3);
    expect(await store.scans.takeRemediationSlot('no-such-scan', 'i-0', 3)).toBe(false);
  });

  it('gives a node that holds a slot the same slot again, for free, even once the budget is spent', async () => {
    await store.scans.createScan(scan('scan-slots', '2025-03-01T12:00:00.000Z'), []);
    expect(await store.scans.takeRemediationSlot('scan-slots', 'i-a', 2)).toBe(true);
    expect(await Promise.all([1, 2, 3].map(() => store.scans.takeRemediationSlot('scan-slots', 'i-a', 2)))).toEqual([
      true,
      true,
      true,
    ]);
    expect((await store.scans.getScan('scan-slots'))?.remediations).toBe(1);
    expect(await store.scans.takeRemediationSlot('scan-slots', 'i-b', 2)).toBe(true);
    expect(await store.scans.takeRemediationSlot('scan-slots', 'i-c', 2)).toBe(false);
    expect(await store.scans.takeRemediationSlot('scan-slots', 'i-a', 2)).toBe(true);
    expect((await store.scans.getScan('scan-slots'))?.remediations).toBe(2);
  });
});

describe('Node states: remediation outcomes', () => {
  it('counts a no-effect outcome once per remediation and blocks at the limit', async () => {
    const nodeId = 'i-outcome';
    const first = { nodeId, remediationId: 'a', effect: 'no-effect' as const, maxNoEffect: 2, at: 't1' };
    expect(await store.states.recordRemediationOutcome(first)).toEqual({
      noEffectCount: 1,
      blocked: false,
      newlyBlocked: false,
    });
    expect(await store.states.recordRemediationOutcome(first)).toEqual({
      noEffectCount: 1,
      blocked: false,
      newlyBlocked: false,
    });
    const second = { ...first, remediationId: 'b', at: 't2' };
    expect(await store.states.recordRemediationOutcome(second)).toEqual({
      noEffectCount: 2,
      blocked: true,
      newlyBlocked: true,
    });
    expect(await store.states.recordRemediationOutcome(second)).toEqual({
      noEffectCount: 2,
      blocked: true,
      newlyBlocked: false,
    });
  });

  it('resets the streak on an improvement and leaves it alone on a dry run', async () => {
    const nodeId = 'i-streak';
    await store.states.recordRemediationOutcome({
      nodeId,
      remediationId: 'a',
      effect: 'no-effect',
      maxNoEffect: 2,
      at: 't',
    });
    expect(
      await store.states.recordRemediationOutcome({
        nodeId,
        remediationId: 'b',
        effect: 'dry-run',
        maxNoEffect: 2,
        at: 't',
      }),
    ).toMatchObject({ noEffectCount: 1 });
    expect(
      await store.states.recordRemediationOutcome({
        nodeId,
        remediationId: 'c',
        effect: 'improved',
        maxNoEffect: 2,
        at: 't',
      }),
    ).toMatchObject({ noEffectCount: 0, blocked: false });
  });
});
