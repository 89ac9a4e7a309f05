import { formatHttpDate } from '../../../core/time.js';
import { drainEndsAtMs } from '../../../core/offer-state.js';
import { renderPaywallPage } from '../../../core/render/paywall-html.js';
import type { PaymentRequirement } from '../../../core/requirement.js';
import type { SnapshotOffer } from '../../../core/snapshot.js';
import { offerDeclarations } from '../../../core/x402/bazaar.js';
import { buildChallenges, PAYMENT_REQUIRED_HEADER, type OfferDeclarations } from '../../../core/x402/challenge.js';
import { PAYMENT_SIGNATURE_HEADER, X_PAYMENT_HEADER } from '../../../core/x402/payment-header.js';
import { RECEIPT_HEADER_V1, RECEIPT_HEADER_V2 } from '../../../core/x402/settlement.js';
import type { RouteContext } from './outcomes.js';

/** The building blocks of the gate's answers (`answers.ts` picks one per outcome) and the headers every paid-route response carries. */

export const EXPOSED_HEADERS = `${PAYMENT_REQUIRED_HEADER}, ${RECEIPT_HEADER_V2}, ${RECEIPT_HEADER_V1}`;
const ALLOWED_REQUEST_HEADERS = [PAYMENT_SIGNATURE_HEADER, X_PAYMENT_HEADER, 'Content-Type', 'Authorization', 'Accept', 'Access-Control-Expose-Headers'];

/** SPEC §5: Link to the catalog, exposed payment headers, any origin, and Sunset while draining. */
function routeHeaders(route: RouteContext): Record<string, string> {
  const headers: Record<string, string> = {
    Link: `<${route.baseUrl}/api/services.json>; rel="service-catalog"`,
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    'Access-Control-Allow-Origin': '*',
  };
  const endsAt = drainEndsAtMs(route.offer);
  if (route.draining && endsAt !== undefined) headers['Sunset'] = formatHttpDate(endsAt);
  return headers;
}

/** The route headers over `headers`; an origin's own Access-Control-Allow-Origin stays. */
export function applyRouteHeaders(headers: Headers, route: RouteContext): void {
  for (const [name, value] of Object.entries(routeHeaders(route))) {
    if (name !== 'Access-Control-Allow-Origin' || !headers.has(name)) headers.set(name, value);
  }
}

