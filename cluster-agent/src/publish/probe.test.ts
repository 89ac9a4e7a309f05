import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServiceOffer, type ServiceOffer } from '../../../core/index.js';
import { UpstreamUrlError, probeOffers, probeUpstream, upstreamBaseUrl } from './probe.js';

function makeOffer(opts: { annotation?: string; healthPath?: string; namespace?: string; upstreamNamespace?: string }): ServiceOffer {
  const parsed = parseServiceOffer({
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: {
      name: 'o',
      namespace: opts.namespace ?? 'shop',
      ...(opts.annotation ? { annotations: { 'obol.org/upstream-url': opts.annotation } } : {}),
    },
    spec: {
      upstream: { service: 'ollama', ...(opts.upstreamNamespace ? { namespace: opts.upstreamNamespace } : {}), ...(opts.healthPath ? { healthPath: opts.healthPath } : {}) },
      payment: { network: 'base-sepolia', payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', price: { perRequest: '1' } },
    },
  });
  if (!parsed.ok) throw new Error('fixture offer is invalid');
  return parsed.offer;
}

let server: Server;
let base: string;
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === '/health') return void res.writeHead(204).end();
    if (req.url === '/sick') return void res.writeHead(500).end('down');
    if (req.url === '/moved') return void res.writeHead(302, { location: '/health' }).end();
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(), 2_000);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('upstreamBaseUrl', () => {
  it('uses the obol.org/upstream-url annotation, without a trailing slash', () => {
    expect(upstreamBaseUrl(makeOffer({ annotation: 'http://127.0.0.1:9000/' }))).toBe('http://127.0.0.1:9000');
  });
  it('falls back to the in-cluster Service DNS name in the offer namespace, or the upstream namespace', () => {
    expect(upstreamBaseUrl(makeOffer({}))).toBe('http://ollama.shop.svc.cluster.local:11434');
    expect(upstreamBaseUrl(makeOffer({ upstreamNamespace: 'models' }))).toBe('http://ollama.models.svc.cluster.local:11434');
  });
  it('rejects an annotation that is not an http(s) URL', () => {
    expect(() => upstreamBaseUrl(makeOffer({ annotation: 'ftp://x' }))).toThrow(UpstreamUrlError);
    expect(() => upstreamBaseUrl(makeOffer({ annotation: 'not a url' }))).toThrow(/must be an http\(s\) URL/);
  });
});

describe('probeUpstream', () => {
  it('a 2xx answer on the health path is healthy', async () => {
    const result = await probeUpstream(makeOffer({ annotation: base }));
    expect(result).toEqual({ healthy: true, url: `${base}/health`, status: 204 });
    expect(hits).toContain('GET /health');
  });
  it('a 5xx or a redirect is unhealthy, with the status in the detail', async () => {
    expect(await probeUpstream(makeOffer({ annotation: base, healthPath: '/sick' }))).toMatchObject({ healthy: false, status: 500, detail: 'health check answered 500' });
    expect(await probeUpstream(makeOffer({ annotation: base, healthPath: '/moved' }))).toMatchObject({ healthy: false, status: 302 });
  });
  it('no answer within the timeout is unhealthy', async () => {
    const started = Date.now();
    const result = await probeUpstream(makeOffer({ annotation: base, healthPath: '/slow' }), { timeoutMs: 150 });
    expect(result).toMatchObject({ healthy: false, detail: 'health check no answer within 150 ms' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });
  it('a refused connection is unhealthy', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await probeUpstream(makeOffer({ annotation: `http://127.0.0.1:${port}` }));
    expect(result).toMatchObject({ healthy: false, detail: 'health check unreachable (ECONNREFUSED)' });
  });
  it('a bad annotation is unhealthy, not a crash', async () => {
    expect(await probeUpstream(makeOffer({ annotation: 'ftp://x' }))).toMatchObject({ healthy: false, detail: expect.stringContaining('obol.org/upstream-url') });
  });
  it('probeOffers maps each key to its own result', async () => {
    const results = await probeOffers([
      { key: 'a/up', offer: makeOffer({ annotation: base }) },
      { key: 'a/down', offer: makeOffer({ annotation: base, healthPath: '/sick' }) },
    ]);
    expect([...results].map(([key, r]) => [key, r.healthy])).toEqual([['a/up', true], ['a/down', false]]);
  });
});
