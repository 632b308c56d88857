/**
 * The remediate document's script, with its parameters substituted the way SSM does it, run by bash and dash
 * against writable copies of the fixture trees (test/fixtures/proc/README.md).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { parseRemediationReport, REMEDIATION_ACTIONS } from '../../lib/core/report.ts';
import {
  MAX_LOAD_PER_CPU_PATTERN,
  MAX_PROACTIVENESS_PATTERN,
  NUMA_NODE_PATTERN,
  SETTLE_SECONDS_PATTERN,
} from '../../lib/infra/documents.ts';
import {
  calls,
  copyLayout,
  FIXTURES,
  KERNEL_LOG,
  makeStubs,
  REMEDIATE_SCRIPT,
  remediateScriptWith,
  removeTempDirs,
  runScript,
  SHELLS,
  snapshot,
} from './harness.ts';

afterAll(removeTempDirs);
const KERNEL_FILES = {
  dropCaches: 'proc/sys/vm/drop_caches',
  compactMemory: 'proc/sys/vm/compact_memory',
  node0: 'sys/devices/system/node/node0/compact',
  node1: 'sys/devices/system/node/node1/compact',
} as const;

function kernelFiles(root: string): Record<keyof typeof KERNEL_FILES, string> {
  const read = (file: string) => readFileSync(join(root, file), 'utf8');
  return {
    dropCaches: read(KERNEL_FILES.dropCaches),
    compactMemory: read(KERNEL_FILES.compactMemory),
    node0: read(KERNEL_FILES.node0),
    node1: read(KERNEL_FILES.node1),
  };
}

const UNTOUCHED = { dropCaches: '0\n', compactMemory: '0\n', node0: '0\n', node1: '0\n' };

/** The document's guard parameters, with no settle time so that tests run fast (the settle test sets one). */
const GUARDS = { maxLoadPerCpu: '1', maxProactiveness: '20', settleSeconds: '0' };

function remediate(
  shell: string,
  root: string,
  parameters: { action: string; numaNode: string; dryRun: string } & Partial<typeof GUARDS>,
) {
  const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });
  const run = runScript(shell, remediateScriptWith({ ...GUARDS, ...parameters }), root, stubs);
  return { run, stubs };
}

describe.each(SHELLS)('Script: remediate.sh run by %s', (shell) => {
  it.each(REMEDIATION_ACTIONS)('writes nothing at all in a dry run of %s', (action) => {
    // Prepare
    const root = copyLayout('x86-2node');
    const before = snapshot(root);

    // Act
    const { run, stubs } = remediate(shell, root, { action, numaNode: '1', dryRun: 'true' });
    const report = parseRemediationReport(run.stdout);

    // Assess
    expect(run.status).toBe(0);
    expect(snapshot(root)).toEqual(before);
    expect(calls(stubs).filter((call) => call.startsWith('sync'))).toEqual([]);
    expect(report.dryRun).toBe(true);
    expect(report.steps.length).toBeGreaterThan(0);
    expect(report.steps.every((step) => step.result === 'dry-run')).toBe(true);
    const zones = parseBuddyinfo(readFileSync(join(FIXTURES, 'x86-2node/proc/buddyinfo'), 'utf8'));
    expect(report.before).toEqual(zones);
    expect(report.after).toEqual(zones);
  });

  it.each([
    {
      action: 'drop-caches',
      numaNode: 'all',
      steps: ['sync ok', 'drop-caches ok'],
      files: { ...UNTOUCHED, dropCaches: '1\n' },
    },
    { action: 'compact', numaNode: 'all', steps: ['compact ok'], files: { ...UNTOUCHED, compactMemory: '1\n' } },
    { action: 'compact', numaNode: '1', steps: ['compact ok'], files: { ...UNTOUCHED, compactMemory: '1\n' } },
    { action: 'compact-node', numaNode: '1', steps: ['compact-node ok'], files: { ...UNTOUCHED, node1: '1\n' } },
    { action: 'compact-node', numaNode: 'all', steps: ['compact ok'], files: { ...UNTOUCHED, compactMemory: '1\n' } },
    {
      action: 'drop-caches-and-compact',
      numaNode: '0',
      steps: ['sync ok', 'drop-caches ok', 'compact-node ok'],
      files: { ...UNTOUCHED, dropCaches: '3\n', node0: '1\n' },
    },
    {
      action: 'drop-caches-and-compact',
      numaNode: 'all',
      steps: ['sync ok', 'drop-caches ok', 'compact ok'],
      files: { ...UNTOUCHED, dropCaches: '3\n', compactMemory: '1\n' },
    },
  ])('$action on numa $numaNode writes only what it should', ({ action, numaNode, steps, files }) => {
    const root = copyLayout('x86-2node');

    const { run } = remediate(shell, root, { action, numaNode, dryRun: 'false' });
    const report = parseRemediationReport(run.stdout);

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(kernelFiles(root)).toEqual(files);
    expect(report.steps.map((step) => `${step.name} ${step.result}`)).toEqual(steps);
    expect(report.action).toBe(action);
    expect(report.numaNode).toBe(numaNode === 'all' ? null : Number(numaNode));
    expect(report.dryRun).toBe(false);
    expect(report.after).toHaveLength(report.before.length);
  });

  it('syncs before it drops caches', () => {
    const root = copyLayout('x86-1node');

    const { stubs } = remediate(shell, root, { action: 'drop-caches', numaNode: 'all', dryRun: 'false' });

    // The fake sync records drop_caches as it finds it: still untouched.
    expect(calls(stubs).filter((call) => call.startsWith('sync'))).toEqual(['sync drop_caches=0']);
    expect(readFileSync(join(root, KERNEL_FILES.dropCaches), 'utf8')).toBe('1\n');
  });
});

