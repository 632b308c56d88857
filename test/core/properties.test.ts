import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBuddyinfo } from '../../lib/core/buddyinfo.ts';
import { ParseError } from '../../lib/core/errors.ts';
import { evaluate } from '../../lib/core/policy.ts';
import { type DetectedInput, formatGatherReport, parseAny, parseGatherReport } from '../../lib/core/report.ts';
import { forbiddenIn } from '../support/forbidden-text.ts';

const dir = join(import.meta.dirname, '../fixtures');
const seeds = [
  ...readdirSync(join(dir, 'buddyinfo'))
    .filter((name) => name.endsWith('.txt'))
    .map((name) => readFileSync(join(dir, 'buddyinfo', name), 'utf8')),
  ...readdirSync(join(dir, 'reports')).map((name) => readFileSync(join(dir, 'reports', name), 'utf8')),
];

/** Runs a parser and reports which of the two allowed outcomes happened; anything else fails the property. */
function outcome(parse: () => unknown): 'parsed' | 'ParseError' {
  try {
    parse();
    return 'parsed';
  } catch (error) {
    if (error instanceof ParseError) return 'ParseError';
    throw error;
  }
}

const zoneRow = fc.record({
  node: fc.nat(64),
  zone: fc.constantFrom('DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device'),
});

/** A layout the kernel could print: distinct (node, zone) rows, one width, any counts. */
const layout = fc.integer({ min: 1, max: 16 }).chain((width) =>
  fc.record({
    rows: fc.uniqueArray(zoneRow, { minLength: 1, maxLength: 24, selector: (row) => `${row.node}/${row.zone}` }),
    counts: fc.array(fc.array(fc.nat(10_000_000), { minLength: width, maxLength: width }), {
      minLength: 24,
      maxLength: 24,
    }),
    trailingSpace: fc.boolean(),
  }),
);

