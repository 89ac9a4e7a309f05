import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UPSTREAM_URL_ANNOTATION, type ServiceOffer } from '../../../core/index.js';

/**
 * Upstream health (SPEC §7 `UpstreamHealthy`): GET `<base><healthPath>` with a short timeout; any
 * 2xx is healthy, everything else (other status, redirect, refused, timeout) is not. The base URL
 * is the `obol.org/upstream-url` annotation when set (dir source, outside a cluster), else the
 * in-cluster Service DNS name. Probes use `node:http(s)` and read only the status line: at 10,000
 * offers every `--health-interval`, `fetch` cost about three times the CPU and garbage.
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
  /** Probe through this fetch instead of `node:http(s)` (an embedding's own transport). */
  readonly fetch?: typeof fetch;
}

class ProbeTimeoutError extends Error {
  constructor() {
    super('probe timed out');
    this.name = 'ProbeTimeoutError';
  }
}

/** GET `url` and resolve with the answer's status as soon as its head arrives; redirects are not followed. */
function headStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'GET' }, (res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      // The status is all a probe needs: never read (or wait for) the body.
      res.on('error', () => undefined);
      res.destroy();
    });
    const timer = setTimeout(() => req.destroy(new ProbeTimeoutError()), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

async function fetchStatus(doFetch: typeof fetch, url: string, timeoutMs: number): Promise<number> {
  try {
    const res = await doFetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status;
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') throw new ProbeTimeoutError();
    throw Object.assign(new Error((error as Error).message), { code: (error as { cause?: { code?: string } }).cause?.code });
  }
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
    const status = options.fetch ? await fetchStatus(options.fetch, url, timeoutMs) : await headStatus(url, timeoutMs);
    const healthy = status >= 200 && status < 300;
    return healthy ? { healthy, url, status } : { healthy, url, status, detail: `health check answered ${status}` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail = error instanceof ProbeTimeoutError ? `no answer within ${timeoutMs} ms` : `unreachable${code ? ` (${code})` : ''}`;
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