describe('Script: remediate.sh failures', () => {
  it.each(['true', 'false'])('fails compact-node for a NUMA node the host does not have (dryRun=%s)', (dryRun) => {
    const root = copyLayout('x86-2node');
    const before = snapshot(root);

    const { run } = remediate('sh', root, { action: 'compact-node', numaNode: '5', dryRun });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('node5/compact does not exist');
    expect(parseRemediationReport(run.stdout).steps).toEqual([{ name: 'compact-node', result: 'failed' }]);
    expect(snapshot(root)).toEqual(before);
  });

  it('skips the steps after a failed one', () => {
    const root = copyLayout('x86-2node');
    // A directory cannot be written to, even by root.
    rmSync(join(root, KERNEL_FILES.dropCaches));
    mkdirSync(join(root, KERNEL_FILES.dropCaches));

    const { run } = remediate('sh', root, { action: 'drop-caches-and-compact', numaNode: '1', dryRun: 'false' });

    expect(run.status).toBe(1);
    expect(parseRemediationReport(run.stdout).steps.map((step) => `${step.name} ${step.result}`)).toEqual([
      'sync ok',
      'drop-caches failed',
      'compact-node skipped',
    ]);
    expect(readFileSync(join(root, KERNEL_FILES.node1), 'utf8')).toBe('0\n');
  });

  it('does not act when it cannot measure buddyinfo first', () => {
    const root = copyLayout('x86-1node');
    rmSync(join(root, 'proc/buddyinfo'));

    const { run } = remediate('sh', root, { action: 'compact', numaNode: 'all', dryRun: 'false' });

    expect(run.status).toBe(1);
    expect(parseRemediationReport(run.stdout).steps).toEqual([{ name: 'compact', result: 'skipped' }]);
    expect(readFileSync(join(root, KERNEL_FILES.compactMemory), 'utf8')).toBe('0\n');
  });

  it.each([
    { action: 'nuke', numaNode: 'all', dryRun: 'false' },
    { action: 'compact-node', numaNode: '007', dryRun: 'false' },
    { action: 'compact-node', numaNode: '1000', dryRun: 'false' },
    { action: 'compact-node', numaNode: '', dryRun: 'false' },
    { action: 'compact', numaNode: 'all', dryRun: 'yes' },
    { action: 'compact', numaNode: 'all', dryRun: 'False' },
    { action: 'compact', numaNode: 'all', dryRun: 'false', maxLoadPerCpu: '1.234' },
    { action: 'compact', numaNode: 'all', dryRun: 'false', maxLoadPerCpu: '-1' },
    { action: 'compact', numaNode: 'all', dryRun: 'false', maxProactiveness: '101' },
    { action: 'compact', numaNode: 'all', dryRun: 'false', settleSeconds: '301' },
    { action: 'compact', numaNode: 'all', dryRun: 'false', settleSeconds: '05' },
  ])('refuses parameters SSM would have rejected: $action / $numaNode / $dryRun', (parameters) => {
    const root = copyLayout('x86-2node');
    const before = snapshot(root);

    const { run } = remediate('sh', root, parameters);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^fleetscan-remediate: (action|numaNode|dryRun|maxLoadPerCpu|maxProactiveness|settleSeconds) must be/,
    );
    expect(snapshot(root)).toEqual(before);
  });

  it('refuses to run with its placeholders left unsubstituted', () => {
    const root = copyLayout('x86-1node');
    const stubs = makeStubs({ kernelLog: { kind: 'unreadable' } });

    const run = runScript('sh', REMEDIATE_SCRIPT, root, stubs);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
  });
});

