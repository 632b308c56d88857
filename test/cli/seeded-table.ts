/**
 * For a test file of the history commands: dynalite holding the seeded history (seed-history.ts), written by the
 * real DynamoStore, started before the file's tests and stopped after them; the CLI reads it through `source`.
 */
import { afterAll, beforeAll } from 'vitest';
import { type LocalTable, startDynalite } from '../support/dynalite.ts';
import { type SeededHistory, seedHistory } from './seed-history.ts';

export interface SeededTable {
  readonly db: LocalTable;
  readonly seeded: SeededHistory;
  /** `--endpoint URL --table NAME`, for every command line. */
  readonly source: string[];
}

/** Registers the hooks; the fields are set once beforeAll has run, so read them inside tests only. */
export function useSeededTable(): SeededTable {
  const table = {} as { db: LocalTable; seeded: SeededHistory; source: string[] };
  beforeAll(async () => {
    table.db = await startDynalite();
    table.seeded = await seedHistory(table.db.store());
    table.source = ['--endpoint', table.db.endpoint, '--table', table.db.tableName];
  });
  afterAll(async () => {
    await table.db?.stop();
  });
  return table;
}
