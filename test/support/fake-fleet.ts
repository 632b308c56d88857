/**
 * A small in-memory fleet for the runtime's tests: a CommandGateway (SendCommand by tags or instance ids,
 * ListCommandInvocations pages of 50 with outputs cut at 2,500 characters as SSM cuts them, the full output up
 * to 24,000, ListCommands by id or by document and time), an OptOutSource over the nodes' tags, a recording
 * Notifier and a settable clock.
 * (The full SSM-protocol simulator lives in test/support/ssm-simulator/; this one only speaks the ports.)
 */
import { isTerminal } from '../../lib/adapters/ssm.ts';
import {
  type Clock,
  type CommandGateway,
  type CommandSummary,
  type InvocationPage,
  type InvocationState,
  ListingExpiredError,
  type Notification,
  type Notifier,
  type OptOutSource,
  type SendCommandRequest,
} from '../../lib/runtime/ports.ts';
import { FRAGMENTED, gatherOutput, HEALTHY, remediationOutput } from './runtime-fixtures.ts';

export const LISTED_OUTPUT_LIMIT = 2_500;
export const FULL_OUTPUT_LIMIT = 24_000;

export interface NodeRun {
  readonly state?: InvocationState;
  readonly output: string;
  readonly responseCode?: number;
}

export interface RemediateParameters {
  readonly action: string;
  readonly numaNode: string;
  readonly dryRun: string;
}

export interface FakeNode {
  readonly id: string;
  tags: Record<string, string>;
  /** What the gather document prints on this node. */
  gather: () => NodeRun;
  /** What the remediate document prints on this node. */
  remediate: (parameters: RemediateParameters) => NodeRun;
}

interface StoredInvocation {
  readonly instanceId: string;
  readonly state: InvocationState;
  readonly output: string;
  readonly responseCode: number;
}

export interface SentCommand {
  readonly commandId: string;
  readonly request: SendCommandRequest;
  readonly instanceIds: readonly string[];
  readonly requestedAt: Date;
}

function cut(output: string, limit: number, marker: string): string {
  return output.length <= limit ? output : `${output.slice(0, limit)}\n${marker}`;
}

/** A node whose compaction works: after acting, its Normal zones look healthy (unless dry run). */
export function effectiveRemediation(numa: readonly (readonly number[])[]) {
  return (parameters: RemediateParameters): NodeRun => {
    const dryRun = parameters.dryRun === 'true';
    const acted = parameters.numaNode === 'all' ? null : Number(parameters.numaNode);
    return {
      output: remediationOutput({
        action: parameters.action as 'compact',
        numaNode: acted,
        dryRun,
        before: numa,
        after: dryRun ? numa : numa.map((counts, node) => (acted === null || node === acted ? HEALTHY : counts)),
      }),
    };
  };
}

/** A node whose compaction changes nothing. */
export function ineffectiveRemediation(numa: readonly (readonly number[])[]) {
  return (parameters: RemediateParameters): NodeRun => ({
    output: remediationOutput({
      action: parameters.action as 'compact',
      numaNode: parameters.numaNode === 'all' ? null : Number(parameters.numaNode),
      dryRun: parameters.dryRun === 'true',
      before: numa,
      after: numa,
    }),
  });
}

export class FakeFleet implements CommandGateway, OptOutSource {
  readonly nodes = new Map<string, FakeNode>();
  readonly sent: SentCommand[] = [];
  readonly fullOutputCalls: { commandId: string; instanceId: string }[] = [];
  private readonly invocations = new Map<string, StoredInvocation[]>();
  private next = 1;
  /** ListCommandInvocations pages served. */
  listCalls = 0;
  /** SSM's clock, for RequestedDateTime: give it the test's clock. */
  now: () => Date = () => new Date();

  constructor(private readonly optOutTag = { key: 'fleetscan:remediate', value: 'false' }) {}

  add(id: string, options: Partial<Omit<FakeNode, 'id'>> & { numa?: readonly (readonly number[])[] } = {}): FakeNode {
    const numa = options.numa ?? [HEALTHY];
    const node: FakeNode = {
      id,
      tags: options.tags ?? { fleetscan: 'enabled' },
      gather: options.gather ?? (() => ({ output: gatherOutput({ host: `host-${id}`, numa }) })),
      remediate: options.remediate ?? effectiveRemediation(numa),
    };
    this.nodes.set(id, node);
    return node;
  }