describe('Script: remediate.sh parameters', () => {
  it('takes each parameter once, inside single quotes, and has no other SSM placeholder', () => {
    const text = readFileSync(REMEDIATE_SCRIPT, 'utf8');

    expect(text.match(/\{\{[^}]*\}\}/g)).toEqual([
      '{{ action }}',
      '{{ numaNode }}',
      '{{ dryRun }}',
      '{{ maxLoadPerCpu }}',
      '{{ maxProactiveness }}',
      '{{ settleSeconds }}',
    ]);
    expect(text).toContain("\naction='{{ action }}'\n");
    expect(text).toContain("\nnuma_node='{{ numaNode }}'\n");
    expect(text).toContain("\ndry_run='{{ dryRun }}'\n");
  });

  it.each([
    [
      'maxLoadPerCpu',
      MAX_LOAD_PER_CPU_PATTERN,
      ['0', '1', '1.5', '0.75', '999.99'],
      ['1.234', '.5', '01', "1'", '1;reboot'],
    ],
    ['maxProactiveness', MAX_PROACTIVENESS_PATTERN, ['0', '20', '100'], ['101', '020', '-1', "2'"]],
    ['settleSeconds', SETTLE_SECONDS_PATTERN, ['0', '10', '300'], ['301', '010', '1.5', '$(reboot)']],
  ])(
    'admits through %s’s allowedPattern only values the script accepts, none that leaves the quotes',
    (_name, source, accepted, rejected) => {
      const pattern = new RegExp(source);

      expect(accepted.filter((value) => pattern.test(value))).toEqual(accepted);
      expect(rejected.filter((value) => pattern.test(value))).toEqual([]);
    },
  );

  it('admits through numaNode’s allowedPattern only values that cannot leave the quotes', () => {
    const pattern = new RegExp(NUMA_NODE_PATTERN);
    const accepted = ['all', '0', '7', '63', '999'];
    const rejected = ['007', '1000', '-1', '', 'all ', "0'", '0;reboot', '$(reboot)', '1\n2'];

    expect(accepted.filter((value) => pattern.test(value))).toEqual(accepted);
    expect(rejected.filter((value) => pattern.test(value))).toEqual([]);
  });
});

