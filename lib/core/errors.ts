/**
 * The one error the parsers raise. It names the 1-based line and the token that failed, so a user can find the
 * problem in their file; `kind` lets callers react (a `truncated` report is re-fetched in full by the collector).
 */
export type ParseErrorKind =
  | 'empty'
  | 'too-few-fields'
  | 'bad-token'
  | 'negative-count'
  | 'count-too-large'
  | 'column-mismatch'
  | 'too-many-columns'
  | 'truncated-row'
  | 'mail-quoted'
  | 'wrapped-row'
  | 'duplicate-zone'
  | 'bad-header'
  | 'unsupported-version'
  | 'bad-value'
  | 'missing-field'
  | 'truncated';

export class ParseError extends Error {
  override readonly name = 'ParseError';
  readonly kind: ParseErrorKind;
  /** 1-based line number in the input. */
  readonly line: number;
  /** The offending token, as found (control characters escaped, cut to 40 characters). */
  readonly token: string;
  readonly reason: string;

  constructor(kind: ParseErrorKind, line: number, token: string, reason: string) {
    const shown = showToken(token);
    super(`line ${line}: ${reason}${shown === '' ? '' : ` (found '${shown}')`}`);
    this.kind = kind;
    this.line = line;
    this.token = shown;
    this.reason = reason;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function showToken(token: string): string {
  const escaped = token.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 40 ? `${escaped.slice(0, 40)}…` : escaped;
}
