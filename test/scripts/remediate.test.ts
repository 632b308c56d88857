/**
 * The remediate document's script, with its parameters substituted the way SSM does it, run by bash and dash
 * against writable copies of the fixture trees (test/fixtures/proc/README.md).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { parseRemediationReport, REMEDIATION_ACTIONS } from '../../lib/core/report.ts';
import { NUMA_NODE_PATTERN } from '../../lib/infra/documents.ts';
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

function remediate(shell: string, root: string, parameters: { action: string; numaNode: string; dryRun: string }) {
  const stubs = makeStubs({ kernelLog: { kind: 'dmesg', file: KERNEL_LOG } });
  const run = runScript(shell, remediateScriptWith(parameters), root, stubs);
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
  ])('refuses parameters SSM would have rejected: $action / $numaNode / $dryRun', (parameters) => {
    const root = copyLayout('x86-2node');
    const before = snapshot(root);

    const { run } = remediate('sh', root, parameters);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^fleetscan-remediate: (action|numaNode|dryRun) must be/);
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

    expect(text.match(/\{\{[^}]*\}\}/g)).toEqual(['{{ action }}', '{{ numaNode }}', '{{ dryRun }}']);
    expect(text).toContain("\naction='{{ action }}'\n");
    expect(text).toContain("\nnuma_node='{{ numaNode }}'\n");
    expect(text).toContain("\ndry_run='{{ dryRun }}'\n");
  });

  it('admits through numaNode’s allowedPattern only values that cannot leave the quotes', () => {
    const pattern = new RegExp(NUMA_NODE_PATTERN);
    const accepted = ['all', '0', '7', '63', '999'];
    const rejected = ['007', '1000', '-1', '', 'all ', "0'", '0;reboot', '$(reboot)', '1\n2'];

    expect(accepted.filter((value) => pattern.test(value))).toEqual(accepted);
    expect(rejected.filter((value) => pattern.test(value))).toEqual([]);
  });
});
