/**
 * Hands a work item to the collect Lambda: an asynchronous Invoke (InvocationType Event) with the sweep payload,
 * so the caller returns at once and each collection gets the collect Lambda's own timeout, retries and dead-letter
 * queue. The scan Lambda uses it for what the sweep found due; the collect Lambda for its own hand-offs.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { sweepPayload } from '../runtime/events.ts';
import type { WorkItem, WorkTrigger } from '../runtime/ports.ts';

export interface LambdaCollectTriggerOptions {
  readonly client: LambdaClient;
  readonly functionName: string;
}

export class LambdaCollectTrigger implements WorkTrigger {
  constructor(private readonly options: LambdaCollectTriggerOptions) {}

  async trigger(work: WorkItem): Promise<void> {
    await this.options.client.send(
      new InvokeCommand({
        FunctionName: this.options.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(sweepPayload(work))),
      }),
    );
  }
}
