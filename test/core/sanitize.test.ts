import { describe, expect, it } from 'vitest';
import { escapeUnsafe, sanitizeText } from '../../lib/core/sanitize.ts';
import { FORBIDDEN_RANGES, forbiddenIn } from '../support/forbidden-text.ts';

/** Every code point in [from, to], as strings. */
function codePoints(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));
}

const hex = (text: string): string =>
  [...text].map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`).join(' ');

describe('sanitizeText: what it removes', () => {
  // Each stands between 'a' and a line break, which ends any sequence (else an escape's final byte or an open
  // string's payload could be the 'b' after it): exactly 'a b' is left on one line, 'a\nb' in multiline text.
  const removed: readonly { readonly name: string; readonly text: string }[] = [
    // C0 controls other than tab, newline and carriage return (those are below), DEL, C1 controls.
    { name: 'NUL U+0000', text: '\u0000' },
    { name: 'BEL U+0007', text: '\u0007' },
    { name: 'backspace U+0008', text: '\u0008' },
    { name: 'vertical tab U+000B', text: '\u000b' },
    { name: 'form feed U+000C', text: '\u000c' },
    { name: 'CAN U+0018', text: '\u0018' },
    { name: 'lone ESC U+001B', text: '\u001b' },
    { name: 'unit separator U+001F', text: '\u001f' },
    { name: 'DEL U+007F', text: '\u007f' },
    { name: 'PAD U+0080', text: '\u0080' },
    { name: 'NEL U+0085', text: '\u0085' },
    { name: 'ST U+009C alone', text: '\u009c' },
    { name: 'APC U+009F alone', text: '\u009f' },
    // Whole ESC sequences.
    { name: 'CSI clear screen ESC [ 2 J', text: '\u001b[2J' },
    { name: 'CSI colour ESC [ 1 ; 3 1 m', text: '\u001b[1;31m' },
    { name: 'CSI private mode ESC [ ? 2 5 l (hide cursor)', text: '\u001b[?25l' },
    { name: 'CSI with an intermediate ESC [ 2 SP q', text: '\u001b[2 q' },
    { name: 'OSC window title ESC ] 0 ; … BEL', text: '\u001b]0;pwned\u0007' },
    { name: 'OSC hyperlink ESC ] 8 ; ; … ST', text: '\u001b]8;;https://evil.example/\u001b\\' },
    { name: 'OSC 52 clipboard write', text: '\u001b]52;c;cm0gLXJmIH4=\u0007' },
    { name: 'DCS ESC P … ST', text: '\u001bP1$r0m\u001b\\' },
    { name: 'SOS ESC X … ST', text: '\u001bXhidden\u001b\\' },
    { name: 'PM ESC ^ … ST', text: '\u001b^hidden\u001b\\' },
    { name: 'APC ESC _ … ST', text: '\u001b_hidden\u001b\\' },
    { name: 'OSC cancelled by CAN U+0018', text: '\u001b]0;pwned\u0018' },
    { name: 'reset ESC c', text: '\u001bc' },
    { name: 'save cursor ESC 7', text: '\u001b7' },
    { name: 'reverse index ESC M', text: '\u001bM' },
    { name: 'line-drawing charset ESC ( 0', text: '\u001b(0' },
    { name: 'screen alignment test ESC # 8', text: '\u001b#8' },
    { name: '8-bit CSI U+009B 2 J', text: '\u009b2J' },
    { name: '8-bit OSC U+009D … BEL', text: '\u009d0;pwned\u0007' },
    { name: '8-bit OSC U+009D … 8-bit ST U+009C', text: '\u009d0;pwned\u009c' },
    { name: '8-bit DCS U+0090 … ESC \\', text: '\u0090q#0\u001b\\' },
    { name: '8-bit APC U+009F … U+009C', text: '\u009fhidden\u009c' },
    // Bidi controls.
    { name: 'Arabic letter mark U+061C', text: '\u061c' },
    { name: 'left-to-right mark U+200E', text: '\u200e' },
    { name: 'right-to-left mark U+200F', text: '\u200f' },
    { name: 'LRE U+202A', text: '\u202a' },
    { name: 'RLE U+202B', text: '\u202b' },
    { name: 'PDF U+202C', text: '\u202c' },
    { name: 'LRO U+202D', text: '\u202d' },
    { name: 'RLO U+202E', text: '\u202e' },
    { name: 'LRI U+2066', text: '\u2066' },
    { name: 'RLI U+2067', text: '\u2067' },
    { name: 'FSI U+2068', text: '\u2068' },
    { name: 'PDI U+2069', text: '\u2069' },
    // Zero-width characters and the BOM.
    { name: 'zero width space U+200B', text: '\u200b' },
    { name: 'zero width non-joiner U+200C', text: '\u200c' },
    { name: 'zero width joiner U+200D', text: '\u200d' },
    { name: 'word joiner U+2060', text: '\u2060' },
    { name: 'function application U+2061', text: '\u2061' },
    { name: 'invisible times U+2062', text: '\u2062' },
    { name: 'invisible separator U+2063', text: '\u2063' },
    { name: 'invisible plus U+2064', text: '\u2064' },
    { name: 'BOM U+FEFF', text: '\ufeff' },
    // Line and paragraph separators, soft hyphen.
    { name: 'line separator U+2028', text: '\u2028' },
    { name: 'paragraph separator U+2029', text: '\u2029' },
    { name: 'soft hyphen U+00AD', text: '\u00ad' },
    // Tag characters.
    { name: 'language tag U+E0001', text: '\u{e0001}' },
    { name: 'tag space U+E0020', text: '\u{e0020}' },
    { name: 'tag latin capital A U+E0041', text: '\u{e0041}' },
    { name: 'cancel tag U+E007F', text: '\u{e007f}' },
    // Lone surrogates.
    { name: 'lone high surrogate U+D800', text: '\ud800' },
    { name: 'lone high surrogate U+DBFF', text: '\udbff' },
    { name: 'lone low surrogate U+DC00', text: '\udc00' },
    { name: 'lone low surrogate U+DFFF', text: '\udfff' },
    { name: 'a pair the wrong way round U+DC00 U+D800', text: '\udc00\ud800' },
    // Interlinear annotation.
    { name: 'annotation anchor U+FFF9', text: '\ufff9' },
    { name: 'annotation separator U+FFFA', text: '\ufffa' },
    { name: 'annotation terminator U+FFFB', text: '\ufffb' },
    // Same spirit: invisible (Default_Ignorable), deprecated format characters, noncharacters, bad bytes.
    { name: 'combining grapheme joiner U+034F', text: '\u034f' },
    { name: 'Hangul choseong filler U+115F', text: '\u115f' },
    { name: 'Hangul filler U+3164', text: '\u3164' },
    { name: 'halfwidth Hangul filler U+FFA0', text: '\uffa0' },
    { name: 'Khmer inherent vowel U+17B4', text: '\u17b4' },
    { name: 'Mongolian vowel separator U+180E', text: '\u180e' },
    { name: 'inhibit symmetric swapping U+206A', text: '\u206a' },
    { name: 'nominal digit shapes U+206F', text: '\u206f' },
    { name: 'noncharacter U+FDD0', text: '\ufdd0' },
    { name: 'noncharacter U+FFFE', text: '\ufffe' },
    { name: 'noncharacter U+FFFF', text: '\uffff' },
    { name: 'noncharacter U+1FFFE', text: '\u{1fffe}' },
    { name: 'noncharacter U+10FFFF', text: '\u{10ffff}' },
    { name: 'replacement character U+FFFD', text: '\ufffd' },
    { name: 'shorthand format letter overlap U+1BCA0', text: '\u{1bca0}' },
    { name: 'musical symbol begin beam U+1D173', text: '\u{1d173}' },
  ];

  it.each(removed)('removes $name', ({ text }) => {
    expect(sanitizeText(`a${text}\nb`, 1000)).toBe('a b');
    expect(sanitizeText(`a${text}\nb`, 1000, { multiline: true })).toBe('a\nb');
  });

  // Whole classes, by number: every code point of each.
  const classes: readonly { readonly name: string; readonly from: number; readonly to: number }[] = [
    { name: 'C0 controls but tab, newline and carriage return (U+0000–U+0008)', from: 0x0000, to: 0x0008 },
    { name: 'C0 controls but tab, newline and carriage return (U+000B–U+000C)', from: 0x000b, to: 0x000c },
    { name: 'C0 controls but tab, newline and carriage return (U+000E–U+001F)', from: 0x000e, to: 0x001f },
    { name: 'DEL and C1 controls U+007F–U+009F', from: 0x007f, to: 0x009f },
    { name: 'zero width and bidi marks U+200B–U+200F', from: 0x200b, to: 0x200f },
    { name: 'separators, embeddings, overrides U+2028–U+202E', from: 0x2028, to: 0x202e },
    { name: 'word joiner, invisible operators, isolates, deprecated format U+2060–U+206F', from: 0x2060, to: 0x206f },
    { name: 'tag characters U+E0000–U+E007F', from: 0xe0000, to: 0xe007f },
    { name: 'surrogates U+D800–U+DFFF, each alone', from: 0xd800, to: 0xdfff },
  ];

  it.each(classes)('removes every code point of $name', ({ from, to }) => {
    const left = codePoints(from, to).filter((c) => sanitizeText(`a${c}\nb`, 10) !== 'a b');
    expect(hex(left.join(''))).toBe('');
  });

  it('removes the sequences a hostile buddyinfo row carries, whole, leaving the row', () => {
    const row = 'Node 0, zone \u001b]0;pwned\u0007\u001b[2JNormal\u202e 1 2 3';
    expect(sanitizeText(row, 1000)).toBe('Node 0, zone Normal 1 2 3');
  });

  it('ends a control string left open at the end of its line, keeping the next line', () => {
    expect(sanitizeText('a\u001b]0;pwned\nnext', 100, { multiline: true })).toBe('a\nnext');
  });

  it('turns tabs and line breaks into one space per run on one line', () => {
    expect(sanitizeText('a\tb\r\nc\n\n\u0000\nd', 100)).toBe('a b c d');
  });
});

describe('sanitizeText: what it keeps', () => {
  const kept: readonly { readonly name: string; readonly text: string }[] = [
    { name: 'plain ASCII', text: 'ip-10-0-210-114.ec2.internal 6.1.0-28-cloud-amd64 #1 SMP (x86_64) [ok] ~/a_b' },
    { name: 'every printable ASCII character', text: codePoints(0x20, 0x7e).join('') },
    { name: 'accented letters', text: 'Zürich-café-naïve-Ångström-Łódź' },
    { name: 'Greek and Cyrillic', text: 'κόμβος-узел' },
    { name: 'Hebrew and Arabic letters (only the controls go)', text: 'שלום مرحبا' },
    { name: 'CJK and Hangul', text: '节点-ノード-노드' },
    { name: 'emoji (surrogate pairs)', text: '😀🔥' },
    { name: 'emoji with a skin-tone modifier', text: '👍🏽' },
    { name: 'emoji with the variation selector U+FE0F', text: '❤️' },
    { name: 'a flag (regional indicators)', text: '🇫🇷' },
    { name: 'an ideographic variation sequence U+E0100', text: '葛\u{e0100}' },
    { name: 'non-breaking and ideographic spaces', text: 'a\u00a0b\u3000c' },
  ];

  it.each(kept)('keeps $name', ({ text }) => {
    expect(sanitizeText(text, 1000)).toBe(text);
    expect(sanitizeText(text, 1000, { multiline: true })).toBe(text);
  });

  it('keeps tabs and newlines in multiline text, each \\r\\n or lone \\r as \\n', () => {
    expect(sanitizeText('a\tb\nc\r\nd\re', 100, { multiline: true })).toBe('a\tb\nc\nd\ne');
  });

  it('keeps a \\r\\n one line break when an escape sequence stands between them', () => {
    expect(sanitizeText('a\r\u001b[2K\nb', 100, { multiline: true })).toBe('a\nb');
  });
});

describe('sanitizeText: length', () => {
  it('cuts to maxLength with a visible ellipsis', () => {
    expect(sanitizeText('abcdef', 4)).toBe('abc…');
    expect(sanitizeText('abcd', 4)).toBe('abcd');
  });

  it('never splits a surrogate pair at the cut', () => {
    expect(sanitizeText('a😀b', 3)).toBe('a…');
    expect(sanitizeText('a😀b', 4)).toBe('a😀b');
    expect(sanitizeText('ab😀c', 4)).toBe('ab…');
  });

  it('removes before it cuts, so a hostile prefix takes none of the room', () => {
    expect(sanitizeText(`${'\u001b[2J\u202e'.repeat(100)}host-1`, 6)).toBe('host-1');
  });

  it('gets through a megabyte of ESC and [ bytes, removing all of it', () => {
    // Linear in the input: the first call took 27–38 ms on the loaded 2-core development VM (no time is asserted).
    const hostile = '\u001b['.repeat(512 * 1024);
    expect(sanitizeText(hostile, 200)).toBe('');
    expect(sanitizeText(`${hostile}\nhost-1`, 200)).toBe(' host-1');
    expect(sanitizeText('\u001b'.repeat(1024 * 1024), 200)).toBe('');
    expect(sanitizeText('\u001b]'.repeat(512 * 1024), 200)).toBe('');
    expect(sanitizeText(`\u001b[${'1;'.repeat(512 * 1024)}`, 200)).toBe('');
    expect(sanitizeText('['.repeat(1024 * 1024), 2 * 1024 * 1024)).toBe('['.repeat(1024 * 1024));
  });
});

describe('escapeUnsafe', () => {
  it('writes what sanitizeText removes as escapes, so an error message can quote it harmlessly', () => {
    expect(escapeUnsafe('x\u001b]0;pwned\u0007\u202e', 100)).toBe('x\\x1b]0;pwned\\x07\\u{202e}');
    expect(escapeUnsafe('a\tb\nc', 100)).toBe('a\\x09b\\x0ac');
    expect(escapeUnsafe('\ud800\u{e0041}\u009b', 100)).toBe('\\u{d800}\\u{e0041}\\x9b');
  });

  it('keeps what sanitizeText keeps', () => {
    expect(escapeUnsafe('Normal café 节点 👍🏽', 100)).toBe('Normal café 节点 👍🏽');
  });

  it('cuts to maxLength, never inside an escape or between the halves of a pair', () => {
    expect(escapeUnsafe('\u0000'.repeat(50), 10)).toBe('\\x00\\x00…');
    expect(escapeUnsafe('ab😀', 3)).toBe('ab…');
  });
});

describe('forbiddenIn (the tests’ own check)', () => {
  it.each(FORBIDDEN_RANGES)('finds $name at both ends of its range', ({ from, to }) => {
    for (const codePoint of [from, to]) {
      expect(forbiddenIn(`a${String.fromCodePoint(codePoint)}b`, { multiline: true })).not.toBeNull();
    }
  });

  it('allows tab and newline only in multiline text, and valid pairs everywhere', () => {
    expect(forbiddenIn('a\tb\nc', { multiline: true })).toBeNull();
    expect(forbiddenIn('a\tb')).not.toBeNull();
    expect(forbiddenIn('a\nb')).not.toBeNull();
    expect(forbiddenIn('😀 👍🏽 ❤️ 节点')).toBeNull();
  });

  it('finds nothing in what sanitizeText makes of every Latin-1 code point and each class', () => {
    const hostile = `host${codePoints(0x0000, 0x00ff).join('')}\u061c\u200b\u2028\u00ad\u{e0041}\ud800\ufff9`;
    expect(forbiddenIn(hostile)).not.toBeNull();
    expect(forbiddenIn(sanitizeText(hostile, 10_000))).toBeNull();
    expect(forbiddenIn(sanitizeText(hostile, 10_000, { multiline: true }), { multiline: true })).toBeNull();
  });
});
