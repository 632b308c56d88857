/**
 * The conventions every history command keeps, spawned as a user runs them against a history the real store
 * wrote: -o json|yaml|tsv|wide, --no-headers, tables that fit $COLUMNS, --since, filters and paging, nodes by host
 * name, `fleetscan nodes`, --version, help, completion.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, expectOneLineError, fleetscan, ROOT } from './run-cli.ts';
import { NODES } from './seed-history.ts';
import { useSeededTable } from './seeded-table.ts';

// A known history in dynalite, written by the real DynamoStore; the CLI reads it through --endpoint/--table.
const table = useSeededTable();

const newest = () => table.seeded.scans[table.seeded.scans.length - 1]?.scan;
const chars = (line: string) => [...line].length;

describe('CLI conventions: output formats', () => {
  it('prints the same bytes for -o json and --json, on every history command', async () => {
    const scanId = newest()?.scanId ?? '';
    for (const args of [['scans'], ['scan', scanId], ['history', NODES.fragmenting], ['remediations'], ['nodes']]) {
      const json = await fleetscan([...args, '--json', ...table.source]);
      const output = await fleetscan([...args, '-o', 'json', ...table.source]);
      expect(json.code, json.stderr).toBe(0);
      expect(output.stdout, args.join(' ')).toBe(json.stdout);
      JSON.parse(output.stdout);
    }
  });

  it('prints YAML and tab-separated raw values, with or without headers', async () => {
    const yaml = await fleetscan(['scans', '-o', 'yaml', '--limit', '1', ...table.source]);
    expect(yaml.stdout).toMatch(new RegExp(`^- scanId: ${newest()?.scanId}\\n {2}commandId: `));
    expect(yaml.stdout).toContain(
      `\n  counts:\n    OK: ${newest()?.counts?.OK}\n    WARN: ${newest()?.counts?.WARN}\n`,
    );
    const tsv = await fleetscan(['scans', '-o', 'tsv', ...table.source]);
    const [header, first] = tsv.stdout.split('\n');
    expect(header?.split('\t').slice(0, 3)).toEqual(['SCAN ID', 'REQUESTED (UTC)', 'COMPLETED (UTC)']);
    expect(first?.split('\t').slice(0, 2)).toEqual([newest()?.scanId, newest()?.requestedAt]);
    const bare = await fleetscan(['scans', '-o', 'tsv', '--no-headers', ...table.source]);
    expect(bare.stdout.split('\n')[0]).toBe(first);
    const rows = await fleetscan(['scans', '--no-headers', ...table.source]);
    expect(rows.stdout.trimEnd().split('\n')).toHaveLength(table.seeded.scans.length);
  });

  it('shows more columns with -o wide: whole ids, completion times, shards and targets', async () => {
    const wide = await fleetscan(['scans', '-o', 'wide', ...table.source]);
    expect(wide.stdout.split('\n')[0]).toMatch(
      /^SCAN ID\s+REQUESTED \(UTC\)\s+COMPLETED \(UTC\)\s+STATUS.*SHARDS\s+TARGETS$/,
    );
    expect(wide.stdout).toContain(newest()?.scanId);
  });

  it('fits every table and summary to $COLUMNS, never wrapping a row', async () => {
    const scanId = newest()?.scanId ?? '';
    for (const width of [100, 72]) {
      const env = { ...baseEnv(), COLUMNS: String(width) };
      for (const args of [
        ['scans'],
        ['scan', scanId],
        ['history', NODES.fragmenting],
        ['remediations'],
        ['nodes'],
        ['scans', '-o', 'wide'],
      ]) {
        const run = await fleetscan([...args, ...table.source], env);
        expect(run.code, run.stderr).toBe(0);
        for (const line of run.stdout.split('\n'))
          expect(chars(line), `${args.join(' ')}: ${line}`).toBeLessThanOrEqual(width);
      }
    }
  });

  it('colours with --color always even off a terminal, and never with --color never', async () => {
    const always = await fleetscan(['scans', '--color', 'always', ...table.source]);
    expect(always.stdout).toContain('\u001b[31m');
    const never = await fleetscan(['scans', '--color', 'never', ...table.source], { ...baseEnv(), NO_COLOR: '' });
    expect(never.stdout).not.toContain('\u001b');
    expectOneLineError(
      await fleetscan(['scans', '--color', 'sometimes', ...table.source]),
      2,
      /--color: 'sometimes' is not one of auto, always, never$/,
    );
  });
});

describe('CLI conventions: what is read', () => {
  it('keeps scans and remediations since a time', async () => {
    const since = table.seeded.scans[1]?.scan.requestedAt ?? '';
    const scans = JSON.parse((await fleetscan(['scans', '--since', since, '--json', ...table.source])).stdout) as {
      scanId: string;
    }[];
    expect(scans.map((scan) => scan.scanId)).toEqual(
      table.seeded.scans
        .slice(1)
        .reverse()
        .map((entry) => entry.scan.scanId),
    );
    const later = new Date(Date.parse(since) + 60_000).toISOString();
    const remediations = JSON.parse(
      (await fleetscan(['remediations', '--since', later, '--json', ...table.source])).stdout,
    );
    expect(remediations).toEqual([]);
    const all = JSON.parse(
      (await fleetscan(['remediations', '--since', since, '--json', ...table.source])).stdout,
    ) as unknown[];
    expect(all).toHaveLength(table.seeded.remediations.length);
  });

  it('filters a scan by status and cause, and reads all of it with --all', async () => {
    const scanId = newest()?.scanId ?? '';
    const nodesOf = async (...args: string[]) =>
      (
        JSON.parse((await fleetscan(['scan', scanId, ...args, '--json', ...table.source])).stdout) as {
          nodes: { nodeId: string }[];
        }
      ).nodes.map((n) => n.nodeId);
    expect(await nodesOf('--status', 'ERROR')).toEqual([NODES.unreachable]);
    expect(await nodesOf('--cause', 'low-memory')).toEqual([NODES.lowMemory]);
    expect((await nodesOf('--status', 'OK,CRITICAL', '--cause', 'none')).sort()).toEqual(
      [NODES.fragmenting, NODES.healthy].sort(),
    );
    expect(await nodesOf('--all')).toHaveLength(newest()?.nodes ?? -1);
    expect(await nodesOf('--limit', '1')).toHaveLength(1);
    expectOneLineError(
      await fleetscan(['scan', scanId, '--status', 'BAD', ...table.source]),
      2,
      /--status: 'BAD' is not one of OK, WARN, CRITICAL, ERROR$/,
    );
  });

  it('finds a node by the host name it reported, as kubectl shows it', async () => {
    const host = `ip-10-0-0-${NODES.fragmenting.slice(-1)}.ec2.internal`;
    const byHost = await fleetscan(['history', host, '--json', ...table.source]);
    expect(byHost.code, byHost.stderr).toBe(0);
    expect(JSON.parse(byHost.stdout).nodeId).toBe(NODES.fragmenting);
    const remediations = JSON.parse((await fleetscan(['remediations', host, '--json', ...table.source])).stdout) as {
      nodeId: string;
    }[];
    expect(remediations.map((entry) => entry.nodeId)).toEqual([NODES.fragmenting]);
    expectOneLineError(
      await fleetscan(['history', 'ip-10-9-9-9.ec2.internal', ...table.source]),
      1,
      /unknown node 'ip-10-9-9-9\.ec2\.internal'/,
    );
  });

  it('lists every node of the latest scan with its state, filtered by status, blocked and cooling down', async () => {
    const shown = JSON.parse((await fleetscan(['nodes', '--json', ...table.source])).stdout) as {
      scan: { scanId: string };
      nodes: {
        nodeId: string;
        record: { status: string };
        state: { consecutiveBreaches: number } | null;
        coolingDown: boolean;
      }[];
    };
    expect(shown.scan.scanId).toBe(newest()?.scanId);
    expect(shown.nodes.map((node) => node.record.status)).toEqual(['CRITICAL', 'ERROR', 'OK', 'OK']);
    expect(shown.nodes[0]).toMatchObject({ nodeId: NODES.lowMemory, state: { consecutiveBreaches: 4 } });
    const cooling = JSON.parse((await fleetscan(['nodes', '--cooling-down', '--json', ...table.source])).stdout) as {
      nodes: { nodeId: string }[];
    };
    expect(cooling.nodes.map((node) => node.nodeId)).toEqual([NODES.fragmenting]);
    const blocked = await fleetscan(['nodes', '--blocked', ...table.source]);
    expect(blocked.stdout).toContain('no node matches the filters');
    const listed = await fleetscan(['nodes', '--status', 'CRITICAL,ERROR', ...table.source]);
    expect(listed.stdout.split('\n')[2]).toMatch(
      /^NODE\s+STATUS\s+UNUSABLE\s+BREACHES\s+BLOCKED\s+COOLDOWN UNTIL \(UTC\)/,
    );
    expect(listed.stdout).toMatch(/\n2 nodes: 0 blocked, 0 cooling down\n$/);
  });
});

describe('CLI conventions: the command itself', () => {
  it("prints its version, usage without a command, and a command's help with help CMD", async () => {
    const version = await fleetscan(['--version']);
    const { version: expected } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout).toBe(`fleetscan ${expected}\n`);
    const bare = await fleetscan([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^usage: fleetscan <command> \[options\]/);
    const help = await fleetscan(['help', 'scans']);
    expect(help.stdout).toMatch(/^usage: fleetscan scans /);
    expect(help.stdout).toContain('--since WHEN');
    expectOneLineError(await fleetscan(['help', 'scna']), 2, /unknown command 'scna' — did you mean 'scans?'\?/);
  });

  it('prints a bash completion script that bash completes commands, flags and flag values with', async () => {
    const script = (await fleetscan(['completion', 'bash'])).stdout;
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _fleetscan; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n');
    expect(complete(['fleetscan', 'sc'])).toEqual(['scans', 'scan']);
    expect(complete(['fleetscan', 'scans', '-o', ''])).toEqual(['table', 'wide', 'json', 'yaml', 'tsv']);
    expect(complete(['fleetscan', 'scan', '--st'])).toEqual(['--status', '--stack']);
    expect(complete(['fleetscan', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expectOneLineError(await fleetscan(['completion', 'tcsh']), 2, /SHELL: 'tcsh' is not one of bash, zsh, fish$/);
  });
});
