/**
 * An SSM endpoint on 127.0.0.1 speaking the real wire protocol (AWS JSON 1.1): `POST /` with
 * `X-Amz-Target: AmazonSSM.<Operation>` and a JSON body; errors are HTTP 400 (500 for server faults) with
 * `{"__type": "<ErrorName>", "message": ...}` and an `x-amzn-ErrorType` header, which is how the SDK's
 * AwsJson1_1Protocol names the error (body `__type` first, then the header) and how its retry strategy tells
 * throttling (`ThrottlingException`) from a client error. Point the real `SSMClient` at `endpoint`.
 *
 * Modelled operations: SendCommand, ListCommandInvocations, GetCommandInvocation, ListCommands (by CommandId, or
 * newest first with `Filters` — DocumentName, InvokedAfter, InvokedBefore, Status — and MaxResults/NextToken
 * paging). Anything else answers UnknownOperationException, as AWS does for a target it does not know.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DOCUMENT_PATTERNS } from '../../../lib/config/contracts.ts';
import { REMEDIATION_ACTIONS } from '../../../lib/core/report.ts';
import { listingOutput, standardErrorContent, standardOutputContent } from './agent-output.ts';
import { type CommandStatusEvent, eventTime, type InvocationStatusEvent, instanceArn } from './events.ts';
import { type FaultConfig, FaultEngine } from './faults.ts';
import { type DocumentKind, type Fleet, type Outcome, runDocument, type SimNode } from './fleet.ts';
import { Rng } from './rng.ts';

export const SSM_OPERATIONS = [
  'SendCommand',
  'ListCommandInvocations',
  'GetCommandInvocation',
  'ListCommands',
] as const;
export type SsmOperation = (typeof SSM_OPERATIONS)[number];

/** A document the simulated account has: its name, what it does, and (optionally) its parameters' rules. */
export interface DocumentSpec {
  readonly name: string;
  readonly kind: DocumentKind;
  /** The document's single `aws:runShellScript` step: its name is the plugin name SSM reports. @default kind */
  readonly stepName?: string;
  /** When given, SendCommand rejects unknown parameters and values outside allowedValues/allowedPattern. */
  readonly parameters?: Readonly<
    Record<string, { readonly allowedValues?: readonly string[]; readonly allowedPattern?: string }>
  >;
}

export interface SimulatorOptions {
  readonly fleet: Fleet;
  readonly faults?: FaultConfig;
  /**
   * `immediate`: invocations are terminal from their first visible read (stragglers excepted);
   * `manual`: every invocation stays InProgress until `complete()`. @default 'immediate'
   */
  readonly completion?: 'immediate' | 'manual';
  /** `spaced`: "Delivery Timed Out"; `compact`: "DeliveryTimedOut" (AWS-FACTS: the spelling is unconfirmed). @default 'spaced' */
  readonly statusSpelling?: 'spaced' | 'compact';
  /**
   * The account's documents. @default any name containing 'remediat' is the remediate document (step `remediate`),
   * any other name containing 'gather' the gather document (step `gather`), anything else InvalidDocument — the
   * names lib/infra/documents.ts gives them (`<prefix>-Gather`, `<prefix>-Remediate`). See fleetscanDocuments().
   */
  readonly documents?: readonly DocumentSpec[];
  /** Seeds command ids and per-invocation outputs. @default the fleet's seed */
  readonly seed?: number;
  readonly account?: string;
  readonly region?: string;
  /** The service's clock (RequestedDateTime, event times, InvokedAfter/InvokedBefore). @default the system clock */
  readonly clock?: { now(): Date };
}

export interface SimInvocation {
  readonly node: SimNode;
  readonly outcome: Outcome;
  released: boolean;
}

export interface SimCommand {
  readonly commandId: string;
  readonly documentName: string;
  readonly kind: DocumentKind;
  /** The plugin name SSM reports for this command's step. */
  readonly pluginName: string;
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly comment: string;
  readonly requestedAt: Date;
  readonly timeoutSeconds: number;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly targets: readonly { readonly key: string; readonly values: readonly string[] }[];
  readonly instanceIds: readonly string[];
  readonly invocations: Map<string, SimInvocation>;
  /** Reads of this command so far (eventual consistency counts them). */
  reads: number;
}

