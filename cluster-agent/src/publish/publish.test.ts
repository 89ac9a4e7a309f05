import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { closeServer } from '../../../test/support/http-server.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogSnapshot, SNAPSHOT_SCHEMA_VERSION } from '../../../core/index.js';
import { recoverSnapshotSigner, signerAddress, SIGNATURE_HEADER } from '../../../core/signature.js';
import { startEdge, TEST_PUBLIC_BASE_URL, type TestEdge } from '../../../test/support/edge.js';
import { signerVars, TEST_KEYS } from '../../../test/support/snapshots.js';
import { EdgePushError, EdgeUnreachableError } from './edge-client.js';
import { EMPTY_IDENTITY, loadIdentity } from './identity.js';
import { publishOnce, type PublishOnceParams } from './publish.js';
import { catalogSigner } from './signer.js';
import { formatPublishReport } from '../cli/commands/publish.js';

const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const offer = (name: string, upstream: string, extra = '') => `apiVersion: obol.org/v1alpha1
kind: ServiceOffer
metadata:
  name: ${name}
  namespace: shop
  annotations: { obol.org/upstream-url: "${upstream}" }
spec:
  upstream: { service: ${name} }
  payment: { network: base-sepolia, payTo: "${PAY_TO}", price: { perRequest: "0.002" } }
${extra}`;

let edge: TestEdge;
let upstream: Server;
let dir: string;
let deadUrl: string;
const signer = catalogSigner(TEST_KEYS.signer);

async function status(): Promise<{ sequence: number; audience: string; offers: number }> {
  return (await edge.fetch('/_obol/v1/catalog/status')).json() as Promise<{ sequence: number; audience: string; offers: number }>;
}

const params = (over: Partial<PublishOnceParams> = {}): PublishOnceParams => ({ offersDir: dir, edgeUrl: edge.url, signer, identity: EMPTY_IDENTITY, probeTimeoutMs: 500, ...over });

beforeAll(async () => {
  upstream = createServer((req, res) => void res.writeHead(req.url === '/health' ? 200 : 404).end());
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const healthyUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise((resolve) => dead.close(resolve));
  dir = mkdtempSync(join(tmpdir(), 'obol-publish-'));
  writeFileSync(join(dir, 'offers.yaml'), [offer('alpha', healthyUrl), offer('beta', deadUrl), offer('gamma', healthyUrl, '  drainAt: "2030-01-01T00:00:00Z"\n')].join('---\n'));
  writeFileSync(join(dir, 'broken.yaml'), 'kind: ServiceOffer\nmetadata: { name: [\n');
  edge = await startEdge({ vars: signerVars(TEST_KEYS.signer) });
});
afterAll(async () => {
  await edge.dispose();
  await closeServer(upstream);
  rmSync(dir, { recursive: true, force: true });
});

