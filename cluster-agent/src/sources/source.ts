import type { PlanInput } from '../../../core/index.js';
import type { OfferStatus } from '../agent/reconcile.js';

/**
 * What a source knows of one ServiceOffer. Sources only feed the controller: they keep the current
 * set of offers and report changed keys; every decision is made by the reconcile function.
 */
export interface OfferRecord {
  readonly key: string;
  /** The offer parsed and checked by core `parseServiceOffer` (problems for invalid manifests). */
  readonly input: PlanInput;
  /** Kubernetes object facts (kube source only). */
  readonly object?: KubeObjectFacts;
}

export interface KubeObjectFacts {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string | undefined;
  readonly generation: number | undefined;
  readonly resourceVersion: string | undefined;
  readonly deleting: boolean;
  readonly finalizers: readonly string[];
  /** The status as stored, for skip-when-unchanged and lastTransitionTime. */
  readonly status: OfferStatus | undefined;
}

export interface OfferSource {
  readonly kind: 'kube' | 'dir';
  /** Start watching; resolves once the first full listing is in (the source is synced). */
  start(onChange: (key: string) => void): Promise<void>;
  readonly synced: boolean;
  records(): readonly OfferRecord[];
  get(key: string): OfferRecord | undefined;
  stop(): Promise<void>;
}

export class SourceConfigError extends Error {
  readonly reason = 'invalid_source';
  constructor(message: string) {
    super(message);
    this.name = 'SourceConfigError';
  }
}
