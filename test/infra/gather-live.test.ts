/**
 * The gather document as `cdk deploy` ships it — taken from the synthesized template, its `since` parameter
 * substituted as SSM does — run on this machine's real kernel by sh, as the SSM agent runs it on a node, and read
 * back by `fleetscan inspect -o json -`: the report carries the vmstat counters and (as root, the documents' user)
 * the pageblocks, and inspect judges it with its compaction outlook.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { parseGatherReport } from '../../lib/core/report.ts';
import { baseEnv, ROOT } from '../cli/run-cli.ts';
import { ssmSubstitute } from '../scripts/harness.ts';
import { CLI_RUN_TIMEOUT_MS, SCRIPT_RUN_TIMEOUT_MS } from '../support/timeouts.ts';
import { SYNTH_TEST_TIMEOUT_MS, synthesized } from './support.ts';

let script: string;

beforeAll(() => {
  const template = synthesized('default').template as {
    Resources: Record<string, { Type: string; Properties: { Name?: string; Content?: unknown } }>;
  };
  const gather = Object.values(template.Resources).find(
    (resource) => resource.Type === 'AWS::SSM::Document' && resource.Properties.Name === 'Fleetscan-Gather',
  );
  const content = gather?.Properties.Content as { mainSteps: { inputs: { runCommand: string[] } }[] };
  // SSM splices the parameter into the text: 0 counts the kernel log's failures since boot.
  script = ssmSubstitute((content.mainSteps[0]?.inputs.runCommand ?? []).join('\n'), { since: '0' });
}, SYNTH_TEST_TIMEOUT_MS);

describe('Gather document on this kernel', () => {
  it('prints a version 2 report of this machine that inspect reads whole: counters, pageblocks, the outlook', async () => {
    const run = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: SCRIPT_RUN_TIMEOUT_MS });
    expect(run.status, run.stderr).toBe(0);
    const report = parseGatherReport(run.stdout);
    expect(report.version).toBe(2);
    const zones = parseBuddyinfo(readFileSync('/proc/buddyinfo', 'utf8')).map((zone) => `${zone.node} ${zone.zone}`);
    expect(report.zones.map((zone) => `${zone.node} ${zone.zone}`)).toEqual(zones);

    const inspected = spawnSync(process.execPath, [join(ROOT, 'bin/fleetscan.mjs'), 'inspect', '-o', 'json', '-'], {
      input: run.stdout,
      encoding: 'utf8',
      env: baseEnv(),
      timeout: CLI_RUN_TIMEOUT_MS,
    });
    expect([0, 1], inspected.stderr).toContain(inspected.status);
    const json = JSON.parse(inspected.stdout) as {
      input: string;
      vmstat: Record<string, number> | null;
      pageblocks: { node: number; zone: string; blocks: Record<string, number> }[] | null;
      verdict: { compaction: { canHelp: boolean | null; reasons: string[] } };
    };
    expect(json.input).toBe('gather');
    expect(Object.keys(json.vmstat ?? {})).toEqual(
      expect.arrayContaining(['compact_stall', 'compact_fail', 'pgmajfault']),
    );
    expect(Object.values(json.vmstat ?? {}).every((value) => Number.isSafeInteger(value))).toBe(true);
    expect([true, false, null]).toContain(json.verdict.compaction.canHelp);
    expect(json.verdict.compaction.reasons.length).toBeGreaterThan(0);
    // /proc/pagetypeinfo is mode 0400: the documents run as root; this test sees it only when it runs as root.
    if (process.getuid?.() === 0) {
      expect(json.pageblocks?.map((zone) => `${zone.node} ${zone.zone}`)).toEqual(zones);
      expect(json.pageblocks?.every((zone) => Number.isInteger(zone.blocks.Movable))).toBe(true);
    } else {
      expect(json.pageblocks).toBeNull();
    }
  });
});
