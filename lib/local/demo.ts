/**
 * `fleetscan demo`'s engine: the production pipeline — startScan → collect each shard (evaluate, store, remediate,
 * notify, seal) → collect the remediate commands — run K times against local adapters (a local work queue in place
 * of the collect Lambda's asynchronous invocations): the simulated fleet as the CommandGateway,
 * the production DynamoStore on an embedded dynalite persisted in the data directory, a terminal-and-file
 * Notifier, the fleet's tags as the OptOutSource, and a clock that moves one schedule interval per scan.
 *
 * The data directory holds `store/` (the LevelDB files), `fleet.json` (the fleet, so a later run continues it),
 * `notifications.log` (each message in full) and `notifications.jsonl` (each message as data).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../config/config.ts';
import type { FleetscanConfig } from '../config/types.ts';
import type { GatherReport } from '../core/report.ts';
import { collect } from '../runtime/collect.ts';
import type { RemediationRecord, RuntimeDeps, SeverityCounts, WorkItem } from '../runtime/ports.ts';
import { startScan } from '../runtime/scan.ts';
import { SCAN_INTERVAL_MS, SimulatedClock } from './clock.ts';
import { DEFAULT_DEMO_NODES, DEFAULT_DEMO_SEED, STORE_DIR } from './demo-defaults.ts';
import { DEFAULT_OPT_OUT_TAG, DEFAULT_TARGET_TAG, SimulatedFleet } from './fleet.ts';
import { LocalCommandGateway } from './gateway.ts';
import { LocalNotifier, NOTIFICATIONS_FILE, NOTIFICATIONS_JSONL } from './notifier.ts';
import { FleetOptOutSource } from './opt-out.ts';
import type { ReplayNode } from './replay.ts';
import { openLocalStore } from './store.ts';
import { readThisHost } from './this-host.ts';
import { LocalWorkQueue } from './work-queue.ts';

export const FLEET_FILE = 'fleet.json';
/** How long after a scan starts the simulated nodes have answered, and after that the remediations. */
const ANSWER_DELAY_MS = 2 * 60 * 1000;

/** The deployed defaults, except that simulated nodes are safe to remediate for real. */
export const DEMO_CONFIG: FleetscanConfig = {
  ...DEFAULT_CONFIG,
  remediation: { ...DEFAULT_CONFIG.remediation, dryRun: false },
};

export class DemoSetupError extends Error {
  override readonly name = 'DemoSetupError';
}

export interface DemoOptions {
  readonly dataDir: string;
  /** @default the saved fleet's size, else {@link DEFAULT_DEMO_NODES} */
  readonly nodes?: number;
  readonly scans: number;
  /** @default the saved fleet's seed, else {@link DEFAULT_DEMO_SEED} */
  readonly seed?: number;
  /** Forget the data directory's store, fleet and notifications first. */
  readonly reset: boolean;
  /** Node 0's live reading. @default this machine's /proc (synthetic when unreadable) */
  readonly readThisHost?: (since: number) => Promise<GatherReport | null>;
  /** Real time, where a new timeline starts. @default now */
  readonly now?: Date;
  readonly onScanStart?: (index: number, total: number, requestedAt: Date) => void;
  readonly onScan?: (scan: DemoScan) => void;
  /** Receives one line per notification (the terminal). */
  readonly notificationLine?: (text: string) => void;
  /** Extra read-only nodes printing recorded outputs on every scan (`--replay DIR`). */
  readonly replay?: readonly ReplayNode[];
  /** Aborted (Ctrl-C): no further scan starts; the one in progress completes, so the store stays consistent. */
  readonly signal?: AbortSignal;
}

export interface DemoRemediation {
  readonly nodeId: string;
  readonly action: RemediationRecord['action'];
  readonly numaNode: number | null;
  readonly effect: string;
}

export interface DemoScan {
  /** 1-based, within this run. */
  readonly index: number;
  readonly total: number;
  readonly scanId: string;
  readonly requestedAt: string;
  readonly nodes: number;
  readonly counts: SeverityCounts;
  readonly worstUnusableIndex: number | null;
  readonly remediations: DemoRemediation[];
  readonly notifications: number;
}