  /** `count` nodes with one fragmented NUMA node each: CRITICAL fragmentation under one-breach thresholds. */
  addFragmented(count: number, prefix = 'i-frag'): string[] {
    return Array.from({ length: count }, (_, index) => {
      const id = `${prefix}${String(index).padStart(5, '0')}`;
      this.add(id, { numa: [FRAGMENTED] });
      return id;
    });
  }

  commandsFor(document: 'gather' | 'remediate'): SentCommand[] {
    return this.sent.filter((command) => command.request.document === document);
  }

  async send(request: SendCommandRequest): Promise<{ readonly commandId: string }> {
    const commandId = `${request.document === 'gather' ? 'gather' : 'remediate'}-${String(this.next++).padStart(4, '0')}`;
    const targets = request.targets;
    const ids =
      targets.kind === 'instances'
        ? [...targets.instanceIds]
        : [...this.nodes.values()]
            .filter((node) => targets.tags.every((tag) => tag.values.includes(node.tags[tag.key] ?? '\u0000')))
            .map((node) => node.id);
    const runs = ids.map((instanceId): StoredInvocation => {
      const node = this.nodes.get(instanceId);
      if (node === undefined) return { instanceId, state: 'Undeliverable', output: '', responseCode: -1 };
      const run =
        request.document === 'gather'
          ? node.gather()
          : node.remediate({
              action: request.parameters.action?.[0] ?? '',
              numaNode: request.parameters.numaNode?.[0] ?? 'all',
              dryRun: request.parameters.dryRun?.[0] ?? 'true',
            });
      return { instanceId, state: run.state ?? 'Success', output: run.output, responseCode: run.responseCode ?? 0 };
    });
    this.invocations.set(commandId, runs);
    this.sent.push({ commandId, request, instanceIds: ids, requestedAt: this.now() });
    return { commandId };
  }

  private summary(command: SentCommand): CommandSummary {
    return {
      commandId: command.commandId,
      document: command.request.document,
      comment: command.request.comment.slice(0, 100),
      instanceIds: command.request.targets.kind === 'instances' ? [...command.request.targets.instanceIds] : [],
      requestedAt: command.requestedAt.toISOString(),
      targetCount: command.instanceIds.length,
    };
  }

  async describeCommand(commandId: string): Promise<CommandSummary | null> {
    const command = this.sent.find((entry) => entry.commandId === commandId);
    return command === undefined ? null : this.summary(command);
  }

  async findCommands(query: { document: 'gather' | 'remediate'; invokedAfter: string }): Promise<CommandSummary[]> {
    return this.sent
      .filter((command) => command.request.document === query.document)
      .filter((command) => command.requestedAt.toISOString() >= query.invokedAfter)
      .map((command) => this.summary(command))
      .reverse();
  }

  /** Pages of 50; the token is the next offset (`<commandId>:<offset>`). */
  async listPage(commandId: string, nextToken: string | null): Promise<InvocationPage> {
    const runs = this.invocations.get(commandId) ?? [];
    const start = nextToken === null ? 0 : Number(nextToken.split(':')[1]);
    if (nextToken !== null && (!nextToken.startsWith(`${commandId}:`) || !Number.isInteger(start))) {
      throw new ListingExpiredError(`token ${nextToken} is not one of ${commandId}`);
    }
    this.listCalls += 1;
    const end = start + 50;
    return {
      invocations: runs.slice(start, end).map((run) => ({
        instanceId: run.instanceId,
        state: run.state,
        terminal: isTerminal(run.state),
        output: cut(run.output, LISTED_OUTPUT_LIMIT, '---Output truncated---'),
        responseCode: run.responseCode,
      })),
      nextToken: end < runs.length ? `${commandId}:${end}` : null,
    };
  }

  async getFullOutput(commandId: string, instanceId: string): Promise<string> {
    this.fullOutputCalls.push({ commandId, instanceId });
    const run = (this.invocations.get(commandId) ?? []).find((entry) => entry.instanceId === instanceId);
    if (run === undefined) throw Object.assign(new Error('no such invocation'), { name: 'InvocationDoesNotExist' });
    return cut(run.output, FULL_OUTPUT_LIMIT, '--output truncated--');
  }

  async optedOut(nodeIds: readonly string[]): Promise<ReadonlySet<string>> {
    return new Set(nodeIds.filter((id) => this.nodes.get(id)?.tags[this.optOutTag.key] === this.optOutTag.value));
  }
}

export class RecordingNotifier implements Notifier {
  readonly messages: Notification[] = [];
  async publish(notification: Notification): Promise<void> {
    this.messages.push(notification);
  }
}

export class TestClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  set(value: Date): void {
    this.current = value;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
