import { UPSTREAM_URL_ANNOTATION, type ServiceOffer } from '../../../core/index.js';

/**
 * Upstream health (SPEC §7 `UpstreamHealthy`): GET `<base><healthPath>` with a short timeout; any
 * 2xx is healthy, everything else (other status, redirect, refused, timeout) is not. The base URL
 * is the `obol.org/upstream-url` annotation when set (dir source, outside a cluster), else the
 * in-cluster Service DNS name.
 */

export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

export class UpstreamUrlError extends Error {
  readonly reason = 'invalid_upstream_url';
  constructor(readonly value: string) {
    super(`annotation ${UPSTREAM_URL_ANNOTATION} must be an http(s) URL, got "${value}"`);
    this.name = 'UpstreamUrlError';
  }
}

export interface ProbeResult {
  readonly healthy: boolean;
  /** The URL probed, when one could be built. */
  readonly url?: string;
  readonly status?: number;
  /** Why the upstream is not healthy, in words. */
  readonly detail?: string;
}

type OfferUpstream = Pick<ServiceOffer, 'metadata' | 'spec'>;

/** Base URL of an offer's upstream, without a trailing slash. Throws UpstreamUrlError on a bad annotation. */
export function upstreamBaseUrl(offer: OfferUpstream): string {
  const annotated = offer.metadata.annotations?.[UPSTREAM_URL_ANNOTATION];
  if (annotated !== undefined) {
    let url: URL;
    try {
      url = new URL(annotated);
    } catch {
      throw new UpstreamUrlError(annotated);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UpstreamUrlError(annotated);
    return annotated.replace(/\/+$/, '');
  }
  const { service, namespace, port } = offer.spec.upstream;
  return `http://${service}.${namespace ?? offer.metadata.namespace}.svc.cluster.local:${port}`;
}

/** The health URL of an offer: base URL + `spec.upstream.healthPath`. */
export function upstreamHealthUrl(offer: OfferUpstream): string {
  return `${upstreamBaseUrl(offer)}${offer.spec.upstream.healthPath}`;
}

export interface ProbeOptions {
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export async function probeUpstream(offer: OfferUpstream, options: ProbeOptions = {}): Promise<ProbeResult> {
  let url: string;
  try {
    url = upstreamHealthUrl(offer);
  } catch (error) {
    return { healthy: false, detail: (error as Error).message };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  try {
    const res = await (options.fetch ?? fetch)(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    const healthy = res.status >= 200 && res.status < 300;
    return healthy ? { healthy, url, status: res.status } : { healthy, url, status: res.status, detail: `health check answered ${res.status}` };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const detail = timedOut ? `no answer within ${timeoutMs} ms` : `unreachable${cause ? ` (${cause})` : ''}`;
    return { healthy: false, url, detail: `health check ${detail}` };
  }
}

/** Probe many offers concurrently; the result maps offer key → ProbeResult. */
export async function probeOffers(
  offers: ReadonlyArray<{ key: string; offer: OfferUpstream }>,
  options: ProbeOptions = {},
): Promise<Map<string, ProbeResult>> {
  const results = await Promise.all(offers.map(async ({ key, offer }) => [key, await probeUpstream(offer, options)] as const));
  return new Map(results);
}
