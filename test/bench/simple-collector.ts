/**
 * THE BASELINE, not fleetscan's collector: a competent simple one — what a careful first version would do without
 * fleetscan's state. One gather command; its listing read with Details, 50 outputs a page (a full output fetched
 * only when the listing cut it), each node judged with the same policy and shaped into the same NodeRecord as
 * fleetscan's, and written as one plain item per node per scan (keyed for "history of node X", 90-day TTL), 25 a
 * BatchWriteItem. No state: no breach streak, no previous record, no remediation, no notification, no checkpoint —
 * a retry starts over. The bench runs it beside fleetscan so that API calls and cost are compared, not claimed.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ttlAfter } from '../../lib/adapters/dynamo/table.ts';
import type { FleetscanConfig } from '../../lib/config/types.ts';
import { evaluate } from '../../lib/core/policy.ts';
import { parseGatherReport } from '../../lib/core/report.ts';
import {
  errorRecord,
  invocationError,
  judgedRecord,
  type RecordContext,
  readReport,
} from '../../lib/runtime/evaluation.ts';
import type { CommandGateway, Invocation, NodeRecord } from '../../lib/runtime/ports.ts';

export interface SimpleOptions {
  readonly gateway: CommandGateway;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly commandId: string;
  /** The scan's id and time (the command's). */
  readonly scan: RecordContext;
  readonly config: Pick<FleetscanConfig, 'thresholds' | 'diagnosis' | 'retentionDays'>;
  /** BatchWriteItem attempts while items come back unprocessed. @default 8 */
  readonly batchAttempts?: number;
}

export interface SimpleResult {
  /** Items written: one per listed node. */
  readonly stored: number;
  readonly pages: number;
}

const BATCH = 25;

/** The item a record becomes: the record's fields as plain attributes, indices as short strings. */
export function simpleItem(record: NodeRecord, retentionDays: number): Record<string, unknown> {
  const { indices, ...fields } = record;
  return {
    pk: `NODE#${record.nodeId}`,
    sk: `${record.at}#${record.scanId}`,
    ttl: ttlAfter(record.at, retentionDays),
    ...fields,
    indices: indices.map(
      (index) =>
        `${index.node} ${index.zone} ${index.order} ${index.suitableBlocks} ${index.unusableIndex} ${index.fragmentationIndex}`,
    ),
  };
}

async function recordOf(options: SimpleOptions, invocation: Invocation): Promise<NodeRecord> {
  const { scan, config } = options;
  if (!invocation.terminal) {
    return errorRecord(scan, invocation, `invocation still ${invocation.state} when collected`, 0);
  }
  if (invocation.state !== 'Success') return errorRecord(scan, invocation, invocationError(invocation), 0);
  const read = await readReport(options.gateway, options.commandId, invocation, parseGatherReport);
  if (!read.ok) return errorRecord(scan, invocation, read.error, 0);
  const { report } = read;
  const verdict = evaluate(
    {
      zones: report.zones,
      memTotalKb: report.memTotalKb,
      memAvailableKb: report.memAvailableKb,
      allocFailures: report.allocFailures,
      previousBreaches: 0,
      kernel: report.kernel,
      pagetypes: report.pagetypes,
      rates: null,
      noEffectStreak: 0,
    },
    config.thresholds,
    config.diagnosis,
  );
  return judgedRecord(scan, invocation, report, verdict, config.thresholds);
}

async function writeBatch(options: SimpleOptions, items: readonly Record<string, unknown>[]): Promise<void> {
  let requests = items.map((item) => ({ PutRequest: { Item: item } }));
  const attempts = options.batchAttempts ?? 8;
  for (let attempt = 0; requests.length > 0; attempt += 1) {
    if (attempt >= attempts) throw new Error(`BatchWriteItem: ${requests.length} item(s) still unprocessed`);
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    const result = await options.doc.send(new BatchWriteCommand({ RequestItems: { [options.tableName]: requests } }));
    requests = (result.UnprocessedItems?.[options.tableName] ?? []).flatMap((request) =>
      request.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: request.PutRequest.Item } }],
    );
  }
}

/** Collects one gather command the simple way (see the module comment). */
export async function simpleCollect(options: SimpleOptions): Promise<SimpleResult> {
  let token: string | null = null;
  let stored = 0;
  let pages = 0;
  let pending: Record<string, unknown>[] = [];
  do {
    const page = await options.gateway.listPage(options.commandId, token);
    pages += 1;
    for (const invocation of page.invocations) {
      pending.push(simpleItem(await recordOf(options, invocation), options.config.retentionDays));
      if (pending.length === BATCH) {
        await writeBatch(options, pending);
        stored += pending.length;
        pending = [];
      }
    }
    token = page.nextToken;
  } while (token !== null);
  if (pending.length > 0) {
    await writeBatch(options, pending);
    stored += pending.length;
  }
  return { stored, pages };
}
