/**
 * `fleetscan doctor`: is the deployed fleetscan working, and if not, what to fix — one line each. It finds the
 * stack, reads the configuration the functions run with, checks the schedule, counts the managed nodes the
 * target tags reach (and names those offline, not Linux, or without the SSM agent), looks at the last scan, and
 * reports dry run, alarm states and e-mail subscriptions. `--local` checks the demo's data instead.
 *
 * Every AWS client is loaded only here, when the command runs. The calls it makes are CLI_ACTIONS.findStack and
 * CLI_ACTIONS.doctor plus the history reads of lib/adapters/table-access.ts (the stack's ReadOnly policy).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig } from '../config/config.ts';
import { DEFAULT_STACK_NAME, FUNCTION_ENV } from '../config/contracts.ts';
import { describeSeconds, scheduleGaps } from '../config/schedule.ts';
import type { FleetscanConfig } from '../config/types.ts';
import type { SimulatedFleet } from '../local/fleet.ts';
import type { HistoryReader, ScanRecord } from '../runtime/ports.ts';
import { describeTargets } from '../runtime/scan.ts';
import { allFlags, commandSpec, DEFAULT_DATA_DIR } from './commands.ts';
import { type DeployedStack, describeDeployedStack, SETTLED_STATUSES } from './deployed-stack.ts';
import { CliError } from './errors.ts';
import { clean, painter, plural, utc } from './format.ts';
import type { Io } from './io.ts';
import { parseFlags, stringFlag } from './kit/args.ts';
import { isStructured, type OutputOptions, resolveOutput, structured } from './kit/output.ts';
import { wrap } from './kit/text.ts';
import { EXIT_FAILURE, explainAwsError, openHistory, openLocalHistory, quietSdk, shortPath } from './table-source.ts';

export type CheckStatus = 'ok' | 'info' | 'fix';

export interface Check {
  readonly check: string;
  readonly status: CheckStatus;
  readonly message: string;
}

/** Most node ids one line names; the rest are counted. */
const NAMED = 5;

const ok = (check: string, message: string): Check => ({ check, status: 'ok', message });
const info = (check: string, message: string): Check => ({ check, status: 'info', message });
const fix = (check: string, message: string): Check => ({ check, status: 'fix', message });

/** `i-1, i-2, i-3 (+4 more)`. */
function named(ids: readonly string[]): string {
  const shown = ids.slice(0, NAMED).map((id) => clean(id, 64));
  return `${shown.join(', ')}${ids.length > NAMED ? ` (+${ids.length - NAMED} more)` : ''}`;
}

function age(from: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(from)) / 1000));
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clean(message.split('\n')[0] ?? '', 160);
}

/** A check that could not run is itself a problem: access denied names the policy that grants it. */
async function guarded(check: string, work: () => Promise<Check[]>): Promise<Check[]> {
  try {
    return await work();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'AuthorizationError') {
      return [
        fix(
          check,
          `cannot check: access denied — attach the stack's ReadOnly policy (output ReadOnlyPolicyArn) (${firstLine(error)})`,
        ),
      ];
    }
    const explained = explainAwsError(error, {});
    if (explained?.message.startsWith('no AWS credentials')) throw explained;
    return [fix(check, `cannot check: ${firstLine(explained ?? error)}`)];
  }
}

/* ---- the checks ---- */

function stackCheck(stack: DeployedStack): Check {
  const at = stack.updatedAt === null ? '' : `, last deployed ${utc(stack.updatedAt)} UTC`;
  if ((SETTLED_STATUSES as readonly string[]).includes(stack.status)) {
    return ok('stack', `${clean(stack.name, 128)} in ${clean(stack.region, 40)}: ${stack.status}${at}`);
  }
  if (stack.status.endsWith('_IN_PROGRESS')) {
    return info('stack', `${clean(stack.name, 128)} is ${stack.status}: run doctor again when the deploy has finished`);
  }
  const why = stack.reason === null ? '' : ` (${clean(stack.reason, 160)})`;
  return fix(
    'stack',
    `${clean(stack.name, 128)} is ${stack.status}${why}: the last deploy failed — see the stack's events, fix, and deploy again`,
  );
}

