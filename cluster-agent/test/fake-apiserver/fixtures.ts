import { ApiException } from '@kubernetes/client-node';

/** A minimal valid ServiceOffer body for tests. */
export function offerBody(name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name },
    spec: {
      upstream: { service: 'ollama' },
      payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } },
      ...spec,
    },
  };
}

export const SO = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers' } as const;

/** The Status body of a failed client call (the client keeps it as a JSON string). */
export async function apiFailure(promise: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    // The generated client drops the body for codes its spec does not list (e.g. 401).
    if (err.body === undefined || err.body === null) return { code: err.code, reason: '', message: '' };
    const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    const status = body as { reason?: string; message?: string; kind?: string };
    if (status.kind !== 'Status') throw new Error(`error body is not a Status: ${String(err.body)}`);
    return { code: err.code, reason: status.reason ?? '', message: status.message ?? '' };
  }
  throw new Error('expected the API call to fail');
}

/** Poll `check` until it returns true, bounded. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
