import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServiceOffer, type ServiceOffer } from '../../../core/index.js';
import { offerManifest, waitFor } from '../../test/agent/support.js';
import { HealthProber, MAX_CONCURRENT_PROBES } from './health.js';

/** An upstream that answers /health after `delayMs` and records how many requests overlapped. */
async function slowUpstream(delayMs: number) {
  let inFlight = 0;
  let maxInFlight = 0;
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    paths.push(req.url ?? '');
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxInFlight: () => maxInFlight,
    paths,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function offer(name: string, upstreamUrl: string, healthPath = '/health'): ServiceOffer {
  const parsed = parseServiceOffer(offerManifest(name, upstreamUrl, { upstream: { service: 'ollama', port: 11434, healthPath } }));
  if (!parsed.ok) throw new Error('test offer is invalid');
  return parsed.offer;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('HealthProber', () => {
  it(`probes many offers with at most ${MAX_CONCURRENT_PROBES} requests in flight, and every offer gets a result`, async () => {
    const upstream = await slowUpstream(15);
    cleanups.push(upstream.close);
    const changed = new Set<string>();
    const prober = new HealthProber({ intervalMs: 60_000, timeoutMs: 2_000, onChange: (key) => changed.add(key) });
    cleanups.push(() => prober.stop());
    const offers = Array.from({ length: 100 }, (_, i) => ({ key: `llm/o${i}`, offer: offer(`o${i}`, upstream.url) }));
    prober.sync(offers);
    await waitFor('all 100 probed', () => changed.size === 100, 5_000);
    expect(upstream.maxInFlight()).toBeLessThanOrEqual(MAX_CONCURRENT_PROBES);
    expect(upstream.maxInFlight()).toBeGreaterThan(1);
    expect(offers.every(({ key }) => prober.get(key)?.healthy === true)).toBe(true);
  });

  it('a health URL changed while the old one is being probed is probed at once, not a round later', async () => {
    const upstream = await slowUpstream(100);
    cleanups.push(upstream.close);
    const prober = new HealthProber({ intervalMs: 60_000, timeoutMs: 2_000, onChange: () => undefined });
    cleanups.push(() => prober.stop());
    prober.sync([{ key: 'llm/a', offer: offer('a', upstream.url, '/old') }]);
    await waitFor('old URL requested', () => upstream.paths.includes('/old'), 2_000);
    prober.sync([{ key: 'llm/a', offer: offer('a', upstream.url, '/new') }]);
    const result = await waitFor('result for the new URL', () => prober.get('llm/a'), 2_000);
    expect(result.message).toContain('/new');
    expect(upstream.paths.filter((p) => p === '/new')).toHaveLength(1);
  });

  it('settled() resolves when every offer has its first result, or after the wait when one is still out', async () => {
    const upstream = await slowUpstream(80);
    cleanups.push(upstream.close);
    const prober = new HealthProber({ intervalMs: 60_000, timeoutMs: 2_000, onChange: () => undefined });
    cleanups.push(() => prober.stop());
    await prober.settled(5_000);
    prober.sync([{ key: 'llm/a', offer: offer('a', upstream.url) }, { key: 'llm/b', offer: offer('b', upstream.url) }]);
    const started = Date.now();
    await prober.settled(20);
    expect(Date.now() - started).toBeLessThan(70);
    expect(prober.get('llm/a')).toBeUndefined();
    await prober.settled(5_000);
    expect(prober.get('llm/a')?.healthy && prober.get('llm/b')?.healthy).toBe(true);
    // A new health URL waits for its first result again; a removed offer is no longer waited for.
    prober.sync([{ key: 'llm/a', offer: offer('a', upstream.url, '/other') }]);
    await prober.settled(5_000);
    expect(prober.get('llm/a')?.message).toContain('/other');
  });
});
