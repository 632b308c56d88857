/**
 * The local `CommandGateway`: SSM Run Command over the simulated fleet. It answers the way SSM does where the
 * collector depends on it — 50 invocations per listing page, listed outputs cut at 2,500 bytes with
 * `---Output truncated---` (stdout and stderr together, stderr after `----------ERROR-------`), the full stdout
 * (24,000 characters) from getFullOutput, terminal failure states for nodes that never ran the command, and
 * ListCommands' view of a command (describeCommand, findCommands) — it keeps every command it ran, with the
 * request it came with.
 */
import { AGENT_OUTPUT_MARKERS, SSM_LIMITS } from '../config/contracts.ts';
import { type GatherReport, REMEDIATION_ACTIONS, type RemediationAction } from '../core/report.ts';
import {
  type Clock,
  type CommandGateway,
  type CommandSummary,
  type Invocation,
  type InvocationPage,
  ListingExpiredError,
  type SendCommandRequest,
} from '../runtime/ports.ts';
import type { NodeOutcome, RemediationRequest, SimulatedFleet } from './fleet.ts';
import type { ReplayNode } from './replay.ts';

export const LISTING_PAGE_SIZE = SSM_LIMITS.resultsPerPage;
export const LISTED_OUTPUT_BYTES = SSM_LIMITS.listedOutputChars;
export const LISTED_TRUNCATION_SUFFIX = `\n${AGENT_OUTPUT_MARKERS.listingTruncated}`;
export const FULL_OUTPUT_CHARS = SSM_LIMITS.fullOutputChars;
export const FULL_TRUNCATION_SUFFIX = AGENT_OUTPUT_MARKERS.contentTruncated;
const STDERR_SEPARATOR = AGENT_OUTPUT_MARKERS.stderrSeparator;

interface SentInvocation {
  readonly instanceId: string;
  readonly outcome: NodeOutcome;
}

interface SentCommand {
  readonly document: SendCommandRequest['document'];
  readonly request: SendCommandRequest;
  readonly invocations: readonly SentInvocation[];
  readonly requestedAt: Date;
}

export interface GatewayCalls {
  send: number;
  listPages: number;
  fullOutputs: number;
}

export interface LocalGatewayOptions {
  /** Reads this machine for node 0 at every command (null: its synthetic stand-in is used). */
  readonly readThisHost?: () => Promise<GatherReport | null>;
  /** The time commands are requested at (the demo's simulated clock). @default the system clock */
  readonly clock?: Clock;
  /** Extra, read-only nodes printing recorded outputs (`demo --replay`): targeted by every gather, never remediated. */
  readonly replay?: readonly ReplayNode[];
}

/** An error named as SSM names it (`error.name`), so the runtime tells a refusal from an unknown outcome. */
function named(name: string, message: string): Error {
  const error = new Error(`${name}: ${message}`);
  error.name = name;
  return error;
}

/** Cuts a string to at most `bytes` UTF-8 bytes without splitting a character. */
export function cutBytes(text: string, bytes: number): string {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= bytes) return text;
  let end = bytes;
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return buffer.subarray(0, end).toString('utf8');
}

function listedOutput(outcome: NodeOutcome): string {
  if (outcome.kind === 'unreachable') return '';
  const combined = outcome.stderr === '' ? outcome.stdout : `${outcome.stdout}\n${STDERR_SEPARATOR}\n${outcome.stderr}`;
  const cut = cutBytes(combined, LISTED_OUTPUT_BYTES);
  return cut === combined ? combined : `${cut}${LISTED_TRUNCATION_SUFFIX}`;
}

function toInvocation(sent: SentInvocation): Invocation {
  const { outcome } = sent;
  if (outcome.kind === 'unreachable') {
    return { instanceId: sent.instanceId, state: outcome.state, terminal: true, output: '', responseCode: null };
  }
  return {
    instanceId: sent.instanceId,
    state: outcome.exitCode === 0 ? 'Success' : 'Failed',
    terminal: true,
    output: listedOutput(outcome),
    responseCode: outcome.exitCode,
  };
}

function parameter(parameters: SendCommandRequest['parameters'], pattern: RegExp): string | undefined {
  const entry = Object.entries(parameters).find(([name]) => pattern.test(name));
  return entry?.[1][0];
}

/** Reads the remediate document's parameters (action, NUMA node, dry run) the way its allowedValues do. */
export function remediationRequestOf(parameters: SendCommandRequest['parameters']): RemediationRequest {
  const action = parameter(parameters, /^action$/i) ?? 'compact';
  if (!(REMEDIATION_ACTIONS as readonly string[]).includes(action)) {
    throw named('InvalidParameters', `action '${action}' is not one of ${REMEDIATION_ACTIONS.join(', ')}`);
  }
  const numa = parameter(parameters, /^numa/i) ?? 'all';
  if (numa !== 'all' && !/^[0-9]{1,4}$/.test(numa)) {
    throw named('InvalidParameters', `NUMA node '${numa}' is not a node id or 'all'`);
  }
  const dryRun = parameter(parameters, /^dry/i) ?? 'true';
  if (dryRun !== 'true' && dryRun !== 'false') {
    throw named('InvalidParameters', `dry run '${dryRun}' is not 'true' or 'false'`);
  }
  return {
    action: action as RemediationAction,
    numaNode: numa === 'all' ? null : Number(numa),
    dryRun: dryRun === 'true',
  };
}

