/**
 * CommandGateway over SSM Run Command (@aws-sdk/client-ssm).
 *
 * - SendCommand: tag Targets (`tag:<key>`) or explicit InstanceIds, DocumentVersion $LATEST (whether a new
 *   CloudFormation-created version becomes the default is unreliable). SendCommand is not idempotent, so it is
 *   retried only on throttling (a throttled request was not executed); give it a client with maxAttempts 1
 *   (`sendClient`, see clients.ts) so that the SDK does not retry an ambiguous failure either.
 * - ListCommandInvocations with Details and MaxResults 50, one page per call from a NextToken (a collection
 *   checkpoints the token and resumes there; a token SSM refuses is ListingExpiredError); GetCommandInvocation
 *   for the full stdout.
 *   Right after SendCommand both may answer InvocationDoesNotExist / InvalidCommandId or an empty list (eventual
 *   consistency): retried with backoff. Throttling that outlasts the SDK's adaptive retries is retried per page,
 *   so a long collection is not lost to one busy second.
 * - Invocation states are normalized from StatusDetails (more specific) or Status, with or without spaces.
 * - ListCommands answers what SSM remembers of a command (Comment, DocumentName, InstanceIds, RequestedDateTime):
 *   by CommandId (describeCommand), or filtered by DocumentName and InvokedAfter, page by page (findCommands).
 *   The remediation runtime asks it only when its own records are missing a command (after a crash).
 */
