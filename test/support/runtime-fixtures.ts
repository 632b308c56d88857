/**
 * Builders for the runtime's tests: configurations, node records, and gather/remediation reports of
 * healthy and fragmented hosts (printed by lib/core's own formatters, as the SSM documents print them).
 */

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
  return {
    schedule: 'rate(15 minutes)',
    targets: [{ tagKey: 'fleetscan', tagValues: ['enabled'] }],
    maxConcurrency: '25%',
    maxErrors: '100%',
    deliveryTimeoutSeconds: 600,
    executionTimeoutSeconds: 60,
    // One breaching scan is enough for CRITICAL, so that single-scan tests can reach remediation.
    thresholds: { ...DEFAULT_THRESHOLDS, consecutiveBreachesForCritical: 1 },
    retentionDays: 90,
    notificationEmails: [],
    ...rest,
    remediation: {
      enabled: true,
      action: 'compact-node',
      dryRun: false,
      cooldownSeconds: 6 * 3600,
      maxNodesPerScan: 5,
      maxNoEffect: 2,
      optOutTag: { key: 'fleetscan:remediate', value: 'false' },
      ...remediation,
    },
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
