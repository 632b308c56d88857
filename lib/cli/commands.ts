/**
 * The CLI's surface, declared once: every command's usage, description, positional arguments and flags. Parsing,
 * `--help`/`help CMD` and shell completion all read this table, so they cannot disagree. It imports no command
 * module: each is loaded only when its command runs (`fleetscan inspect` never loads the AWS SDK or dynalite).
 */
import { CLI_ENV, DEFAULT_STACK_NAME, OUTPUT_KEYS } from '../config/contracts.ts';
import {
  DEFAULT_DEMO_NODES,
  DEFAULT_DEMO_SCANS,
  DEFAULT_DEMO_SEED,
  MAX_DEMO_NODES,
  MAX_DEMO_SCANS,
} from '../local/demo-defaults.ts';
import type { CommandModule } from './io.ts';
import type { FlagSpec, PositionalSpec } from './kit/args.ts';
import { OUTPUT_FORMATS, outputFlags } from './kit/output.ts';
import { grouped, wrap } from './kit/text.ts';
import {
  DEFAULT_PICTURE_SCANS,
  MAX_PICTURE_SCANS,
  READ_BUDGET,
  REMEDIATION_ROWS,
  REPORT_NODES,
  TREND_NODES,
} from './picture-limits.ts';

export const DEFAULT_DATA_DIR = '.fleetscan';
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
export const NODE_STATUSES = ['OK', 'WARN', 'CRITICAL', 'ERROR'] as const;
export const CAUSES = ['fragmentation', 'low-memory', 'none'] as const;

export interface CommandSpec {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage lines (after `usage: `); the first is the main form. */
  readonly usage: readonly string[];
  readonly description: string;
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  /** Flags saying where the history is read from, listed in their own section of the help. */
  readonly sourceFlags?: readonly FlagSpec[];
  readonly exitStatus: string;
  /** More help, from the command's own module (loaded for --help only). */
  readonly moreHelp?: () => Promise<string>;
  readonly load: () => Promise<CommandModule>;
}

const dataDirFlag = (what: string): FlagSpec => ({
  name: 'data-dir',
  type: 'string',
  arg: 'DIR',
  complete: 'directory',
  help: `${what} (default: ${DEFAULT_DATA_DIR})`,
});
const stackFlag: FlagSpec = {
  name: 'stack',
  type: 'string',
  arg: 'NAME',
  help: `the deployed stack (default: ${DEFAULT_STACK_NAME})`,
};
const regionFlag: FlagSpec = {
  name: 'region',
  type: 'string',
  arg: 'REGION',
  help: "AWS region (default: the AWS SDK's chain: AWS_REGION, AWS_PROFILE's region)",
};

/** Where the history commands read from: the deployed table, or the demo's store. */
export const SOURCE_FLAGS: readonly FlagSpec[] = [
  { name: 'local', type: 'boolean', help: "the demo's embedded store (run 'fleetscan demo' first)" },
  dataDirFlag("the demo's data directory, with --local"),
  {
    name: 'table',
    type: 'string',
    arg: 'NAME',
    help: `the history table (default: $${CLI_ENV.table}, else the stack's ${OUTPUT_KEYS.tableName} output)`,
  },
  { ...stackFlag, help: `the deployed stack to take the table from (default: ${DEFAULT_STACK_NAME})` },
  regionFlag,
  // A DynamoDB-compatible endpoint (dynalite in tests, DynamoDB Local).
  { name: 'endpoint', type: 'string', arg: 'URL', help: 'a DynamoDB-compatible endpoint', hidden: true },
];

const limitFlag = (what: string): FlagSpec => ({
  name: 'limit',
  type: 'string',
  arg: 'N',
  help: `${what} to show (default: ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`,
});
const allFlag = (what: string): FlagSpec => ({
  name: 'all',
  type: 'boolean',
  help: `every ${what} (read page by page), instead of --limit`,
});
const sinceFlag = (what: string): FlagSpec => ({
  name: 'since',
  type: 'string',
  arg: 'WHEN',
  help: `only ${what} at or after WHEN: a duration back from now (30m, 24h, 7d, 2w) or an ISO-8601 time`,
});
const statusFlag = (what: string): FlagSpec => ({
  name: 'status',
  type: 'string',
  arg: 'LIST',
  help: `only ${what} with these statuses, comma-separated: ${NODE_STATUSES.join(', ')}`,
});

