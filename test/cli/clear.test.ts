import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { expectOneLineError, fleetscan } from './run-cli.ts';

// A node blocked the way the runtime blocks one: two remediations in a row without effect.
const BLOCKED = 'i-0b10c4ed00000000a';
let db: LocalTable;
let source: string[];

beforeAll(async () => {
  db = await startDynalite();
  const store = db.store();
  for (const [index, at] of ['2026-11-26T10:00:00.000Z', '2026-11-26T16:00:00.000Z'].entries()) {
    await store.states.recordRemediationOutcome({
      nodeId: BLOCKED,
      remediationId: `scan-${index}:${BLOCKED}`,
      effect: 'no-effect',
      maxNoEffect: 2,
      at,
    });
  }
  source = ['--endpoint', db.endpoint, '--table', db.tableName];
});

afterAll(async () => {
  await db?.stop();
});

describe('CLI: fleetscan clear', () => {
  it('unblocks a node the runtime gave up on, and says what it forgot', async () => {
    // Prepare
    expect((await db.store().getNodeState(BLOCKED))?.blocked).toBe(true);
    // Act
    const run = await fleetscan(['clear', BLOCKED, ...source]);
    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      `node ${BLOCKED} unblocked: its 2 remediations in a row without effect are forgotten; fleetscan may remediate it again\n`,
    );
    const state = await db.store().getNodeState(BLOCKED);
    expect(state).toMatchObject({ blocked: false, noEffectCount: 0 });
  });

  it('prints the state it cleared as JSON', async () => {
    const run = await fleetscan(['clear', BLOCKED, '--json', ...source]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ nodeId: BLOCKED, wasBlocked: false, noEffectCount: 0 });
  });

  it('refuses a node the table has never seen, in one line', async () => {
    const run = await fleetscan(['clear', 'i-0000000000000dead', ...source]);
    expectOneLineError(run, 1, /^fleetscan clear: unknown node 'i-0000000000000dead': table .+ has no state for it$/);
    expect(await db.store().getNodeState('i-0000000000000dead')).toBeNull();
  });

  it('needs a node id', async () => {
    const run = await fleetscan(['clear', ...source]);
    expectOneLineError(run, 2, /^fleetscan clear: missing NODE — usage: fleetscan clear NODE \[options\]$/);
  });
});
