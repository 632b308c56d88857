/**
 * Names and limits that more than one layer relies on, defined once: the CDK stack writes them, the Lambdas and the
 * CLI read them, the runtime and the local simulator obey them. Plain constants, no imports, so every layer above
 * lib/config (runtime, adapters, infra, local, lambdas, cli) may use them.
 */

/** The environment the Lambdas read at cold start, and nothing else. */
export const FUNCTION_ENV = {
  tableName: 'TABLE_NAME',
  topicArn: 'TOPIC_ARN',
  gatherDocument: 'GATHER_DOCUMENT',
  remediateDocument: 'REMEDIATE_DOCUMENT',
  config: 'FLEETSCAN_CONFIG',
  collectFunctionName: 'COLLECT_FUNCTION_NAME',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** The environment the CLI reads besides the AWS SDK's own. */
export const CLI_ENV = {
  /** The history table, when neither --table nor the stack's TableName output should be used. */
  table: 'FLEETSCAN_TABLE',
  /** `1`: print the stack of an unexpected error after its one-line message. */
  debug: 'FLEETSCAN_DEBUG',
} as const;

/** The stack's outputs, by key: what the CLI reads from DescribeStacks. */
export const OUTPUT_KEYS = {
  tableName: 'TableName',
  topicArn: 'TopicArn',
  gatherDocumentName: 'GatherDocumentName',
  remediateDocumentName: 'RemediateDocumentName',
  /** `fleetscan scan --now` invokes it; `doctor` reads its configuration (FLEETSCAN_CONFIG). */
  scanFunctionName: 'ScanFunctionName',
  collectFunctionName: 'CollectFunctionName',
  /** The EventBridge Scheduler schedule and its group (`doctor` checks it is enabled). */
  scheduleName: 'ScheduleName',
  scheduleGroupName: 'ScheduleGroupName',
  dashboardName: 'DashboardName',
  /** Every alarm of the stack, comma-separated (`doctor` reports their states). */
  alarmNames: 'AlarmNames',
  /** The managed policies to attach to CLI users (history, doctor) and to operators (clear, scan --now). */
  readOnlyPolicyArn: 'ReadOnlyPolicyArn',
  operatorPolicyArn: 'OperatorPolicyArn',
} as const;

/** The stack `cdk deploy` creates and the CLI looks for unless told otherwise (`fleetscan:stackName`, `--stack`). */
export const DEFAULT_STACK_NAME = 'Fleetscan';

/** The CloudWatch namespace of the Lambdas' EMF metrics (of the default stack: see {@link metricsNamespace}). */
export const METRICS_NAMESPACE = 'Fleetscan';

/**
 * The namespace a stack's functions write their metrics to: `Fleetscan` for the default stack, `Fleetscan/<stack>`
 * for a second copy (fleetscan:stackName), so that each stack's alarms and dashboard see only its own scans.
 */
export function metricsNamespace(stackName: string): string {
  return stackName === DEFAULT_STACK_NAME ? METRICS_NAMESPACE : `${METRICS_NAMESPACE}/${stackName}`;
}

/**
 * The one dimension of every fleetscan metric: Powertools Metrics adds `service` = POWERTOOLS_SERVICE_NAME (one value
 * per function). Nothing else is a dimension — no node, no scan — so each metric name is one custom metric a month.
 */
export const METRIC_SERVICE_DIMENSION = 'service';

/** The EMF metrics the Lambdas emit (alarms and the dashboard read the same names). */
export const METRIC_NAMES = {
  scansStarted: 'ScansStarted',
  commandsSwept: 'CommandsSwept',
  /** Per finished scan (emitted by the collection that finished it): 1 when it ended COMPLETED, else 0. */
  scansCompleted: 'ScansCompleted',
  /**
   * Per finished scan: 1 when it ended INCOMPLETE (collection gave up: retry or age limit), else 0. Every scan that
   * ends gives the INCOMPLETE alarm a data point, so that its missing data can mean "no scan ended".
   */
  scansIncomplete: 'ScansIncomplete',
  nodesScanned: 'NodesScanned',
  worstUnusableIndex: 'WorstUnusableIndex',
  remediations: 'Remediations',
  remediationsCompleted: 'RemediationsCompleted',
  remediationImproved: 'RemediationImproved',
  remediationNoEffect: 'RemediationNoEffect',
  remediationDryRun: 'RemediationDryRun',
  remediationFailed: 'RemediationFailed',
  remediationSkipped: 'RemediationSkipped',
  remediationDeferred: 'RemediationDeferred',
} as const;

/** `Nodes<STATUS>`: nodes of a completed scan per status. */
export function nodesMetric(status: 'OK' | 'WARN' | 'CRITICAL' | 'ERROR'): string {
  return `Nodes${status}`;
}

/** SSM Run Command's limits fleetscan is built around (AWS-FACTS.md). */
export const SSM_LIMITS = {
  /** Characters of plugin output ListCommandInvocations (Details) returns, stdout and stderr together. */
  listedOutputChars: 2500,
  /** Characters of stdout GetCommandInvocation returns. */
  fullOutputChars: 24_000,
  /** Characters of stderr GetCommandInvocation returns. */
  fullErrorChars: 8000,
  /** Explicit InstanceIds per SendCommand. */
  instancesPerCommand: 50,
  /** Target entries per SendCommand, and values per target. */
  targetsPerCommand: 5,
  valuesPerTarget: 50,
  /** SendCommand's Comment. */
  commentChars: 100,
  /** MaxResults per page of ListCommandInvocations and ListCommands. */
  resultsPerPage: 50,
} as const;

/** What the SSM agent writes into a listed or fetched output around the script's own text. */
export const AGENT_OUTPUT_MARKERS = {
  stderrSeparator: '----------ERROR-------',
  listingTruncated: '---Output truncated---',
  contentTruncated: '--output truncated--',
} as const;

/** The detail type of the SSM event a command's status change sends to the default bus. */
export const COMMAND_STATUS_DETAIL_TYPE = 'EC2 Command Status-change Notification';
/** A command's own terminal statuses (its invocations have all finished). */
export const TERMINAL_COMMAND_STATUSES = ['Success', 'Failed', 'TimedOut', 'Cancelled'] as const;

/** `source` of the payloads fleetscan's own functions send each other (Scheduler → scan, scan → collect). */
export const EVENT_SOURCES = {
  schedule: 'fleetscan.schedule',
  sweep: 'fleetscan.sweep',
  /** `fleetscan scan --now`: an operator's synchronous Invoke of the scan function. */
  manual: 'fleetscan.manual',
} as const;

/**
 * The collect function's structured log line for each non-OK node of a scan it collects (one line per node, its
 * attributes as named here): what the dashboard's Logs Insights widget lists. Values come from the node record,
 * sanitized as stored; `findings` is the record's first few finding codes.
 */
export const PROBLEM_NODE_LOG = {
  message: 'problem node',
  fields: ['scanId', 'nodeId', 'status', 'cause', 'worstUnusableIndex', 'findings', 'error'],
} as const;

/**
 * The AWS API actions the CLI's deployment commands call besides the history table's (lib/adapters/table-access.ts
 * declares those): the stack's managed policies grant exactly these, and the commands' tests compare them with
 * the calls the commands make.
 */
export const CLI_ACTIONS = {
  /** Every command that finds the deployment from the stack's outputs. */
  findStack: ['cloudformation:DescribeStacks'],
  /** `fleetscan doctor`, beyond the history reads of its last-scan check. */
  doctor: [
    'lambda:GetFunctionConfiguration',
    'scheduler:GetSchedule',
    'ssm:DescribeInstanceInformation',
    'ec2:DescribeInstances',
    'cloudwatch:DescribeAlarms',
    'sns:ListSubscriptionsByTopic',
  ],
  /** `fleetscan scan --now` (operators). */
  scanNow: ['lambda:InvokeFunction'],
} as const;

/**
 * The SSM documents' parameter rules (allowedPattern), which SSM enforces before a command starts and the scripts
 * check again. Digits only and no leading zeros, so a value the script splices into single quotes can never close
 * them, and `numa 007` cannot name a sysfs directory that does not exist.
 */
export const DOCUMENT_PATTERNS = {
  /** gather: the previous scan's time in epoch seconds, or 0 (count kernel-log failures since boot). */
  since: '^(0|[1-9][0-9]{0,11})$',
  numaNode: '^(all|[0-9]|[1-9][0-9]{1,2})$',
  maxLoadPerCpu: '^(0|[1-9][0-9]{0,2})(\\.[0-9]{1,2})?$',
  maxProactiveness: '^([0-9]|[1-9][0-9]|100)$',
  settleSeconds: '^([0-9]|[1-9][0-9]|[1-2][0-9]{2}|300)$',
} as const;

/** What the remediate document does when the sender leaves a guard parameter out (lib/config documents them). */
export const REMEDIATE_GUARD_DEFAULTS = { maxLoadPerCpu: '1', maxProactiveness: '20', settleSeconds: '10' } as const;
