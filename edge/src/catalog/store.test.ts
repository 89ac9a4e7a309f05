import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recoverSnapshotSigner, signerAddress } from '../../../core/signature.js';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, sampleOffers, signerVars, snapshotBody, TEST_KEYS } from '../../../test/support/snapshots.js';

const persistDir = mkdtempSync(join(tmpdir(), 'obol-catalog-store-'));
let edge: TestEdge;

beforeAll(async () => { edge = await startEdge({ vars: signerVars(), persistDir }); });
afterAll(async () => {
  await edge.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

async function status(target: TestEdge): Promise<{ sequence: number; offers: number; issuedAt: string | null; receivedAt: string | null }> {
  return (await (await target.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number; offers: number; issuedAt: string | null; receivedAt: string | null };
}

it('round-trips a 10,000-offer snapshot larger than one Durable Object row intact', async () => {
  const base = sampleOffer();
  // Real entries, built once by the core planner, then renamed: planning 10,000 offers is not under test.
  const offers = Array.from({ length: 10_000 }, (_, i) => {
    const name = `svc-${String(i).padStart(5, '0')}`;
    return { ...base, key: `llm/${name}`, name, path: `/services/${name}` };
  });
  const body = snapshotBody(makeSnapshot({ sequence: 10, offers }));
  // A Durable Object row holds at most 2 MB, so this body only fits chunked.
  expect(Buffer.byteLength(body)).toBeGreaterThan(2 * 1024 * 1024);

  const res = await pushSnapshot(edge, body);
  expect(res.status).toBe(200);
  expect(await status(edge)).toMatchObject({ sequence: 10, offers: 10_000 });
  const back = await edge.fetch('/_obol/v1/catalog');
  const bytes = new Uint8Array(await back.arrayBuffer());
  expect(Buffer.from(bytes).equals(Buffer.from(body))).toBe(true);
  expect(await recoverSnapshotSigner({ body: bytes, signature: back.headers.get('obol-signature') ?? '' })).toBe(signerAddress(TEST_KEYS.signer));
});

it('replaces a large body with a smaller one without leftover chunks', async () => {
  const body = snapshotBody(makeSnapshot({ sequence: 11, offers: sampleOffers(3) }));
  expect((await pushSnapshot(edge, body)).status).toBe(200);
  const back = await edge.fetch('/_obol/v1/catalog');
  expect(await back.text()).toBe(body);
});

it('lets exactly one of two concurrent pushes with the same sequence win', async () => {
  const a = snapshotBody(makeSnapshot({ sequence: 20, offers: [sampleOffer({ name: 'alpha' })] }));
  const b = snapshotBody(makeSnapshot({ sequence: 20, offers: [sampleOffer({ name: 'beta' })] }));
  for (let round = 0; round < 3; round++) {
    const sequence = 20 + round;
    const [ra, rb] = await Promise.all([
      pushSnapshot(edge, a.replace('"sequence":20', `"sequence":${sequence}`)),
      pushSnapshot(edge, b.replace('"sequence":20', `"sequence":${sequence}`)),
    ]);
    const codes = [ra.status, rb.status].sort();
    expect(codes).toEqual([200, 409]);
    const winner = ra.status === 200 ? a : b;
    const stored = await (await edge.fetch('/_obol/v1/catalog')).text();
    expect(stored).toBe(winner.replace('"sequence":20', `"sequence":${sequence}`));
  }
});

it('serves the last accepted snapshot after the edge restarts over the same storage', async () => {
  const body = snapshotBody(makeSnapshot({ sequence: 50, offers: sampleOffers(2) }));
  expect((await pushSnapshot(edge, body)).status).toBe(200);
  const before = await status(edge);
  await edge.dispose();

  edge = await startEdge({ vars: signerVars(), persistDir });
  expect(await status(edge)).toEqual(before);
  const back = await edge.fetch('/_obol/v1/catalog');
  expect(back.status).toBe(200);
  expect(await back.text()).toBe(body);
  // The restarted edge still refuses a rollback: the sequence survived too.
  expect((await pushSnapshot(edge, makeSnapshot({ sequence: 49 }))).status).toBe(409);
});