async function deployedConfig(functionName: string, region: string): Promise<FleetscanConfig> {
  const { LambdaClient, GetFunctionConfigurationCommand } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({ region });
  try {
    const result = await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const json = result.Environment?.Variables?.[FUNCTION_ENV.config];
    if (json === undefined) throw new Error(`the scan function has no ${FUNCTION_ENV.config}: redeploy the stack`);
    return parseConfig(json, { keyPrefix: `${FUNCTION_ENV.config}.` });
  } finally {
    client.destroy();
  }
}

async function scheduleCheck(name: string, group: string, region: string): Promise<Check[]> {
  const { SchedulerClient, GetScheduleCommand } = await import('@aws-sdk/client-scheduler');
  const client = new SchedulerClient({ region });
  try {
    const schedule = await client.send(new GetScheduleCommand({ Name: name, GroupName: group }));
    const expression = clean(schedule.ScheduleExpression ?? '?', 80);
    if (schedule.State === 'ENABLED') return [ok('schedule', `${expression}, enabled`)];
    return [
      fix(
        'schedule',
        `${expression} is ${clean(schedule.State ?? 'unknown', 20)}: no scan runs — set "fleetscan:enabled": true in cdk.json and deploy`,
      ),
    ];
  } finally {
    client.destroy();
  }
}

interface ManagedNode {
  readonly id: string;
  readonly online: boolean;
  readonly ping: string;
  readonly platform: string;
}

