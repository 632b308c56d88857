/**
 * How the SSM agent and service cut a plugin's output, counted in UTF-8 bytes as the agent counts them.
 *
 * - ListCommandInvocations (Details): stdout, then — when there is stderr — a `\n----------ERROR-------\n`
 *   title and stderr, at most 2,500 bytes in all; when cut, the kept part is followed by `\n---Output truncated---`
 *   (the agent's TruncateOutput keeps the marker inside the budget, so the result never exceeds 2,500 bytes).
 * - GetCommandInvocation: StandardOutputContent at most 24,000 bytes (suffix `--output truncated--` inside the
 *   budget when cut), StandardErrorContent at most 8,000 bytes (same suffix).
 *
 * A cut can split a multi-byte character; the service then serializes the broken tail as U+FFFD (3 bytes, so the
 * text can end up 2 bytes over the limit), as decoding the bytes here does. Node output that is not UTF-8 at all (binary) arrives the same way.
 */
export const LISTING_OUTPUT_BYTES = 2500;
export const STDOUT_CONTENT_BYTES = 24_000;
export const STDERR_CONTENT_BYTES = 8000;
export const LISTING_TRUNCATED = '\n---Output truncated---';
export const ERROR_TRUNCATED = '\n---Error truncated----';
export const CONTENT_TRUNCATED = '--output truncated--';
export const ERROR_TITLE = '\n----------ERROR-------\n';

const encoder = new TextEncoder();

export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

function cutBytes(bytes: Uint8Array, length: number): string {
  return Buffer.from(bytes.subarray(0, Math.max(0, length))).toString('utf8');
}

/** The `Output` of a CommandPlugin in ListCommandInvocations. */
export function listingOutput(stdout: Uint8Array, stderr: Uint8Array): string {
  const title = stderr.length > 0 ? ERROR_TITLE : '';
  const titleBytes = byteLength(title);
  const available = LISTING_OUTPUT_BYTES - titleBytes;
  const out = Buffer.from(stdout).toString('utf8');
  const err = Buffer.from(stderr).toString('utf8');
  if (stdout.length + stderr.length <= available) return `${out}${title}${err}`;
  const truncOut = byteLength(LISTING_TRUNCATED);
  const truncErr = byteLength(ERROR_TRUNCATED);
  if (stdout.length > available / 2 && stderr.length > available / 2) {
    const half = Math.floor((available - truncOut - truncErr) / 2);
    return `${cutBytes(stdout, half)}${LISTING_TRUNCATED}${title}${cutBytes(stderr, half)}${ERROR_TRUNCATED}`;
  }
  if (stdout.length <= available / 2) {
    return `${out}${title}${cutBytes(stderr, available - truncErr - stdout.length)}${ERROR_TRUNCATED}`;
  }
  return `${cutBytes(stdout, available - truncOut - stderr.length)}${LISTING_TRUNCATED}${title}${err}`;
}

function content(bytes: Uint8Array, limit: number): string {
  if (bytes.length <= limit) return Buffer.from(bytes).toString('utf8');
  return `${cutBytes(bytes, limit - byteLength(CONTENT_TRUNCATED))}${CONTENT_TRUNCATED}`;
}

/** `StandardOutputContent` of GetCommandInvocation. */
export function standardOutputContent(stdout: Uint8Array): string {
  return content(stdout, STDOUT_CONTENT_BYTES);
}

/** `StandardErrorContent` of GetCommandInvocation. */
export function standardErrorContent(stderr: Uint8Array): string {
  return content(stderr, STDERR_CONTENT_BYTES);
}
