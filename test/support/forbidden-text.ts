/**
 * An independent check that text is safe to show: the code points no output of fleetscan may carry, listed here by
 * number — deliberately not imported from lib/core/sanitize.ts, so a sanitizer that lets something through cannot
 * also approve it — and a scan naming the first one found.
 */

interface ForbiddenRange {
  readonly from: number;
  readonly to: number;
  readonly name: string;
}

export const FORBIDDEN_RANGES: readonly ForbiddenRange[] = [
  { from: 0x0000, to: 0x0008, name: 'C0 control' },
  // 0x0009 (tab) and 0x000a (newline): allowed in multiline text only (see forbiddenIn).
  { from: 0x000b, to: 0x001f, name: 'C0 control (ESC, CR, ...)' },
  { from: 0x007f, to: 0x007f, name: 'DEL' },
  { from: 0x0080, to: 0x009f, name: 'C1 control (8-bit CSI, OSC, NEL, ...)' },
  { from: 0x00ad, to: 0x00ad, name: 'soft hyphen' },
  { from: 0x034f, to: 0x034f, name: 'combining grapheme joiner' },
  { from: 0x061c, to: 0x061c, name: 'Arabic letter mark (bidi)' },
  { from: 0x115f, to: 0x1160, name: 'Hangul filler' },
  { from: 0x17b4, to: 0x17b5, name: 'Khmer inherent vowel' },
  { from: 0x180b, to: 0x180f, name: 'Mongolian variation selector or vowel separator' },
  { from: 0x200b, to: 0x200d, name: 'zero width space, non-joiner or joiner' },
  { from: 0x200e, to: 0x200f, name: 'left-to-right or right-to-left mark (bidi)' },
  { from: 0x2028, to: 0x2029, name: 'line or paragraph separator' },
  { from: 0x202a, to: 0x202e, name: 'bidi embedding or override' },
  { from: 0x2060, to: 0x2065, name: 'word joiner or invisible operator' },
  { from: 0x2066, to: 0x2069, name: 'bidi isolate' },
  { from: 0x206a, to: 0x206f, name: 'deprecated format character' },
  { from: 0x3164, to: 0x3164, name: 'Hangul filler' },
  { from: 0xd800, to: 0xdfff, name: 'lone surrogate' },
  { from: 0xfdd0, to: 0xfdef, name: 'noncharacter' },
  { from: 0xfeff, to: 0xfeff, name: 'zero width no-break space (BOM)' },
  { from: 0xffa0, to: 0xffa0, name: 'halfwidth Hangul filler' },
  { from: 0xfff0, to: 0xfff8, name: 'unassigned default-ignorable' },
  { from: 0xfff9, to: 0xfffb, name: 'interlinear annotation' },
  { from: 0xfffd, to: 0xfffd, name: 'replacement character' },
  { from: 0xfffe, to: 0xffff, name: 'noncharacter' },
  { from: 0x1bca0, to: 0x1bca3, name: 'shorthand format control' },
  { from: 0x1d173, to: 0x1d17a, name: 'musical symbol formatting' },
  { from: 0xe0000, to: 0xe007f, name: 'tag character' },
  { from: 0xe0080, to: 0xe00ff, name: 'unassigned default-ignorable (plane 14)' },
  { from: 0xe01f0, to: 0xe0fff, name: 'unassigned default-ignorable (plane 14)' },
];

function nameOf(codePoint: number, multiline: boolean): string | null {
  if (multiline && (codePoint === 0x09 || codePoint === 0x0a)) return null;
  if (codePoint === 0x09 || codePoint === 0x0a) return 'tab or newline in one-line text';
  if (codePoint > 0xffff && (codePoint & 0xfffe) === 0xfffe) return 'noncharacter';
  return FORBIDDEN_RANGES.find((range) => codePoint >= range.from && codePoint <= range.to)?.name ?? null;
}

/**
 * The first forbidden code point in `text` — number, class, where, and the text around it — or null when there is
 * none. Tab and newline are allowed only when `multiline`. A valid surrogate pair is read as the character it
 * encodes; an unpaired half is forbidden.
 */
export function forbiddenIn(text: string, options: { readonly multiline?: boolean } = {}): string | null {
  let index = 0;
  for (const character of text) {
    const codePoint = character.codePointAt(0) ?? 0;
    const name = nameOf(codePoint, options.multiline === true);
    if (name !== null) {
      const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
      const around = JSON.stringify(text.slice(Math.max(0, index - 20), index + 20));
      return `U+${hex} (${name}) at ${index} in ${around}`;
    }
    index += character.length;
  }
  return null;
}

/**
 * One of every forbidden class, with the two sequences that started it all (an OSC window title, a CSI clear
 * screen): what the hostile fixtures put in a node's host name, kernel, zone and process names and stderr.
 */
export const HOSTILE_TEXT = [
  '\u001b]0;pwned\u0007', // OSC: sets the terminal's window title
  '\u001b[2J', // CSI: clears the screen
  '\u009b31m', // 8-bit CSI
  '\u0000\u0008\u007f\u0085', // NUL, backspace, DEL, NEL
  '\u061c\u200e\u200f\u202e\u2066', // bidi: ALM, LRM, RLM, RLO, LRI
  '\u200b\u200d\u2060', // zero width space, joiner, word joiner
  '\ufeff', // BOM
  '\u2028\u2029', // line and paragraph separators
  '\u00ad', // soft hyphen
  '\u{e0001}\u{e0041}\u{e007f}', // tag characters
  '\ud800x\udc00', // lone surrogates, high then low
  '\ufff9', // interlinear annotation anchor
].join('');

/**
 * {@link forbiddenIn} over every string inside `value` (objects, arrays, nested; keys too), naming where the
 * first offender is (`[3].host: U+202E ...`); null when all are clean.
 */
export function forbiddenInAny(
  value: unknown,
  options: { readonly multiline?: boolean } = {},
  where = '',
): string | null {
  if (typeof value === 'string') {
    const found = forbiddenIn(value, options);
    return found === null ? null : `${where || 'value'}: ${found}`;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [key, inner] of Object.entries(value)) {
    const path = Array.isArray(value) ? `${where}[${key}]` : `${where}.${key}`;
    const inKey = forbiddenIn(key);
    if (inKey !== null) return `${path} (the key): ${inKey}`;
    const found = forbiddenInAny(inner, options, path);
    if (found !== null) return found;
  }
  return null;
}