async function managedNodes(config: FleetscanConfig, region: string): Promise<ManagedNode[]> {
  const { SSMClient, DescribeInstanceInformationCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient({ region });
  const nodes: ManagedNode[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new DescribeInstanceInformationCommand({
          // Several tag filters must all match, as several SendCommand targets must.
          Filters: config.targets.map((target) => ({ Key: `tag:${target.tagKey}`, Values: [...target.tagValues] })),
          MaxResults: 50,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      for (const node of page.InstanceInformationList ?? []) {
        if (node.InstanceId === undefined) continue;
        nodes.push({
          id: node.InstanceId,
          online: node.PingStatus === 'Online',
          ping: node.PingStatus ?? 'unknown',
          platform: node.PlatformType ?? 'unknown',
        });
      }
      token = page.NextToken;
    } while (token !== undefined);
  } finally {
    client.destroy();
  }
  return nodes;
}

/** Running EC2 instances with the target tags: those SSM does not know have no working agent. */
async function taggedInstances(config: FleetscanConfig, region: string): Promise<string[]> {
  const { EC2Client, DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const client = new EC2Client({ region });
  const ids: string[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new DescribeInstancesCommand({
          Filters: [
            ...config.targets.map((target) => ({ Name: `tag:${target.tagKey}`, Values: [...target.tagValues] })),
            { Name: 'instance-state-name', Values: ['running'] },
          ],
          MaxResults: 1000,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) if (instance.InstanceId) ids.push(instance.InstanceId);
      }
      token = page.NextToken;
    } while (token !== undefined);
  } finally {
    client.destroy();
  }
  return ids;
}

function nodeChecks(config: FleetscanConfig, nodes: readonly ManagedNode[], instances: readonly string[]): Check[] {
  const targets = describeTargets(config.targets);
  const known = new Set(nodes.map((node) => node.id));
  const unmanaged = instances.filter((id) => !known.has(id));
  const checks: Check[] = [];
  if (nodes.length === 0) {
    checks.push(
      fix(
        'nodes',
        `no managed node carries ${clean(targets, 200)}: tag the nodes to scan (README: "Tag the fleet"), or change fleetscan:targets`,
      ),
    );
  } else {
    const online = nodes.filter((node) => node.online).length;
    checks.push(ok('nodes', `${plural(nodes.length, 'managed node')} carry ${clean(targets, 200)} (${online} online)`));
  }
  const offline = nodes.filter((node) => !node.online);
  if (offline.length > 0) {
    const states = [...new Set(offline.map((node) => node.ping))].join('/');
    checks.push(
      fix(
        'nodes',
        `${plural(offline.length, 'node')} ${offline.length === 1 ? 'is' : 'are'} not online in SSM (${clean(states, 40)}): ${named(offline.map((node) => node.id))} — start ${offline.length === 1 ? 'it' : 'them'}, or check the agent`,
      ),
    );
  }
  const foreign = nodes.filter((node) => node.platform !== 'Linux');
  if (foreign.length > 0) {
    checks.push(
      fix(
        'nodes',
        `${plural(foreign.length, 'node')} ${foreign.length === 1 ? 'is' : 'are'} not Linux: ${named(foreign.map((node) => node.id))} — the documents run on Linux only; remove the target tag`,
      ),
    );
  }
  if (unmanaged.length > 0) {
    checks.push(
      fix(
        'nodes',
        `${plural(unmanaged.length, 'running instance')} ${unmanaged.length === 1 ? 'carries' : 'carry'} the target tags but ${unmanaged.length === 1 ? 'is' : 'are'} not managed by SSM: ${named(unmanaged)} — install the SSM agent and attach AmazonSSMManagedInstanceCore to the instance profile`,
      ),
    );
  }
  return checks;
}

/** The last scan: its age against the schedule (deployed only) and its outcome. */
export async function lastScanChecks(
  reader: HistoryReader,
  options: { readonly config: FleetscanConfig; readonly judgeAge: boolean; readonly now: Date },
): Promise<Check[]> {
  const [listed] = (await reader.listScans({ limit: 1 })).items;
  if (listed === undefined) {
    return [fix('last scan', "no scan recorded yet — start one: 'fleetscan scan --now --wait'")];
  }
  // A listing carries no progress (it is summed over the scan's shards): a running scan is read whole.
  const scan = listed.status === 'RUNNING' ? ((await reader.getScan(listed.scanId)) ?? listed) : listed;
  const checks: Check[] = [];
  const id = scan.scanId.slice(0, 8);
  const when = `${id} ${age(scan.requestedAt, options.now)} ago`;
  const gaps = scheduleGaps(options.config.schedule);
  if (options.judgeAge && gaps !== null) {
    const overdue = (options.now.getTime() - Date.parse(scan.requestedAt)) / 1000 > 2 * gaps.longestSeconds;
    if (overdue) {
      checks.push(
        fix(
          'last scan',
          `the last scan started ${age(scan.requestedAt, options.now)} ago; the schedule (${clean(options.config.schedule, 80)}) runs at least every ${describeSeconds(gaps.longestSeconds)} — check the schedule and the scan function's errors`,
        ),
      );
    }
  }
  checks.push(outcome(scan, when, options.now));
  if (scan.status === 'COMPLETED' && (scan.counts?.ERROR ?? 0) > 0) {
    checks.push(
      info(
        'last scan',
        `${plural(scan.counts?.ERROR ?? 0, 'node')} could not be judged (ERROR): 'fleetscan scan ${id}' lists why`,
      ),
    );
  }
  return checks;
}

function outcome(scan: ScanRecord, when: string, now: Date): Check {
  const counts = scan.counts;
  if (scan.status === 'INCOMPLETE') {
    const why = scan.incompleteReason === undefined ? '' : `: ${clean(scan.incompleteReason, 160)}`;
    return fix('last scan', `${when} ended INCOMPLETE${why} — see the collect function's errors`);
  }
  if (scan.status === 'RUNNING') {
    const progress =
      scan.progress === undefined
        ? ''
        : `, ${scan.progress.collected}${scan.progress.targeted === null ? '' : `/${scan.progress.targeted}`} nodes collected`;
    // The sweep collects a scan a few minutes after its collectAfter; later than that it is stuck.
    if (now.getTime() > Date.parse(scan.collectAfter) + 30 * 60_000) {
      return fix(
        'last scan',
        `${when} is still RUNNING, due since ${utc(scan.collectAfter)} UTC${progress} — see the collect function's errors and its dead-letter queue`,
      );
    }
    return info('last scan', `${when}: RUNNING${progress}`);
  }
  if ((scan.nodes ?? 0) === 0) {
    return fix('last scan', `${when} reached no node — no managed node carries the target tags`);
  }
  const parts =
    counts === undefined
      ? ''
      : ` (${counts.OK} OK, ${counts.WARN} WARN, ${counts.CRITICAL} CRITICAL, ${counts.ERROR} ERROR)`;
  return ok('last scan', `${when}: COMPLETED, ${plural(scan.nodes ?? 0, 'node')}${parts}`);
}

function remediationCheck(config: FleetscanConfig, local: boolean): Check {
  const policy = config.remediation;
  if (!policy.enabled)
    return info('remediation', 'off (fleetscan:remediation.enabled is false): fleetscan only reports');
  const limits = `${policy.action}, at most ${plural(policy.maxNodesPerScan, 'node')} per scan`;
  if (policy.dryRun) {
    return info(
      'remediation',
      `dry run (${limits}): measured and reported, nothing written on nodes — README: "Turn dry-run off for good"`,
    );
  }
  return info('remediation', `live (${limits})${local ? ' — the demo remediates its simulated nodes for real' : ''}`);
}

async function alarmChecks(names: readonly string[], region: string): Promise<Check[]> {
  const { CloudWatchClient, DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
  const client = new CloudWatchClient({ region });
  try {
    const states = new Map<string, { state: string; reason: string }>();
    // DescribeAlarms takes at most 100 names.
    for (let start = 0; start < names.length; start += 100) {
      let token: string | undefined;
      do {
        const page = await client.send(
          new DescribeAlarmsCommand({
            AlarmNames: names.slice(start, start + 100),
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        );
        for (const alarm of page.MetricAlarms ?? []) {
          states.set(alarm.AlarmName ?? '', { state: alarm.StateValue ?? 'UNKNOWN', reason: alarm.StateReason ?? '' });
        }
        token = page.NextToken;
      } while (token !== undefined);
    }
    const checks: Check[] = [];
    for (const name of names) {
      const found = states.get(name);
      if (found === undefined) checks.push(fix('alarms', `${clean(name, 255)} does not exist: redeploy the stack`));
      else if (found.state === 'ALARM') {
        checks.push(fix('alarms', `${clean(name, 255)} is in ALARM: ${clean(found.reason, 200)}`));
      }
    }
    const counted = (state: string) => [...states.values()].filter((entry) => entry.state === state).length;
    const quiet = counted('OK');
    const waiting = counted('INSUFFICIENT_DATA');
    if (checks.length === 0) {
      checks.push(
        ok(
          'alarms',
          `${plural(names.length, 'alarm')}: ${quiet} OK${waiting > 0 ? `, ${waiting} waiting for data` : ''}`,
        ),
      );
    }
    return checks;
  } finally {
    client.destroy();
  }
}

async function subscriptionChecks(topicArn: string, region: string): Promise<Check[]> {
  const { SNSClient, ListSubscriptionsByTopicCommand } = await import('@aws-sdk/client-sns');
  const client = new SNSClient({ region });
  const confirmed: string[] = [];
  const pending: string[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListSubscriptionsByTopicCommand({
          TopicArn: topicArn,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      for (const subscription of page.Subscriptions ?? []) {
        const endpoint = clean(`${subscription.Protocol ?? '?'}:${subscription.Endpoint ?? '?'}`, 120);
        if (subscription.SubscriptionArn === 'PendingConfirmation') pending.push(endpoint);
        else if (subscription.SubscriptionArn !== 'Deleted') confirmed.push(endpoint);
      }
      token = page.NextToken;
    } while (token !== undefined);
  } finally {
    client.destroy();
  }
  const waiting = pending.length === 0 ? '' : ` (${pending.length} pending confirmation: ${pending.join(', ')})`;
  if (confirmed.length === 0) {
    return [
      fix(
        'notifications',
        `nobody receives alarms or summaries: no confirmed subscription${waiting} — ${pending.length > 0 ? 'confirm the e-mail SNS sent' : 'set fleetscan:notificationEmails and deploy'}`,
      ),
    ];
  }
  const checks = [
    ok('notifications', `${plural(confirmed.length, 'confirmed subscription')}: ${confirmed.join(', ')}`),
  ];
  if (pending.length > 0) {
    checks.push(
      info(
        'notifications',
        `${plural(pending.length, 'subscription')} still pending confirmation: ${pending.join(', ')}`,
      ),
    );
  }
  return checks;
}

/* ---- deployed and local ---- */

interface DoctorOptions {
  readonly stack: string;
  readonly region?: string;
  readonly local: boolean;
  readonly dataDir: string;
  readonly output: OutputOptions;
}

async function deployedChecks(options: DoctorOptions, io: Io): Promise<{ checks: Check[]; stack: DeployedStack }> {
  quietSdk();
  const stack = await describeDeployedStack(options.stack, options.region);
  const region = stack.region;
  const checks: Check[] = [stackCheck(stack)];
  const out = stack.outputs;
  const needed = [
    'scanFunctionName',
    'tableName',
    'topicArn',
    'scheduleName',
    'scheduleGroupName',
    'alarmNames',
  ] as const;
  const missing = needed.filter((name) => out[name] === undefined);
  if (missing.length > 0) {
    checks.push(
      fix(
        'stack',
        `${clean(stack.name, 128)} lacks outputs doctor reads (${missing.join(', ')}): it predates this fleetscan — redeploy it (npx cdk deploy)`,
      ),
    );
    return { checks, stack };
  }
  const outputs = out as Required<typeof out>;
  const configs: FleetscanConfig[] = [];
  checks.push(
    ...(await guarded('configuration', async () => {
      configs.push(await deployedConfig(outputs.scanFunctionName, region));
      return [];
    })),
  );
  checks.push(
    ...(await guarded('schedule', () => scheduleCheck(outputs.scheduleName, outputs.scheduleGroupName, region))),
  );
  const [deployed] = configs;
  if (deployed !== undefined) {
    checks.push(
      ...(await guarded('nodes', async () =>
        nodeChecks(deployed, await managedNodes(deployed, region), await taggedInstances(deployed, region)),
      )),
    );
    checks.push(
      ...(await guarded('last scan', async () => {
        const source = await openHistory(
          { local: false, dataDir: options.dataDir, stack: stack.name, table: outputs.tableName, region },
          io.env,
        );
        try {
          return await lastScanChecks(source.reader, { config: deployed, judgeAge: true, now: new Date() });
        } finally {
          await source.close();
        }
      })),
    );
    checks.push(remediationCheck(deployed, false));
  }
  const alarmNames = outputs.alarmNames.split(',').filter((name) => name !== '');
  checks.push(...(await guarded('alarms', () => alarmChecks(alarmNames, region))));
  checks.push(...(await guarded('notifications', () => subscriptionChecks(outputs.topicArn, region))));
  return { checks, stack };
}

async function localChecks(options: DoctorOptions): Promise<Check[]> {
  // The demo's modules are loaded only for --local.
  const { DEMO_CONFIG, FLEET_FILE } = await import('../local/demo.ts');
  const { DEFAULT_TARGET_TAG, SimulatedFleet } = await import('../local/fleet.ts');
  const source = await openLocalHistory(options.dataDir);
  const checks: Check[] = [ok('data', `the local demo data in ${clean(shortPath(options.dataDir), 200)}`)];
  try {
    const fleetFile = path.join(options.dataDir, FLEET_FILE);
    let fleet: SimulatedFleet | null = null;
    try {
      fleet = SimulatedFleet.fromJSON(JSON.parse(await readFile(fleetFile, 'utf8')));
    } catch {
      checks.push(
        fix('nodes', `${clean(shortPath(fleetFile), 200)} is missing or unreadable: run 'fleetscan demo --reset'`),
      );
    }
    if (fleet !== null) {
      const tag = { key: DEFAULT_TARGET_TAG.key, values: [DEFAULT_TARGET_TAG.value] };
      const matching = fleet.matchTags([tag]);
      const targets = `tag:${DEFAULT_TARGET_TAG.key}=${DEFAULT_TARGET_TAG.value}`;
      checks.push(
        matching.length > 0
          ? ok('nodes', `${plural(matching.length, 'simulated node')} of ${fleet.size} carry ${targets}`)
          : fix('nodes', `no simulated node carries ${targets}: run 'fleetscan demo --reset'`),
      );
    }
    const [scan] = (await source.reader.listScans({ limit: 1 })).items;
    if (scan !== undefined) {
      const unreachable = (await source.reader.listScanNodes(scan.scanId, { limit: 1000, status: ['ERROR'] })).items
        .filter((record) => record.invocationState === 'Undeliverable' || record.invocationState === 'DeliveryTimedOut')
        .map((record) => record.nodeId);
      if (unreachable.length > 0) {
        checks.push(
          info(
            'nodes',
            `${plural(unreachable.length, 'simulated node')} did not answer the last scan (the demo's unreachable nodes): ${named(unreachable)}`,
          ),
        );
      }
    }
    checks.push(...(await lastScanChecks(source.reader, { config: DEMO_CONFIG, judgeAge: false, now: new Date() })));
    checks.push(remediationCheck(DEMO_CONFIG, true));
    checks.push(
      info(
        'deployment',
        'schedule, alarms and subscriptions belong to a deployed stack: run doctor without --local there',
      ),
    );
  } finally {
    await source.close();
  }
  return checks;
}

function parse(args: readonly string[], io: Io): DoctorOptions {
  const spec = commandSpec('doctor');
  const { flags } = parseFlags(spec.name, args, allFlags(spec), spec.positionals);
  const output = resolveOutput(flags, io, ['table', 'json', 'yaml']);
  const local = flags.local === true;
  if (local && (flags.stack !== undefined || flags.region !== undefined)) {
    throw new CliError(
      `--local checks the demo's data: it cannot be combined with --${flags.stack !== undefined ? 'stack' : 'region'}`,
    );
  }
  if (!local && flags['data-dir'] !== undefined)
    throw new CliError('--data-dir is for the local demo data: add --local');
  const region = stringFlag(flags.region);
  return {
    stack: stringFlag(flags.stack) ?? DEFAULT_STACK_NAME,
    ...(region === undefined ? {} : { region }),
    local,
    dataDir: path.resolve(stringFlag(flags['data-dir']) ?? DEFAULT_DATA_DIR),
    output,
  };
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', info: 'info', fix: 'FIX ' };

export async function run(args: readonly string[], io: Io): Promise<number> {
  const options = parse(args, io);
  quietSdk();
  let checks: Check[];
  let header: string;
  let stackName: string | null = null;
  let region: string | null = null;
  if (options.local) {
    checks = await localChecks(options);
    header = `fleetscan doctor: the local demo (${clean(shortPath(options.dataDir), 200)})`;
  } else {
    const result = await deployedChecks(options, io);
    checks = result.checks;
    stackName = result.stack.name;
    region = result.stack.region;
    header = `fleetscan doctor: stack ${clean(stackName, 128)} in ${clean(region, 40)}`;
  }
  const problems = checks.filter((entry) => entry.status === 'fix').length;
  const { format, width: columns } = options.output;
  if (isStructured(format)) {
    io.stdout(structured({ stack: stackName, region, local: options.local, checks, problems }, format));
    return problems > 0 ? EXIT_FAILURE : 0;
  }
  const paint = painter(options.output.color);
  const width = Math.max(...checks.map((entry) => entry.check.length));
  const lines = [paint.bold(header)];
  for (const entry of checks) {
    const mark =
      entry.status === 'fix'
        ? paint.status('CRITICAL', MARK.fix)
        : entry.status === 'ok'
          ? MARK.ok
          : paint.dim(MARK.info);
    const lead = `${MARK.ok}  ${entry.check.padEnd(width)}  `;
    // A message is read whole: on a narrow terminal it continues under itself rather than being cut.
    const message = columns === null ? [entry.message] : wrap(entry.message, columns - lead.length, '');
    lines.push(`${mark}  ${entry.check.padEnd(width)}  ${message[0] ?? ''}`);
    for (const more of message.slice(1)) lines.push(`${' '.repeat(lead.length)}${more}`);
  }
  lines.push(
    problems === 0
      ? 'nothing to fix'
      : `${plural(problems, 'thing')} to fix: the FIX lines above, then run 'fleetscan doctor' again`,
  );
  io.stdout(`${lines.join('\n')}\n`);
  return problems > 0 ? EXIT_FAILURE : 0;
}
