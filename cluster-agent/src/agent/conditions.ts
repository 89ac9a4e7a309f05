import type { OfferCondition } from '../../../core/index.js';

/** Condition types the agent writes on a ServiceOffer (SPEC §7). */
export const CONDITION_TYPES = ['UpstreamHealthy', 'RoutePublished', 'PaymentGateReady', 'PathConflict', 'Draining', 'Ready'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface DesiredCondition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/**
 * Stamp desired conditions with `lastTransitionTime`: kept from the previous condition of the same
 * type while its status is unchanged, `now` when the status flips (Kubernetes API conventions).
 */
export function stampConditions(
  desired: readonly DesiredCondition[],
  previous: readonly OfferCondition[] | undefined,
  params: { now: string; generation: number | undefined },
): OfferCondition[] {
  return desired.map((condition) => {
    const before = previous?.find((p) => p.type === condition.type);
    const lastTransitionTime = before && before.status === condition.status ? before.lastTransitionTime : params.now;
    return {
      type: condition.type,
      status: condition.status,
      reason: condition.reason,
      message: condition.message,
      lastTransitionTime,
      ...(params.generation !== undefined ? { observedGeneration: params.generation } : {}),
    };
  });
}

/** `Ready` summarises every other condition except `Draining` (SPEC §7). */
export function readyCondition(others: readonly DesiredCondition[]): DesiredCondition {
  const wanted: Record<string, 'True' | 'False'> = {
    UpstreamHealthy: 'True',
    RoutePublished: 'True',
    PaymentGateReady: 'True',
    PathConflict: 'False',
  };
  const failing = others.find((c) => c.type in wanted && c.status !== wanted[c.type]);
  if (!failing) return { type: 'Ready', status: 'True', reason: 'Ready', message: 'the offer is published and the edge acknowledged it' };
  return { type: 'Ready', status: 'False', reason: failing.reason, message: `${failing.type}: ${failing.message}` };
}
