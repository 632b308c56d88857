/**
 * fleetscan's configuration: what `cdk.json` context (and `-c key=value`) sets, validated once at synth by
 * lib/config/config.ts, and handed to the Lambdas as the FLEETSCAN_CONFIG environment variable (JSON),
 * where the same validator reads it again at cold start.
 */
import type { DiagnosisThresholds } from '../core/diagnosis.ts';
import type { Thresholds } from '../core/policy.ts';
import type { RemediationAction } from '../core/report.ts';
import type { RemediationWindow } from '../core/windows.ts';

export interface TargetTag {
  /** EC2/SSM tag key the nodes carry, e.g. `fleetscan`. */
  readonly tagKey: string;
  /** Accepted values, e.g. `['enabled']`. */
  readonly tagValues: readonly string[];
}

export interface RemediationPolicy extends RemediationGuards {
  /** Whether the collector remediates at all. @default true */
  readonly enabled: boolean;
  /** What the remediate document does. @default 'compact-node' (falls back to 'compact' when the node is not known) */
  readonly action: RemediationAction;
  /** Send the remediate document with dryRun=true: measured, nothing written on the node. @default true */
  readonly dryRun: boolean;
  /** Minimum time between two remediations of one node, in seconds (context takes '6h', '30m', '1d'). @default 6h */
  readonly cooldownSeconds: number;
  /** Most nodes one scan may remediate. @default 5 */
  readonly maxNodesPerScan: number;
  /** Remediations without effect, in a row, after which a node is left alone until an operator clears it. @default 2 */
  readonly maxNoEffect: number;
  /** Instance tag that opts a node out: key=value. @default fleetscan:remediate=false */
  readonly optOutTag: { readonly key: string; readonly value: string };
}

/** How a scan's outputs are collected: shards, and when collection gives up. */
export interface CollectionPolicy {
  /**
   * Above this many nodes (the previous scan's count) a scan is sent as several gather commands, one per group of
   * values of the target tag with the most values; 0 never shards. @default 10000
   */
  readonly nodesPerCommand: number;
  /** Collection attempts of one shard that start afresh (a crash, a failure; hand-offs do not count) before it is given up. @default 5 */
  readonly maxAttempts: number;
  /** Minutes after the scan was requested after which a shard still not collected is given up. @default 180 */
  readonly maxMinutes: number;
}

export interface FleetscanConfig {
  /** EventBridge Scheduler expression. @default 'rate(15 minutes)' */
  readonly schedule: string;
  /** Nodes to scan, as SendCommand tag targets (at most 5). @default [{ tagKey: 'fleetscan', tagValues: ['enabled'] }] */
  readonly targets: readonly TargetTag[];
  /** SendCommand MaxConcurrency: a number or a percentage. @default '25%' */
  readonly maxConcurrency: string;
  /** SendCommand MaxErrors: a number or a percentage. @default '100%' (the gather is read-only; one bad node must not stop the rest) */
  readonly maxErrors: string;
  /** SendCommand TimeoutSeconds: how long a node may take to pick the command up. @default 600 */
  readonly deliveryTimeoutSeconds: number;
  /** The documents' execution timeout. @default 60 */
  readonly executionTimeoutSeconds: number;
  readonly thresholds: Thresholds;
  readonly remediation: RemediationPolicy;
  readonly collection: CollectionPolicy;
  /** When compaction is judged futile, and what the counters must show to be reported (`fleetscan:diagnosis.*`). */
  readonly diagnosis: DiagnosisThresholds;
  /** History kept, in days (DynamoDB TTL). @default 90 */
  readonly retentionDays: number;
  /**
   * How often ongoing problems are sent as a digest, in seconds (context takes '1d', '12h'); between digests a scan
   * sends a message only when something changed. 0: no digest. @default 1d
   */
  readonly digestIntervalSeconds: number;
  /** E-mail addresses subscribed to the topic. @default [] */
  readonly notificationEmails: readonly string[];
}

/* ---- Diagnosis and guard rails (issue 10): `fleetscan:remediation.*` keys that guard acting on a node. ---- */

/** When and how fleetscan may act on a node; checked by the collector (windows, actions) and on the node (the rest). */
export interface RemediationGuards {
  /** When fleetscan may act (days and hours in an IANA zone); outside them it records `deferred`. [] = any time. @default [] */
  readonly windows: readonly RemediationWindow[];
  /** The actions the evidence may choose from (lib/core/remedy.ts). @default `action`, plus `compact` for `compact-node` */
  readonly allowedActions: readonly RemediationAction[];
  /** On the node: skip (recorded, not failed) when the 1-minute load average per online CPU is above this. @default 1 */
  readonly maxLoadPerCpu: number;
  /** On the node: skip compaction when vm.compaction_proactiveness is above this. @default 20 (the kernel's default) */
  readonly maxProactiveness: number;
  /** On the node: seconds to let the kernel settle after acting before buddyinfo is read again. @default 10 */
  readonly settleSeconds: number;
}

/* ---- operations: settings of the deployment itself, read at synth only (never handed to the Lambdas) ---- */

export interface OperationsSettings {
  /**
   * Whether the schedule starts scans. false disables the schedule and keeps everything else — the table, the
   * history, the alarms — and `fleetscan scan --now` still runs a scan. @default true
   */
  readonly enabled: boolean;
  /** The error-share alarm fires when more than this percentage of a scan's nodes are ERROR. @default 10 */
  readonly alarmErrorPercent: number;
}
