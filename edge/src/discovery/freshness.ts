/** HTTP caching rules of the discovery documents (SPEC §4). */

/** Longest time a client or CDN may reuse a document. */
export const MAX_AGE_SECONDS = 60;

/** `max-age` ≤ 60 s that never reaches past the next drain deadline. */
export function maxAgeSeconds(nowMs: number, nextTransitionMs: number | undefined): number {
  if (nextTransitionMs === undefined) return MAX_AGE_SECONDS;
  const untilTransition = Math.floor((nextTransitionMs - nowMs) / 1000);
  return Math.max(0, Math.min(MAX_AGE_SECONDS, untilTransition));
}

export function cacheControl(nowMs: number, nextTransitionMs: number | undefined): string {
  return `public, max-age=${maxAgeSeconds(nowMs, nextTransitionMs)}`;
}

/** RFC 9110 §13.1.2: `If-None-Match` uses the weak comparison; `*` matches any current document. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}
