/**
 * Text that came from a node is untrusted: it may carry terminal escape sequences, binary bytes or megabytes.
 * Everything from a node passes through here before it reaches a terminal, a log line, a table item or an e-mail.
 */

// ESC-introduced sequences (CSI, OSC, and two-character escapes), then any remaining C0/C1 control or
// Unicode bidi-override characters that can make a terminal or mail client show something other than the text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffd]/g;

/**
 * Strips escape sequences and control characters (keeping tab and, when `multiline`, newlines), replaces
 * them with nothing, and cuts to `maxLength` characters with a visible '…'.
 */
export function sanitizeText(value: string, maxLength: number, options: { multiline?: boolean } = {}): string {
  let cleaned = value.replace(ANSI, '').replace(CONTROL, '');
  cleaned = options.multiline ? cleaned.replace(/\r\n?/g, '\n') : cleaned.replace(/[\r\n\t]+/g, ' ');
  if (cleaned.length <= maxLength) return cleaned;
  return `${cleaned.slice(0, Math.max(0, maxLength - 1))}…`;
}

/** True when `value` would pass through {@link sanitizeText} unchanged (used to assert sinks are clean). */
export function isSanitized(value: string, options: { multiline?: boolean } = {}): boolean {
  const probe = options.multiline ? value : value.replace(/\n/g, ' ');
  return sanitizeText(probe, Number.MAX_SAFE_INTEGER, { multiline: true }) === probe;
}
