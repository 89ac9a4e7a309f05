/**
 * Path smuggling guard (docs/payment-gate.md): the gate matches offers on the raw path and forwards
 * it unchanged, so any path an origin may read differently from the gate is refused before
 * matching — `/services/foo%2F..%2Fbar` (an origin that decodes `%2F` serves bar), `foo//bar` and
 * `foo;x/bar` or `foo/..;/bar` (servers that merge slashes or strip `;` parameters serve another
 * path than the one charged), and dot segments, encoded or not.
 */

/** `%2F` (/), `%5C` (\), `%3B` (;), any case. */
const ENCODED_SEPARATOR = /%2f|%5c|%3b/i;
/** A segment that is `.` or `..`, each dot written as is or as `%2E`. */
const DOT_SEGMENT = /^(?:%2e|\.){1,2}$/i;

export function isSmuggledPath(pathname: string): boolean {
  if (ENCODED_SEPARATOR.test(pathname) || pathname.includes(';')) return true;
  const segments = pathname.split('/').slice(1);
  // An empty segment is `//`; one trailing `/` (the last segment empty) is an ordinary path.
  return segments.some((segment, i) => (segment === '' ? i < segments.length - 1 : DOT_SEGMENT.test(segment)));
}