export interface DemoResult {
  readonly dataDir: string;
  readonly notificationsFile: string;
  readonly seed: number;
  readonly nodes: number;
  /** Replayed nodes (`--replay`), by id. */
  readonly replayed: readonly string[];
  /** Whether this run continued a fleet saved by an earlier one. */
  readonly continued: boolean;
  readonly scans: DemoScan[];
  /** A node worth looking at with `fleetscan history`: one that was remediated, else the worst one. */
  readonly suggestedNode: string | null;
  /** Node 0's id when it carried this machine's live /proc readings (null: its synthetic stand-in was used). */
  readonly thisHost: string | null;
  /** The signal stopped the run before all its scans (`scans` holds those that ran). */
  readonly interrupted: boolean;
}

async function loadFleet(file: string): Promise<SimulatedFleet | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    return SimulatedFleet.fromJSON(JSON.parse(text));
  } catch {
    throw new DemoSetupError(`${file} is not a fleetscan demo fleet: pass --reset to start over`);
  }
}

function differs(flag: string, given: number | undefined, saved: number): string | null {
  return given !== undefined && given !== saved ? `${flag} ${given} (the saved fleet has ${saved})` : null;
}

/** Where a new timeline starts: so that the last of `scans` scans lands on the current quarter hour. */
function timelineStart(now: Date, scans: number): Date {
  const quarter = Math.floor(now.getTime() / SCAN_INTERVAL_MS) * SCAN_INTERVAL_MS;
  return new Date(quarter - (scans - 1) * SCAN_INTERVAL_MS);
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const dataDir = path.resolve(options.dataDir);
  const fleetFile = path.join(dataDir, FLEET_FILE);
  const notificationsFile = path.join(dataDir, NOTIFICATIONS_FILE);
  if (options.reset) {
    for (const name of [STORE_DIR, FLEET_FILE, NOTIFICATIONS_FILE, NOTIFICATIONS_JSONL]) {
      await rm(path.join(dataDir, name), { recursive: true, force: true });
    }
  }
  const saved = await loadFleet(fleetFile);
  if (saved !== null) {
    const conflicts = [differs('--nodes', options.nodes, saved.size), differs('--seed', options.seed, saved.seed)];
    const conflict = conflicts.filter((text): text is string => text !== null);
    if (conflict.length > 0) {
      throw new DemoSetupError(
        `${dataDir} holds a demo fleet of ${saved.size} nodes, seed ${saved.seed}; ${conflict.join(', ')} ` +
          'asks for another: pass --reset to start over, or drop those flags to continue it',
      );
    }
  }
  const fleet =
    saved ??
    SimulatedFleet.create({
      seed: options.seed ?? DEFAULT_DEMO_SEED,
      size: options.nodes ?? DEFAULT_DEMO_NODES,
      targetTag: DEFAULT_TARGET_TAG,
      optOutTag: DEFAULT_OPT_OUT_TAG,
    });

  const local = await openLocalStore({
    dataDir,
    create: true,
    retentionDays: DEMO_CONFIG.retentionDays,
    orders: DEMO_CONFIG.thresholds.orders,
  });
  try {
    const last = (await local.store.listScans({ limit: 1 })).items[0];
    if (saved === null && last !== undefined) {
      throw new DemoSetupError(
        `${dataDir} holds a history but no ${FLEET_FILE} to continue: pass --reset to start over`,
      );
    }
    const start =
      last === undefined
        ? timelineStart(options.now ?? new Date(), options.scans)
        : new Date(Date.parse(last.requestedAt) + SCAN_INTERVAL_MS);
    const clock = new SimulatedClock(start);
    const notifier = new LocalNotifier({
      file: notificationsFile,
      clock,
      ...(options.notificationLine === undefined ? {} : { line: options.notificationLine }),
    });
    const readHost = options.readThisHost ?? readThisHost;
    const live = (await readHost(0)) !== null;
    const replay = options.replay ?? [];
    const clash = replay.find((node) => fleet.node(node.nodeId) !== undefined);
    if (clash !== undefined) {
      throw new DemoSetupError(`${clash.file}: node ${clash.nodeId} is already a node of the simulated fleet`);
    }
    const gateway = new LocalCommandGateway(fleet, { readThisHost: readHost, clock, replay });
    const queue = new LocalWorkQueue();
    const deps: RuntimeDeps = {
      gateway,
      store: local.store,
      trigger: queue,
      notifier,
      optOut: new FleetOptOutSource(
        fleet,
        { key: DEMO_CONFIG.remediation.optOutTag.key, value: DEMO_CONFIG.remediation.optOutTag.value },
        new Set(replay.map((node) => node.nodeId)),
      ),
      clock,
      // Scan ids (and lease tokens) from the fleet's own seeded sequence: the same seed gives the same demo.
      newId: () => fleet.nextCommandId(),
      // Nothing local is eventually consistent or throttled: retries need not wait.
      sleep: async () => {},
    };

    const scans: DemoScan[] = [];
    let improved = null as string | null;
    const run = async (work: WorkItem) => {
      await collect(deps, DEMO_CONFIG, work);
    };
    for (let index = 1; index <= options.scans && options.signal?.aborted !== true; index += 1) {
      const scanStart = clock.now();
      options.onScanStart?.(index, options.scans, scanStart);
      const notifiedBefore = notifier.published.length;
      const scan = await startScan(deps, DEMO_CONFIG);
      clock.advance(ANSWER_DELAY_MS);
      // SSM's completion events, one per shard's command.
      for (const shard of await local.store.scans.listShards(scan.scanId)) {
        if (shard.commandId !== null) await queue.trigger({ kind: 'gather', commandId: shard.commandId });
      }
      await queue.drain(run);
      clock.advance(ANSWER_DELAY_MS);
      const started = await local.store.remediations.listScanRemediations(scan.scanId);
      for (const commandId of new Set(
        started.flatMap((record) => (record.commandId === null ? [] : [record.commandId])),
      )) {
        await queue.trigger({ kind: 'remediate', commandId });
      }
      await queue.drain(run);
      const finished = (await local.store.scans.getScan(scan.scanId)) ?? scan;
      const outcomes = await local.store.remediations.listScanRemediations(scan.scanId);
      const remediations = outcomes.map((record) => {
        if (record.effect === 'improved') improved ??= record.nodeId;
        return {
          nodeId: record.nodeId,
          action: record.action,
          numaNode: record.numaNode,
          effect: record.effect ?? record.status.toLowerCase(),
        };
      });
      const done: DemoScan = {
        index,
        total: options.scans,
        scanId: scan.scanId,
        requestedAt: scan.requestedAt,
        nodes: finished.nodes ?? 0,
        counts: finished.counts ?? { OK: 0, WARN: 0, CRITICAL: 0, ERROR: 0 },
        worstUnusableIndex: finished.worstUnusableIndex ?? null,
        remediations,
        notifications: notifier.published.length - notifiedBefore,
      };
      scans.push(done);
      // Saved after every scan, so an interrupted run leaves a fleet that matches its history.
      await writeFile(fleetFile, `${JSON.stringify(fleet.toJSON())}\n`, 'utf8');
      options.onScan?.(done);
      clock.advance(scanStart.getTime() + SCAN_INTERVAL_MS - clock.now().getTime());
    }

    let suggestedNode: string | null = improved;
    const lastScan = scans[scans.length - 1];
    if (suggestedNode === null && lastScan !== undefined) {
      const worst = await local.store.listProblemNodes(lastScan.scanId, { limit: 1 });
      suggestedNode = worst.items[0]?.nodeId ?? null;
    }
    return {
      dataDir,
      notificationsFile,
      seed: fleet.seed,
      nodes: fleet.size,
      replayed: replay.map((node) => node.nodeId),
      continued: saved !== null,
      scans,
      suggestedNode: suggestedNode ?? fleet.nodes[0]?.instanceId ?? null,
      thisHost: live ? (fleet.nodes[0]?.instanceId ?? null) : null,
      interrupted: scans.length < options.scans,
    };
  } finally {
    await local.close();
  }
}
