/**
 * Faults on the DynamoDB side, injected around the document client the store is given (the store cannot tell):
 * - `unprocessedOnFirstAttempt`: every BatchWriteItem writes only half of the items it has never seen before and
 *   returns the other half as UnprocessedItems — what DynamoDB does under partition pressure;
 * - `crash`: throws a SimulatedCrash on matching calls (say, after K batches), as a Lambda dies mid-collection;
 * - `crashAfter`: lets a matching call through, then throws: the write landed and its caller died right after it.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

export interface CallInfo {
  /** The command's class name: BatchWriteCommand, UpdateCommand, PutCommand, BatchGetCommand, QueryCommand, ... */
  readonly name: string;
  readonly input: Record<string, unknown>;
  /** 1-based count of calls of this name so far, this one included. */
  readonly nth: number;
}

export interface DynamoFaults {
  readonly unprocessedOnFirstAttempt?: boolean;
  /** Crashes every call for which this returns true. */
  readonly crash?: (call: CallInfo) => boolean;
  /** Crashes right after every call for which this returns true (the call itself succeeds). */
  readonly crashAfter?: (call: CallInfo) => boolean;
}

export interface DynamoFaultStats {
  readonly calls: Record<string, number>;
  /** Items returned as UnprocessedItems. */
  heldBack: number;
  crashes: number;
}

type WriteRequest = {
  PutRequest?: { Item: Record<string, unknown> };
  DeleteRequest?: { Key: Record<string, unknown> };
};

function keyOf(request: WriteRequest): string {
  const key = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return `${String(key.pk)}|${String(key.sk)}`;
}

/** Wraps `client`; `faults` is read on every call, so a test can change it between phases. */
export function faultyDocumentClient(
  client: DynamoDBDocumentClient,
  faults: { current: DynamoFaults },
): { client: DynamoDBDocumentClient; stats: DynamoFaultStats } {
  const stats: DynamoFaultStats = { calls: {}, heldBack: 0, crashes: 0 };
  const seen = new Set<string>();

  const send = async (command: { input: Record<string, unknown>; constructor: { name: string } }): Promise<unknown> => {
    const name = command.constructor.name;
    const nth = (stats.calls[name] ?? 0) + 1;
    stats.calls[name] = nth;
    if (faults.current.crash?.({ name, input: command.input, nth })) {
      stats.crashes += 1;
      throw new SimulatedCrash(`simulated crash at ${name} #${nth}`);
    }
    if (command instanceof BatchWriteCommand && faults.current.unprocessedOnFirstAttempt) {
      const requestItems = (command.input.RequestItems ?? {}) as Record<string, WriteRequest[]>;
      const forward: Record<string, WriteRequest[]> = {};
      const held: Record<string, WriteRequest[]> = {};
      for (const [table, requests] of Object.entries(requestItems)) {
        const fresh = requests.filter((request) => !seen.has(keyOf(request)));
        const holdBack = new Set(fresh.slice(0, Math.ceil(fresh.length / 2)));
        for (const request of requests) seen.add(keyOf(request));
        const sent = requests.filter((request) => !holdBack.has(request));
        if (sent.length > 0) forward[table] = sent;
        if (holdBack.size > 0) held[table] = [...holdBack];
        stats.heldBack += holdBack.size;
      }
      const result =
        Object.keys(forward).length > 0
          ? ((await client.send(new BatchWriteCommand({ ...command.input, RequestItems: forward }))) as {
              UnprocessedItems?: Record<string, WriteRequest[]>;
            })
          : {};
      const unprocessed: Record<string, WriteRequest[]> = { ...held };
      for (const [table, requests] of Object.entries(result.UnprocessedItems ?? {})) {
        unprocessed[table] = [...(unprocessed[table] ?? []), ...requests];
      }
      return { ...result, UnprocessedItems: unprocessed };
    }
    const result = await (client.send as (c: unknown) => Promise<unknown>)(command);
    if (faults.current.crashAfter?.({ name, input: command.input, nth })) {
      stats.crashes += 1;
      throw new SimulatedCrash(`simulated crash after ${name} #${nth}`);
    }
    return result;
  };

  const wrapped = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') return send;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { client: wrapped, stats };
}