import {
  type Command,
  type CommandInvocation,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  type ListCommandInvocationsCommandOutput,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { SSM_LIMITS } from '../config/contracts.ts';
import {
  type CommandGateway,
  type CommandSummary,
  type Invocation,
  type InvocationPage,
  type InvocationState,
  ListingExpiredError,
  type SendCommandRequest,
  type Sleep,
} from '../runtime/ports.ts';
import { isThrottling, realSleep, withRetry } from './retry.ts';

export interface SsmGatewayOptions {
  /** Reads (listings, outputs). */
  readonly client: SSMClient;
  /** Sends; ideally a client with maxAttempts 1. @default client */
  readonly sendClient?: SSMClient;
  /** Document names (or ARNs) of the two fleetscan documents. */
  readonly documents: { readonly gather: string; readonly remediate: string };
  /** @default a real timer */
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Attempts while a new command is not visible yet. @default 6 (about 30 s of waiting at most) */
  readonly consistencyAttempts?: number;
  /** Attempts when throttling outlasts the SDK's retries. @default 5 */
  readonly throttleAttempts?: number;
}

/** SendCommand answered without a command id. */
export class SsmResponseError extends Error {
  override readonly name = 'SsmResponseError';
}

const STATES: readonly InvocationState[] = [
  'Pending',
  'InProgress',
  'Delayed',
  'Success',
  'Cancelled',
  'TimedOut',
  'Failed',
  'Cancelling',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
];
const BY_KEY = new Map(STATES.map((state) => [state.toLowerCase(), state]));
const NOT_TERMINAL: ReadonlySet<InvocationState> = new Set([
  'Pending',
  'InProgress',
  'Delayed',
  'Cancelling',
  'Unknown',
]);

function stateOf(text: string | undefined): InvocationState | undefined {
  return text === undefined ? undefined : BY_KEY.get(text.replace(/[\s_-]+/g, '').toLowerCase());
}

/** "Delivery Timed Out" / "DeliveryTimedOut" → DeliveryTimedOut; StatusDetails wins when it is known. */
export function normalizeInvocationState(status: string | undefined, details: string | undefined): InvocationState {
  return stateOf(details) ?? stateOf(status) ?? 'Unknown';
}

export function isTerminal(state: InvocationState): boolean {
  return !NOT_TERMINAL.has(state);
}

export function toInvocation(invocation: CommandInvocation): Invocation {
  const plugins = invocation.CommandPlugins ?? [];
  const state = normalizeInvocationState(invocation.Status, invocation.StatusDetails);
  return {
    instanceId: invocation.InstanceId ?? '',
    state,
    terminal: isTerminal(state),
    output: plugins
      .map((plugin) => plugin.Output ?? '')
      .filter((output) => output !== '')
      .join('\n'),
    responseCode: plugins[0]?.ResponseCode ?? null,
  };
}

const NOT_YET_VISIBLE = new Set(['InvocationDoesNotExist', 'InvalidCommandId']);

/** An event or a listing names a document by name or by ARN (`…:document/<name>`). */
function sameDocument(listed: string, configured: string): boolean {
  const bare = (value: string) => value.slice(value.lastIndexOf('/') + 1);
  return listed === configured || bare(listed) === bare(configured);
}

/** InvokedAfter as ListCommands' examples spell it (`2024-07-07T00:00:00Z`), rounded down to the second. */
export function invokedAfterValue(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19)}Z`;
}

function notYetVisible(error: unknown): boolean {
  return error instanceof Error && NOT_YET_VISIBLE.has(error.name);
}

export class SsmGateway implements CommandGateway {
  private readonly client: SSMClient;
  private readonly sendClient: SSMClient;
  private readonly documents: SsmGatewayOptions['documents'];
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly consistencyAttempts: number;
  private readonly throttleAttempts: number;

  constructor(options: SsmGatewayOptions) {
    this.client = options.client;
    this.sendClient = options.sendClient ?? options.client;
    this.documents = options.documents;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.consistencyAttempts = options.consistencyAttempts ?? 6;
    this.throttleAttempts = options.throttleAttempts ?? 5;
  }

  private backoff(attempts: number, baseMs: number) {
    return { attempts, baseMs, maxMs: 10_000, sleep: this.sleep, random: this.random };
  }

  async send(request: SendCommandRequest): Promise<{ readonly commandId: string }> {
    const targets = request.targets;
    const input = {
      DocumentName: request.document === 'gather' ? this.documents.gather : this.documents.remediate,
      DocumentVersion: '$LATEST',
      ...(targets.kind === 'tags'
        ? { Targets: targets.tags.map((tag) => ({ Key: `tag:${tag.key}`, Values: [...tag.values] })) }
        : { InstanceIds: [...targets.instanceIds] }),
      Parameters: Object.fromEntries(Object.entries(request.parameters).map(([name, values]) => [name, [...values]])),
      MaxConcurrency: request.maxConcurrency,
      MaxErrors: request.maxErrors,
      TimeoutSeconds: request.deliveryTimeoutSeconds,
      Comment: request.comment.slice(0, SSM_LIMITS.commentChars),
    };
    const output = await withRetry(
      () => this.sendClient.send(new SendCommandCommand(input)),
      isThrottling,
      this.backoff(this.throttleAttempts, 500),
    );
    const commandId = output.Command?.CommandId;
    if (commandId === undefined) throw new SsmResponseError('SendCommand returned no command id');
    return { commandId };
  }

  private listOnce(commandId: string, nextToken: string | null) {
    const first = nextToken === null;
    return withRetry(
      () =>
        this.client.send(
          new ListCommandInvocationsCommand({
            CommandId: commandId,
            Details: true,
            MaxResults: SSM_LIMITS.resultsPerPage,
            ...(nextToken === null ? {} : { NextToken: nextToken }),
          }),
        ),
      (error) => isThrottling(error) || (first && notYetVisible(error)),
      this.backoff(Math.max(this.throttleAttempts, first ? this.consistencyAttempts : 0), 500),
    );
  }

  async listPage(commandId: string, nextToken: string | null): Promise<InvocationPage> {
    let page: ListCommandInvocationsCommandOutput;
    try {
      page = await this.listOnce(commandId, nextToken);
      // An empty first listing right after SendCommand may only mean "not visible yet".
      for (let attempt = 1; nextToken === null && attempt < this.consistencyAttempts; attempt += 1) {
        if ((page.CommandInvocations ?? []).length > 0 || (page.NextToken ?? '') !== '') break;
        await this.sleep(Math.min(10_000, 500 * 2 ** (attempt - 1)));
        page = await this.listOnce(commandId, null);
      }
    } catch (error) {
      if (nextToken !== null && error instanceof Error && error.name === 'InvalidNextToken') {
        throw new ListingExpiredError(`SSM no longer accepts the listing token of command ${commandId}`);
      }
      throw error;
    }
    const token = page.NextToken;
    return {
      invocations: (page.CommandInvocations ?? [])
        .map(toInvocation)
        .filter((invocation) => invocation.instanceId !== ''),
      nextToken: token === undefined || token === '' ? null : token,
    };
  }

  private summary(command: Command): CommandSummary | null {
    if (command.CommandId === undefined) return null;
    const name = command.DocumentName ?? '';
    const requested = command.RequestedDateTime;
    return {
      commandId: command.CommandId,
      document: sameDocument(name, this.documents.remediate)
        ? 'remediate'
        : sameDocument(name, this.documents.gather)
          ? 'gather'
          : null,
      comment: command.Comment ?? '',
      instanceIds: [...(command.InstanceIds ?? [])],
      requestedAt: requested instanceof Date && !Number.isNaN(requested.getTime()) ? requested.toISOString() : null,
      targetCount: typeof command.TargetCount === 'number' ? command.TargetCount : null,
    };
  }

  async describeCommand(commandId: string): Promise<CommandSummary | null> {
    try {
      const output = await withRetry(
        () => this.client.send(new ListCommandsCommand({ CommandId: commandId })),
        isThrottling,
        this.backoff(this.throttleAttempts, 500),
      );
      const [command] = output.Commands ?? [];
      return command === undefined ? null : this.summary(command);
    } catch (error) {
      if (error instanceof Error && error.name === 'InvalidCommandId') return null;
      throw error;
    }
  }

  async findCommands(query: {
    readonly document: 'gather' | 'remediate';
    readonly invokedAfter: string;
  }): Promise<CommandSummary[]> {
    const filters = [
      { key: 'DocumentName' as const, value: this.documents[query.document] },
      { key: 'InvokedAfter' as const, value: invokedAfterValue(query.invokedAfter) },
    ];
    const out: CommandSummary[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await withRetry(
        () => this.client.send(new ListCommandsCommand({ Filters: filters, MaxResults: 50, NextToken: token })),
        isThrottling,
        this.backoff(this.throttleAttempts, 500),
      );
      for (const command of page.Commands ?? []) {
        const summary = this.summary(command);
        if (summary !== null) out.push(summary);
      }
      nextToken = page.NextToken === '' ? undefined : page.NextToken;
    } while (nextToken !== undefined);
    return out;
  }

  async getFullOutput(commandId: string, instanceId: string): Promise<string> {
    const output = await withRetry(
      () => this.client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })),
      (error) => isThrottling(error) || notYetVisible(error),
      this.backoff(Math.max(this.throttleAttempts, this.consistencyAttempts), 500),
    );
    return output.StandardOutputContent ?? '';
  }
}
