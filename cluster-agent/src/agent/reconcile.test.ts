import { describe, expect, it } from 'vitest';
import { conditionSummary, READY_CONDITIONS } from '../../../test/support/conditions.js';
import { parseServiceOffer, planCatalog, rawOfferKey, type OfferDecision } from '../../../core/index.js';
import { MAX_QUOTED_ERROR, reconcileOffer, type HealthObservation, type OfferStatus, type ReconcileInput } from './reconcile.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

function manifest(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name, namespace: 'llm', generation: 3, creationTimestamp: '2026-11-01T00:00:00Z', ...meta },
    spec: {
      upstream: { service: 'ollama', port: 11434 },
      payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } },
      ...spec,
    },
  };
}

function decide(raws: unknown[], key: string, opts: { healthy?: boolean; route?: boolean; nowMs?: number } = {}): OfferDecision {
  const plan = planCatalog({
    offers: raws.map((raw) => ({ key: rawOfferKey(raw, 'unnamed'), parsed: parseServiceOffer(raw) })),
    observe: () => ({ upstreamHealthy: opts.healthy ?? true, routePublished: opts.route ?? true }),
    routeManagement: true,
    source: 'kube',
    nowMs: opts.nowMs ?? T0,
  });
  const found = plan.decisions.find((d) => d.key === key);
  if (!found) throw new Error(`no decision for ${key}`);
  return found;
}

const healthy: HealthObservation = { healthy: true, message: 'GET http://ollama.llm.svc:11434/health answered 200' };

function input(decision: OfferDecision, over: Partial<ReconcileInput> = {}): ReconcileInput {
  return {
    decision,
    generation: 3,
    previous: undefined,
    health: healthy,
    acknowledgedSequence: 42,
    routeManagement: true,
    routeName: 'llm/obol-offer-qwen',
    publicBaseUrl: 'https://edge.test',
    nowMs: T0,
    ...over,
  };
}

function condition(status: OfferStatus, type: string) {
  const found = status.conditions?.find((c) => c.type === type);
  if (!found) throw new Error(`no ${type} condition`);
  return found;
}

