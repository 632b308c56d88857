import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ZoneCounts } from '../../lib/core/buddyinfo.ts';
import { ParseError } from '../../lib/core/errors.ts';
import { contigInfo } from '../../lib/core/metrics.ts';
import { evaluate } from '../../lib/core/policy.ts';
import { parseGatherReport, parseRemediationReport } from '../../lib/core/report.ts';
import { SimulatedClock } from '../../lib/local/clock.ts';
import { type NodeOutcome, PROFILES, type Profile, SimulatedFleet } from '../../lib/local/fleet.ts';
import {
  cutBytes,
  LISTED_OUTPUT_BYTES,
  LISTED_TRUNCATION_SUFFIX,
  LocalCommandGateway,
} from '../../lib/local/gateway.ts';
import { LocalNotifier, parseNotificationLog } from '../../lib/local/notifier.ts';
import { FleetOptOutSource } from '../../lib/local/opt-out.ts';
import type { Invocation, SendCommandRequest } from '../../lib/runtime/ports.ts';

const GATHER: SendCommandRequest = {
  document: 'gather',
  targets: { kind: 'tags', tags: [{ key: 'fleetscan', values: ['enabled'] }] },
  parameters: {},
  maxConcurrency: '25%',
  maxErrors: '100%',
  deliveryTimeoutSeconds: 600,
  comment: 'test gather',
};

function remediate(instanceIds: string[], action: string, numaNode: string, dryRun: boolean): SendCommandRequest {
  return {
    ...GATHER,
    document: 'remediate',
    targets: { kind: 'instances', instanceIds },
    parameters: { action: [action], numaNode: [numaNode], dryRun: [String(dryRun)] },
  };
}

function stdoutOf(outcome: NodeOutcome | undefined): string {
  if (outcome?.kind !== 'ran') throw new Error(`expected the node to run, got ${JSON.stringify(outcome)}`);
  return outcome.stdout;
}

function nodeOf(fleet: SimulatedFleet, profile: Profile) {
  const node = fleet.nodes.find((candidate) => candidate.profile === profile);
  if (node === undefined) throw new Error(`no ${profile} node`);
  return node;
}

function suitable(zones: readonly ZoneCounts[], zone: string, order: number, numa = 0): number {
  const row = zones.find((candidate) => candidate.zone === zone && candidate.node === numa);
  if (row === undefined) throw new Error(`no ${zone} zone on NUMA node ${numa}`);
  return Number(contigInfo(row.freeBlocks, order).suitableBlocks);
}

async function listAll(gateway: LocalCommandGateway, commandId: string): Promise<Invocation[][]> {
  const pages: Invocation[][] = [];
  let nextToken: string | null = null;
  do {
    const page = await gateway.listPage(commandId, nextToken);
    pages.push([...page.invocations]);
    nextToken = page.nextToken;
  } while (nextToken !== null);
  return pages;
}

