/**
 * From one invocation to what is stored about it: reading the output (with the full-stdout fallback when the
 * listing cut it), judging it with lib/core, and shaping the node record. Pure except readReport, which may call
 * the gateway once.
 */
import { AGENT_OUTPUT_MARKERS } from '../config/contracts.ts';
import type { ZoneCounts } from '../core/buddyinfo.ts';
import { ParseError } from '../core/errors.ts';
import { contigInfo, fragmentationIndex, unusableFreeIndex } from '../core/metrics.ts';
import { type Finding, type Thresholds, type Verdict, watchedZones } from '../core/policy.ts';
import { allocstalls } from '../core/rates.ts';
import type { GatherReport } from '../core/report.ts';
import { sanitizeText } from '../core/sanitize.ts';
import type { CommandGateway, Invocation, NodeRecord, WatchedIndex } from './ports.ts';

export const MAX_ERROR_LENGTH = 200;
/** Watched zone lines and indices a record keeps (a 2-NUMA host has 2 and 4; hostile reports are cut to these). */
export const MAX_RECORD_ZONES = 64;
export const MAX_RECORD_INDICES = 128;
const MAX_HOST_LENGTH = 64;
const MAX_KERNEL_LENGTH = 64;
const MAX_FINDINGS = 8;

export type ReadResult<T> = { readonly ok: true; readonly report: T } | { readonly ok: false; readonly error: string };

function errorText(error: unknown): string {
  return sanitizeText(error instanceof Error ? error.message : String(error), MAX_ERROR_LENGTH);
}

/**
 * Parses an invocation's listed output; when the listing cut it (no `end` line: ListCommandInvocations keeps
 * 2,500 characters), fetches the full stdout (GetCommandInvocation, 24,000) and parses that. Never throws for
 * one node's trouble: a parse failure or an unavailable full output is that node's error.
 */
export async function readReport<T>(
  gateway: CommandGateway,
  commandId: string,
  invocation: Invocation,
  parse: (text: string) => T,
): Promise<ReadResult<T>> {
  try {
    return { ok: true, report: parse(invocation.output) };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    if (error.kind !== 'truncated') return { ok: false, error: errorText(error) };
  }
  let full: string;
  try {
    full = await gateway.getFullOutput(commandId, invocation.instanceId);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    return {
      ok: false,
      error: sanitizeText(`output was cut and the full output is unavailable (${name})`, MAX_ERROR_LENGTH),
    };
  }
  try {
    return { ok: true, report: parse(full) };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return { ok: false, error: errorText(error) };
  }
}

const AGENT_MARKERS: ReadonlySet<string> = new Set(Object.values(AGENT_OUTPUT_MARKERS));

/** Why an invocation that did not succeed failed: its state, exit code and the last line it printed. */
export function invocationError(invocation: Invocation): string {
  const lastLine = invocation.output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !AGENT_MARKERS.has(line))
    .at(-1);
  const code =
    invocation.responseCode !== null && invocation.responseCode >= 0 ? ` (exit ${invocation.responseCode})` : '';
  return sanitizeText(
    `invocation ${invocation.state}${code}${lastLine === undefined ? '' : `: ${lastLine}`}`,
    MAX_ERROR_LENGTH,
  );
}

/** Index values of the watched zones (after policy's DMA32 fallback) at the watched orders, worst first. */
export function watchedIndices(
  zones: readonly ZoneCounts[],
  thresholds: Thresholds,
  numaNode: number | null = null,
): WatchedIndex[] {
  const watched = watchedZones(zones, thresholds);
  const out: WatchedIndex[] = [];
  for (const zone of zones) {
    if (!watched.includes(zone.zone) || (numaNode !== null && zone.node !== numaNode)) continue;
    for (const order of thresholds.orders) {
      if (order >= zone.freeBlocks.length) continue;
      const info = contigInfo(zone.freeBlocks, order);
      out.push({
        node: zone.node,
        zone: zone.zone,
        order,
        suitableBlocks: Number(info.suitableBlocks),
        unusableIndex: unusableFreeIndex(info, order),
        fragmentationIndex: fragmentationIndex(info, order),
      });
    }
  }
  return out.sort(
    (a, b) => b.unusableIndex - a.unusableIndex || b.fragmentationIndex - a.fragmentationIndex || a.node - b.node,
  );
}

/** A finding as a short code: `no-suitable-block@0/Normal/4`, `allocation-failures@6`, `low-available-memory`. */
export function findingCode(finding: Finding): string {
  if (finding.node !== null && finding.zone !== null && finding.order !== null) {
    return `${finding.code}@${finding.node}/${finding.zone}/${finding.order}`;
  }
  return finding.order === null ? finding.code : `${finding.code}@${finding.order}`;
}

