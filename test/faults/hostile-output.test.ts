/**
 * Fault: nodes print hostile output — every class of character no output may carry (HOSTILE_TEXT: an OSC window
 * title, a CSI clear screen, bidi and zero-width characters, the BOM, line separators, soft hyphens, tag
 * characters, lone surrogates) in their host names, kernels, zone names, process names and stderr; NULs, invalid
 * UTF-8, binary noise, a 40,000-byte report. Proves with the tests' own check (test/support/forbidden-text.ts),
 * not the sanitizer's, that none of it reaches a stored item, a log line, a notification as SNS gets it (subject,
 * body, message attributes) or as the demo writes it (notifications.log, notifications.jsonl), and that every
 * node is still recorded once.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { unpackRows } from '../../lib/adapters/dynamo/packed.ts';
import { SnsNotifier } from '../../lib/adapters/sns.ts';
import { PROBLEM_NODE_LOG } from '../../lib/config/contracts.ts';
import { LocalNotifier, NOTIFICATIONS_FILE, NOTIFICATIONS_JSONL } from '../../lib/local/notifier.ts';
import { forbiddenIn, forbiddenInAny, HOSTILE_TEXT } from '../support/forbidden-text.ts';
import { Fleet } from '../support/ssm-simulator/index.ts';
import { createWorld, expectCleanNotifications, expectScanInvariants, type World } from './support/world.ts';

/** Every item in the table, each deflated batch of records (packed.ts) read back into its rows. */
async function storedItems(world: World): Promise<unknown[]> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await world.db.doc.send(new ScanCommand({ TableName: world.db.tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      items.push(
        Object.fromEntries(
          Object.entries(item).map(([key, value]) => [key, value instanceof Uint8Array ? unpackRows(value) : value]),
        ),
      );
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

describe('Fault: hostile node output', () => {
  let world: World | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('keeps hostile hosts, kernels, zone and process names, errors and stderr out of every output', async () => {
    // Prepare: hostile hosts that are fragmented (so the summary lists them and they are remediated), hostile zone
    // and process names, garbage, binary and huge outputs (ERROR records whose reasons quote the bad input).
    const fleet = Fleet.build({
      size: 30,
      seed: 91,
      mix: { hostile: 3, 'hostile-zone': 1, 'hostile-process': 1, 'hostile-garbage': 2, binary: 2, huge: 1 },
    });
    for (const node of fleet.withBehaviour('hostile')) node.condition = 'fragmented';
    const w = await createWorld({ fleet });
    world = w;
    const scan = await w.scan();
    // Act: the scan, then the remediations of the hostile hosts.
    await w.deliver(w.completionEvent(scan.commandId));
    const sent = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    for (const commandId of new Set(sent.map((r) => r.commandId ?? ''))) {
      await w.deliver(w.completionEvent(commandId));
    }
    // Assess: the fault was there to be kept out...
    const listed = [...(w.sim.sentCommands()[0]?.invocations.values() ?? [])];
    const printed = (text: string) => listed.some((i) => Buffer.from(i.outcome.stdout).includes(text));
    expect(printed('\u001b]0;pwned')).toBe(true);
    expect(printed(`zone 0 Normal${HOSTILE_TEXT.slice(0, 12)}`)).toBe(true);
    expect(printed(`mysqld${HOSTILE_TEXT.slice(0, 12)}`)).toBe(true);
    await expectScanInvariants(w, { scanId: scan.scanId, targeted: fleet.nodes.map((n) => n.instanceId) }, expect);

    // ...out of the stored records: each one, and every item in the table...
    const records = await w.records(scan.scanId);
    expect(forbiddenInAny(records)).toBeNull();
    expect(records.filter((r) => r.host?.startsWith('ip-10-0-0-1'))).toHaveLength(3);
    const remediations = await w.deps.store.remediations.listScanRemediations(scan.scanId);
    expect(remediations).toHaveLength(3);
    expect(remediations.filter((r) => r.host?.startsWith('ip-10-0-0-1'))).toHaveLength(3);
    expect(forbiddenInAny(remediations)).toBeNull();
    const items = await storedItems(w);
    expect(JSON.stringify(items)).toContain('ip-10-0-0-1'); // the hostile hosts are in there, cleaned
    expect(forbiddenInAny(items)).toBeNull();
    const byId = new Map(records.map((record) => [record.nodeId, record]));
    const [zoneNode] = fleet.withBehaviour('hostile-zone');
    expect(byId.get(zoneNode?.instanceId ?? '')?.error).toMatch(
      /^line \d+: zone name is not a kernel zone identifier .*\(found 'Normal\\x1b\]0;pwned\\x07\\x1b\[2J/,
    );
    const [processNode] = fleet.withBehaviour('hostile-process');
    expect(byId.get(processNode?.instanceId ?? '')?.error).toMatch(/allocfail process must be .*found 'mysqld\\x1b/);
    const errors = records.filter((r) => r.status === 'ERROR');
    expect(errors).toHaveLength(7);
    for (const record of errors) expect(record.error?.length ?? 0).toBeLessThanOrEqual(200);

    // ...out of the log lines, the problem-node line of each ERROR node among them...
    expect(forbiddenInAny(w.logs)).toBeNull();
    const problemLines = w.logs.filter((line) => line.message === PROBLEM_NODE_LOG.message);
    expect(problemLines.map((line) => line.attributes?.nodeId)).toEqual(
      expect.arrayContaining([zoneNode?.instanceId, processNode?.instanceId]),
    );

    // ...out of the notifications the runtime built (the scan's summary, one outcome per remediate command)...
    expect(w.notifier.sent.length).toBe(1 + new Set(remediations.map((r) => r.commandId)).size);
    expectCleanNotifications(w, expect);
    const summary = w.notifier.sent[0];
    expect(summary?.body).toContain('ip-10-0-0-1');
    expect(summary?.body).toContain('pwned');

    // ...out of what SNS is sent: subject, message and attributes...
    const sns = mockClient(SNSClient);
    try {
      sns.on(PublishCommand).resolves({});
      const publisher = new SnsNotifier({ client: new SNSClient({ region: 'us-east-1' }), topicArn: 'arn:topic' });
      for (const notification of w.notifier.sent) await publisher.publish(notification);
      const published = sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
      expect(published).toHaveLength(w.notifier.sent.length);
      for (const input of published) {
        expect(input.Subject?.length ?? 100).toBeLessThan(100);
        expect(forbiddenIn(input.Subject ?? ''), 'subject').toBeNull();
        expect(forbiddenIn(input.Message ?? '', { multiline: true }), 'message').toBeNull();
        expect(forbiddenInAny(input.MessageAttributes), 'attributes').toBeNull();
      }
      expect(published.some((input) => input.Message?.includes('ip-10-0-0-1'))).toBe(true);
    } finally {
      sns.restore();
    }

    // ...and out of the files the demo's notifier writes.
    dir = await mkdtemp(path.join(tmpdir(), 'fleetscan-hostile-'));
    const local = new LocalNotifier({ file: path.join(dir, NOTIFICATIONS_FILE), clock: w.clock });
    for (const notification of w.notifier.sent) await local.publish(notification);
    const log = await readFile(path.join(dir, NOTIFICATIONS_FILE), 'utf8');
    expect(log).toContain('ip-10-0-0-1');
    expect(forbiddenIn(log, { multiline: true })).toBeNull();
    const jsonl = (await readFile(path.join(dir, NOTIFICATIONS_JSONL), 'utf8')).trimEnd().split('\n');
    expect(jsonl).toHaveLength(w.notifier.sent.length);
    expect(forbiddenInAny(jsonl.map((line) => JSON.parse(line) as unknown))).toBeNull();
  });
});