/** `--scans N` of the pictures. */
const scansFlag: FlagSpec = {
  name: 'scans',
  type: 'string',
  arg: 'N',
  help: `scans to show, the newest (default: ${DEFAULT_PICTURE_SCANS}, at most ${MAX_PICTURE_SCANS})`,
};

const HISTORY_EXIT = 'exit status: 0 success, 1 the history could not be read, 2 usage';
const NODE_NAMES =
  'NODE is an instance id (i-…), a managed-instance id (mi-…) or a host name as the node reported it\n' +
  "(ip-10-0-210-114.ec2.internal: what 'kubectl get nodes' shows).";

export const SCAN_NOW: CommandSpec = {
  name: 'scan',
  summary: 'start a scan now',
  usage: ['fleetscan scan --now [--wait] [--timeout DURATION] [-o table|json|yaml] [--stack NAME] [--region R]'],
  description:
    'Starts a scan now through the deployed scan function: it sends the gather document to the target nodes, exactly\n' +
    "as the schedule does. Without --wait it prints the scan's id and returns.\n\n" +
    "Needs the stack's Operator policy (lambda:InvokeFunction on the scan function) and, for --wait, its ReadOnly policy.",
  positionals: [],
  flags: [
    { name: 'now', type: 'boolean', help: 'start a scan (this form of the command)' },
    {
      name: 'wait',
      type: 'boolean',
      help: "follow the scan until it ends: nodes collected / targeted, then its summary and its problem nodes (what 'fleetscan scan SCAN_ID' prints)",
    },
    {
      name: 'timeout',
      type: 'string',
      arg: 'DURATION',
      help: 'give up waiting after this long: 90s, 30m, 2h (default: until the scan is due for the sweep — delivery + execution timeout + 2 minutes — plus 15 minutes)',
    },
    ...outputFlags(['table', 'json', 'yaml']).filter((flag) => flag.name !== 'no-headers'),
    stackFlag,
    regionFlag,
  ],
  exitStatus:
    'exit status: 0 the scan started (or, with --wait, completed), 1 the scan could not start, ended INCOMPLETE or\ndid not end in time, 2 usage',
  load: () => import('./scan-now.ts'),
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'inspect',
    summary: "judge one host's /proc/buddyinfo (or a gather report)",
    usage: ['fleetscan inspect [FILE|-] [-o FORMAT] [--orders 4,6] [--zones Normal] [options]'],
    description:
      "Judges one host's memory fragmentation. Without FILE it reads this machine the way the fleet's gather\n" +
      'document reads a node — /proc/buddyinfo, /proc/meminfo, /proc/vmstat, /proc/pagetypeinfo (as root), the\n' +
      "compaction sysctls and the kernel log — so its verdict is the one a fleet scan would give. FILE (or '-' for\n" +
      'standard input) may be raw /proc/buddyinfo, a fleetscan gather report or a remediation report (its after\n' +
      'state); the kind is detected from the content.\n\n' +
      'A breach is reported CRITICAL at once here (a one-off look has no history to wait for).\n' +
      "Indices are the kernel's (mm/vmstat.c): the unusable free space index and the fragmentation index at each\n" +
      "order, as the kernel's debugfs prints them (0.000-1.000; '-' where a suitable block exists).",
    positionals: [{ name: 'FILE', required: false, complete: 'file' }],
    flags: [
      ...outputFlags([...OUTPUT_FORMATS, 'prometheus']),
      {
        name: 'format',
        type: 'string',
        values: ['table', 'json', 'prometheus'],
        arg: 'FORMAT',
        help: 'same as -o (kept for scripts)',
      },
      {
        name: 'page-size',
        type: 'string',
        arg: 'BYTES',
        help: "page size for byte figures (default: this machine's when reading it, the report's for a report)",
      },
      { name: 'orders', type: 'string', arg: 'LIST', help: 'orders to watch, comma-separated (default: 4,6)' },
      {
        name: 'since',
        type: 'string',
        arg: 'WHEN',
        help: "this machine: count the kernel log's allocation failures since WHEN (30m, 24h, 7d, ISO-8601; default: since boot)",
      },
      {
        name: 'zones',
        type: 'string',
        arg: 'LIST',
        help: 'zones to watch, comma-separated (default: Normal; DMA32 where there is none)',
      },
    ],
    exitStatus: 'exit status: 0 OK, 1 WARN or CRITICAL, 2 bad input (unreadable or unparsable) or usage',
    load: () => import('./inspect.ts'),
  },
  {
    name: 'demo',
    summary: 'the whole pipeline on a simulated fleet, no AWS account',
    usage: ['fleetscan demo [--nodes N] [--scans K] [--seed S] [--data-dir DIR] [--replay DIR] [--reset] [options]'],
    description:
      "Runs fleetscan's real pipeline K times on this machine — scan, collect, evaluate, store, remediate, notify — with\n" +
      'no AWS account: a simulated fleet of N nodes answers the gather and remediate documents the way SSM Run Command\n' +
      'does, the history goes to an embedded DynamoDB-compatible store (dynalite) in the data directory, and\n' +
      'notifications are printed here and written to DIR/notifications.log and DIR/notifications.jsonl. Each scan is\n' +
      'one schedule interval (15 minutes) of simulated time after the previous one. Run it again to continue the same\n' +
      'fleet. Ctrl-C stops after the scan in progress, with the store consistent.\n\n' +
      "Afterwards every history command reads the demo's store with --local:\n" +
      '  fleetscan scans --local\n  fleetscan scan SCAN_ID --local\n  fleetscan nodes --local\n' +
      '  fleetscan history NODE --local\n  fleetscan fleet --local',
    positionals: [],
    flags: [
      {
        name: 'nodes',
        type: 'string',
        arg: 'N',
        help: `nodes in the fleet (default: ${DEFAULT_DEMO_NODES}, or the saved fleet's; at most ${MAX_DEMO_NODES})`,
      },
      {
        name: 'scans',
        type: 'string',
        arg: 'K',
        help: `scans to run now (default: ${DEFAULT_DEMO_SCANS}; at most ${MAX_DEMO_SCANS})`,
      },
      {
        name: 'seed',
        type: 'string',
        arg: 'S',
        help: `the fleet's seed: the same seed is the same fleet (default: ${DEFAULT_DEMO_SEED}, or the saved fleet's)`,
      },
      dataDirFlag('where the demo keeps its store, fleet and notifications'),
      {
        name: 'replay',
        type: 'string',
        arg: 'DIR',
        complete: 'directory',
        help: "one more node per file in DIR, printing that file as its gather output on every scan (node id: the file name without extension; read-only), through SSM's output limits",
      },
      { name: 'reset', type: 'boolean', help: "forget the data directory's demo first" },
      ...outputFlags(['table', 'json', 'yaml']).filter((flag) => flag.name !== 'no-headers'),
    ],
    exitStatus: 'exit status: 0 success, 1 the demo could not run, 2 usage, 130 interrupted',
    moreHelp: async () => (await import('./demo.ts')).profileHelp(),
    load: () => import('./demo.ts'),
  },
  {
    name: 'scans',
    summary: 'recent scans with counts per severity',
    usage: ['fleetscan scans [--since WHEN] [--limit N | --all] [-o FORMAT] [source]'],
    description:
      'Recent scans, newest first: when each ran, its status (RUNNING, COMPLETED, or INCOMPLETE when collection gave\n' +
      'up — the reason is shown), how many nodes answered, how many were OK / WARN / CRITICAL / ERROR (no verdict:\n' +
      'unreachable, failed, unreadable output), how many were remediated, and the worst unusable free space index any\n' +
      'node showed at a watched order. -o wide adds the full scan id, completion time, shards and targets.',
    positionals: [],
    flags: [sinceFlag('scans requested'), limitFlag('scans'), allFlag('scan'), ...outputFlags()],
    sourceFlags: SOURCE_FLAGS,
    exitStatus: HISTORY_EXIT,
    load: () => import('./scans.ts'),
  },
  {
    name: 'scan',
    summary: "one scan's nodes, problems first (or --now: start one)",
    usage: [
      'fleetscan scan SCAN_ID [--status LIST] [--cause LIST] [--limit N | --all] [options]',
      "fleetscan scan --now [--wait]      start a scan now ('fleetscan scan --now --help')",
    ],
    description:
      "One scan's nodes: the problems first — CRITICAL, then ERROR (no verdict), then WARN, the worst unusable index\n" +
      "first within each — then the OK ones. SCAN_ID is the id 'fleetscan scans' prints (the gather command's id); a\n" +
      'unique prefix of it works for the 500 most recent scans.',
    positionals: [{ name: 'SCAN_ID', required: true }],
    flags: [
      statusFlag('nodes'),
      {
        name: 'cause',
        type: 'string',
        arg: 'LIST',
        help: `only nodes with these causes, comma-separated: ${CAUSES.join(', ')}`,
      },
      limitFlag('nodes'),
      allFlag('node of the scan'),
      ...outputFlags(),
      // scan --now's own flags, so that completion offers them under `scan`.
      ...SCAN_NOW.flags.filter((flag) => ['now', 'wait', 'timeout'].includes(flag.name)),
    ],
    sourceFlags: SOURCE_FLAGS,
    exitStatus: 'exit status: 0 success, 1 unknown scan or the history could not be read, 2 usage',
    load: () => import('./scan.ts'),
  },
  {
    name: 'nodes',
    summary: 'every node: last status, breaches, blocked, cooldown, last remediation',
    usage: ['fleetscan nodes [--status LIST] [--blocked] [--cooling-down] [--limit N | --all] [options]'],
    description:
      'The state of every node of the latest scan, problems first: its status in that scan, the breaching scans in a\n' +
      "row, whether fleetscan stopped remediating it (blocked: 'fleetscan clear NODE'), until when it cools down after\n" +
      'a remediation, and its last remediation.',
    positionals: [],
    flags: [
      statusFlag('nodes'),
      { name: 'blocked', type: 'boolean', help: 'only nodes fleetscan stopped remediating' },
      { name: 'cooling-down', type: 'boolean', help: 'only nodes within their cooldown after a remediation' },
      limitFlag('nodes'),
      allFlag('node'),
      ...outputFlags(),
    ],
    sourceFlags: SOURCE_FLAGS,
    exitStatus: HISTORY_EXIT,
    load: () => import('./nodes.ts'),
  },
  {
    name: 'fleet',
    summary: 'the fleet at a glance: nodes × scans heatmap, worst first',
    usage: ['fleetscan fleet [--scans N] [--limit N] [-o table|json|yaml] [source]'],
    description:
      "The fleet at a glance: one row per node, worst first, one character per scan (oldest on the left) for the node's " +
      "worst unusable free space index on the index's own scale (░ below 0.250, ▒ below 0.500, ▓ below 0.750, █ 0.750 " +
      'and above), × for ERROR (no verdict), · where the scan has no record of the node; coloured by status on a ' +
      "terminal. A last row shows each scan's problem nodes. Nodes rank by their latest status (CRITICAL, ERROR, WARN, " +
      'OK), then their highest index in the window, then how often they were not OK. The oldest scans are left out ' +
      'when the terminal ($COLUMNS) is too narrow.\n\n' +
      'It reads every node record of the scans shown (a 10,000-node fleet: 10 pages, about 520 items and 0.5 MB per ' +
      `scan); the window stops at the newest scans that hold at most ${grouped(READ_BUDGET)} records.`,
    positionals: [],
    flags: [scansFlag, limitFlag('nodes, the worst,'), ...outputFlags(['table', 'json', 'yaml'])],
    sourceFlags: SOURCE_FLAGS,
    exitStatus: HISTORY_EXIT,
    load: () => import('./fleet.ts'),
  },
  {
    name: 'report',
    summary: 'the fleet as one self-contained HTML page',
    usage: ['fleetscan report --html FILE [--scans N] [--limit N] [source]'],
    description:
      'Writes one self-contained HTML page (inline CSS and SVG; no script, font, image or other request) with: the ' +
      'fleet heatmap — the worst unusable free space index of the worst nodes in each of the last scans (ranked as ' +
      "'fleetscan fleet' ranks them); the nodes not OK per scan by severity, with the counts; the remediations in " +
      `those scans by outcome, and the ${REMEDIATION_ROWS} newest in a table; and the trend lines of the ` +
      `${TREND_NODES} worst nodes. Open it in any browser, offline.\n\n` +
      "It reads every node record of the scans shown, as 'fleetscan fleet' does, and the remediations since the " +
      'oldest of them.',
    positionals: [],
    flags: [
      { name: 'html', type: 'string', arg: 'FILE', complete: 'file', help: 'where to write the page (overwritten)' },
      scansFlag,
      {
        ...limitFlag('nodes in the heatmap, the worst,'),
        help: `nodes in the heatmap, the worst (default: ${REPORT_NODES}, at most ${MAX_LIMIT})`,
      },
      ...outputFlags(['table', 'json', 'yaml']).filter((flag) => flag.name !== 'no-headers'),
    ],
    sourceFlags: SOURCE_FLAGS,
    exitStatus: 'exit status: 0 success, 1 the history could not be read or the file not written, 2 usage',
    load: () => import('./report.ts'),
  },
  {
    name: 'history',
    summary: "one node's scans over time, with a trend line",
    usage: ['fleetscan history NODE [--since WHEN] [--limit N | --all] [-o FORMAT] [source]'],
    description:
      "One node's scans, newest first: status, cause, the worst unusable free space index, each watched zone and\n" +
      "order's index with the suitable blocks left, and the findings (or why there was no verdict). A sparkline shows\n" +
      'the worst unusable index over time (▁ = 0.000 … █ = 1.000, oldest on the left).\n\n' +
      NODE_NAMES,
    positionals: [{ name: 'NODE', required: true }],
    flags: [sinceFlag('scans'), limitFlag('scans'), allFlag('scan of the node'), ...outputFlags()],
    sourceFlags: SOURCE_FLAGS,
    exitStatus: 'exit status: 0 success, 1 unknown node or the history could not be read, 2 usage',
    load: () => import('./history.ts'),
  },
  {
    name: 'remediations',
    summary: 'remediations and their measured effect',
    usage: ['fleetscan remediations [NODE] [--since WHEN] [--limit N | --all] [-o FORMAT] [source]'],
    description:
      'Remediations, newest first — of one node when NODE is given: the action (drop-caches, compact, compact-node\n' +
      'with its NUMA node), whether it was a dry run, and its measured effect: the watched index that was worst before,\n' +
      'its unusable free space index and suitable blocks before → after, read on the node itself.\n\n' +
      NODE_NAMES,
    positionals: [{ name: 'NODE', required: false }],
    flags: [sinceFlag('remediations requested'), limitFlag('remediations'), allFlag('remediation'), ...outputFlags()],
    sourceFlags: SOURCE_FLAGS,
    exitStatus: 'exit status: 0 success, 1 unknown node or the history could not be read, 2 usage',
    load: () => import('./remediations.ts'),
  },
  {
    name: 'clear',
    summary: 'let fleetscan remediate a node it gave up on',
    usage: ['fleetscan clear NODE [-o table|json|yaml] [source]'],
    description:
      'Unblocks a node that fleetscan stopped remediating after its remediations had no measured effect\n' +
      '(remediation.maxNoEffect in a row), and resets its no-effect streak. Look first at what was tried:\n' +
      "'fleetscan remediations NODE'. The node's cooldown and the per-scan budget still apply.\n\n" +
      "This is the one command that writes to the history table (UpdateItem on the node's state item).\n\n" +
      NODE_NAMES,
    positionals: [{ name: 'NODE', required: true }],
    flags: outputFlags(['table', 'json', 'yaml']).filter((flag) => flag.name !== 'no-headers'),
    sourceFlags: SOURCE_FLAGS,
    exitStatus: 'exit status: 0 cleared, 1 unknown node or the table could not be written, 2 usage',
    load: () => import('./clear.ts'),
  },
  {
    name: 'doctor',
    summary: 'check the deployed stack works; print what to fix',
    usage: [
      'fleetscan doctor [--stack NAME] [--region REGION] [-o table|json|yaml]',
      'fleetscan doctor --local [--data-dir DIR]',
    ],
    description:
      'Checks that the deployed fleetscan works and prints what to fix, one line each:\n' +
      '  - the stack is deployed and settled, with the outputs the CLI reads\n' +
      '  - the schedule is enabled (fleetscan:enabled)\n' +
      '  - managed nodes carry the target tags: how many, which are offline or not Linux, and which running\n' +
      '    instances carry the tags but are not managed by SSM (no agent, or no\n' +
      '    AmazonSSMManagedInstanceCore)\n' +
      "  - the last scan's age and outcome\n" +
      '  - remediation: dry run or live\n' +
      "  - the alarms' states, and confirmed vs pending e-mail subscriptions\n\n" +
      "Needs the stack's ReadOnly policy (its ReadOnlyPolicyArn output). Credentials come from the AWS SDK's chain.",
    positionals: [],
    flags: [
      stackFlag,
      regionFlag,
      { name: 'local', type: 'boolean', help: "check the demo's data instead ('fleetscan demo' first)" },
      dataDirFlag("the demo's data directory, with --local"),
      ...outputFlags(['table', 'json', 'yaml']).filter((flag) => flag.name !== 'no-headers'),
    ],
    exitStatus: 'exit status: 0 nothing to fix, 1 something to fix (or the stack cannot be read), 2 usage',
    load: () => import('./doctor.ts'),
  },
  {
    name: 'completion',
    summary: 'print a shell completion script (bash, zsh, fish)',
    usage: ['fleetscan completion bash|zsh|fish'],
    description:
      'Prints a completion script for the shell: commands, flags, the values of enumerated flags, files and\n' +
      'directories. Install it once:\n' +
      '  bash:  fleetscan completion bash > ~/.local/share/bash-completion/completions/fleetscan\n' +
      '  zsh:   fleetscan completion zsh > "$fpath[1]/_fleetscan"   (then: compinit)\n' +
      '  fish:  fleetscan completion fish > ~/.config/fish/completions/fleetscan.fish',
    positionals: [{ name: 'SHELL', required: true }],
    flags: [],
    exitStatus: 'exit status: 0 success, 2 usage',
    load: () => import('./completion.ts'),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** A command's own declaration, for its module (a missing one is a bug here, not a user's mistake). */
