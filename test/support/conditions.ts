/** An offer's conditions as `type → status/reason`, the way the tests compare them. */
export function conditionSummary(conditions: readonly { type: string; status: string; reason?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason ?? ''}`]));
}

/** The conditions of a healthy, published, active offer. */
export const READY_CONDITIONS = {
  UpstreamHealthy: 'True/Healthy',
  RoutePublished: 'True/RoutePublished',
  PaymentGateReady: 'True/Acknowledged',
  PathConflict: 'False/PathOwned',
  Draining: 'False/Active',
  Ready: 'True/Ready',
} as const;
