import { Hono, type Context } from 'hono';
import { setMetric, timing } from 'hono/timing';
import { offerStateAt } from '../../../core/offer-state.js';
import type { PaymentRequirement } from '../../../core/requirement.js';
import type { SnapshotOffer } from '../../../core/snapshot.js';
import { matchLongestPrefix } from '../../../core/paths.js';
import type { AppEnv } from '../app.js';
import { currentCatalog } from '../catalog/cache.js';
import type { Env } from '../env.js';
import { optionLabels, recordGateEvent, type OfferLabels } from '../metrics/recorder.js';
import { answerPayment, answerRoute } from './answers.js';
import { facilitatorAuth } from './facilitator-auth.js';
import { createFacilitatorClient, type FacilitatorClient, type FacilitatorHeaderProvider } from './facilitator-client.js';
import type { PaidRoute, RouteOutcome } from './outcomes.js';
import { isSmuggledPath } from './path-guard.js';
import { runPayment, type PaymentContext } from './pipeline.js';
import { gateSettings, type GateSettings } from './settings.js';

/**
 * The x402 gate, mounted at `/services` (SPEC §5). This file only finds which offer a request is
 * for and in which state; `pipeline.ts` runs the payment steps in order and `answers.ts` maps
 * every outcome to its HTTP answer.
 */
export interface GateOptions {
  /** Per-request facilitator headers from code, added after (and over) those FACILITATOR_AUTH selects. */
  facilitatorHeaders?: FacilitatorHeaderProvider;
}

/** `labels[i]` are the metric labels of `paid.options[i]`: the metrics follow the option paid. */
type Found = { kind: 'paid'; paid: PaidRoute; labels: readonly OfferLabels[] };

/** An offer's options and their labels, built once per offer per catalog view. */
interface OfferPayments {
  readonly options: readonly [PaymentRequirement, ...PaymentRequirement[]];
  readonly labels: readonly OfferLabels[];
}

function offerPayments(offer: SnapshotOffer, requirement: PaymentRequirement): OfferPayments {
  const options: [PaymentRequirement, ...PaymentRequirement[]] = [requirement, ...(offer.alternatives ?? [])];
  return { options, labels: optionLabels(offer) };
}

/** Which offer the request is for, and whether that offer takes payments right now. */
async function findOffer(request: Request, env: Env, baseUrl: string): Promise<RouteOutcome | Found> {
  const url = new URL(request.url);
  // Before any other decision: `//`, `;`, an encoded `/` or `\` or a dot segment could be charged as one offer and served as another.
  if (isSmuggledPath(url.pathname)) return { kind: 'invalid_path' };
  const view = await currentCatalog(env);
  // Fail closed: before the first snapshot nothing under /services is served, let alone free.
  if (!view) return { kind: 'catalog_unavailable' };
  const found = matchLongestPrefix(view.routes, url.pathname);
  if (!found) return { kind: 'offer_not_found', path: url.pathname };
  const offer = found.value;
  const state = offerStateAt(offer, Date.now());
  const route = { baseUrl, offer, draining: state === 'draining' };
  if (state === 'drained') return { kind: 'offer_drained', route };
  const requirement = offer.requirement;
  if (state === 'unavailable' || !requirement) return { kind: 'offer_unavailable', route };
  if (request.method === 'OPTIONS') return { kind: 'preflight', route };
  // One options list and labels object per option per offer per view, so the recorder's per-offer cache hits.
  const { options, labels } = view.memo<OfferPayments>(`gate-offer:${offer.path}`, () => offerPayments(offer, requirement));
  return { kind: 'paid', paid: { route, requirement, options, resourceUrl: `${baseUrl}${url.pathname}` }, labels };
}

/** Server-Timing spans: each trace closes the span since the previous one. */
const NO_TRACE = (): void => undefined;

function tracer(c: Context<AppEnv>, enabled: boolean): (step: string) => void {
  if (!enabled) return NO_TRACE;
  let last = performance.now();
  return (step) => {
    const now = performance.now();
    setMetric(c, step, Math.round((now - last) * 10) / 10);
    last = now;
  };
}

export function createGate(options: GateOptions = {}): Hono<AppEnv> {
  // One facilitator client per settings (fixed for an isolate's life): a CDP key is imported once;
  // a bad one rejects here (500 naming the setting) and is tried again by the next request.
  let facilitator: { settings: GateSettings; client: Promise<FacilitatorClient> } | undefined;
  const facilitatorFor = (settings: GateSettings): Promise<FacilitatorClient> => {
    if (facilitator?.settings !== settings) {
      const client = facilitatorAuth(settings.facilitatorAuth).then((auth) => createFacilitatorClient({ url: settings.facilitatorUrl, timeoutMs: settings.facilitatorTimeoutMs, settleTimeoutMs: settings.facilitatorSettleTimeoutMs, auth, headers: options.facilitatorHeaders }));
      client.catch(() => { if (facilitator?.client === client) facilitator = undefined; });
      facilitator = { settings, client };
    }
    return facilitator.client;
  };
  // Hono's Server-Timing middleware, only when profiling: off, it would cost every request its timers.
  const serverTiming = timing({ totalDescription: 'gate' });

  const app = new Hono<AppEnv>();
  app.use((c, next) => (c.env.GATE_SERVER_TIMING === '1' ? serverTiming(c, next) : next()));
  app.all('*', async (c) => {
    const request = c.req.raw;
    // First, so a deployment setting left unset (or at a local value) answers 500 for every path: no free pass.
    const settings = gateSettings(c.env);
    const found = await findOffer(request, c.env, settings.baseUrl);
    if (found.kind !== 'paid') return answerRoute(found, request);
    // The first option's labels until step 3 finds which option the payment pays.
    let labels = found.labels[0] as OfferLabels;
    const ctx: PaymentContext = {
      env: c.env,
      settings,
      facilitator: await facilitatorFor(settings),
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
      trace: tracer(c, settings.serverTiming),
      paying: (option) => { labels = found.labels[found.paid.options.indexOf(option)] ?? labels; },
    };
    const outcome = await runPayment(request, found.paid, ctx);
    return answerPayment(outcome, found.paid, request, (event, reason) => recordGateEvent(c.env, c.executionCtx, labels, event, reason));
  });
  return app;
}

export const gate = createGate();
