import { describe, expect, it } from 'vitest';
import { commandSpec } from '../../lib/cli/commands.ts';
import { CliError } from '../../lib/cli/errors.ts';
import { bar, bytes, plural, ratio, sparkline, utc } from '../../lib/cli/format.ts';
import { parseHistoryCommand, readUpTo } from '../../lib/cli/history-options.ts';
import { parseSince } from '../../lib/cli/kit/since.ts';
import { measuredEffect } from '../../lib/cli/render/remediations.ts';
import { explainAwsError } from '../../lib/cli/table-source.ts';
import type { Page, PageRequest, RemediationRecord } from '../../lib/runtime/ports.ts';
import { bufferIo } from './buffer-io.ts';

describe('Function: sparkline', () => {
  it('maps the index scale 0.000-1.000 onto eight bars and leaves a gap for a scan without a verdict', () => {
    expect(sparkline([0, 143, 286, 429, 571, 714, 857, 1000])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([1000, null, 0])).toBe('█ ▁');
    expect(sparkline([-5, 2000])).toBe('▁█');
  });
});

describe('Function: ratio and utc', () => {
  it('prints thousandths as the kernel does, and times in UTC', () => {
    expect(ratio(998)).toBe('0.998');
    expect(ratio(-1000)).toBe('-1.000');
    expect(ratio(null)).toBe('-');
    expect(utc('2026-01-02T03:04:05.678Z')).toBe('2026-01-02 03:04:05');
  });
});

describe('Function: plural, bytes and bar', () => {
  it('says 1 node and 2 nodes, with thousands separated', () => {
    expect(plural(1, 'node')).toBe('1 node');
    expect(plural(0, 'node')).toBe('0 nodes');
    expect(plural(12500, 'node')).toBe('12,500 nodes');
    expect(plural(2, 'consecutive breach', 'consecutive breaches')).toBe('2 consecutive breaches');
  });

  it('prints byte sizes in binary units', () => {
    expect(bytes(4096)).toBe('4.0 KiB');
    expect(bytes(691_326_976)).toBe('659.3 MiB');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(null)).toBe('?');
  });

  it('draws a fraction of a width in eighths of a column', () => {
    expect(bar(1, 4)).toBe('████');
    expect(bar(0.5, 4)).toBe('██');
    expect(bar(1 / 16, 4)).toBe('▎');
    expect(bar(1 / 8, 4)).toBe('▌');
    expect(bar(0, 4)).toBe('');
    expect(bar(2, 3)).toBe('███');
  });
});

describe('Function: parseSince', () => {
  const now = new Date('2026-05-10T12:00:00.000Z');

  it('takes durations back from now and ISO-8601 times', () => {
    expect(parseSince('30m', now)).toBe('2026-05-10T11:30:00.000Z');
    expect(parseSince('24h', now)).toBe('2026-05-09T12:00:00.000Z');
    expect(parseSince('7d', now)).toBe('2026-05-03T12:00:00.000Z');
    expect(parseSince('2w', now)).toBe('2026-04-26T12:00:00.000Z');
    expect(parseSince('2026-05-01', now)).toBe('2026-05-01T00:00:00.000Z');
    expect(parseSince('2026-05-01T08:00:00+02:00', now)).toBe('2026-05-01T06:00:00.000Z');
  });

  it('rejects anything else as a usage error that quotes it', () => {
    for (const bad of ['yesterday', '24', '1y', '2026-13-45', '']) {
      expect(() => parseSince(bad, now)).toThrow(CliError);
    }
    expect(() => parseSince('soon', now)).toThrow(/--since: 'soon'/);
  });
});

