import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertMoneyReconciles, errorOf, startDrillStack, type DrillStack } from './support.js';

/** Drill: the edge restarts over the same Durable Object state (snapshot store and nonce ledger). */
let s: DrillStack;
let before: Map<`0x${string}`, bigint>;
let settledHeaders: Record<string, string>;
let sequence: number;
const PRICE = 1000n;

beforeAll(async () => {
  s = await startDrillStack({ payers: 2 });
  before = await s.balances();
}, 30_000);
afterAll(async () => { await s?.dispose(); }, 15_000);

interface Status { sequence: number; offers: number }

describe('edge restarted', () => {
  it('settles payments before the restart', async () => {
    const payer = s.payers[0]!;
    settledHeaders = await s.sign(payer);
    const res = await s.paidGet(s.offer.path, settledHeaders, payer.address);
    expect(res.status).toBe(200);
    sequence = ((await (await s.edge.fetch('/_obol/v1/catalog/status')).json()) as Status).sequence;
    expect(sequence).toBeGreaterThan(0);
  }, 20_000);

  it('after the restart serves the same catalog without a new push', async () => {
    const oldUrl = s.edge.url;
    await s.restartEdge();
    expect(s.edge.url).not.toBe(oldUrl);
    const status = (await (await s.edge.fetch('/_obol/v1/catalog/status')).json()) as Status;
    expect(status).toMatchObject({ sequence, offers: 1 });
    const services = (await (await s.edge.fetch('/api/services.json')).json()) as { services: Array<{ endpoint: string }> };
    expect(services.services.map((x) => new URL(x.endpoint).pathname)).toEqual([s.offer.path]);
    const challenge = await s.edge.fetch(s.offer.path);
    expect(challenge.status).toBe(402);
  }, 20_000);

  it('still refuses the authorization settled before the restart as a replay, and never forwards it', async () => {
    const hits = s.origin.hits.length;
    const replay = await s.paidGet(s.offer.path, settledHeaders, s.payers[0]!.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(s.origin.hits.length).toBe(hits);
  }, 20_000);

  it('takes new payments after the restart, and money matches the delivered responses exactly', async () => {
    const payer = s.payers[1]!;
    const res = await s.paidGet(s.offer.path, await s.sign(payer, { version: 1 }), payer.address);
    expect(res.status).toBe(200);
    expect(s.ledger.total()).toBe(2);
    assertMoneyReconciles({ deliveredByPayer: s.ledger.deliveredByPayer, price: PRICE, balancesBefore: before, balancesAfter: await s.balances(), settlements: s.settlements() });
  }, 20_000);
});
