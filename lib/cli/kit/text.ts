/**
 * Terminal width of text: what a table pads to and cuts at. SGR colour sequences take no room; East Asian wide
 * characters and emoji take two columns; everything else one. (Node text reaching here is already sanitized, so
 * no other escape or control character remains.)
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: colour sequences are what this skips
const SGR = /\u001b\[[0-9;]*m/y;

function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  );
}

/** Walks `text`, yielding each colour sequence (width 0) or character (width 1 or 2). */
function* pieces(text: string): Generator<{ readonly text: string; readonly width: number }> {
  let index = 0;
  while (index < text.length) {
    SGR.lastIndex = index;
    const colour = SGR.exec(text);
    if (colour !== null) {
      yield { text: colour[0], width: 0 };
      index += colour[0].length;
      continue;
    }
    const codePoint = text.codePointAt(index) ?? 0;
    const char = String.fromCodePoint(codePoint);
    yield { text: char, width: isWide(codePoint) ? 2 : 1 };
    index += char.length;
  }
}

/** Text made only of characters one column wide and one UTF-16 unit long: its width is its length. */
const NARROW = /^[\u0020-\u007e\u00a0-\u10ff\u2010-\u2dff]*$/;

export function displayWidth(text: string): number {
  // Most cells (ids, numbers, block characters) take the fast path: tables measure every cell more than once.
  if (NARROW.test(text)) return text.length;
  let width = 0;
  for (const piece of pieces(text)) width += piece.width;
  return width;
}

/** `text` cut to `width` columns, ending in '…' when cut; colour is reset after a cut inside a coloured span. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  let coloured = false;
  for (const piece of pieces(text)) {
    if (piece.width === 0) {
      out += piece.text;
      coloured = piece.text !== '\u001b[0m';
      continue;
    }
    if (used + piece.width > width - 1) break;
    out += piece.text;
    used += piece.width;
  }
  return `${out}…${coloured ? '\u001b[0m' : ''}`;
}

/**
 * Prose split into lines of at most `width` columns at spaces (a word longer than a line is cut), for messages
 * that must be read whole rather than cut: each continuation line starts with `indent`.
 */
export function wrap(text: string, width: number, hanging = ''): string[] {
  // A line's own indentation (a list item's) stays, and its continuations are indented under it.
  const lead = /^ */.exec(text)?.[0] ?? '';
  const indent = `${lead}${hanging}`;
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const candidate = line === lead ? `${lead}${word}` : `${line} ${word}`;
    const room = lines.length === 0 ? width : width - indent.length;
    if (displayWidth(candidate) <= room || line === lead) {
      line = displayWidth(candidate) <= room ? candidate : truncate(candidate, room);
      continue;
    }
    lines.push(line);
    line = displayWidth(word) <= width - indent.length ? word : truncate(word, width - indent.length);
  }
  lines.push(line);
  return lines.map((entry, index) => (index === 0 ? entry : `${indent}${entry}`));
}

/**
 * A whole number with its thousands separated (12,500). By hand: toLocaleString's first call loads ICU's number
 * formats, some 30 ms of a command that should start in a few.
 */
export function grouped(value: number): string {
  const [whole = '', fraction] = String(value).split('.');
  const digits = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? digits : `${digits}.${fraction}`;
}