export function commandSpec(name: string): CommandSpec {
  const spec = findCommand(name);
  if (spec === undefined) throw new Error(`fleetscan declares no command '${name}'`);
  return spec;
}

/** Every flag of a command as the parser takes it (the source flags included). */
export function allFlags(spec: CommandSpec): FlagSpec[] {
  return [...spec.flags, ...(spec.sourceFlags ?? [])];
}

/** Help is laid out for this many columns, whatever the terminal (as man pages are). */
const HELP_WIDTH = 100;

function flagLines(flags: readonly FlagSpec[]): string[] {
  const visible = flags.filter((flag) => flag.hidden !== true);
  const label = (flag: FlagSpec) =>
    `${flag.short === undefined ? '    ' : `-${flag.short}, `}--${flag.name}${flag.arg === undefined ? '' : ` ${flag.arg}`}`;
  const width = Math.min(26, Math.max(...visible.map((flag) => label(flag).length)));
  const indent = ' '.repeat(width + 4);
  return visible.flatMap((flag) => {
    const name = label(flag);
    const [first = '', ...rest] = wrap(flag.help, HELP_WIDTH - indent.length);
    const head = name.length > width ? [`  ${name}`, `${indent}${first}`] : [`  ${name.padEnd(width)}  ${first}`];
    return [...head, ...rest.map((line) => `${indent}${line}`)];
  });
}