export function jsonResponse(status: number, body: unknown, route?: RouteContext, extra: Record<string, string> = {}): Response {
  const headers = new Headers({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...extra });
  if (route) applyRouteHeaders(headers, route);
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * Encoded challenges per requirement (one object per snapshot view), a few resource URLs each:
 * unpaid probes repeat them. `headers` is the whole 402 header list as a record, handed to the
 * Response as it is: building a Headers object per 402 was ~14 % of the challenge's CPU.
 */
interface EncodedChallenge {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}
const encodedChallenges = new WeakMap<PaymentRequirement, Map<string, EncodedChallenge>>();
const MAX_CACHED_CHALLENGES_PER_OFFER = 64;

/**
 * The offer's own declarations (Bazaar, tags) per snapshot entry: built once, not per 402. An entry
 * that answers 402 is draining from the moment it has a drainAt until it answers 410, so its drain
 * phase, and with it the declaration, never changes by the clock alone.
 */
const declarationsByOffer = new WeakMap<SnapshotOffer, OfferDeclarations | null>();

function routeDeclarations(route: RouteContext): OfferDeclarations | undefined {
  let declarations = declarationsByOffer.get(route.offer);
  if (declarations === undefined) declarationsByOffer.set(route.offer, (declarations = offerDeclarations(route.offer, route.draining) ?? null));
  return declarations ?? undefined;
}

function encodedChallenge(route: RouteContext, requirement: PaymentRequirement, resourceUrl: string, error: string): EncodedChallenge {
  let cache = encodedChallenges.get(requirement);
  if (!cache) encodedChallenges.set(requirement, (cache = new Map()));
  const key = `${error}\n${resourceUrl}`;
  let encoded = cache.get(key);
  if (!encoded) {
    // The offer's other options ride with its first: the cache (keyed by the first) holds the whole list.
    const { v1, header } = buildChallenges({ requirement, alternatives: route.offer.alternatives, resourceUrl, error, offer: routeDeclarations(route) });
    // The route headers are fixed per snapshot entry while it answers 402 (see routeDeclarations).
    encoded = { body: JSON.stringify(v1), headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', [PAYMENT_REQUIRED_HEADER]: header, ...routeHeaders(route) } };
    // Any path under an offer is a resource URL: keep the cache bounded whatever a client asks for.
    if (cache.size >= MAX_CACHED_CHALLENGES_PER_OFFER) cache.clear();
    cache.set(key, encoded);
  }
  return encoded;
}

/** 402 with both challenges; `error` is "payment_required" or the reason a payment was refused. */
export function challengeResponse(route: RouteContext, requirement: PaymentRequirement, resourceUrl: string, error: string, extra?: Readonly<Record<string, string>>): Response {
  const { body, headers } = encodedChallenge(route, requirement, resourceUrl, error);
  return new Response(body, { status: 402, headers: extra ? { ...headers, ...extra } : headers });
}

/** The same 402 as a page for a person (SPEC §5 "People and retries"): the same header, an HTML body whose script pays it. */
export function paywallResponse(route: RouteContext, requirement: PaymentRequirement, resourceUrl: string, error: string, extra: Record<string, string> = {}): Response {
  const { v2, header } = buildChallenges({ requirement, alternatives: route.offer.alternatives, resourceUrl, error, offer: routeDeclarations(route) });
  const drainEndsAt = route.draining ? route.offer.drainEndsAt : undefined;
  const page = renderPaywallPage({ challenge: v2, requirements: [requirement, ...(route.offer.alternatives ?? [])], offer: route.offer, ...(drainEndsAt ? { drainEndsAt } : {}) });
  const headers = new Headers({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': page.contentSecurityPolicy,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    [PAYMENT_REQUIRED_HEADER]: header,
    ...extra,
  });
  applyRouteHeaders(headers, route);
  return new Response(page.html, { status: 402, headers });
}

// Not hono/cors: it allows either a fixed header list or the requested ones, and a buyer needs both (the payment headers, plus its own).
export function preflightResponse(request: Request, route: RouteContext): Response {
  const requested = request.headers.get('Access-Control-Request-Headers');
  const allowed = requested ? `${ALLOWED_REQUEST_HEADERS.join(', ')}, ${requested}` : ALLOWED_REQUEST_HEADERS.join(', ');
  const headers = new Headers({
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': allowed,
    'Access-Control-Max-Age': '600',
  });
  applyRouteHeaders(headers, route);
  return new Response(null, { status: 204, headers });
}

/** Directives that would let a shared cache keep the answer (`private="field"` shares all but that field). */
const SHARED_CACHE_DIRECTIVE = /^(?:public|private|s-maxage)\s*(?:=|$)/i;

/**
 * The origin's Cache-Control made `private`: a paid answer is for the buyer who paid, never for a
 * shared cache to hand to the next caller. The origin's other directives (max-age, no-store…) stay.
 */
export function privateCacheControl(origin: string | null): string {
  // Commas inside quoted strings (`no-cache="a, b"`) do not separate directives.
  const directives = (origin ?? '').split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((d) => d.trim());
  return ['private', ...directives.filter((d) => d !== '' && !SHARED_CACHE_DIRECTIVE.test(d))].join(', ');
}

/** An origin response on its way to the buyer, with the route headers added. */
export function passThrough(response: Response, route: RouteContext, body: BodyInit | null, extra: Record<string, string> = {}): Response {
  const headers = new Headers(response.headers);
  // The runtime sets the length of what we actually send (a buffered body may have been decoded).
  headers.delete('Content-Length');
  headers.set('Cache-Control', privateCacheControl(headers.get('Cache-Control')));
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  applyRouteHeaders(headers, route);
  // No statusText: fetch takes reason phrases a Response refuses, and this may run after the buyer was charged.
  return new Response(body, { status: response.status, headers });
}
