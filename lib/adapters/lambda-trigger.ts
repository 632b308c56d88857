/**
 * Hands an overdue command to the collect Lambda: an asynchronous Invoke (InvocationType Event) with the sweep
 * payload, so the scan Lambda returns at once and each collection gets the collect Lambda's own timeout,
 * retries and dead-letter queue.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SweepPayload } from '../runtime/events.ts';

export interface LambdaCollectTriggerOptions {
  readonly client: LambdaClient;
  readonly functionName: string;
}

export class LambdaCollectTrigger {
  constructor(private readonly options: LambdaCollectTriggerOptions) {}

  async trigger(payload: SweepPayload): Promise<void> {
    await this.options.client.send(
      new InvokeCommand({
        FunctionName: this.options.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
  }
}
