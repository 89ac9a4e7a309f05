import { describe, expect, it } from 'vitest';
import { assertMoneyReconciles, errorOf, useDrillStack } from './support.js';

/** Drill: the edge restarts over the same Durable Object state (snapshot store and nonce ledger). */
const drill = useDrillStack({ payers: 2 });
let settledHeaders: Record<string, string>;
let sequence: number;
const PRICE = 1000n;


interface Status { sequence: number; offers: number }

describe('edge restarted', () => {
  it('settles payments drill.before the restart', async () => {
    const payer = drill.stack.payers[0]!;
    settledHeaders = await drill.stack.sign(payer);
    const res = await drill.stack.paidGet(drill.stack.offer.path, settledHeaders, payer.address);
    expect(res.status).toBe(200);
    sequence = ((await (await drill.stack.edge.fetch('/_obol/v1/catalog/status')).json()) as Status).sequence;
    expect(sequence).toBeGreaterThan(0);
  }, 20_000);

  it('after the restart serves the same catalog without a new push', async () => {
    const oldUrl = drill.stack.edge.url;
    await drill.stack.restartEdge();
    expect(drill.stack.edge.url).not.toBe(oldUrl);
    const status = (await (await drill.stack.edge.fetch('/_obol/v1/catalog/status')).json()) as Status;
    expect(status).toMatchObject({ sequence, offers: 1 });
    const services = (await (await drill.stack.edge.fetch('/api/services.json')).json()) as { services: Array<{ endpoint: string }> };
    expect(services.services.map((x) => new URL(x.endpoint).pathname)).toEqual([drill.stack.offer.path]);
    const challenge = await drill.stack.edge.fetch(drill.stack.offer.path);
    expect(challenge.status).toBe(402);
  }, 20_000);

  it('still refuses the authorization settled drill.before the restart as a replay, and never forwards it', async () => {
    const hits = drill.stack.origin.hits.length;
    const replay = await drill.stack.paidGet(drill.stack.offer.path, settledHeaders, drill.stack.payers[0]!.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(drill.stack.origin.hits.length).toBe(hits);
  }, 20_000);

  it('takes new payments after the restart, and money matches the delivered responses exactly', async () => {
    const payer = drill.stack.payers[1]!;
    const res = await drill.stack.paidGet(drill.stack.offer.path, await drill.stack.sign(payer, { version: 1 }), payer.address);
    expect(res.status).toBe(200);
    expect(drill.stack.ledger.total()).toBe(2);
    assertMoneyReconciles({ deliveredByPayer: drill.stack.ledger.deliveredByPayer, price: PRICE, balancesBefore: drill.before, balancesAfter: await drill.stack.balances(), settlements: drill.stack.settlements() });
  }, 20_000);
});