export interface SimulatorStats {
  /** Every request received, by operation (throttled and failed ones included: they count against AWS's limits). */
  readonly apiCalls: Record<string, number>;
  /** Requests answered with ThrottlingException, by operation. */
  readonly throttled: Record<string, number>;
  /** Requests answered with any error, by error name. */
  readonly errors: Record<string, number>;
  /** Response body bytes sent. */
  readonly bytesOut: number;
}

/** An error the simulated service answers with. */
export class SsmError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'SsmError';
    this.type = type;
    this.status = status;
  }
}

type Json = Record<string, unknown>;

const MAX_INSTANCE_IDS = 50;
const MAX_TARGETS = 5;
const CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
const ERRORS = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/;

function validation(field: string, value: unknown, constraint: string): SsmError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return new SsmError(
    'ValidationException',
    `1 validation error detected: Value '${shown}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

function compact(details: string): string {
  return details.replace(/ /g, '');
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function stringListMap(value: unknown, field: string): Record<string, string[]> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw validation(field, value, 'map');
  const out: Record<string, string[]> = {};
  for (const [key, list] of Object.entries(value)) {
    if (!isStringArray(list)) throw validation(`${field}.${key}`, list, 'Member must be a list of strings');
    out[key] = list;
  }
  return out;
}

function optionalString(body: Json, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SsmError('SerializationException', `${field} must be a string`);
  return value;
}

function encodeToken(commandId: string | undefined, offset: number): string {
  return Buffer.from(JSON.stringify({ c: commandId ?? null, o: offset })).toString('base64');
}

function decodeToken(token: string, commandId: string | undefined): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { c?: unknown; o?: unknown };
    if ((parsed.c ?? undefined) === commandId && typeof parsed.o === 'number' && Number.isInteger(parsed.o)) {
      return parsed.o;
    }
  } catch {
    // falls through to the service's error
  }
  throw new SsmError('InvalidNextToken', 'The specified token is not valid.');
}

/** How many of `total` a `MaxConcurrency`/`MaxErrors` value allows. */
function allowance(value: string, total: number, round: (n: number) => number): number {
  return value.endsWith('%') ? round((Number(value.slice(0, -1)) / 100) * total) : Number(value);
}

export class SsmSimulator {
  readonly fleet: Fleet;
  readonly faults: FaultEngine;
  private readonly options: SimulatorOptions;
  private readonly commands = new Map<string, SimCommand>();
  private readonly idRng: Rng;
  private server: Server | undefined;
  private port = 0;
  private apiCalls: Record<string, number> = {};
  private throttled: Record<string, number> = {};
  private errors: Record<string, number> = {};
  private bytesOut = 0;

  private constructor(options: SimulatorOptions) {
    this.options = options;
    this.fleet = options.fleet;
    this.faults = new FaultEngine(options.faults);
    this.idRng = Rng.derive(options.seed ?? options.fleet.seed, 'command-ids');
  }

  /** Starts a simulator on 127.0.0.1 on an ephemeral port. Close it with `close()`. */
  static async start(options: SimulatorOptions): Promise<SsmSimulator> {
    const sim = new SsmSimulator(options);
    const server = createServer((req, res) => {
      sim.handle(req, res).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    sim.server = server;
    sim.port = (server.address() as AddressInfo).port;
    return sim;
  }

  private now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get region(): string {
    return this.options.region ?? 'us-east-1';
  }

  get account(): string {
    return this.options.account ?? '123456789012';
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  stats(): SimulatorStats {
    return {
      apiCalls: { ...this.apiCalls },
      throttled: { ...this.throttled },
      errors: { ...this.errors },
      bytesOut: this.bytesOut,
    };
  }

  resetStats(): void {
    this.apiCalls = {};
    this.throttled = {};
    this.errors = {};
    this.bytesOut = 0;
  }

  /** Replaces the fault configuration (storms count calls from the last reset). */
  setFaults(config: FaultConfig, resetCounters = true): void {
    this.faults.set(config, resetCounters);
  }

  /** Every command sent so far, oldest first. */
  sentCommands(): SimCommand[] {
    return [...this.commands.values()];
  }

  command(commandId: string): SimCommand {
    const command = this.commands.get(commandId);
    if (command === undefined) throw new Error(`no simulated command ${commandId}`);
    return command;
  }

  /** Lets invocations of a command end (all of them, or the named nodes): for `manual` completion and stragglers. */
  complete(commandId: string, instanceIds?: readonly string[]): void {
    const command = this.command(commandId);
    for (const [id, invocation] of command.invocations) {
      if (instanceIds === undefined || instanceIds.includes(id)) invocation.released = true;
    }
  }

  /** Whether every invocation of the command has ended. */
  isComplete(commandId: string): boolean {
    return [...this.command(commandId).invocations.values()].every((invocation) => this.ended(invocation));
  }

  /**
   * The EventBridge events SSM would emit once the command ended: one per invocation, then the command's own.
   * Tests deliver, duplicate, reorder or drop them.
   */
  completionEvents(commandId: string): { command: CommandStatusEvent; invocations: InvocationStatusEvent[] } {
    const command = this.command(commandId);
    const now = this.now();
    const base = { version: '0', source: 'aws.ssm', account: this.account, region: this.region } as const;
    const invocations = [...command.invocations.values()].map(
      (invocation): InvocationStatusEvent => ({
        ...base,
        id: this.uuid(),
        'detail-type': 'EC2 Command Invocation Status-change Notification',
        time: eventTime(now),
        resources: [instanceArn(this.region, this.account, invocation.node.instanceId)],
        detail: {
          'command-id': command.commandId,
          'document-name': command.documentName,
          'instance-id': invocation.node.instanceId,
          'requested-date-time': command.requestedAt.toISOString(),
          status: this.view(invocation).status,
        },
      }),
    );
    return {
      command: {
        ...base,
        id: this.uuid(),
        'detail-type': 'EC2 Command Status-change Notification',
        time: eventTime(now),
        resources: [...command.invocations.keys()].map((id) => instanceArn(this.region, this.account, id)),
        detail: {
          'command-id': command.commandId,
          'document-name': command.documentName,
          'expire-after': new Date(command.requestedAt.getTime() + command.timeoutSeconds * 1000).toISOString(),
          parameters: command.parameters,
          'requested-date-time': command.requestedAt.toISOString(),
          status: this.commandStatus(command).status,
        },
      },
      invocations,
    };
  }

  /* ---- HTTP ---- */

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' && target.startsWith('AmazonSSM.') ? target.slice(10) : '';
    this.apiCalls[operation || '(none)'] = (this.apiCalls[operation || '(none)'] ?? 0) + 1;
    const decision = this.faults.next(operation);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    let status = 200;
    let payload: Json;
    try {
      if (req.method !== 'POST' || req.url !== '/') throw new SsmError('UnknownOperationException', 'POST / only');
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new SsmError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      }
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
        throw new SsmError('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
      }
      if (decision.fault === 'server-error') {
        throw new SsmError('InternalServerError', 'An internal error occurred.', 500);
      }
      if (decision.fault === 'throttle') {
        this.throttled[operation] = (this.throttled[operation] ?? 0) + 1;
        throw new SsmError('ThrottlingException', 'Rate exceeded');
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        throw new SsmError('SerializationException', 'Request body is not valid JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new SsmError('SerializationException', 'Request body must be a JSON object');
      }
      payload = this.dispatch(operation, body as Json);
    } catch (error) {
      if (!(error instanceof SsmError)) throw error;
      status = error.status;
      this.errors[error.type] = (this.errors[error.type] ?? 0) + 1;
      payload = { __type: error.type, message: error.message };
    }
    const text = JSON.stringify(payload);
    this.bytesOut += Buffer.byteLength(text);
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    };
    if (status !== 200) headers['x-amzn-errortype'] = String(payload.__type);
    res.writeHead(status, headers);
    res.end(text);
  }

  private dispatch(operation: string, body: Json): Json {
    switch (operation) {
      case 'SendCommand':
        return this.sendCommand(body);
      case 'ListCommandInvocations':
        return this.listCommandInvocations(body);
      case 'GetCommandInvocation':
        return this.getCommandInvocation(body);
      case 'ListCommands':
        return this.listCommands(body);
      default:
        throw new SsmError('UnknownOperationException', `The simulator does not model ${operation || 'this request'}`);
    }
  }

  /* ---- SendCommand ---- */

  private documentFor(name: string): DocumentSpec {
    const documents = this.options.documents;
    if (documents !== undefined) {
      const found = documents.find((doc) => doc.name === name);
      if (found === undefined) throw new SsmError('InvalidDocument', `Document ${name} does not exist`);
      return found;
    }
    if (/remediat/i.test(name)) return { name, kind: 'remediate' };
    if (/gather/i.test(name)) return { name, kind: 'gather' };
    throw new SsmError('InvalidDocument', `Document ${name} does not exist`);
  }

  private sendCommand(body: Json): Json {
    const documentName = optionalString(body, 'DocumentName');
    if (documentName === undefined) throw validation('documentName', null, 'Member must not be null');
    const comment = optionalString(body, 'Comment') ?? '';
    if (comment.length > 100) {
      throw validation('comment', comment, 'Member must have length less than or equal to 100');
    }
    const timeoutSeconds = body.TimeoutSeconds ?? 3600;
    if (typeof timeoutSeconds !== 'number' || timeoutSeconds < 30 || timeoutSeconds > 2_592_000) {
      throw validation('timeoutSeconds', timeoutSeconds, 'Member must have value between 30 and 2592000');
    }
    const maxConcurrency = optionalString(body, 'MaxConcurrency') ?? '50';
    if (!CONCURRENCY.test(maxConcurrency)) {
      throw validation(
        'maxConcurrency',
        maxConcurrency,
        `Member must satisfy regular expression pattern: ${CONCURRENCY.source}`,
      );
    }
    const maxErrors = optionalString(body, 'MaxErrors') ?? '0';
    if (!ERRORS.test(maxErrors)) {
      throw validation('maxErrors', maxErrors, `Member must satisfy regular expression pattern: ${ERRORS.source}`);
    }
    const version = optionalString(body, 'DocumentVersion');
    if (version !== undefined && !/^(\$DEFAULT|\$LATEST|[0-9]+)$/.test(version)) {
      throw new SsmError('InvalidDocumentVersion', `The document version ${version} is not valid`);
    }
    const document = this.documentFor(documentName);
    const parameters = stringListMap(body.Parameters, 'parameters');
    this.checkParameters(document, parameters);

    const instanceIds = body.InstanceIds === undefined ? undefined : body.InstanceIds;
    const rawTargets = body.Targets;
    if ((instanceIds === undefined) === (rawTargets === undefined)) {
      throw new SsmError('InvalidParameters', 'Specify either InstanceIds or Targets, not both and not neither.');
    }
    let nodes: SimNode[];
    let targets: { key: string; values: string[] }[] = [];
    let ids: string[] = [];
    if (instanceIds !== undefined) {
      if (!isStringArray(instanceIds)) throw validation('instanceIds', instanceIds, 'Member must be a list of strings');
      if (instanceIds.length > MAX_INSTANCE_IDS) {
        throw validation(
          'instanceIds',
          instanceIds,
          `Member must have length less than or equal to ${MAX_INSTANCE_IDS}`,
        );
      }
      if (new Set(instanceIds).size !== instanceIds.length) {
        throw new SsmError('DuplicateInstanceId', 'You cannot specify an instance ID in more than one association.');
      }
      const unknown = instanceIds.filter((id) => this.fleet.get(id) === undefined);
      if (unknown.length > 0) {
        throw new SsmError(
          'InvalidInstanceId',
          `Instances [[${unknown.join(', ')}]] not in a valid state for account ${this.account}`,
        );
      }
      ids = instanceIds;
      nodes = instanceIds.map((id) => this.fleet.node(id));
    } else {
      if (!Array.isArray(rawTargets) || rawTargets.length === 0 || rawTargets.length > MAX_TARGETS) {
        throw validation('targets', rawTargets, `Member must have length between 1 and ${MAX_TARGETS}`);
      }
      targets = rawTargets.map((target: unknown) => {
        const t = target as { Key?: unknown; Values?: unknown };
        if (typeof t.Key !== 'string' || !isStringArray(t.Values) || t.Values.length === 0 || t.Values.length > 50) {
          throw validation('targets', target, 'Key must be a string and Values a list of 1 to 50 strings');
        }
        if (!t.Key.startsWith('tag:') && t.Key !== 'tag-key') {
          // AWS-FACTS: Key=InstanceIds is documented for Automation and State Manager only; the project must not rely on it.
          throw new SsmError(
            'InvalidTarget',
            `Target key ${t.Key} is not modelled for Run Command (use tag:<key> or InstanceIds)`,
          );
        }
        return { key: t.Key, values: t.Values };
      });
      nodes = this.fleet.matching(targets);
    }

    const commandId = this.uuid();
    const requestedAt = this.now();
    const command: SimCommand = {
      commandId,
      documentName,
      kind: document.kind,
      pluginName: document.stepName ?? document.kind,
      parameters,
      comment,
      requestedAt,
      timeoutSeconds,
      maxConcurrency,
      maxErrors,
      targets,
      instanceIds: ids,
      invocations: new Map(),
      reads: 0,
    };
    this.run(command, nodes);
    this.commands.set(commandId, command);
    return { Command: this.commandJson(command) };
  }

  private checkParameters(document: DocumentSpec, parameters: Record<string, string[]>): void {
    const spec = document.parameters;
    if (spec === undefined) return;
    for (const [name, values] of Object.entries(parameters)) {
      const rule = spec[name];
      if (rule === undefined)
        throw new SsmError('InvalidParameters', `Parameter "${name}" is not defined in the document.`);
      for (const value of values) {
        if (rule.allowedValues !== undefined && !rule.allowedValues.includes(value)) {
          throw new SsmError('InvalidParameters', `Parameter "${name}" value "${value}" is not in allowedValues.`);
        }
        if (rule.allowedPattern !== undefined && !new RegExp(rule.allowedPattern).test(value)) {
          throw new SsmError(
            'InvalidParameters',
            `Parameter "${name}" value "${value}" does not match allowedPattern.`,
          );
        }
      }
    }
  }

  /**
   * Runs the document on every targeted node now (outputs are fixed at send time, reads only reveal them).
   * MaxErrors is applied in MaxConcurrency-sized waves: once a wave pushes the error count past it, nodes not yet
   * started are Cancelled, as SSM stops sending the command.
   */
  private run(command: SimCommand, nodes: readonly SimNode[]): void {
    const seed = this.options.seed ?? this.fleet.seed;
    const wave = Math.max(1, allowance(command.maxConcurrency, nodes.length, Math.ceil));
    const maxErrors = allowance(command.maxErrors, nodes.length, Math.floor);
    const cancelled: Outcome = {
      status: 'Cancelled',
      statusDetails: 'Cancelled',
      responseCode: -1,
      stdout: new Uint8Array(),
      stderr: new Uint8Array(),
      ran: false,
    };
    let errors = 0;
    let stopped = false;
    nodes.forEach((node, index) => {
      node.received.push({
        commandId: command.commandId,
        documentName: command.documentName,
        kind: command.kind,
        parameters: command.parameters,
      });
      if (index % wave === 0 && errors > maxErrors) stopped = true;
      const outcome = stopped
        ? cancelled
        : runDocument(
            node,
            command.kind,
            command.parameters,
            Rng.derive(seed, `${command.commandId}/${node.instanceId}`),
            command.requestedAt,
          );
      if (outcome.statusDetails === 'Failed' || outcome.statusDetails === 'Execution Timed Out') errors += 1;
      command.invocations.set(node.instanceId, {
        node,
        outcome,
        released: stopped || (this.options.completion !== 'manual' && !node.straggler),
      });
    });
  }

  /* ---- reads ---- */

  private ended(invocation: SimInvocation): boolean {
    return invocation.released;
  }

  private details(outcomeDetails: string): string {
    return this.options.statusSpelling === 'compact' ? compact(outcomeDetails) : outcomeDetails;
  }

  /** What a read shows of an invocation now. */
  private view(invocation: SimInvocation): { status: string; statusDetails: string } {
    if (!this.ended(invocation)) return { status: 'InProgress', statusDetails: 'InProgress' };
    return { status: invocation.outcome.status, statusDetails: this.details(invocation.outcome.statusDetails) };
  }

  /** Counts a read of the command; true while eventual consistency still hides it. */
  private hidden(command: SimCommand): boolean {
    command.reads += 1;
    const hide = this.faults.current.eventualConsistency?.reads ?? 0;
    return command.reads <= hide;
  }

  private listCommandInvocations(body: Json): Json {
    const commandId = optionalString(body, 'CommandId');
    const instanceId = optionalString(body, 'InstanceId');
    const details = body.Details === true;
    const maxResults = body.MaxResults ?? 50;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50) {
      throw validation('maxResults', maxResults, 'Member must have value between 1 and 50');
    }
    const token = optionalString(body, 'NextToken');
    let rows: { command: SimCommand; invocation: SimInvocation }[];
    if (commandId !== undefined) {
      const command = this.commands.get(commandId);
      if (command === undefined) throw new SsmError('InvalidCommandId', `Command ${commandId} does not exist.`);
      rows = this.hidden(command)
        ? []
        : [...command.invocations.values()].map((invocation) => ({ command, invocation }));
    } else {
      rows = [...this.commands.values()]
        .reverse()
        .flatMap((command) => [...command.invocations.values()].map((invocation) => ({ command, invocation })));
    }
    if (instanceId !== undefined) rows = rows.filter((row) => row.invocation.node.instanceId === instanceId);
    const offset = token === undefined ? 0 : decodeToken(token, commandId);
    const page = rows.slice(offset, offset + maxResults);
    const result: Json = {
      CommandInvocations: page.map(({ command, invocation }) => this.invocationJson(command, invocation, details)),
    };
    if (offset + maxResults < rows.length) result.NextToken = encodeToken(commandId, offset + maxResults);
    return result;
  }

  private invocationJson(command: SimCommand, invocation: SimInvocation, details: boolean): Json {
    const { status, statusDetails } = this.view(invocation);
    const node = invocation.node;
    const json: Json = {
      CommandId: command.commandId,
      InstanceId: node.instanceId,
      InstanceName: node.facts.host,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      RequestedDateTime: command.requestedAt.getTime() / 1000,
      Status: status,
      StatusDetails: statusDetails,
      StandardOutputUrl: '',
      StandardErrorUrl: '',
      CommandPlugins: [],
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
    if (details) {
      const ended = this.ended(invocation);
      const outcome = invocation.outcome;
      json.CommandPlugins = [
        {
          Name: command.pluginName,
          Status: status,
          StatusDetails: statusDetails,
          ResponseCode: ended ? outcome.responseCode : -1,
          Output: ended && outcome.ran ? listingOutput(outcome.stdout, outcome.stderr) : '',
          StandardOutputUrl: '',
          StandardErrorUrl: '',
          OutputS3Region: this.region,
          OutputS3BucketName: '',
          OutputS3KeyPrefix: '',
        },
      ];
    }
    return json;
  }

  private getCommandInvocation(body: Json): Json {
    const commandId = optionalString(body, 'CommandId');
    const instanceId = optionalString(body, 'InstanceId');
    if (commandId === undefined) throw validation('commandId', null, 'Member must not be null');
    if (instanceId === undefined) throw validation('instanceId', null, 'Member must not be null');
    const pluginName = optionalString(body, 'PluginName');
    const command = this.commands.get(commandId);
    if (command === undefined) throw new SsmError('InvalidCommandId', `Command ${commandId} does not exist.`);
    if (this.hidden(command)) throw new SsmError('InvocationDoesNotExist', 'The command invocation does not exist.');
    const invocation = command.invocations.get(instanceId);
    if (invocation === undefined)
      throw new SsmError('InvocationDoesNotExist', 'The command invocation does not exist.');
    if (pluginName !== undefined && pluginName !== command.pluginName) {
      throw new SsmError('InvalidPluginName', `The plugin name ${pluginName} is not valid.`);
    }
    const { status, statusDetails } = this.view(invocation);
    const ended = this.ended(invocation);
    const outcome = invocation.outcome;
    const started = command.requestedAt.toISOString();
    return {
      CommandId: command.commandId,
      InstanceId: instanceId,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      PluginName: command.pluginName,
      ResponseCode: ended ? outcome.responseCode : -1,
      ExecutionStartDateTime: outcome.ran ? started : '',
      ExecutionElapsedTime: outcome.ran && ended ? 'PT0.42S' : '',
      ExecutionEndDateTime: outcome.ran && ended ? started : '',
      Status: status,
      StatusDetails: statusDetails,
      StandardOutputContent: ended && outcome.ran ? standardOutputContent(outcome.stdout) : '',
      StandardOutputUrl: '',
      StandardErrorContent: ended && outcome.ran ? standardErrorContent(outcome.stderr) : '',
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  private listCommands(body: Json): Json {
    const commandId = optionalString(body, 'CommandId');
    const maxResults = body.MaxResults ?? 50;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50) {
      throw validation('maxResults', maxResults, 'Member must have value between 1 and 50');
    }
    const filters = this.commandFilters(body.Filters);
    if (commandId !== undefined) {
      if (filters.length > 0) {
        throw new SsmError('InvalidParameters', 'CommandId and Filters cannot be used together.');
      }
      const command = this.commands.get(commandId);
      if (command === undefined) throw new SsmError('InvalidCommandId', `Command ${commandId} does not exist.`);
      return { Commands: [this.commandJson(command)] };
    }
    const rows = [...this.commands.values()].reverse().filter((command) => filters.every((keep) => keep(command)));
    const token = optionalString(body, 'NextToken');
    const offset = token === undefined ? 0 : decodeToken(token, 'ListCommands');
    const result: Json = {
      Commands: rows.slice(offset, offset + maxResults).map((command) => this.commandJson(command)),
    };
    if (offset + maxResults < rows.length) result.NextToken = encodeToken('ListCommands', offset + maxResults);
    return result;
  }

  /** ListCommands' `Filters` (CommandFilter: lowercase `key`/`value`), as predicates on a command. */
  private commandFilters(raw: unknown): ((command: SimCommand) => boolean)[] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > 5) {
      throw validation('filters', raw, 'Member must have length between 1 and 5');
    }
    return raw.map((filter: unknown) => {
      const { key, value } = (filter ?? {}) as { key?: unknown; value?: unknown };
      if (typeof value !== 'string' || value === '') {
        throw validation('filters.member.value', value, 'Member must have length greater than or equal to 1');
      }
      const time = (): number => {
        const parsed = Date.parse(value);
        if (Number.isNaN(parsed)) throw new SsmError('InvalidFilterValue', `${value} is not a valid timestamp.`);
        return parsed;
      };
      switch (key) {
        case 'DocumentName':
          return (command) => command.documentName === value;
        case 'InvokedAfter': {
          const after = time();
          return (command) => command.requestedAt.getTime() >= after;
        }
        case 'InvokedBefore': {
          const before = time();
          return (command) => command.requestedAt.getTime() <= before;
        }
        case 'Status':
          return (command) => this.commandStatus(command).status === value;
        default:
          throw new SsmError('InvalidFilterKey', `The filter key ${String(key)} is not valid.`);
      }
    });
  }

  /**
   * A command's status from its invocations: InProgress until all ended; Success when all succeeded; Failed when
   * errors exceeded MaxErrors; otherwise Failed with StatusDetails Incomplete (how AWS pairs Status with Incomplete
   * is unconfirmed; a collector should treat every terminal status alike).
   */
  private commandStatus(command: SimCommand): { status: string; statusDetails: string } {
    const invocations = [...command.invocations.values()];
    if (invocations.length === 0) return { status: 'Success', statusDetails: this.details('No Instances In Tag') };
    if (!invocations.every((invocation) => this.ended(invocation))) {
      return { status: 'InProgress', statusDetails: 'InProgress' };
    }
    const outcomes = invocations.map((invocation) => invocation.outcome);
    if (outcomes.every((outcome) => outcome.status === 'Success'))
      return { status: 'Success', statusDetails: 'Success' };
    const errors = outcomes.filter(
      (o) => o.statusDetails === 'Failed' || o.statusDetails === 'Execution Timed Out',
    ).length;
    if (errors > allowance(command.maxErrors, invocations.length, Math.floor)) {
      return { status: 'Failed', statusDetails: 'Failed' };
    }
    return { status: 'Failed', statusDetails: 'Incomplete' };
  }

  private commandJson(command: SimCommand): Json {
    const invocations = [...command.invocations.values()];
    const ended = invocations.filter((invocation) => this.ended(invocation));
    const { status, statusDetails } = this.commandStatus(command);
    return {
      CommandId: command.commandId,
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      Comment: command.comment,
      ExpiresAfter: (command.requestedAt.getTime() + command.timeoutSeconds * 1000) / 1000,
      Parameters: command.parameters,
      InstanceIds: command.instanceIds,
      Targets: command.targets.map((target) => ({ Key: target.key, Values: target.values })),
      RequestedDateTime: command.requestedAt.getTime() / 1000,
      Status: status,
      StatusDetails: statusDetails,
      OutputS3Region: this.region,
      OutputS3BucketName: '',
      OutputS3KeyPrefix: '',
      MaxConcurrency: command.maxConcurrency,
      MaxErrors: command.maxErrors,
      TargetCount: invocations.length,
      CompletedCount: ended.length,
      ErrorCount: ended.filter(
        (i) => i.outcome.status !== 'Success' && i.outcome.statusDetails !== 'Delivery Timed Out',
      ).length,
      DeliveryTimedOutCount: ended.filter((i) => i.outcome.statusDetails === 'Delivery Timed Out').length,
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
      TimeoutSeconds: command.timeoutSeconds,
    };
  }

  private uuid(): string {
    const h = this.idRng.hex(32);
    const variant = ((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** Remediation parameter rules as lib/infra/documents.ts declares them (a simulator test keeps the two equal). */
export const REMEDIATE_PARAMETERS = {
  action: { allowedValues: REMEDIATION_ACTIONS },
  numaNode: { allowedPattern: DOCUMENT_PATTERNS.numaNode },
  dryRun: { allowedValues: ['true', 'false'] },
  maxLoadPerCpu: { allowedPattern: DOCUMENT_PATTERNS.maxLoadPerCpu },
  maxProactiveness: { allowedPattern: DOCUMENT_PATTERNS.maxProactiveness },
  settleSeconds: { allowedPattern: DOCUMENT_PATTERNS.settleSeconds },
} as const;

/** The gather document's one parameter, as lib/infra/documents.ts declares it. */
export const GATHER_PARAMETERS = { since: { allowedPattern: DOCUMENT_PATTERNS.since } } as const;

/** The two documents fleetscan's stack creates, with the remediate document's parameter rules enforced. */
export function fleetscanDocuments(namePrefix = 'fleetscan'): DocumentSpec[] {
  return [
    { name: `${namePrefix}-Gather`, kind: 'gather', stepName: 'gather', parameters: GATHER_PARAMETERS },
    { name: `${namePrefix}-Remediate`, kind: 'remediate', stepName: 'remediate', parameters: REMEDIATE_PARAMETERS },
  ];
}
