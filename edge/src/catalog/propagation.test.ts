import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatRfc3339 } from '../../../core/index.js';
import { signSnapshotBody } from '../../../core/signature.js';
import { durableObjectNamespace, startEdge, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars, snapshotBody, TEST_KEYS } from '../../../test/support/snapshots.js';
import { CATALOG_STORE_NAME } from './store-client.js';
import type { PushCandidate } from './store.js';

/**
 * SPEC §4 propagation through the real worker: the isolate that accepted a push serves it at once;
 * a snapshot stored by someone else (another isolate, here: a direct call on the Durable Object)
 * shows within about a second, because each isolate re-checks the stored sequence.
 */

let edge: TestEdge;
beforeAll(async () => { edge = await startEdge({ vars: signerVars() }); });
afterAll(async () => { await edge.dispose(); });

async function listed(): Promise<string[]> {
  const res = await edge.fetch('/api/services.json');
  if (res.status !== 200) return [];
  const doc = (await res.json()) as { services: { name: string }[] };
  return doc.services.map((s) => s.name);
}

/** Store a snapshot as another isolate would: straight into the CatalogStore, bypassing this isolate. */
async function storeElsewhere(sequence: number, name: string): Promise<void> {
  const body = new TextEncoder().encode(snapshotBody(makeSnapshot({ sequence, offers: [sampleOffer({ name })] })));
  const candidate: PushCandidate = {
    body,
    signature: await signSnapshotBody({ body, privateKey: TEST_KEYS.signer }),
    sequence,
    issuedAt: formatRfc3339(Date.now()),
    receivedAt: formatRfc3339(Date.now()),
    offers: 1,
  };
  const ns = await durableObjectNamespace(edge, 'CATALOG');
  const stub = ns.get(ns.idFromName(CATALOG_STORE_NAME));
  expect((await stub.accept(candidate)).outcome).toBe('accepted');
}

it('serves a push at once from the isolate that accepted it', async () => {
  expect((await edge.fetch('/api/services.json')).status).toBe(503);
  expect((await pushSnapshot(edge, makeSnapshot({ sequence: 1, offers: [sampleOffer({ name: 'alpha' })] }))).status).toBe(200);
  expect(await listed()).toEqual(['alpha']);
});

it('shows a snapshot stored by another isolate within about a second', async () => {
  await storeElsewhere(2, 'beta');
  const started = Date.now();
  let names = await listed();
  while (!names.includes('beta') && Date.now() - started < 2500) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    names = await listed();
  }
  const delay = Date.now() - started;
  expect(names).toEqual(['beta']);
  // The recheck interval is 1 s; allow scheduling slack on a loaded 2-core machine.
  expect(delay).toBeLessThan(1500);
});