type Mutation =
  | { kind: 'insert' | 'bytes'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'quote' | 'wrap' | 'cut'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('bytes' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 3 }) }),
  fc.record({ kind: fc.constant('quote' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

function mutate(text: string, mutations: readonly Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'insert' || m.kind === 'bytes') out = out.slice(0, at) + m.text + out.slice(at);
    else if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else if (m.kind === 'quote') out = `${out.slice(0, at)}\n> ${out.slice(at)}`;
    else if (m.kind === 'wrap') out = `${out.slice(0, at)}\n${out.slice(at)}`;
    else out = `${out.slice(0, at)}...`;
  }
  return out;
}

describe('Property: parsers never throw anything but ParseError', () => {
  it('parses every layout the kernel could print, and gives back the same counts', () => {
    fc.assert(
      fc.property(layout, ({ rows, counts, trailingSpace }) => {
        const text = rows
          .map(
            (row, i) =>
              `Node ${row.node}, zone ${row.zone.padStart(8)} ${(counts[i] ?? []).map((n) => String(n).padStart(6)).join(' ')}${trailingSpace ? ' ' : ''}`,
          )
          .join('\n');
        const zones = parseBuddyinfo(text);
        expect(zones.map((zone) => zone.freeBlocks)).toEqual(rows.map((_, i) => counts[i]));
      }),
    );
  });

  it('either parses or raises ParseError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 400 }), (text) => {
        expect(['parsed', 'ParseError']).toContain(outcome(() => parseAny(text)));
        expect(['parsed', 'ParseError']).toContain(outcome(() => parseBuddyinfo(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('either parses or raises ParseError on mutated public samples and reports', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 5 }), (seed, mutations) => {
        const text = mutate(seed, mutations);
        expect(['parsed', 'ParseError']).toContain(outcome(() => parseAny(text)));
      }),
      { numRuns: 1500 },
    );
  });

  it('gives every ParseError a line inside the input and a message that starts with it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 5 }), (seed, mutations) => {
        const text = mutate(seed, mutations);
        try {
          parseAny(text);
        } catch (error) {
          if (!(error instanceof ParseError)) throw error;
          expect(error.line).toBeGreaterThanOrEqual(1);
          expect(error.line).toBeLessThanOrEqual(Math.max(1, text.split('\n').length));
          expect(error.message.startsWith(`line ${error.line}: `)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('evaluates whatever parses without throwing', () => {
    fc.assert(
      fc.property(layout, fc.nat(5), ({ rows, counts }, previousBreaches) => {
        const zones = rows.map((row, i) => ({ ...row, freeBlocks: counts[i] ?? [] }));
        const verdict = evaluate({ zones, previousBreaches });
        expect(['OK', 'WARN', 'CRITICAL']).toContain(verdict.level);
      }),
    );
  });

  it('round-trips any gather report through format and parse', () => {
    fc.assert(
      fc.property(
        layout,
        fc.constantFrom(4096, 16384, 65536),
        fc.option(fc.record({ count: fc.nat(1000), maxOrder: fc.option(fc.nat(15)) })),
        ({ rows, counts }, pageSize, alloc) => {
          const report = {
            host: 'node-1',
            kernel: '6.1.0',
            pageSize,
            memTotalKb: 1000,
            memAvailableKb: null,
            allocFailures: alloc,
            zones: rows.map((row, i) => ({ ...row, freeBlocks: counts[i] ?? [] })),
          };
          const parsed = parseGatherReport(formatGatherReport(report));
          expect(parsed.version).toBe(2);
          expect(parsed).toMatchObject(report);
          expect(parsed.allocFailures?.processes ?? []).toEqual([]);
        },
      ),
    );
  });
});

/** Every string a parse result carries that came from the input. */
function textsOf(detected: DetectedInput): string[] {
  if (detected.kind === 'buddyinfo') return detected.zones.map((zone) => zone.zone);
  if (detected.kind === 'remediate') {
    const r = detected.report;
    return [
      r.host,
      ...[...r.before, ...r.after].map((zone) => zone.zone),
      ...r.steps.flatMap((step) => [step.name, step.reason ?? '']),
      ...(r.prechecks ?? []).flatMap((check) => check.observed),
    ];
  }
  const g = detected.report;
  return [
    g.host,
    g.kernel,
    ...g.zones.map((zone) => zone.zone),
    ...(g.allocFailures?.processes ?? []).map((process) => process.name),
    ...(g.allocFailures?.callSites ?? []),
    ...(g.pagetypes?.types ?? []),
    ...(g.pagetypes?.zones ?? []).map((zone) => zone.zone),
    g.thp?.enabled ?? '',
    g.thp?.defrag ?? '',
    ...(g.kcompactd ?? []).map((k) => k.state),
    ...Object.keys(g.vmstat ?? {}),
  ];
}

/** What hostile nodes print: every class the sanitizer removes, and sequences that drive a terminal. */
const hostileFragment = fc.oneof(
  fc.constantFrom(
    '\u001b]0;pwned\u0007',
    '\u001b[2J',
    '\u009b2J',
    '\u200e',
    '\u200f',
    '\u061c',
    '\u202e',
    '\u2066',
    '\u200b',
    '\ufeff',
    '\u2028',
    '\u2029',
    '\u00ad',
    '\u{e0041}',
    '\ud800',
    '\udc00',
    '\ufff9',
    '\u0000',
    '\u007f',
    '\u0085',
  ),
  fc.string({ unit: 'binary', maxLength: 3 }),
);

describe('Property: nothing forbidden comes out of a parser', () => {
  it('gives back only clean text, and ParseErrors whose messages are clean, for hostile samples', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.record({ at: fc.nat(), text: hostileFragment }), { minLength: 1, maxLength: 4 }),
        (seed, inserts) => {
          const text = mutate(
            seed,
            inserts.map(({ at, text }) => ({ kind: 'insert', at, text })),
          );
          try {
            for (const value of textsOf(parseAny(text))) expect(forbiddenIn(value), value).toBeNull();
          } catch (error) {
            if (!(error instanceof ParseError)) throw error;
            expect(forbiddenIn(error.message), error.message).toBeNull();
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
