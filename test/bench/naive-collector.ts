/**
 * THE BASELINE, not fleetscan's collector: what a first attempt at collection looks like — list the invocations
 * (without details) to learn the nodes, then one GetCommandInvocation and one PutItem per node. The bench runs it
 * beside the real collector so the ratio of API calls is measured, not claimed. It evaluates with the same policy
 * and writes one plain item per node, so only the access pattern differs.
 */

import { GetCommandInvocationCommand, ListCommandInvocationsCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_THRESHOLDS, evaluate } from '../../lib/core/policy.ts';
import { formatZoneLine, parseGatherReport } from '../../lib/core/report.ts';
import { sanitizeText } from '../../lib/core/sanitize.ts';
import type { NodeRecord } from '../../lib/runtime/ports.ts';

export interface NaiveOptions {
  readonly ssm: SSMClient;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly commandId: string;
  readonly at: string;
  /** Requests in flight at once. @default 16 */
  readonly concurrency?: number;
}

function recordFor(scanId: string, nodeId: string, at: string, output: string, state: string): NodeRecord {
  const base = {
    scanId,
    nodeId,
    at,
    findings: [],
    host: null,
    kernel: null,
    pageSize: null,
    memTotalKb: null,
    memAvailableKb: null,
    allocFailures: null,
    zones: [],
    indices: [],
    worstUnusableIndex: null,
    worstFragmentationIndex: null,
    consecutiveBreaches: 0,
    invocationState: state === 'Success' ? 'Success' : 'Failed',
  } as const;
  try {
    const report = parseGatherReport(output);
    const verdict = evaluate(report, DEFAULT_THRESHOLDS);
    return {
      ...base,
      status: verdict.level,
      cause: verdict.cause,
      error: null,
      host: report.host,
      kernel: report.kernel,
      pageSize: report.pageSize,
      memTotalKb: report.memTotalKb,
      memAvailableKb: report.memAvailableKb,
      allocFailures: report.allocFailures?.count ?? null,
      zones: report.zones
        .filter((zone) => verdict.watchedZones.includes(zone.zone))
        .map((z) => formatZoneLine(z).slice(5)),
      findings: verdict.findings.map((f) => `${f.code}@${f.node ?? '-'}/${f.zone ?? '-'}/${f.order ?? '-'}`),
      worstUnusableIndex: verdict.worstUnusableIndex,
      worstFragmentationIndex: verdict.worstFragmentationIndex,
    };
  } catch (error) {
    return { ...base, status: 'ERROR', cause: null, error: sanitizeText(String(error), 200) };
  }
}

export interface NaiveResult {
  readonly stored: number;
  /** Outputs it could not fetch (the SDK's retries ran out, e.g. throttled): stored as ERROR. */
  readonly lost: number;
}

/** Collects one gather command the naive way. */
export async function naiveCollect(options: NaiveOptions): Promise<NaiveResult> {
  let lost = 0;
  const ids: { id: string; status: string }[] = [];
  let token: string | undefined;
  do {
    const page = await options.ssm.send(
      new ListCommandInvocationsCommand({ CommandId: options.commandId, MaxResults: 50, NextToken: token }),
    );
    for (const invocation of page.CommandInvocations ?? []) {
      ids.push({ id: invocation.InstanceId ?? '', status: invocation.Status ?? 'Unknown' });
    }
    token = page.NextToken;
  } while (token !== undefined);

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const target = ids[next++];
      if (target === undefined) return;
      let output = '';
      try {
        const out = await options.ssm.send(
          new GetCommandInvocationCommand({ CommandId: options.commandId, InstanceId: target.id }),
        );
        output = out.StandardOutputContent ?? '';
      } catch {
        lost += 1;
        output = '';
      }
      const record = recordFor(options.commandId, target.id, options.at, output, target.status);
      // One item per node per scan, keyed for "history of node X": the simplest layout.
      await options.doc.send(
        new PutCommand({
          TableName: options.tableName,
          Item: { pk: `NODE#${record.nodeId}`, sk: `${record.at}#${record.scanId}`, ...record },
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return { stored: ids.length, lost };
}
