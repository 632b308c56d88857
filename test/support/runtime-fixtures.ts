/**
 * Builders for the runtime's tests: configurations, node records, and gather/remediation reports of
 * healthy and fragmented hosts (printed by lib/core's own formatters, as the SSM documents print them).
 */

import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import type { FleetscanConfig, RemediationPolicy } from '../../lib/config/types.ts';
import type { ZoneCounts } from '../../lib/core/buddyinfo.ts';
import { DEFAULT_THRESHOLDS } from '../../lib/core/policy.ts';
import { formatGatherReport, formatRemediationReport, type RemediationAction } from '../../lib/core/report.ts';
import type { NodeRecord } from '../../lib/runtime/ports.ts';

export const T0 = new Date('2025-03-01T12:00:00.000Z');

export function testConfig(
  overrides: Partial<Omit<FleetscanConfig, 'remediation'>> & {
    remediation?: Partial<RemediationPolicy>;
  } = {},
): FleetscanConfig {
  const { remediation, ...rest } = overrides;
  // The deployed defaults, but one breaching scan is enough for CRITICAL (so single-scan tests reach remediation)
  // and remediation is not a dry run (so tests see its effect).
  return {
    ...DEFAULT_CONFIG,
    thresholds: { ...DEFAULT_THRESHOLDS, consecutiveBreachesForCritical: 1 },
    ...rest,
    remediation: { ...DEFAULT_CONFIG.remediation, dryRun: false, ...remediation },
  };
}

export function nodeRecord(overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    scanId: 'scan-1',
    nodeId: 'i-0000000000000001',
    at: '2025-03-01T12:00:00.000Z',
    status: 'OK',
    cause: null,
    findings: [],
    invocationState: 'Success',
    error: null,
    host: 'ip-10-0-0-1.ec2.internal',
    kernel: '6.1.0-18-amd64',
    pageSize: 4096,
    memTotalKb: 65_842_624,
    memAvailableKb: 41_237_812,
    allocFailures: 0,
    zones: ['0 Normal 1163 1101 932 222 10 5 3 1 0 0 0'],
    indices: [{ node: 0, zone: 'Normal', order: 4, suitableBlocks: 40, unusableIndex: 950, fragmentationIndex: -1000 }],
    worstUnusableIndex: 950,
    worstFragmentationIndex: -1000,
    consecutiveBreaches: 0,
    counters: { compact_stall: 120, compact_fail: 31, compact_success: 89, allocstall_normal: 4, pgmajfault: 1592 },
    bootId: '0f3e2d1c',
    uptimeSeconds: 86_400,
    ...overrides,
  };
}

/** Plenty of free blocks at every order. */
export const HEALTHY: readonly number[] = [3196, 2577, 1900, 1734, 1215, 949, 853, 603, 310, 120, 41];
/** Lots of free memory, all of it in small blocks: fragmentation (the kernel's fragmentation index > 500). */
export const FRAGMENTED: readonly number[] = [29196, 20577, 9900, 5734, 0, 0, 0, 0, 0, 0, 0];

export interface HostShape {
  readonly host?: string;
  /** Normal-zone counts per NUMA node. */
  readonly numa?: readonly (readonly number[])[];
  readonly memAvailableKb?: number;
  /** Version-2 signals: /proc/vmstat counters, the boot they belong to, the uptime. */
  readonly vmstat?: Readonly<Record<string, number>>;
  readonly bootId?: string;
  readonly uptimeSeconds?: number;
}

function zonesOf(numa: readonly (readonly number[])[]): ZoneCounts[] {
  return numa.flatMap((counts, node) => [
    { node, zone: 'DMA32', freeBlocks: [2725, 624, 489, 178, 0, 0, 0, 0, 0, 0, 0] },
    { node, zone: 'Normal', freeBlocks: [...counts] },
  ]);
}

export function gatherOutput(shape: HostShape = {}): string {
  return formatGatherReport({
    host: shape.host ?? 'ip-10-0-0-1.ec2.internal',
    kernel: '6.1.0-18-amd64',
    pageSize: 4096,
    memTotalKb: 65_842_624,
    memAvailableKb: shape.memAvailableKb ?? 41_237_812,
    allocFailures: { count: 0, maxOrder: null },
    zones: zonesOf(shape.numa ?? [HEALTHY]),
    ...(shape.vmstat === undefined ? {} : { vmstat: shape.vmstat }),
    ...(shape.bootId === undefined ? {} : { bootId: shape.bootId }),
    ...(shape.uptimeSeconds === undefined ? {} : { uptimeSeconds: shape.uptimeSeconds }),
  });
}

export function remediationOutput(options: {
  readonly action: RemediationAction;
  readonly numaNode: number | null;
  readonly dryRun: boolean;
  readonly before: readonly (readonly number[])[];
  readonly after: readonly (readonly number[])[];
}): string {
  const normal = (numa: readonly (readonly number[])[]) =>
    numa.map((counts, node) => ({ node, zone: 'Normal', freeBlocks: [...counts] }));
  return formatRemediationReport({
    host: 'ip-10-0-0-1.ec2.internal',
    pageSize: 4096,
    action: options.action,
    numaNode: options.numaNode,
    dryRun: options.dryRun,
    steps: [{ name: options.action, result: options.dryRun ? 'dry-run' : 'ok' }],
    before: normal(options.before),
    after: normal(options.after),
  });
}
