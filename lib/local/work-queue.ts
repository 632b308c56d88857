/**
 * The local stand-in for the collect Lambda's asynchronous invocations: work items (SSM's completion events, the
 * sweep's findings, a collection's hand-offs) queue up and run one at a time, in order, in this process.
 */
import type { WorkItem, WorkTrigger } from '../runtime/ports.ts';

export class LocalWorkQueue implements WorkTrigger {
  private readonly pending: WorkItem[] = [];
  /** Work items handed over so far (the demo's statistics; tests). */
  triggered = 0;

  async trigger(work: WorkItem): Promise<void> {
    this.triggered += 1;
    this.pending.push(work);
  }

  get size(): number {
    return this.pending.length;
  }

  /** Runs queued work, and what that work queues, until nothing is left (at most `limit` items: a runaway guard). */
  async drain(run: (work: WorkItem) => Promise<void>, limit = 100_000): Promise<number> {
    let ran = 0;
    for (let work = this.pending.shift(); work !== undefined; work = this.pending.shift()) {
      if (ran >= limit) throw new Error(`work queue ran ${limit} items and is still not empty`);
      await run(work);
      ran += 1;
    }
    return ran;
  }
}