/** Prose paragraphs re-flowed to the help's width; a paragraph with indented lines (examples, lists) kept as written. */
export function reflow(text: string): string {
  return text
    .split('\n\n')
    .map((paragraph) =>
      paragraph.split('\n').some((line) => line.startsWith(' '))
        ? paragraph
        : wrap(paragraph.replace(/\n/g, ' '), HELP_WIDTH).join('\n'),
    )
    .join('\n\n');
}

/** `--help` and `fleetscan help CMD`: generated from the command's declaration. */
export function helpText(spec: CommandSpec): string {
  const [first = '', ...more] = spec.usage;
  const sections = [
    [`usage: ${first}`, ...more.map((line) => `       ${line}`)].join('\n'),
    reflow(spec.description),
    ['options:', ...flagLines([...spec.flags, { name: 'help', short: 'h', type: 'boolean', help: 'this help' }])].join(
      '\n',
    ),
  ];
  if (spec.sourceFlags !== undefined) {
    sections.push(
      [
        'source — where the history is read from:',
        ...flagLines(spec.sourceFlags),
        "Credentials come from the AWS SDK's standard chain (environment, profile, SSO, instance role).",
      ].join('\n'),
    );
  }
  sections.push(spec.exitStatus);
  return sections.join('\n\n');
}

/** The help with the command's own additions. */
export async function fullHelp(spec: CommandSpec): Promise<string> {
  const more = spec.moreHelp === undefined ? '' : `\n\n${await spec.moreHelp()}`;
  return `${helpText(spec)}${more}`;
}