export interface RecordContext {
  readonly scanId: string;
  readonly at: string;
}

/**
 * A judged node's record: watched zones only (worst first, at most MAX_RECORD_ZONES of them: a host printing
 * hundreds of NUMA nodes is bounded here, in one pass), counts and codes rather than prose.
 */
export function judgedRecord(
  context: RecordContext,
  invocation: Invocation,
  report: GatherReport,
  verdict: Verdict,
  thresholds: Thresholds,
): NodeRecord {
  const indices = watchedIndices(report.zones, thresholds);
  const watched = report.zones.filter((zone) => verdict.watchedZones.includes(zone.zone));
  const kept = watched.length <= MAX_RECORD_ZONES ? watched : worstZones(watched, indices);
  return {
    scanId: context.scanId,
    nodeId: invocation.instanceId,
    at: context.at,
    status: verdict.level,
    cause: verdict.cause,
    findings: verdict.findings.slice(0, MAX_FINDINGS).map(findingCode),
    invocationState: invocation.state,
    error: null,
    host: sanitizeText(report.host, MAX_HOST_LENGTH),
    kernel: sanitizeText(report.kernel, MAX_KERNEL_LENGTH),
    pageSize: report.pageSize,
    memTotalKb: report.memTotalKb,
    memAvailableKb: report.memAvailableKb,
    allocFailures: report.allocFailures?.count ?? null,
    counters: storedCounters(report.vmstat ?? null),
    bootId: report.bootId === null || report.bootId === undefined ? null : report.bootId.slice(0, BOOT_ID_CHARS),
    uptimeSeconds: report.uptimeSeconds ?? null,
    zones: kept.map((zone) => `${zone.node} ${zone.zone} ${zone.freeBlocks.join(' ')}`),
    indices: indices.slice(0, MAX_RECORD_INDICES),
    worstUnusableIndex: verdict.worstUnusableIndex,
    worstFragmentationIndex: verdict.worstFragmentationIndex,
    consecutiveBreaches: verdict.consecutiveBreaches,
  };
}

/** The zones holding the worst indices (indices come sorted worst first), in their report order. */
function worstZones(zones: readonly ZoneCounts[], indices: readonly WatchedIndex[]): ZoneCounts[] {
  const wanted = new Set<string>();
  for (const index of indices) {
    if (wanted.size >= MAX_RECORD_ZONES) break;
    wanted.add(`${index.node} ${index.zone}`);
  }
  return zones.filter((zone) => wanted.has(`${zone.node} ${zone.zone}`));
}

/** A node no verdict could be reached for: it is stored all the same, so no node silently disappears. */
export function errorRecord(
  context: RecordContext,
  invocation: Invocation,
  error: string,
  consecutiveBreaches: number,
): NodeRecord {
  return {
    scanId: context.scanId,
    nodeId: invocation.instanceId,
    at: context.at,
    status: 'ERROR',
    cause: null,
    findings: [],
    invocationState: invocation.state,
    error: sanitizeText(error, MAX_ERROR_LENGTH),
    host: null,
    kernel: null,
    pageSize: null,
    memTotalKb: null,
    memAvailableKb: null,
    allocFailures: null,
    counters: null,
    bootId: null,
    uptimeSeconds: null,
    zones: [],
    indices: [],
    worstUnusableIndex: null,
    worstFragmentationIndex: null,
    consecutiveBreaches,
  };
}

/** A boot id's first characters tell two boots apart well enough (a random 128-bit id); the rest costs storage. */
export const BOOT_ID_CHARS = 8;

/**
 * The vmstat counters a record keeps: exactly those the diagnosis judges as rates — direct compaction's stalls,
 * failures and successes, and direct reclaim's stalls, summed over the zones as `allocstall` (the kernel's own name
 * before 4.8). The report carries more (scanned pages, kcompactd wake-ups, major faults) and `inspect` shows them,
 * but every counter stored is bytes in every record of every node for the retention: the scanned-page counters alone
 * were a third of a packed record (docs/storage.md).
 */
export function storedCounters(vmstat: Readonly<Record<string, number>> | null): Record<string, number> | null {
  if (vmstat === null) return null;
  const kept: Record<string, number> = {};
  for (const name of JUDGED_COUNTERS) {
    const value = vmstat[name];
    if (value !== undefined) kept[name] = value;
  }
  const reclaim = allocstalls(vmstat);
  if (reclaim !== null) kept.allocstall = reclaim;
  return kept;
}

const JUDGED_COUNTERS = ['compact_stall', 'compact_fail', 'compact_success'] as const;
