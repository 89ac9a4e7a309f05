import { parseAccept } from 'hono/utils/accept';

/**
 * Which representation a request's `Accept` header prefers (RFC 9110 §12.5.1). Hono's `accepts`
 * helper ranks the header's ranges by q alone, so `text/html;q=0.1, *\/*` would pick HTML; here each
 * type takes the quality of the most specific range that matches it, as the RFC says.
 */

export const HTML_TYPE = 'text/html';
export const JSON_TYPE = 'application/json';

type Range = { readonly type: string; readonly q: number };

/** 3 for `type/subtype`, 2 for `type/*`, 1 for `*\/*`; 0 when the range does not match `type`. */
function specificity(range: string, type: string): number {
  if (range === type) return 3;
  if (range === '*/*' || range === '*') return 1;
  const slash = type.indexOf('/');
  return range.endsWith('/*') && range.slice(0, -1) === type.slice(0, slash + 1) ? 2 : 0;
}

function qualityIn(ranges: readonly Range[], type: string): number {
  let best = 0;
  let quality = 0;
  for (const range of ranges) {
    const level = specificity(range.type, type);
    if (level > best) {
      best = level;
      quality = range.q;
    }
  }
  return quality;
}

function parse(accept: string): Range[] {
  return parseAccept(accept).map((range) => ({ type: range.type.toLowerCase(), q: range.q }));
}

/** The quality the header gives `type`; a missing or empty header accepts everything at 1. */
export function acceptQuality(accept: string | null | undefined, type: string): number {
  if (!accept?.trim()) return 1;
  return qualityIn(parse(accept), type.toLowerCase());
}

/** The supported type of highest quality; a tie goes to the earlier in `supported`; undefined if none is acceptable. */
export function preferredType<T extends string>(accept: string | null | undefined, supported: readonly T[]): T | undefined {
  const ranges = accept?.trim() ? parse(accept) : [{ type: '*/*', q: 1 }];
  let chosen: T | undefined;
  let chosenQuality = 0;
  for (const type of supported) {
    const quality = qualityIn(ranges, type.toLowerCase());
    if (quality > chosenQuality) {
      chosen = type;
      chosenQuality = quality;
    }
  }
  return chosen;
}

/**
 * True when the client would rather have an HTML page than the JSON answer: a browser's
 * `text/html,…,*\/*;q=0.8`, not curl's `*\/*` (a tie, which keeps the JSON) nor `application/json`.
 */
export function prefersHtml(accept: string | null | undefined): boolean {
  return preferredType(accept, [JSON_TYPE, HTML_TYPE]) === HTML_TYPE;
}