describe('SimulatedFleet', () => {
  it('is the same fleet for the same seed: ids, profiles and every gather output', () => {
    // Prepare
    const a = SimulatedFleet.create({ seed: 42, size: 25 });
    const b = SimulatedFleet.create({ seed: 42, size: 25 });
    const ids = a.nodes.map((node) => node.instanceId);
    // Act
    const outputs = [0, 1, 2].map(() => [a.gather(ids), b.gather(ids)] as const);
    // Assess
    expect(b.nodes.map((node) => node.instanceId)).toEqual(ids);
    expect(b.nodes.map((node) => node.profile)).toEqual(a.nodes.map((node) => node.profile));
    for (const [fromA, fromB] of outputs) expect([...fromB.entries()]).toEqual([...fromA.entries()]);
  });

  it('is a different fleet for a different seed', () => {
    const a = SimulatedFleet.create({ seed: 1, size: 10 });
    const b = SimulatedFleet.create({ seed: 2, size: 10 });
    const shared = a.nodes.filter((node) => b.node(node.instanceId) !== undefined);
    expect(shared).toEqual([]);
  });

  it('names nodes like EC2 instances, uniquely, and shows every unusual profile in a fleet of ten', () => {
    const fleet = SimulatedFleet.create({ seed: 7, size: 200 });
    const ids = fleet.nodes.map((node) => node.instanceId);
    for (const id of ids) expect(id).toMatch(/^i-0[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const small = SimulatedFleet.create({ seed: 7, size: 10 });
    const unusual = PROFILES.filter((profile) => profile !== 'healthy');
    expect(new Set(small.nodes.map((node) => node.profile))).toEqual(new Set(unusual));
  });

  it('drains the high orders of a fragmenting node scan over scan until the policy breaches', () => {
    const fleet = SimulatedFleet.create({ seed: 3, size: 10 });
    const node = nodeOf(fleet, 'fragmenting');
    const blocks: number[] = [];
    const levels: string[] = [];
    let previous = 0;
    for (let scan = 0; scan < 4; scan += 1) {
      const report = parseGatherReport(stdoutOf(fleet.gather([node.instanceId]).get(node.instanceId)));
      blocks.push(suitable(report.zones, 'Normal', 6));
      const verdict = evaluate({ ...report, previousBreaches: previous });
      previous = verdict.consecutiveBreaches;
      levels.push(verdict.level);
    }
    for (let scan = 1; scan < blocks.length; scan += 1) {
      const before = blocks[scan - 1] ?? 0;
      // Strictly fewer while any are left; none stays none.
      if (before > 0) expect(blocks[scan]).toBeLessThan(before);
      else expect(blocks[scan]).toBe(0);
    }
    expect(levels).toContain('CRITICAL');
  });

  it('keeps a healthy node OK with only small jitter', () => {
    const fleet = SimulatedFleet.create({ seed: 3, size: 40 });
    const healthy = fleet.nodes.filter((node) => node.profile === 'healthy');
    expect(healthy.length).toBeGreaterThan(5);
    for (let scan = 0; scan < 3; scan += 1) {
      const outcomes = fleet.gather(healthy.map((node) => node.instanceId));
      for (const node of healthy) {
        const report = parseGatherReport(stdoutOf(outcomes.get(node.instanceId)));
        expect(evaluate(report).breach).toBe(false);
      }
    }
  });

  it('takes every block of order 4 and above from a sudden node at once', () => {
    const fleet = SimulatedFleet.create({ seed: 5, size: 10 });
    const node = nodeOf(fleet, 'sudden');
    const seen: number[] = [];
    for (let scan = 0; scan <= node.suddenAt + 1; scan += 1) {
      const report = parseGatherReport(stdoutOf(fleet.gather([node.instanceId]).get(node.instanceId)));
      seen.push(suitable(report.zones, 'Normal', 4));
    }
    expect(seen.slice(0, node.suddenAt).every((blocks) => blocks > 0)).toBe(true);
    expect(seen[node.suddenAt]).toBe(0);
    expect(seen[node.suddenAt + 1]).toBe(0);
  });

  it('prints the unusual layouts: 14 orders with 64 KiB pages on arm64, two NUMA nodes, a low-memory host', () => {
    const fleet = SimulatedFleet.create({ seed: 9, size: 10 });
    const outcomes = fleet.gather(fleet.nodes.map((node) => node.instanceId));
    const arm = parseGatherReport(stdoutOf(outcomes.get(nodeOf(fleet, 'arm64').instanceId)));
    expect(arm.pageSize).toBe(65536);
    expect(arm.zones.every((zone) => zone.freeBlocks.length === 14)).toBe(true);
    const numa = parseGatherReport(stdoutOf(outcomes.get(nodeOf(fleet, 'two-numa').instanceId)));
    expect(new Set(numa.zones.map((zone) => zone.node))).toEqual(new Set([0, 1]));
    const low = parseGatherReport(stdoutOf(outcomes.get(nodeOf(fleet, 'low-memory').instanceId)));
    const verdict = evaluate(low);
    expect(verdict.cause).toBe('low-memory');
  });

  it('continues identically after a save and a restore', () => {
    const original = SimulatedFleet.create({ seed: 11, size: 12 });
    const ids = original.nodes.map((node) => node.instanceId);
    original.gather(ids);
    const restored = SimulatedFleet.fromJSON(JSON.parse(JSON.stringify(original.toJSON())));
    expect([...restored.gather(ids).entries()]).toEqual([...original.gather(ids).entries()]);
    expect(restored.nextCommandId()).toBe(original.nextCommandId());
  });

  it('refuses what is not a saved fleet', () => {
    expect(() => SimulatedFleet.fromJSON({ version: 2 })).toThrow(/not a saved fleetscan demo fleet/);
  });
});

describe('LocalCommandGateway', () => {
  it('lists invocations 50 per page, every node of the fleet once', async () => {
    const fleet = SimulatedFleet.create({ seed: 1, size: 120 });
    const gateway = new LocalCommandGateway(fleet);
    const { commandId } = await gateway.send(GATHER);
    const pages = await listAll(gateway, commandId);
    expect(pages.map((page) => page.length)).toEqual([50, 50, 20]);
    const listed = pages.flat().map((invocation) => invocation.instanceId);
    expect(new Set(listed)).toEqual(new Set(fleet.nodes.map((node) => node.instanceId)));
    expect(pages.flat().every((invocation) => invocation.terminal)).toBe(true);
  });

  it('cuts a long output at 2,500 bytes in the listing and hands out the whole report on request', async () => {
    const fleet = SimulatedFleet.create({ seed: 1, size: 10 });
    const gateway = new LocalCommandGateway(fleet);
    const { commandId } = await gateway.send(GATHER);
    const large = nodeOf(fleet, 'large').instanceId;
    const listed = (await listAll(gateway, commandId)).flat().find((invocation) => invocation.instanceId === large);
    expect(listed?.output.endsWith(LISTED_TRUNCATION_SUFFIX)).toBe(true);
    expect(Buffer.byteLength(listed?.output ?? '')).toBe(LISTED_OUTPUT_BYTES + LISTED_TRUNCATION_SUFFIX.length);
    expect(() => parseGatherReport(listed?.output ?? '')).toThrow(ParseError);
    const full = parseGatherReport(await gateway.getFullOutput(commandId, large));
    expect(new Set(full.zones.map((zone) => zone.node)).size).toBe(16);
    expect(gateway.calls.fullOutputs).toBe(1);
  });

  it('reports unreachable nodes as SSM does: a terminal failure state and no output', async () => {
    const fleet = SimulatedFleet.create({ seed: 1, size: 60 });
    const gateway = new LocalCommandGateway(fleet);
    const { commandId } = await gateway.send(GATHER);
    const unreachable = new Set(fleet.nodes.filter((node) => node.profile === 'unreachable').map((n) => n.instanceId));
    const invocations = (await listAll(gateway, commandId)).flat().filter((i) => unreachable.has(i.instanceId));
    expect(invocations.length).toBe(unreachable.size);
    for (const invocation of invocations) {
      expect(['Undeliverable', 'DeliveryTimedOut']).toContain(invocation.state);
      expect(invocation.terminal).toBe(true);
      expect(invocation.output).toBe('');
    }
  });

  it('passes garbage through untouched, escape sequences and stderr included', async () => {
    const fleet = SimulatedFleet.create({ seed: 1, size: 80 });
    const gateway = new LocalCommandGateway(fleet);
    const { commandId } = await gateway.send(GATHER);
    const garbage = new Set(fleet.nodes.filter((node) => node.profile === 'garbage').map((n) => n.instanceId));
    const invocations = (await listAll(gateway, commandId)).flat().filter((i) => garbage.has(i.instanceId));
    expect(invocations.length).toBeGreaterThan(0);
    for (const invocation of invocations) {
      expect(() => parseGatherReport(invocation.output)).toThrow(ParseError);
      expect(invocation.output.includes('\u001b') || invocation.output.includes('----------ERROR-------')).toBe(true);
    }
  });

  it('compacts a fragmented node: small blocks merge into high orders, measured before and after', async () => {
    const fleet = SimulatedFleet.create({ seed: 3, size: 40 });
    const gateway = new LocalCommandGateway(fleet);
    const node = fleet.nodes.find((candidate) => candidate.profile === 'fragmenting' && candidate.compactable);
    if (node === undefined) throw new Error('no compactable fragmenting node');
    const gather = await gateway.send(GATHER);
    const gathered = parseGatherReport(await gateway.getFullOutput(gather.commandId, node.instanceId));
    const { commandId } = await gateway.send(remediate([node.instanceId], 'compact', 'all', false));
    const report = parseRemediationReport(await gateway.getFullOutput(commandId, node.instanceId));
    expect(report.before).toEqual(gathered.zones);
    expect(report.steps).toEqual([{ name: 'compact', result: 'ok' }]);
    expect(suitable(report.after, 'Normal', 6)).toBeGreaterThan(suitable(report.before, 'Normal', 6));
    expect(suitable(report.after, 'Normal', 4)).toBeGreaterThan(suitable(report.before, 'Normal', 4));
  });

  it('changes nothing on a dry run: same report before and after, and the next scans as if nothing was sent', async () => {
    const acted = SimulatedFleet.create({ seed: 3, size: 12 });
    const twin = SimulatedFleet.create({ seed: 3, size: 12 });
    const ids = acted.nodes.map((node) => node.instanceId);
    const target = nodeOf(acted, 'fragmenting').instanceId;
    const gateway = new LocalCommandGateway(acted);
    await gateway.send(GATHER);
    twin.gather(ids);
    const { commandId } = await gateway.send(remediate([target], 'drop-caches-and-compact', 'all', true));
    const report = parseRemediationReport(await gateway.getFullOutput(commandId, target));
    expect(report.dryRun).toBe(true);
    expect(report.steps.every((step) => step.result === 'dry-run')).toBe(true);
    expect(report.after).toEqual(report.before);
    expect(stdoutOf(acted.gather([target]).get(target))).toBe(stdoutOf(twin.gather([target]).get(target)));
  });

  it('has no effect on a node whose memory cannot be compacted', async () => {
    const fleet = SimulatedFleet.create({ seed: 3, size: 200 });
    const node = fleet.nodes.find((candidate) => candidate.profile === 'fragmenting' && !candidate.compactable);
    if (node === undefined) throw new Error('no uncompactable fragmenting node');
    const gateway = new LocalCommandGateway(fleet);
    const { commandId } = await gateway.send(remediate([node.instanceId], 'compact', 'all', false));
    const report = parseRemediationReport(await gateway.getFullOutput(commandId, node.instanceId));
    expect(report.steps).toEqual([{ name: 'compact', result: 'ok' }]);
    expect(report.after).toEqual(report.before);
  });

  it('compacts only the NUMA node it is told to', async () => {
    const fleet = SimulatedFleet.create({ seed: 4, size: 200 });
    const node = fleet.nodes.find((candidate) => candidate.profile === 'two-numa' && candidate.compactable);
    if (node === undefined) throw new Error('no compactable two-NUMA node');
    const gateway = new LocalCommandGateway(fleet);
    const { commandId } = await gateway.send(remediate([node.instanceId], 'compact-node', '1', false));
    const report = parseRemediationReport(await gateway.getFullOutput(commandId, node.instanceId));
    expect(report.numaNode).toBe(1);
    const rows = (zones: ZoneCounts[], numa: number) => zones.filter((zone) => zone.node === numa);
    expect(rows(report.after, 0)).toEqual(rows(report.before, 0));
    expect(rows(report.after, 1)).not.toEqual(rows(report.before, 1));
  });

  it('never acts on this machine: its steps are skipped', async () => {
    const fleet = SimulatedFleet.create({ seed: 4, size: 3 });
    const host = nodeOf(fleet, 'this-host').instanceId;
    const gateway = new LocalCommandGateway(fleet);
    const { commandId } = await gateway.send(remediate([host], 'drop-caches-and-compact', 'all', false));
    const report = parseRemediationReport(await gateway.getFullOutput(commandId, host));
    expect(report.steps.map((step) => step.result)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(report.after).toEqual(report.before);
  });

  it('rejects what SSM rejects: unknown commands, unknown instances, more than 50 ids, bad parameters', async () => {
    const fleet = SimulatedFleet.create({ seed: 4, size: 3 });
    const gateway = new LocalCommandGateway(fleet);
    await expect(listAll(gateway, 'no-such-command')).rejects.toThrow(/InvalidCommandId/);
    await expect(gateway.send(remediate(['i-0ffffffffffffffff'], 'compact', 'all', true))).rejects.toThrow(
      /InvalidInstanceId/,
    );
    const many = Array.from({ length: 51 }, () => fleet.nodes[1]?.instanceId ?? '');
    await expect(gateway.send(remediate(many, 'compact', 'all', true))).rejects.toThrow(/at most 50/);
    const id = fleet.nodes[1]?.instanceId ?? '';
    await expect(gateway.send(remediate([id], 'rm -rf /', 'all', true))).rejects.toThrow(/InvalidParameters/);
  });

  it('cuts by bytes without splitting a character', () => {
    const text = `${'a'.repeat(2499)}é and more`;
    const cut = cutBytes(text, 2500);
    expect(cut).toBe('a'.repeat(2499));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(2500);
  });
});

describe('local opt-out, notifier and clock', () => {
  it('opts out this machine and every node whose index ends in 5', async () => {
    const fleet = SimulatedFleet.create({ seed: 8, size: 30 });
    const source = new FleetOptOutSource(fleet, { key: 'fleetscan:remediate', value: 'false' });
    const opted = await source.optedOut(fleet.nodes.map((node) => node.instanceId));
    const expected = fleet.nodes.filter((node) => node.index === 0 || node.index % 10 === 5).map((n) => n.instanceId);
    expect(opted).toEqual(new Set(expected));
  });

  it('prints one line per notification and appends the whole message to the log', async () => {
    await mkdir(path.join(process.cwd(), '.tmp'), { recursive: true });
    const dir = await mkdtemp(path.join(process.cwd(), '.tmp', 'notifier-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'notifications.log');
    const lines: string[] = [];
    const clock = new SimulatedClock(new Date('2026-01-01T00:00:00Z'));
    const notifier = new LocalNotifier({ file, line: (text) => lines.push(text), clock });
    await notifier.publish({
      subject: 'fleetscan: 2 CRITICAL',
      body: 'line one\nline two',
      severity: 'CRITICAL',
      scanId: 's-1',
    });
    clock.advance(60_000);
    await notifier.publish({ subject: 'evil \u001b[2J', body: 'x', severity: 'WARN', scanId: 's-2' });
    const logged = parseNotificationLog(await readFile(file, 'utf8'));
    expect(logged.map((entry) => [entry.severity, entry.scanId, entry.subject])).toEqual([
      ['CRITICAL', 's-1', 'fleetscan: 2 CRITICAL'],
      ['WARN', 's-2', 'evil '],
    ]);
    expect(logged[0]?.body).toBe('line one\nline two');
    expect(logged[1]?.at).toBe('2026-01-01T00:01:00.000Z');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('\u001b');
  });
});