describe.each(SHELLS)('Script: remediate.sh pre-checks right before acting, run by %s', (shell) => {
  const write = (root: string, file: string, text: string) => writeFileSync(join(root, file), text);

  it('acts and records each check as ok on a quiet node', () => {
    const root = copyLayout('x86-2node');

    const { run } = remediate(shell, root, { action: 'compact-node', numaNode: '1', dryRun: 'false' });
    const report = parseRemediationReport(run.stdout);

    expect(report.version).toBe(2);
    expect(report.prechecks).toEqual([
      { name: 'load', result: 'ok', observed: ['0.52', '16', '1'] },
      { name: 'kcompactd', result: 'ok', observed: ['1:S'] },
      { name: 'proactiveness', result: 'ok', observed: ['20', '20'] },
    ]);
    expect(report.steps).toEqual([{ name: 'compact-node', result: 'ok' }]);
    expect(kernelFiles(root).node1).toBe('1\n');
  });

  it('skips, without failing, when load per CPU is above the limit', () => {
    const root = copyLayout('x86-2node');
    write(root, 'proc/loadavg', '40.00 30.00 20.00 9/900 4242\n');
    const before = snapshot(root);

    const { run, stubs } = remediate(shell, root, { action: 'drop-caches', numaNode: 'all', dryRun: 'false' });
    const report = parseRemediationReport(run.stdout);

    expect(run.status).toBe(0);
    expect(report.prechecks).toEqual([{ name: 'load', result: 'skip', observed: ['40.00', '16', '1'] }]);
    expect(report.steps).toEqual([
      { name: 'sync', result: 'skipped', reason: 'precheck-load' },
      { name: 'drop-caches', result: 'skipped', reason: 'precheck-load' },
    ]);
    expect(report.settleSeconds).toBe(0);
    expect(calls(stubs).filter((call) => call.startsWith('sync'))).toEqual([]);
    expect(snapshot(root)).toEqual(before);
  });

  it.each(['R', 'D'])('skips compaction while the node’s kcompactd is in state %s', (state) => {
    const root = copyLayout('x86-2node');
    write(root, 'proc/37/stat', `37 (kcompactd1) ${state} 2 0 0 0 -1 2129984\n`);

    const { run } = remediate(shell, root, { action: 'compact-node', numaNode: '1', dryRun: 'false' });
    const report = parseRemediationReport(run.stdout);

    expect(report.prechecks?.find((check) => check.name === 'kcompactd')).toEqual({
      name: 'kcompactd',
      result: 'skip',
      observed: [`1:${state}`],
    });
    expect(report.steps).toEqual([{ name: 'compact-node', result: 'skipped', reason: 'precheck-kcompactd' }]);
    expect(kernelFiles(root)).toEqual(UNTOUCHED);
  });

  it('looks only at the kcompactd of the node it compacts', () => {
    const root = copyLayout('x86-2node');
    write(root, 'proc/36/stat', '36 (kcompactd0) R 2 0 0 0 -1 2129984\n');

    const { run } = remediate(shell, root, { action: 'compact-node', numaNode: '1', dryRun: 'false' });

    expect(parseRemediationReport(run.stdout).steps).toEqual([{ name: 'compact-node', result: 'ok' }]);
  });

  it('skips compaction when proactive compaction is configured above the limit, but still drops caches', () => {
    const root = copyLayout('x86-2node');
    write(root, 'proc/sys/vm/compaction_proactiveness', '60\n');

    const compact = parseRemediationReport(
      remediate(shell, root, { action: 'compact', numaNode: 'all', dryRun: 'false' }).run.stdout,
    );
    const drop = parseRemediationReport(
      remediate(shell, root, { action: 'drop-caches', numaNode: 'all', dryRun: 'false' }).run.stdout,
    );

    expect(compact.prechecks?.find((check) => check.name === 'proactiveness')?.result).toBe('skip');
    expect(compact.steps).toEqual([{ name: 'compact', result: 'skipped', reason: 'precheck-proactiveness' }]);
    expect(drop.prechecks?.map((check) => check.name)).toEqual(['load']);
    expect(drop.steps.map((step) => step.result)).toEqual(['ok', 'ok']);
  });

  it('reports a check it cannot make as unknown and acts all the same', () => {
    const root = copyLayout('x86-2node');
    rmSync(join(root, 'proc/loadavg'));

    const { run } = remediate(shell, root, { action: 'compact', numaNode: 'all', dryRun: 'false' });
    const report = parseRemediationReport(run.stdout);

    expect(report.prechecks?.[0]).toEqual({ name: 'load', result: 'unknown', observed: ['-', '-', '1'] });
    expect(report.steps).toEqual([{ name: 'compact', result: 'ok' }]);
  });

  it('shows in a dry run that the checks would hold the action back', () => {
    const root = copyLayout('x86-2node');
    write(root, 'proc/loadavg', '40.00 30.00 20.00 9/900 4242\n');

    const { run } = remediate(shell, root, { action: 'compact', numaNode: 'all', dryRun: 'true' });

    expect(parseRemediationReport(run.stdout).steps).toEqual([
      { name: 'compact', result: 'skipped', reason: 'precheck-load' },
    ]);
  });
});

describe('Script: remediate.sh settle time', () => {
  it('waits settleSeconds after writing before it measures again, and says so', () => {
    const root = copyLayout('x86-2node');

    const { run } = remediate('sh', root, { action: 'compact', numaNode: 'all', dryRun: 'false', settleSeconds: '1' });
    const report = parseRemediationReport(run.stdout);

    expect(report.settleSeconds).toBe(1);
    expect(run.stdout.indexOf('\nsettle 1\nafter\n')).toBeGreaterThan(run.stdout.indexOf('\nstep compact ok\n'));
    expect(run.ms).toBeGreaterThanOrEqual(1000);
  });

  it('does not wait when nothing was written (dry run)', () => {
    const root = copyLayout('x86-2node');

    const { run } = remediate('sh', root, { action: 'compact', numaNode: 'all', dryRun: 'true', settleSeconds: '5' });

    expect(parseRemediationReport(run.stdout).settleSeconds).toBe(0);
    expect(run.ms).toBeLessThan(5000);
  });
});