describe('publishOnce against the real edge', () => {
  it('publishes healthy offers, keeps the unhealthy one unpublished, and the edge serves the signed body', async () => {
    const before = Date.now();
    const identity = await loadIdentity(join(import.meta.dirname, '..', '..', '..', 'examples', 'identity.yaml'));
    const result = await publishOnce(params({ identity }));
    // The edge is reached at 127.0.0.1 but its audience comes from its status: its PUBLIC_BASE_URL.
    expect(result.audience).toBe(TEST_PUBLIC_BASE_URL);
    expect(result.sequence).toBeGreaterThanOrEqual(before);
    expect(result.previousSequence).toBe(0);
    expect(result.signer).toBe(signerAddress(TEST_KEYS.signer));
    const byKey = new Map(result.plan.decisions.map((d) => [d.key, d]));
    expect(byKey.get('shop/alpha')?.verdict.published).toBe(true);
    expect(byKey.get('shop/beta')?.verdict).toMatchObject({ published: false, reason: 'UpstreamUnhealthy' });
    expect(result.probes.get('shop/beta')?.healthy).toBe(false);
    expect(byKey.get('shop/gamma')?.verdict).toMatchObject({ published: true, phase: 'draining' });
    expect(byKey.get('default/file:broken.yaml')?.invalid).toMatch(/cannot parse broken\.yaml/);

    expect(await status()).toMatchObject({ sequence: result.sequence, audience: TEST_PUBLIC_BASE_URL, offers: 3 });
    const stored = await edge.fetch('/_obol/v1/catalog');
    const body = new Uint8Array(await stored.arrayBuffer());
    const signature = stored.headers.get(SIGNATURE_HEADER) ?? '';
    expect(await recoverSnapshotSigner({ body, signature })).toBe(signerAddress(TEST_KEYS.signer));
    const snapshot = CatalogSnapshot.parse(JSON.parse(new TextDecoder().decode(body)));
    expect(snapshot.identity.name).toBe('Obol demo seller');
    expect(snapshot.schemaVersion).toBe(SNAPSHOT_SCHEMA_VERSION);
    expect(snapshot.offers.map((o) => [o.key, o.upstreamHealthy, o.drainEndsAt !== undefined])).toEqual([
      ['shop/alpha', true, false],
      ['shop/beta', false, false],
      ['shop/gamma', true, true],
    ]);
    expect(snapshot.offers[0]?.requirement?.amount).toBe('2000');
    expect(JSON.stringify(snapshot)).not.toContain('127.0.0.1');
  });

  it('picks sequence = max(edge sequence + 1, now)', async () => {
    const edgeSeq = (await status()).sequence;
    // A clock behind the edge's sequence: the edge's sequence + 1 wins.
    const behind = await publishOnce(params({ now: () => edgeSeq - 5_000 }));
    expect(behind.sequence).toBe(edgeSeq + 1);
    expect(behind.previousSequence).toBe(edgeSeq);
    // A clock ahead (within the edge's 5 min skew): now wins.
    const aheadMs = Date.now() + 60_000;
    const ahead = await publishOnce(params({ now: () => aheadMs }));
    expect(ahead.sequence).toBe(aheadMs);
    expect((await status()).sequence).toBe(aheadMs);
  });

  it('assume-healthy publishes an offer whose upstream is down, without probing', async () => {
    const result = await publishOnce(params({ assumeHealthy: true, now: () => Date.now() + 120_000 }));
    expect(result.probes.size).toBe(0);
    expect(result.plan.decisions.find((d) => d.key === 'shop/beta')?.verdict.published).toBe(true);
  });

  it('a wrong --audience is refused by the edge with its error, and changes nothing', async () => {
    const before = await status();
    const error = await publishOnce(params({ audience: 'https://other.example', now: () => Date.now() + 180_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EdgePushError);
    expect(error).toMatchObject({ status: 400, body: { error: 'wrong_audience' } });
    expect((error as Error).message).toMatch(/^edge refused the snapshot \(HTTP 400\): wrong_audience: /);
    expect(await status()).toEqual(before);
  });

  it('a key the edge does not trust is refused with 401 and changes nothing', async () => {
    const before = await status();
    const error = await publishOnce(params({ signer: catalogSigner(TEST_KEYS.stranger), now: () => Date.now() + 200_000 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'EdgePushError', status: 401, body: { error: 'unknown_signer' } });
    expect(await status()).toEqual(before);
  });

  it('an unreachable edge is a named error', async () => {
    await expect(publishOnce(params({ edgeUrl: deadUrl, edgeTimeoutMs: 1_000 }))).rejects.toBeInstanceOf(EdgeUnreachableError);
  });

  it('reports an offer that is both unhealthy and unpriced by the first rule it fails in SPEC order: unhealthy', async () => {
    const only = mkdtempSync(join(tmpdir(), 'obol-publish-order-'));
    try {
      // 0.0000001 USDC rounds to 0 atomic units: the payment cannot resolve; the upstream is down too.
      writeFileSync(join(only, 'delta.yaml'), offer('delta', deadUrl).replace('perRequest: "0.002"', 'perRequest: "0.0000001"'));
      const result = await publishOnce(params({ offersDir: only }));
      const decision = result.plan.decisions.find((d) => d.key.endsWith('delta'));
      expect(decision?.verdict).toMatchObject({ published: false, reason: 'UpstreamUnhealthy' });
      const line = formatPublishReport(result).split('\n').find((l) => l.includes('delta'));
      expect(line).toMatch(/^\s+unhealthy\s+\S*delta/);
    } finally {
      rmSync(only, { recursive: true, force: true });
    }
  });
});
