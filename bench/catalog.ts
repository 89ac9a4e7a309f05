import { signSnapshotBody, SIGNATURE_HEADER } from '../core/signature.js';
import type { CatalogSnapshot, SnapshotOffer } from '../core/index.js';
import { makeSnapshot, sampleOffers, snapshotBody, TEST_KEYS, TEST_PAY_TO } from '../test/support/snapshots.js';
import { BENCH_PUBLIC_BASE_URL } from './workers.js';

/** Ways to pay each bench offer: 1 (Base Sepolia USDC, as ever) or 3 (then Base and Ethereum USDC at the same price, issue 11). */
export type BenchPaymentOptions = 1 | 3;

/** Bench catalogs: real snapshot entries built by core's planner, signed and pushed like the agent does. */
export function benchOffers(count: number, paymentOptions: BenchPaymentOptions = 1): SnapshotOffer[] {
  const alternatives = paymentOptions === 3 ? [{ network: 'base' }, { network: 'ethereum' }] : undefined;
  return sampleOffers(count, {
    namespace: 'bench',
    spec: {
      registration: { enabled: true, description: 'bench offer', skills: ['chat'], domains: ['ai'] },
      ...(alternatives ? { payment: { network: 'base-sepolia', payTo: TEST_PAY_TO, price: { perRequest: '0.001' }, alternatives } } : {}),
    },
  });
}

export function benchSnapshot(offers: SnapshotOffer[], sequence: number): CatalogSnapshot {
  return makeSnapshot({ offers, sequence, audience: BENCH_PUBLIC_BASE_URL, identity: { name: 'Bench Seller', registrations: [] } });
}

export interface SignedPush {
  readonly body: Uint8Array;
  readonly signature: string;
}

export async function signPush(snapshot: CatalogSnapshot): Promise<SignedPush> {
  const body = new TextEncoder().encode(snapshotBody(snapshot));
  return { body, signature: await signSnapshotBody({ body, privateKey: TEST_KEYS.signer }) };
}

export function sendPush(url: string, push: SignedPush): Promise<Response> {
  return fetch(`${url}/_obol/v1/catalog`, {
    method: 'PUT',
    body: push.body,
    headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: push.signature },
  });
}

/** Push and insist on acceptance: a bench over a rejected catalog would measure error pages. */
export async function pushCatalog(url: string, snapshot: CatalogSnapshot): Promise<void> {
  const res = await sendPush(url, await signPush(snapshot));
  if (res.status !== 200) throw new Error(`catalog push answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}
