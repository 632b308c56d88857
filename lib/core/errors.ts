import { escapeUnsafe } from './sanitize.ts';

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
  /**
   * The offending token as found, but with every character sanitizeText would remove written as an escape
   * (`\x1b`, `\u{202e}`), so that a message quotes a node's output without carrying it; at most 41 characters,
   * a cut one ending in '…'.
   */
  readonly token: string;
  readonly reason: string;

  constructor(kind: ParseErrorKind, line: number, token: string, reason: string) {
    const shown = escapeUnsafe(token, 41);
    super(`line ${line}: ${reason}${shown === '' ? '' : ` (found '${shown}')`}`);
    this.kind = kind;
    this.line = line;
    this.token = shown;
    this.reason = reason;
  }
}