describe('reconcileOffer', () => {
  it('a healthy, routed, acknowledged offer is Ready with every condition set and observedGeneration', () => {
    const out = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen')));
    expect(out.status.observedGeneration).toBe(3);
    expect(out.status.endpoint).toBe('https://edge.test/services/qwen');
    expect(conditionSummary(out.status.conditions)).toEqual(READY_CONDITIONS);
    expect(out.route).toBe('present');
    expect(out.requeueAfterMs).toBeUndefined();
    expect(out.statusChanged).toBe(true);
  });

  it('PaymentGateReady follows publication: published but not yet acknowledged is False, and Ready with it', () => {
    const out = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen'), { acknowledgedSequence: undefined }));
    expect(condition(out.status, 'PaymentGateReady')).toMatchObject({ status: 'False', reason: 'AwaitingAcknowledgement' });
    expect(condition(out.status, 'Ready')).toMatchObject({ status: 'False', reason: 'AwaitingAcknowledgement' });
  });

  it('an unhealthy upstream keeps the route but reports UpstreamHealthy False and no gate', () => {
    const out = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen', { healthy: false }), { health: { healthy: false, message: 'GET … answered 503' } }));
    expect(condition(out.status, 'UpstreamHealthy')).toMatchObject({ status: 'False', reason: 'Unhealthy', message: 'GET … answered 503' });
    expect(condition(out.status, 'PaymentGateReady')).toMatchObject({ status: 'False', reason: 'UpstreamUnhealthy' });
    expect(out.route).toBe('present');
  });

  it('lastTransitionTime changes only when a condition status flips, and an unchanged status is not rewritten', () => {
    const first = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen')));
    const later = T0 + 60_000;
    const same = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen', { nowMs: later }), { previous: first.status, nowMs: later }));
    expect(same.statusChanged).toBe(false);
    expect(same.status).toEqual(first.status);

    const reworded = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen', { nowMs: later }), { previous: first.status, nowMs: later, health: { healthy: true, message: 'GET other answered 204' } }));
    expect(reworded.statusChanged).toBe(true);
    expect(condition(reworded.status, 'UpstreamHealthy').lastTransitionTime).toBe('2026-11-23T10:00:00Z');

    const flipped = reconcileOffer(
      input(decide([manifest('qwen')], 'llm/qwen', { nowMs: later, healthy: false }), { previous: first.status, nowMs: later, health: { healthy: false, message: 'timeout' } }),
    );
    expect(condition(flipped.status, 'UpstreamHealthy').lastTransitionTime).toBe('2026-11-23T10:01:00Z');
    expect(condition(flipped.status, 'Ready').lastTransitionTime).toBe('2026-11-23T10:01:00Z');
    expect(condition(flipped.status, 'Draining').lastTransitionTime).toBe('2026-11-23T10:00:00Z');
    expect(condition(flipped.status, 'PathConflict').lastTransitionTime).toBe('2026-11-23T10:00:00Z');
  });

  it('a draining offer says when the drain ends and requeues one second after it', () => {
    const spec = { drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '30m' };
    const nowMs = T0 + 5 * 60_000;
    const out = reconcileOffer(input(decide([manifest('qwen', spec)], 'llm/qwen', { nowMs }), { nowMs }));
    expect(condition(out.status, 'Draining')).toMatchObject({ status: 'True', reason: 'Draining', message: 'Drain ends at 2026-11-23T10:30:00Z' });
    expect(out.status.drainEndsAt).toBe('2026-11-23T10:30:00Z');
    expect(out.requeueAfterMs).toBe(25 * 60_000 + 1000);
    expect(condition(out.status, 'Ready').status).toBe('True');
    expect(out.route).toBe('present');
  });

  it('after the deadline the offer is Drained, its route goes away and it is not Ready', () => {
    const spec = { drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s' };
    const nowMs = T0 + 1000;
    const out = reconcileOffer(input(decide([manifest('qwen', spec)], 'llm/qwen', { nowMs, route: false }), { nowMs }));
    expect(condition(out.status, 'Draining')).toMatchObject({ status: 'False', reason: 'Drained', message: 'Drain ended at 2026-11-23T10:00:00Z' });
    expect(condition(out.status, 'RoutePublished')).toMatchObject({ status: 'False', reason: 'Drained' });
    expect(condition(out.status, 'Ready')).toMatchObject({ status: 'False' });
    expect(out.route).toBe('absent');
    expect(out.requeueAfterMs).toBeUndefined();
  });

  it('a drained offer whose upstream is down: the gate names the first failing rule (health), the route names the drain', () => {
    const spec = { drainAt: '2026-11-23T09:00:00Z', drainGracePeriod: '0s' };
    const out = reconcileOffer(input(decide([manifest('qwen', spec)], 'llm/qwen', { healthy: false, route: false }), { health: { healthy: false, message: 'refused' } }));
    expect(condition(out.status, 'PaymentGateReady')).toMatchObject({ status: 'False', reason: 'UpstreamUnhealthy' });
    expect(condition(out.status, 'RoutePublished')).toMatchObject({ status: 'False', reason: 'Drained', message: 'no HTTPRoute: the drain ended at 2026-11-23T09:00:00Z' });
    expect(condition(out.status, 'Draining')).toMatchObject({ status: 'False', reason: 'Drained' });
    expect(out.route).toBe('absent');
  });

  it('an unhealthy offer that is also unpriced: the gate names the upstream (SPEC order), the missing route names the price', () => {
    const payment = { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.0000001' } };
    const out = reconcileOffer(input(decide([manifest('qwen', { payment })], 'llm/qwen', { healthy: false, route: false }), { health: { healthy: false, message: 'refused' } }));
    expect(condition(out.status, 'PaymentGateReady')).toMatchObject({ status: 'False', reason: 'UpstreamUnhealthy' });
    expect(condition(out.status, 'RoutePublished')).toMatchObject({ status: 'False', reason: 'PaymentUnresolved' });
    expect(out.route).toBe('absent');
  });

  it('a healthy, payable offer whose route is not up yet wants it and waits for it', () => {
    const out = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen', { route: false })));
    expect(condition(out.status, 'RoutePublished')).toMatchObject({ status: 'False', reason: 'RoutePending' });
    expect(condition(out.status, 'PaymentGateReady')).toMatchObject({ status: 'False', reason: 'RouteNotReady' });
    expect(out.route).toBe('present');
  });

  it('a route the API server refused: RoutePublished=False/RouteApplyFailed quoting it (bounded), Ready with it; the same failure again writes nothing', () => {
    const d = decide([manifest('qwen')], 'llm/qwen', { route: false });
    const refusal = `admission webhook denied the request: ${'x'.repeat(2000)} (HTTP 403)`;
    const out = reconcileOffer(input(d, { routeError: refusal }));
    const routed = condition(out.status, 'RoutePublished');
    expect(routed).toMatchObject({ status: 'False', reason: 'RouteApplyFailed' });
    expect(routed.message.startsWith('HTTPRoute llm/obol-offer-qwen could not be applied: admission webhook denied the request: xxx')).toBe(true);
    expect(routed.message.length).toBeLessThanOrEqual(MAX_QUOTED_ERROR + 100);
    expect(condition(out.status, 'Ready')).toMatchObject({ status: 'False', reason: 'RouteApplyFailed' });
    expect(out.route).toBe('present');
    const again = reconcileOffer(input(d, { routeError: refusal, previous: out.status, nowMs: T0 + 60_000 }));
    expect(again.statusChanged).toBe(false);
  });

  it('a route already published that now fails to apply is reported, not hidden behind the old route', () => {
    const out = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen', { route: true }), { routeError: 'conflict (HTTP 422)' }));
    expect(condition(out.status, 'RoutePublished')).toMatchObject({ status: 'False', reason: 'RouteApplyFailed', message: 'HTTPRoute llm/obol-offer-qwen could not be applied: conflict (HTTP 422)' });
  });

  it('a drained offer whose route could not be deleted says RouteDeleteFailed, and Drained by the clock all the same', () => {
    const d = decide([manifest('qwen', { drainAt: '2026-11-23T09:00:00Z', drainGracePeriod: '0s' })], 'llm/qwen', { route: true });
    const out = reconcileOffer(input(d, { routeError: 'httproutes "obol-offer-qwen" is forbidden (HTTP 403)' }));
    expect(condition(out.status, 'RoutePublished')).toMatchObject({
      status: 'False',
      reason: 'RouteDeleteFailed',
      message: 'HTTPRoute llm/obol-offer-qwen is not wanted (the drain ended at 2026-11-23T09:00:00Z) but could not be deleted: httproutes "obol-offer-qwen" is forbidden (HTTP 403)',
    });
    expect(condition(out.status, 'Draining')).toMatchObject({ status: 'False', reason: 'Drained' });
    expect(out.route).toBe('absent');
  });

  it('removing drainAt re-activates the offer', () => {
    const drained = reconcileOffer(input(decide([manifest('qwen', { drainAt: '2026-11-23T09:00:00Z', drainGracePeriod: '0s' })], 'llm/qwen', { route: false })));
    const back = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen'), { previous: drained.status, nowMs: T0 + 2000 }));
    expect(condition(back.status, 'Draining')).toMatchObject({ status: 'False', reason: 'Active', lastTransitionTime: '2026-11-23T10:00:00Z' });
    expect(condition(back.status, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-23T10:00:02Z' });
    expect(back.status.drainEndsAt).toBeUndefined();
  });

  it('an invalid offer gets a clear Ready message naming the field, and no route', () => {
    const bad = manifest('qwen', { payment: { network: 'base-sepolia', payTo: 'nope', price: { perRequest: '0.001' } } });
    const out = reconcileOffer(input(decide([bad], 'llm/qwen'), { health: undefined, acknowledgedSequence: undefined }));
    const ready = condition(out.status, 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(ready.message).toContain('spec.payment.payTo');
    expect(out.route).toBe('absent');
  });

  it('garbage input never throws: a manifest without a spec is reported invalid', () => {
    const out = reconcileOffer(input(decide([{ apiVersion: 'obol.org/v1alpha1', kind: 'ServiceOffer', metadata: { name: 'x', namespace: 'llm' } }], 'llm/x')));
    expect(condition(out.status, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
  });

  it('the younger of two offers on one path gets PathConflict and is not published', () => {
    const older = manifest('foo', {}, { namespace: 'a', creationTimestamp: '2026-01-01T00:00:00Z' });
    const younger = manifest('foo', {}, { namespace: 'b', creationTimestamp: '2026-02-01T00:00:00Z' });
    const loser = reconcileOffer(input(decide([older, younger], 'b/foo')));
    expect(condition(loser.status, 'PathConflict')).toMatchObject({ status: 'True', reason: 'PathConflict' });
    expect(condition(loser.status, 'PathConflict').message).toContain('a/foo');
    expect(condition(loser.status, 'Ready')).toMatchObject({ status: 'False', reason: 'PathConflict' });
    expect(loser.route).toBe('absent');
    const winner = reconcileOffer(input(decide([older, younger], 'a/foo')));
    expect(condition(winner.status, 'PathConflict')).toMatchObject({ status: 'False' });
  });

  it('with route management off RoutePublished is True and says why', () => {
    const out = reconcileOffer(input(decide([manifest('qwen')], 'llm/qwen', { route: false }), { routeManagement: false }));
    expect(condition(out.status, 'RoutePublished')).toMatchObject({ status: 'True', reason: 'RouteManagementDisabled' });
  });

  it('an offer whose price rounds to zero is not published and says so', () => {
    const out = reconcileOffer(input(decide([manifest('qwen', { payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.0000001' } } })], 'llm/qwen')));
    expect(condition(out.status, 'PaymentGateReady')).toMatchObject({ status: 'False', reason: 'PaymentUnresolved' });
    expect(out.route).toBe('absent');
  });
});
