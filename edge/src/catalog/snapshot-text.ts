import type { z } from 'zod';
import { CatalogSnapshot, MAX_SNAPSHOT_OFFERS, type SnapshotOffer } from '../../../core/index.js';
import { formatKeyPath, scanKeys } from './json-duplicate-keys.js';

/**
 * A pushed snapshot's text → the validated snapshot, in the order of SPEC §6: JSON, duplicate keys,
 * schema. An agent re-pushes the whole catalog when one offer changes, so offers whose exact text
 * was validated in the last snapshot are neither parsed nor validated again: validation is a pure
 * function of those bytes (10,000 offers, 1 % edited: ~225 ms of workerd CPU per push, not ~560).
 */

export type SnapshotTextResult =
  | { readonly ok: true; readonly snapshot: CatalogSnapshot }
  | { readonly ok: false; readonly reason: 'invalid_json'; readonly message: string }
  | { readonly ok: false; readonly reason: 'duplicate_json_key'; readonly message: string }
  | { readonly ok: false; readonly reason: 'invalid_snapshot'; readonly error: z.ZodError };

/** An offer's text starts with its key (the agent writes `key` first), so this much of it finds the candidate; the whole text decides. */
const LOOKUP_PREFIX_CHARS = 96;

interface ValidatedOffer {
  readonly text: string;
  readonly offer: SnapshotOffer;
}

/** Offers of the last validated snapshot, by the first LOOKUP_PREFIX_CHARS of their text. */
let validatedOffers = new Map<string, ValidatedOffer>();

/** What stands in a known offer's place in the text that is parsed: a value that cannot join its neighbours' tokens. */
const PLACEHOLDER = ' 0 ';

function parseJson(text: string): { ok: true; json: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, json: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/** The offers of `spans` validated before from exactly the same text (undefined where not). */
function knownOffers(text: string, spans: readonly number[]): (SnapshotOffer | undefined)[] {
  const known: (SnapshotOffer | undefined)[] = [];
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i] as number;
    const end = spans[i + 1] as number;
    const candidate = validatedOffers.get(text.slice(start, Math.min(end, start + LOOKUP_PREFIX_CHARS)));
    known.push(candidate !== undefined && candidate.text.length === end - start && candidate.text === text.slice(start, end) ? candidate.offer : undefined);
  }
  return known;
}

/**
 * `text` with each known offer replaced by PLACEHOLDER. Each replaced span is the exact text of a
 * JSON value that parsed before, and the placeholder is one token, so this parses iff `text` does.
 */
function withPlaceholders(text: string, spans: readonly number[], known: readonly (SnapshotOffer | undefined)[]): string {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < known.length; i++) {
    if (known[i] === undefined) continue;
    parts.push(text.slice(from, spans[2 * i]), PLACEHOLDER);
    from = spans[2 * i + 1] as number;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

/** The schema over the envelope and the offers not known, with issue paths naming each offer's place in `text`. */
function validate(json: unknown, known: readonly (SnapshotOffer | undefined)[]): { success: true; data: CatalogSnapshot } | { success: false; error: z.ZodError } {
  const given = (json as { offers: unknown[] }).offers;
  const unseen = known.flatMap((offer, i) => (offer === undefined ? [i] : []));
  const parsed = CatalogSnapshot.safeParse({ ...(json as object), offers: unseen.map((i) => given[i]) });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.path[0] === 'offers' && typeof issue.path[1] === 'number') issue.path[1] = unseen[issue.path[1]] ?? issue.path[1];
    }
    return parsed;
  }
  const offers = known.slice();
  unseen.forEach((i, k) => { offers[i] = parsed.data.offers[k]; });
  return { success: true, data: { ...parsed.data, offers: offers as SnapshotOffer[] } };
}

function remember(text: string, spans: readonly number[], offers: readonly SnapshotOffer[]): void {
  const next = new Map<string, ValidatedOffer>();
  offers.forEach((offer, i) => {
    const start = spans[2 * i] as number;
    const end = spans[2 * i + 1] as number;
    next.set(text.slice(start, Math.min(end, start + LOOKUP_PREFIX_CHARS)), { text: text.slice(start, end), offer });
  });
  validatedOffers = next;
}

export function readSnapshotText(text: string): SnapshotTextResult {
  const { duplicate, elementSpans: spans, notJson } = scanKeys(text, 'offers');
  // The scan assumes JSON; on text that is not, JSON's own error comes first.
  if (notJson || duplicate) {
    const parsed = parseJson(text);
    if (!parsed.ok) return { ok: false, reason: 'invalid_json', message: parsed.message };
  }
  if (duplicate) {
    // JSON.parse keeps the last of two equal keys; another verifier may keep the first.
    return { ok: false, reason: 'duplicate_json_key', message: `the key "${formatKeyPath(duplicate.path)}" occurs twice in one object; each key may appear once` };
  }
  const known = spans === undefined ? undefined : knownOffers(text, spans);
  const parsed = parseJson(known?.some((offer) => offer !== undefined) ? withPlaceholders(text, spans ?? [], known) : text);
  if (!parsed.ok) return { ok: false, reason: 'invalid_json', message: parsed.message };
  const offers = (parsed.json as { offers?: unknown } | null)?.offers;
  // Every element must be an object with a span (a primitive has none) and the count in bounds; otherwise the whole schema says why.
  if (spans === undefined || known === undefined || !Array.isArray(offers) || offers.length !== known.length || offers.length > MAX_SNAPSHOT_OFFERS) {
    const whole = known?.some((offer) => offer !== undefined) ? parseJson(text) : parsed;
    if (!whole.ok) return { ok: false, reason: 'invalid_json', message: whole.message };
    const result = CatalogSnapshot.safeParse(whole.json);
    return result.success ? { ok: true, snapshot: result.data } : { ok: false, reason: 'invalid_snapshot', error: result.error };
  }
  const result = validate(parsed.json, known);
  if (!result.success) return { ok: false, reason: 'invalid_snapshot', error: result.error };
  remember(text, spans, result.data.offers);
  return { ok: true, snapshot: result.data };
}
