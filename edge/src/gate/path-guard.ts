/**
 * Path smuggling guard (docs/payment-gate.md): the gate matches offers on the raw path and forwards
 * it unchanged, so `/services/foo%2F..%2Fbar` would be charged at foo's price while an origin that
 * decodes `%2F` serves bar. Encoded separators and encoded dot segments are refused outright.
 */

/** `%2F` (/), `%5C` (\), any case. */
const ENCODED_SEPARATOR = /%2f|%5c/i;
/** A segment that decodes to `.` or `..` and is written with at least one `%2E`. */
const ENCODED_DOT_SEGMENT = /(?:^|\/)(?:%2e|\.){1,2}(?=\/|$)/gi;

export function isSmuggledPath(pathname: string): boolean {
  if (ENCODED_SEPARATOR.test(pathname)) return true;
  for (const match of pathname.matchAll(ENCODED_DOT_SEGMENT)) {
    if (/%2e/i.test(match[0])) return true;
  }
  return false;
}
