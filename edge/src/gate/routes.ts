import { Hono } from 'hono';
import { offerStateAt } from '../../../core/offer-state.js';
import { matchLongestPrefix } from '../../../core/paths.js';
import type { PaymentRequirement } from '../../../core/requirement.js';
import { hasPaymentHeader, InvalidPaymentHeaderError, parsePaymentHeader, PAYMENT_SIGNATURE_HEADER, X_PAYMENT_HEADER } from '../../../core/x402/payment-header.js';
import type { AppEnv } from '../app.js';
import { currentCatalog } from '../catalog/cache.js';
import { publicBaseUrl, type Env } from '../env.js';
import { offerLabels, recordGateEvent, type GateEvent, type OfferLabels } from '../metrics/recorder.js';
import { checkLocally, claimAndServe, refuse, type Charge } from './charge.js';
import type { FacilitatorHeaderProvider } from './facilitator-client.js';
import { isSmuggledPath } from './path-guard.js';
import { challengeResponse, jsonResponse, preflightResponse, type RouteContext } from './responses.js';
import { startSpans } from './server-timing.js';
import { gateSettings } from './settings.js';

/**
 * The x402 gate, mounted at `/services` (SPEC §5). This file decides which offer a request is for
 * and in which state; `charge.ts` runs the payment steps 1–7 in their exact order.
 */
export interface GateOptions {
  /** Per-request facilitator headers (e.g. a CDP JWT), added to the static bearer token. */
  facilitatorHeaders?: FacilitatorHeaderProvider;
}

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

// PUBLIC_BASE_URL is fixed for an isolate's life; parse it once per distinct value.
let baseUrlMemo: { raw: string | undefined; value: string } | undefined;
function baseUrlOf(env: Env): string {
  if (!baseUrlMemo || baseUrlMemo.raw !== env.PUBLIC_BASE_URL) baseUrlMemo = { raw: env.PUBLIC_BASE_URL, value: publicBaseUrl(env) };
  return baseUrlMemo.value;
}

async function handlePaidRoute(request: Request, env: Env, ctx: WaitUntil, options: GateOptions): Promise<Response> {
  const url = new URL(request.url);
  // Before any other decision: `//`, `;`, an encoded `/` or `\` or a dot segment could be charged as one offer and served as another.
  if (isSmuggledPath(url.pathname)) return jsonResponse(400, { error: 'invalid_path' });
  const view = await currentCatalog(env);
  // Fail closed: before the first snapshot nothing under /services is served, let alone free.
  if (!view) return jsonResponse(503, { error: 'catalog_unavailable' });
  const found = matchLongestPrefix(view.routes, url.pathname);
  if (!found) return jsonResponse(404, { error: 'offer_not_found', path: url.pathname });
  const offer = found.value;
  const state = offerStateAt(offer, Date.now());
  const baseUrl = baseUrlOf(env);
  const route: RouteContext = { baseUrl, offer, draining: state === 'draining' };
  if (state === 'drained') return jsonResponse(410, { error: 'offer_drained', drainEndsAt: offer.drainEndsAt }, route);
  const requirement: PaymentRequirement | undefined = offer.requirement;
  if (state === 'unavailable' || !requirement) return jsonResponse(503, { error: 'offer_unavailable' }, route);
  if (request.method === 'OPTIONS') return preflightResponse(request, route);
  // One labels object per offer per view, so the recorder's per-offer cache hits.
  const labels = view.memo<OfferLabels>(`gate-labels:${offer.path}`, () => offerLabels(offer));
  const settings = gateSettings(env);
  const spans = startSpans(settings.serverTiming);
  const charge: Charge = {
    request, env, route, requirement, options, settings, spans,
    resourceUrl: `${baseUrl}${url.pathname}`,
    record: (event: GateEvent, reason?: string) => recordGateEvent(env, ctx, labels, event, reason),
    waitUntil: (promise: Promise<unknown>) => ctx.waitUntil(promise),
  };
  return spans.apply(await chargeRequest(charge));
}

/** Steps 1–3: challenge, parse, local checks. No network and no storage before step 4. */
async function chargeRequest(g: Charge): Promise<Response> {
  g.record('request');
  const headers = {
    xPayment: g.request.headers.get(X_PAYMENT_HEADER) ?? undefined,
    paymentSignature: g.request.headers.get(PAYMENT_SIGNATURE_HEADER) ?? undefined,
  };
  if (!hasPaymentHeader(headers)) {
    g.record('payment_required');
    return challengeResponse(g.route, g.requirement, g.resourceUrl, 'payment_required');
  }
  let payment;
  try {
    payment = parsePaymentHeader(headers);
  } catch (error) {
    if (!(error instanceof InvalidPaymentHeaderError)) throw error;
    g.record('payment_failed', error.reason);
    return jsonResponse(400, { error: error.message, reason: error.reason }, g.route);
  }
  g.spans.mark('parse');
  const local = await checkLocally(g, payment);
  g.spans.mark('local_checks');
  if (!local.ok) return refuse(g, local.reason);
  return claimAndServe(g, payment, local.payer);
}

export function createGate(options: GateOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.all('*', (c) => handlePaidRoute(c.req.raw, c.env, c.executionCtx, options));
  return app;
}

export const gate = createGate();
