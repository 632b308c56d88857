import { ParseError } from './errors.ts';

/** One row of /proc/buddyinfo: free block counts of one populated zone, indexed by order. */
export interface ZoneCounts {
  /** NUMA node id. */
  readonly node: number;
  /** Zone name as the kernel prints it (DMA, DMA32, Normal, HighMem, Movable, Device, ...). */
  readonly zone: string;
  /** freeBlocks[o] = number of free blocks of 2^o contiguous pages. */
  readonly freeBlocks: readonly number[];
}

/** More order columns than any kernel prints (NR_PAGE_ORDERS is at most 16 today); bounds the arithmetic. */
export const MAX_ORDERS = 32;

const COUNT = /^[0-9]+$/;

/**
 * What a zone name may look like. The kernel's are fixed identifiers (mm/page_alloc.c `zone_names`: DMA, DMA32,
 * Normal, HighMem, Movable, Device); this admits any future one of the same shape and nothing a terminal, a log
 * line or a table key could be fooled by.
 */
export const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,15}$/;

/** Rejects a zone name outside {@link ZONE_NAME}; the error shows it escaped. */
export function checkZoneName(lineNo: number, zone: string): void {
  if (!ZONE_NAME.test(zone)) {
    throw new ParseError(
      'bad-token',
      lineNo,
      zone,
      'zone name is not a kernel zone identifier (a letter, then letters, digits or _; at most 16)',
    );
  }
}

/**
 * Tracks the rules that hold across the rows of one input: the same column count everywhere, and each
 * (node, zone) pair once. Shared by the raw /proc/buddyinfo parser and the gather report's `zone` lines.
 */
export class ZoneRowReader {
  private columns: { count: number; line: number } | undefined;
  private readonly seen = new Set<string>();
  readonly zones: ZoneCounts[] = [];

  /** Adds one row, given its node id token (without the comma raw buddyinfo puts after it), zone and counts. */
  addRow(lineNo: number, nodeToken: string, zone: string, countTokens: readonly string[], rawLine: string): void {
    if (!COUNT.test(nodeToken) || nodeToken.length > 6) {
      throw new ParseError('bad-token', lineNo, nodeToken, 'NUMA node id is not a small non-negative integer');
    }
    checkZoneName(lineNo, zone);
    if (countTokens.length === 0) {
      throw new ParseError('too-few-fields', lineNo, rawLine.trim(), 'zone row has no free-block counts');
    }
    if (countTokens.length > MAX_ORDERS) {
      throw new ParseError(
        'too-many-columns',
        lineNo,
        countTokens[MAX_ORDERS] ?? '',
        `zone row has ${countTokens.length} order columns; at most ${MAX_ORDERS} are supported`,
      );
    }
    const freeBlocks = countTokens.map((token) => parseCount(lineNo, token));
    if (this.columns === undefined) {
      this.columns = { count: freeBlocks.length, line: lineNo };
    } else if (this.columns.count !== freeBlocks.length) {
      throw new ParseError(
        'column-mismatch',
        lineNo,
        countTokens[countTokens.length - 1] ?? rawLine.trim(),
        `column-count mismatch: ${freeBlocks.length} order columns, but line ${this.columns.line} has ${this.columns.count}`,
      );
    }
    const node = Number(nodeToken);
    const key = `${node}/${zone}`;
    if (this.seen.has(key)) {
      throw new ParseError('duplicate-zone', lineNo, zone, `zone ${zone} of NUMA node ${node} appears twice`);
    }
    this.seen.add(key);
    this.zones.push({ node, zone, freeBlocks });
  }
}

function parseCount(lineNo: number, token: string): number {
  if (COUNT.test(token)) {
    const value = Number(token);
    if (!Number.isSafeInteger(value)) {
      throw new ParseError('count-too-large', lineNo, token, 'free-block count is too large');
    }
    return value;
  }
  if (/^-[0-9]+$/.test(token)) {
    throw new ParseError('negative-count', lineNo, token, 'free-block count is negative');
  }
  if (token.includes('...') || token.includes('…')) {
    throw new ParseError('truncated-row', lineNo, token, 'row is truncated');
  }
  throw new ParseError('bad-token', lineNo, token, 'free-block count is not a number');
}

/** Splits text into lines, numbering from 1, accepting \n and \r\n. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** Rejects the shapes that show a row was mangled on its way (mail quoting, wrapping, ellipsis). */
export function checkRowShape(lineNo: number, line: string, prefix: string): void {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('>')) {
    throw new ParseError('mail-quoted', lineNo, '>', "line is mail-quoted ('> ' prefix); paste the file as it is");
  }
  if (trimmed.startsWith('...') || trimmed.startsWith('…')) {
    throw new ParseError('truncated-row', lineNo, trimmed.slice(0, 3), 'row is truncated');
  }
  if (/^[0-9]/.test(trimmed)) {
    throw new ParseError(
      'wrapped-row',
      lineNo,
      trimmed.split(/\s+/)[0] ?? '',
      `line continues the previous row (wrapped); every row must start with '${prefix}'`,
    );
  }
}

/**
 * Parses the text of /proc/buddyinfo: `Node <n>, zone <name> <count>...` per populated zone, any number of
 * NUMA nodes, 1 to {@link MAX_ORDERS} order columns (the same on every row), trailing spaces allowed.
 * Throws only {@link ParseError}.
 */
export function parseBuddyinfo(text: string): ZoneCounts[] {
  const reader = new ZoneRowReader();
  const lines = splitLines(text);
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    checkRowShape(lineNo, line, 'Node');
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 5) {
      throw new ParseError('too-few-fields', lineNo, line.trim(), `expected 'Node <n>, zone <name> <counts...>'`);
    }
    const [nodeWord, nodeToken = '', zoneWord, zone = '', ...counts] = tokens;
    if (nodeWord !== 'Node') {
      throw new ParseError('bad-token', lineNo, nodeWord ?? '', "row must start with 'Node'");
    }
    if (!nodeToken.endsWith(',')) {
      throw new ParseError('bad-token', lineNo, nodeToken, "expected '<n>,' after 'Node'");
    }
    if (zoneWord !== 'zone') {
      throw new ParseError('bad-token', lineNo, zoneWord ?? '', "expected 'zone' after the node id");
    }
    reader.addRow(lineNo, nodeToken.slice(0, -1), zone, counts, line);
  });
  if (reader.zones.length === 0) {
    throw new ParseError('empty', 1, '', 'input is empty: no buddyinfo rows');
  }
  return reader.zones;
}