describe('Function: readUpTo', () => {
  function pages(items: number[], size: number) {
    const calls: PageRequest[] = [];
    const fetch = async (request: PageRequest): Promise<Page<number>> => {
      calls.push(request);
      const start = request.cursor === undefined ? 0 : Number(request.cursor);
      const slice = items.slice(start, start + Math.min(size, request.limit));
      const end = start + slice.length;
      return end < items.length ? { items: slice, next: String(end) } : { items: slice };
    };
    return { fetch, calls };
  }

  it('follows cursors until the limit, and says when more remain', async () => {
    const source = pages([1, 2, 3, 4, 5, 6, 7], 3);
    expect(await readUpTo(source.fetch, 5)).toEqual({ items: [1, 2, 3, 4, 5], more: true });
    expect(source.calls.map((call) => call.cursor)).toEqual([undefined, '3']);
    expect(await readUpTo(pages([1, 2], 3).fetch, 5)).toEqual({ items: [1, 2], more: false });
  });

  it('keeps only what the filter accepts, reading on until it has enough', async () => {
    const source = pages([1, 2, 3, 4, 5, 6, 7, 8], 2);
    expect(await readUpTo(source.fetch, 3, (n) => n % 2 === 0)).toEqual({ items: [2, 4, 6], more: true });
    const large = pages([1, 2, 3, 4, 5, 6, 7, 8], 100);
    expect(await readUpTo(large.fetch, 2, (n) => n > 6, 100)).toEqual({ items: [7, 8], more: false });
    expect(large.calls).toEqual([{ limit: 100 }]);
  });
});

describe('Function: parseHistoryCommand', () => {
  const io = bufferIo().io;
  it('refuses --local together with a remote source, and --data-dir without --local', () => {
    expect(() => parseHistoryCommand(commandSpec('scans'), ['--local', '--table', 't'], io)).toThrow(
      /cannot be combined with --table/,
    );
    expect(() => parseHistoryCommand(commandSpec('scans'), ['--data-dir', 'x'], io)).toThrow(/add --local/);
  });

  it('names a missing or extra positional argument', () => {
    expect(() => parseHistoryCommand(commandSpec('history'), [], io)).toThrow(/missing NODE/);
    expect(() => parseHistoryCommand(commandSpec('scans'), ['extra'], io)).toThrow(/unexpected argument 'extra'/);
  });

  it('takes --all for every record, and refuses it beside --limit', () => {
    expect(parseHistoryCommand(commandSpec('scan'), ['abc', '--all'], io).limit).toBeNull();
    expect(parseHistoryCommand(commandSpec('scan'), ['abc'], io).limit).toBe(20);
    expect(() => parseHistoryCommand(commandSpec('scan'), ['abc', '--all', '--limit', '5'], io)).toThrow(
      /--all and --limit/,
    );
  });
});

describe('Function: explainAwsError', () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });

  it('turns the SDK failures a user can fix into one line with exit status 1', () => {
    const credentials = explainAwsError(
      named('CredentialsProviderError', 'Could not load credentials from any providers'),
      {},
    );
    expect(credentials?.message).toMatch(/^no AWS credentials found: /);
    expect(credentials?.exitCode).toBe(1);
    const table = explainAwsError(named('ResourceNotFoundException', 'Requested resource not found'), {
      table: 'hist',
      origin: 'FLEETSCAN_TABLE',
    });
    expect(table?.message).toMatch(/^no such table: hist \(from FLEETSCAN_TABLE\)/);
    const stack = explainAwsError(named('ValidationError', 'Stack with id Nope does not exist'), { stack: 'Nope' });
    expect(stack?.message).toMatch(/^no such stack: Nope/);
    expect(explainAwsError(new Error('Region is missing'), {})?.message).toMatch(/^no AWS region configured/);
  });

  it('leaves what it does not recognise alone', () => {
    expect(explainAwsError(new Error('something else'), {})).toBeNull();
  });
});

describe('Function: measuredEffect', () => {
  it('follows the index that was worst before into the after state', () => {
    const at = (order: number, unusableIndex: number, suitableBlocks: number) => ({
      node: 0,
      zone: 'Normal',
      order,
      suitableBlocks,
      unusableIndex,
      fragmentationIndex: -1000,
    });
    const record: RemediationRecord = {
      remediationId: 's:n',
      nodeId: 'n',
      scanId: 's',
      commandId: 'c',
      action: 'compact',
      numaNode: null,
      dryRun: false,
      requestedAt: '2026-01-01T00:00:00.000Z',
      status: 'COMPLETED',
      effect: 'improved',
      before: [at(4, 900, 80), at(6, 997, 2)],
      after: [at(4, 300, 900), at(6, 410, 120)],
    };
    expect(measuredEffect(record)).toBe('0/Normal o6 0.997 → 0.410 (2 → 120 blocks)');
  });
});
