/**
 * Fault: nodes print hostile output — terminal escape sequences (`ESC]0;pwned BEL`, `ESC[2J`), bidi overrides,
 * NULs, invalid UTF-8, binary noise, a 40,000-byte report. Proves none of it reaches a notification or a stored
 * text field unsanitized, and that every node is still recorded once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { forbiddenIn } from '../support/forbidden-text.ts';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { createWorld, expectCleanNotifications, expectScanInvariants, type World } from './support/world.ts';

describe('Fault: hostile node output', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('sanitizes hostile hosts, kernels, errors and stderr on their way to records and notifications', async () => {
    // Prepare: hostile hosts that are fragmented (so the summary lists them and they are remediated), and
    // hostile garbage, binary and huge outputs (ERROR records whose reasons quote the bad input).
    const fleet = Fleet.build({ size: 30, seed: 91, mix: { hostile: 3, 'hostile-garbage': 2, binary: 2, huge: 1 } });
    for (const node of fleet.withBehaviour('hostile')) node.condition = 'fragmented';
    const w = await createWorld({ fleet });
    world = w;
    const scan = await w.scan();
    // Act: the scan, then the remediations of the hostile hosts.
    await w.deliver(w.completionEvent(scan.commandId));
    const remediations = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    for (const commandId of new Set(remediations.map((r) => r.commandId ?? ''))) {
      await w.deliver(w.completionEvent(commandId));
    }
    // Assess: the fault was there to be sanitized...
    const listed = w.sim.sentCommands()[0];
    expect(
      [...(listed?.invocations.values() ?? [])].some((i) => Buffer.from(i.outcome.stdout).includes('\u001b]0;pwned')),
    ).toBe(true);
    // ...and nothing of it got through.
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: fleet.nodes.map((n) => n.instanceId) }, expect);
    expect(remediations).toHaveLength(3);
    // The scan's summary, and one outcome message per remediate command.
    const commands = new Set(remediations.map((r) => r.commandId));
    expect(w.notifier.sent.length).toBe(1 + commands.size);
    expectCleanNotifications(w, expect);
    const summary = w.notifier.sent[0];
    expect(summary?.body).toContain('ip-10-0-0-1');
    expect(summary?.body).toContain('pwned');
    const records = await w.records(scan.scanId);
    for (const record of records) {
      for (const text of [record.host, record.kernel, record.error, ...record.findings, ...record.zones]) {
        if (text !== null) expect(forbiddenIn(text)).toBeNull();
      }
    }
    const errors = records.filter((r) => r.status === 'ERROR');
    expect(errors).toHaveLength(5);
    for (const record of errors) expect(record.error?.length ?? 0).toBeLessThanOrEqual(200);
    expect(records.filter((r) => r.host?.startsWith('ip-10-0-0-1'))).toHaveLength(3);
  });
});