export class LocalCommandGateway implements CommandGateway {
  private readonly commands = new Map<string, SentCommand>();
  /** How often each API was called (the demo's statistics; tests). */
  readonly calls: GatewayCalls = { send: 0, listPages: 0, fullOutputs: 0 };

  constructor(
    private readonly fleet: SimulatedFleet,
    private readonly options: LocalGatewayOptions = {},
  ) {}

  async send(request: SendCommandRequest): Promise<{ readonly commandId: string }> {
    this.calls.send += 1;
    if (request.targets.kind === 'instances') {
      if (request.targets.instanceIds.length > SSM_LIMITS.instancesPerCommand) {
        throw named('ValidationException', `InstanceIds takes at most ${SSM_LIMITS.instancesPerCommand} ids`);
      }
      const unknown = request.targets.instanceIds.find((id) => this.fleet.node(id) === undefined);
      if (unknown !== undefined) throw named('InvalidInstanceId', `${unknown} is not a managed node`);
    }
    const replayed =
      request.document === 'gather' && request.targets.kind === 'tags' ? (this.options.replay ?? []) : [];
    const targets = [
      ...(request.targets.kind === 'tags' ? this.fleet.matchTags(request.targets.tags) : request.targets.instanceIds),
      ...replayed.map((node) => node.nodeId),
    ];
    const live = (await this.options.readThisHost?.()) ?? null;
    const commandId = this.fleet.nextCommandId();
    let invocations: SentInvocation[];
    if (request.document === 'gather') {
      const outcomes = this.fleet.gather(targets, live);
      for (const node of replayed)
        outcomes.set(node.nodeId, { kind: 'ran', stdout: node.stdout, stderr: '', exitCode: 0 });
      invocations = targets.map((instanceId) => ({
        instanceId,
        outcome: outcomes.get(instanceId) ?? { kind: 'unreachable', state: 'Undeliverable' },
      }));
    } else {
      const remediation = remediationRequestOf(request.parameters);
      invocations = targets.map((instanceId) => ({
        instanceId,
        outcome: this.fleet.remediate(instanceId, remediation, live),
      }));
    }
    const requestedAt = this.options.clock?.now() ?? new Date();
    this.commands.set(commandId, { document: request.document, request, invocations, requestedAt });
    return { commandId };
  }

  private summary(commandId: string, command: SentCommand): CommandSummary {
    const { targets } = command.request;
    return {
      commandId,
      document: command.document,
      comment: command.request.comment.slice(0, 100),
      instanceIds: targets.kind === 'instances' ? [...targets.instanceIds] : [],
      requestedAt: command.requestedAt.toISOString(),
      targetCount: command.invocations.length,
    };
  }

  async describeCommand(commandId: string): Promise<CommandSummary | null> {
    const command = this.commands.get(commandId);
    return command === undefined ? null : this.summary(commandId, command);
  }

  /** Every command of the document requested at or after `invokedAfter`, newest first (as ListCommands lists). */
  async findCommands(query: { document: 'gather' | 'remediate'; invokedAfter: string }): Promise<CommandSummary[]> {
    return [...this.commands.entries()]
      .filter(([, command]) => command.document === query.document)
      .filter(([, command]) => command.requestedAt.toISOString() >= query.invokedAfter)
      .map(([commandId, command]) => this.summary(commandId, command))
      .reverse();
  }

  /** One page of 50, from an offset token (`<commandId>:<offset>`, as opaque to the runtime as SSM's). */
  async listPage(commandId: string, nextToken: string | null): Promise<InvocationPage> {
    const command = this.commands.get(commandId);
    if (command === undefined) throw named('InvalidCommandId', `no command ${commandId}`);
    let start = 0;
    if (nextToken !== null) {
      const [owner, offset] = nextToken.split(':');
      start = Number(offset);
      if (owner !== commandId || !Number.isInteger(start) || start < 0) {
        throw new ListingExpiredError(`listing token '${nextToken.slice(0, 40)}' is not one of command ${commandId}`);
      }
    }
    this.calls.listPages += 1;
    const end = start + LISTING_PAGE_SIZE;
    return {
      invocations: command.invocations.slice(start, end).map(toInvocation),
      nextToken: end < command.invocations.length ? `${commandId}:${end}` : null,
    };
  }

  async getFullOutput(commandId: string, instanceId: string): Promise<string> {
    this.calls.fullOutputs += 1;
    const sent = this.commands.get(commandId)?.invocations.find((candidate) => candidate.instanceId === instanceId);
    if (sent === undefined) throw named('InvocationDoesNotExist', `${commandId} on ${instanceId}`);
    if (sent.outcome.kind === 'unreachable') return '';
    const { stdout } = sent.outcome;
    return stdout.length <= FULL_OUTPUT_CHARS
      ? stdout
      : `${stdout.slice(0, FULL_OUTPUT_CHARS)}${FULL_TRUNCATION_SUFFIX}`;
  }

  /** The request a command was sent with (tests and the demo's checks). */
  sentRequest(commandId: string): SendCommandRequest | undefined {
    return this.commands.get(commandId)?.request;
  }
}
