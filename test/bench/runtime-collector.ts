/**
 * fleetscan's own collect path, as the Lambdas wire it (lambdas/*: createClients → SsmGateway, DynamoStore),
 * pointed at the bench's SSM simulator and metered dynalite. The scan is started with startScan and collected
 * with collectGather, as the completion event would have it.
 */
import { createClients } from '../../lib/adapters/clients.ts';
import { DynamoHistory } from '../../lib/adapters/dynamo/history.ts';
import { SsmGateway } from '../../lib/adapters/ssm.ts';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import type { FleetscanConfig } from '../../lib/config/types.ts';
import { LocalWorkQueue } from '../../lib/local/work-queue.ts';
import { collect } from '../../lib/runtime/collect.ts';
import type { ScanWork } from '../../lib/runtime/finish.ts';
import type { Notification, RuntimeDeps } from '../../lib/runtime/ports.ts';
import { startScan } from '../../lib/runtime/scan.ts';
import type { BenchJob } from './runner.ts';

export interface RuntimeRun {
  readonly scanMs: number;
  readonly stored: number;
  readonly commandId: string;
  readonly notes: string[];
}

export async function runRuntime(job: BenchJob): Promise<RuntimeRun> {
  const t0 = performance.now();
  const clients = createClients({
    region: 'us-east-1',
    endpoints: { ssm: job.ssmEndpoint, dynamodb: job.dynamoEndpoint },
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
  });
  const config: FleetscanConfig = {
    ...DEFAULT_CONFIG,
    targets: [{ tagKey: job.tagKey, tagValues: [job.tagValue] }],
  };
  const notifications: Notification[] = [];
  const queue = new LocalWorkQueue();
  const deps: RuntimeDeps = {
    gateway: new SsmGateway({
      client: clients.ssm,
      sendClient: clients.ssmSend,
      documents: { gather: job.gatherDocument, remediate: job.remediateDocument },
    }),
    store: new DynamoHistory({
      client: clients.doc,
      tableName: job.tableName,
      retentionDays: config.retentionDays,
      orders: config.thresholds.orders,
    }),
    trigger: queue,
    notifier: {
      publish: async (notification) => {
        notifications.push(notification);
      },
    },
    // No EC2 in the bench: nobody opts out (the real TagOptOut asks EC2 only about remediation candidates).
    optOut: { optedOut: async () => new Set<string>() },
    clock: { now: () => new Date() },
  };
  const scan = await startScan(deps, config);
  const scanMs = performance.now() - t0;
  let finished: ScanWork | undefined;
  await queue.trigger({ kind: 'gather', commandId: scan.commandId });
  await queue.drain(async (work) => {
    const result = await collect(deps, config, work);
    if (result.kind === 'gather' && result.status !== 'unknown-command' && result.scan !== undefined)
      finished = result.scan;
  });
  return {
    scanMs,
    stored: finished?.nodes ?? 0,
    commandId: scan.commandId,
    notes: [
      `collect: ${finished?.status}, counts ${JSON.stringify(finished?.counts)}, ${finished?.remediations.length} remediations, ${notifications.length} notification(s) of ${notifications.reduce((sum, n) => sum + Buffer.byteLength(n.body), 0)} bytes`,
    ],
  };
}
