import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PaymentPayloadV2 } from '../../../core/x402/payment-header.js';
import { authorizationKey } from '../../../core/x402/settlement.js';
import { durableObjectNamespace } from '../../../test/support/edge.js';
import { BUYER, paymentHeaders, rewrapAsV1 } from '../../../test/support/payments.js';
import { decodeChallengeHeader, decodeReceipt, eventually, metricsOnceCharged, startGateFixture, type GateFixture } from '../../../test/support/gate.js';

/** SPEC §5 steps 4–7 with a facilitator and origin that misbehave on cue. */
let f: GateFixture;
beforeAll(async () => {
  f = await startGateFixture({ METRICS_TOKEN: 'metrics-token', FACILITATOR_AUTH_TOKEN: 'fac-token', ORIGIN_ACCESS_CLIENT_ID: 'cid.access', ORIGIN_ACCESS_CLIENT_SECRET: 'csecret' });
});
afterAll(async () => { await f?.dispose(); });
beforeEach(() => f.reset());

async function replayIsRefused(headers: Record<string, string>): Promise<void> {
  const again = await f.edge.fetch('/services/echo', { headers });
  expect(again.status).toBe(402);
  expect(((await again.json()) as { error: string }).error).toBe('invalid_exact_evm_nonce_already_used');
}

describe('a valid payment', () => {
  it('v2: verifies, forwards once with the verified payer, settles, and returns the receipt', async () => {
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo/v1/chat?model=q&n=2', {
      method: 'POST', body: '{"prompt":"hi"}',
      headers: { ...headers, 'content-type': 'application/json', 'X-Payment-Payer': '0x0000000000000000000000000000000000000bad', 'CF-Access-Client-Secret': 'forged' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ method: 'POST', url: '/services/echo/v1/chat?model=q&n=2', body: '{"prompt":"hi"}', payer: BUYER.address });
    const receipt = decodeReceipt(res, 'PAYMENT-RESPONSE');
    expect(receipt).toMatchObject({ success: true, network: 'eip155:84532', payer: BUYER.address });
    expect(receipt['transaction']).toMatch(/^0x[0-9a-f]{64}$/);
    expect(res.headers.get('link')).toContain('rel="service-catalog"');
    const hit = f.origin.hits[0];
    expect(f.origin.hits).toHaveLength(1);
    expect(hit?.headers['payment-signature']).toBeUndefined();
    expect(hit?.headers['x-payment']).toBeUndefined();
    expect(hit?.headers['cf-access-client-id']).toBe('cid.access');
    expect(hit?.headers['cf-access-client-secret']).toBe('csecret');
    const [verify, settle] = [f.facilitator.verifyCalls(), f.facilitator.settleCalls()];
    expect(verify).toHaveLength(1);
    expect(settle).toHaveLength(1);
    expect(verify[0]?.headers['authorization']).toBe('Bearer fac-token');
    expect(settle[0]?.body).toMatchObject({ x402Version: 2, paymentRequirements: { scheme: 'exact', network: 'eip155:84532', amount: '1000', payTo: f.requirement.payTo, asset: f.requirement.asset.address, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } } });
  });

  it('v1: the receipt comes in X-PAYMENT-RESPONSE with the v1 network name', async () => {
    const { headers } = await f.pay({ version: 1 });
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(decodeReceipt(res, 'X-PAYMENT-RESPONSE')).toMatchObject({ success: true, network: 'base-sepolia', payer: BUYER.address });
    expect(f.facilitator.settleCalls()[0]?.body).toMatchObject({ x402Version: 1, paymentRequirements: { network: 'base-sepolia', maxAmountRequired: '1000', resource: 'https://edge.test/services/echo' } });
  });
});

describe('step 4: replay guard', () => {
  it('refuses the same payment a second time; origin and settle saw it once', async () => {
    const { headers } = await f.pay();
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    await replayIsRefused(headers);
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('treats a v2 authorization re-wrapped into a v1 envelope as a replay', async () => {
    const { payment, headers } = await f.pay();
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    await replayIsRefused(paymentHeaders(rewrapAsV1(payment as PaymentPayloadV2, 'base-sepolia')));
    expect(f.origin.hits).toHaveLength(1);
  });

  it('records a settlement in the ledger: on the payer\'s next claim at once, else within a second, a replay refused all along', async () => {
    const ledger = (await durableObjectNamespace(f.edge, 'NONCES')).getByName(BUYER.address.toLowerCase());
    const first = await f.pay();
    const second = await f.pay();
    expect((await f.edge.fetch('/services/echo', { headers: first.headers })).status).toBe(200);
    // Not yet written (the next claim carries it), and already refusing every other use.
    expect(await ledger.state(authorizationKey(f.requirement, first.payment))).toBe('claimed');
    // The payer's next claim (here a replay, refused) writes it on the way.
    await replayIsRefused(first.headers);
    expect(await ledger.state(authorizationKey(f.requirement, first.payment))).toBe('settled');
    expect((await f.edge.fetch('/services/echo', { headers: second.headers })).status).toBe(200);
    // The last one has no next claim: the background flush writes it.
    await eventually(async () => (await ledger.state(authorizationKey(f.requirement, second.payment))) === 'settled', 3000);
    await replayIsRefused(second.headers);
    expect(f.facilitator.settleCalls()).toHaveLength(2);
  });

  it('lets exactly one of 50 concurrent requests with the same payment through', async () => {
    const { headers } = await f.pay();
    const results = await Promise.all(Array.from({ length: 50 }, async () => {
      const res = await f.edge.fetch('/services/echo', { headers });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    }));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 402);
    expect(refused).toHaveLength(49);
    expect(refused.every((r) => r.body.error === 'invalid_exact_evm_nonce_already_used')).toBe(true);
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });
});

describe('step 5: facilitator /verify', () => {
  it('answers 503 facilitator_unreachable when it is down, and the same payment succeeds once it is back', async () => {
    const { headers } = await f.pay();
    f.facilitator.answers.verify = { kind: 'destroy' };
    const down = await f.edge.fetch('/services/echo', { headers });
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ error: 'facilitator_unreachable', reason: 'facilitator_unreachable', retriable: true });
    f.facilitator.answers.verify = { kind: 'status', status: 502 };
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(503);
    f.facilitator.answers.verify = { kind: 'delay', ms: 1500 };
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(503);
    expect(f.origin.hits).toHaveLength(0);
    f.facilitator.answers.verify = { kind: 'ok' };
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    expect(f.origin.hits).toHaveLength(1);
  });

  it('passes an unknown reason through untouched and cuts free text to 200 characters', async () => {
    const { headers } = await f.pay();
    f.facilitator.answers.verify = { kind: 'reject', reason: 'insufficient_funds_v9' };
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: string }).error).toBe('insufficient_funds_v9');
    f.facilitator.answers.verify = { kind: 'reject', reason: `execution reverted: ${'x'.repeat(500)}` };
    const long = await f.edge.fetch('/services/echo', { headers });
    expect(decodeChallengeHeader(long).error).toHaveLength(200);
    expect(f.origin.hits).toHaveLength(0);
    expect(f.facilitator.settleCalls()).toHaveLength(0);
  });
});

describe('steps 6–7: origin and settlement faults', () => {
  it('answers 502 when the origin is unreachable; the authorization is consumed, nothing settled', async () => {
    const { headers } = await f.pay();
    f.origin.mode = { kind: 'destroy' };
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(502);
    f.origin.mode = { kind: 'echo' };
    await replayIsRefused(headers);
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(0);
  });

  it('returns an origin 500 as is, without settling', async () => {
    const { headers } = await f.pay();
    f.origin.mode = { kind: 'status', status: 500, body: '{"boom":true}' };
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ boom: true });
    expect(res.headers.get('payment-response')).toBeNull();
    expect(f.facilitator.settleCalls()).toHaveLength(0);
    await replayIsRefused(headers);
    expect(f.origin.hits).toHaveLength(1);
  });

  it('answers 504 when the origin is slower than ORIGIN_TIMEOUT_MS, without settling', async () => {
    const { headers } = await f.pay();
    f.origin.mode = { kind: 'slow', ms: 2500 };
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: 'origin_timeout' });
    expect(f.facilitator.settleCalls()).toHaveLength(0);
    await replayIsRefused(headers);
    expect(f.origin.hits).toHaveLength(1);
  });

  it('withholds the body and answers 402 with a failure receipt when /settle says success:false', async () => {
    const { headers } = await f.pay();
    f.facilitator.answers.settle = { kind: 'reject', reason: 'invalid_exact_evm_insufficient_balance' };
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(402);
    const text = await res.text();
    expect(text).not.toContain('"payer"');
    expect(JSON.parse(text)).toMatchObject({ x402Version: 1, error: 'invalid_exact_evm_insufficient_balance' });
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: false, errorReason: 'invalid_exact_evm_insufficient_balance', payer: BUYER.address });
    f.facilitator.answers.settle = { kind: 'ok' };
    await replayIsRefused(headers);
    expect(f.origin.hits).toHaveLength(1);
  });

  it.each([
    // @x402/evm's v1 path after broadcasting, when the receipt wait throws: free text, no transaction.
    ['free text after broadcasting', { kind: 'reject', reason: 'Timed out while waiting for transaction with hash 0xabc to be confirmed.' }],
    // Also what its v2 path answers when the send itself threw, possibly after reaching the mempool.
    ['a transaction_failed without a transaction', { kind: 'reject', reason: 'invalid_exact_evm_transaction_failed' }],
    // A mined transaction whose Transfer event did not match: it ran.
    ['a failure naming a transaction', { kind: 'reject', reason: 'invalid_exact_evm_transfer_event_mismatch', transaction: `0x${'ab'.repeat(32)}` }],
    // Someone executed the authorization: the money reached payTo.
    ['the nonce already used on chain', { kind: 'reject', reason: 'invalid_exact_evm_nonce_already_used' }],
  ] as const)('keeps the payment pending (503, never a re-challenge) when /settle fails with %s', async (_name, answer) => {
    const { headers } = await f.pay();
    f.facilitator.answers.settle = answer;
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'settlement_unknown', reason: 'settlement_unknown' });
    expect(text).not.toContain('"ok"');
    f.facilitator.answers.settle = { kind: 'ok' };
    const again = await f.edge.fetch('/services/echo', { headers });
    expect(again.status).toBe(503);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
    expect(f.origin.hits).toHaveLength(1);
  });

  it('waits for /settle past FACILITATOR_TIMEOUT_MS (1 s here): a settle lasts until its transaction is mined', async () => {
    const { headers } = await f.pay();
    f.facilitator.answers.settle = { kind: 'delay', ms: 1500 };
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('answers 503 settlement_unknown when /settle is down, keeps the payment pending, and never settles it again in the background', async () => {
    const { headers } = await f.pay();
    f.facilitator.answers.settle = { kind: 'destroy' };
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'settlement_unknown', reason: 'settlement_unknown' });
    expect(text).not.toContain(BUYER.address);
    const pending = await f.edge.fetch('/services/echo', { headers });
    expect(pending.status).toBe(503);
    expect(await pending.json()).toMatchObject({ reason: 'settlement_unknown' });
    expect(f.origin.hits).toHaveLength(1);
    f.facilitator.answers.settle = { kind: 'ok' };
    const settleCalls = f.facilitator.settleCalls().length;
    // The ledger's alarm runs at 1 s, 3 s, …; with no chain to read, a second /settle would be a charge for a withheld body.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(f.facilitator.settleCalls()).toHaveLength(settleCalls);
    const still = await f.edge.fetch('/services/echo', { headers });
    expect(still.status).toBe(503);
    expect(await still.json()).toMatchObject({ reason: 'settlement_unknown' });
    expect(f.origin.hits).toHaveLength(1);
  });
});

describe('streaming settlement', () => {
  it('settles an event stream on its headers, then streams every event', async () => {
    const { headers } = await f.pay();
    f.origin.mode = { kind: 'sse', events: ['one', 'two', 'three'], gapMs: 20 };
    const res = await f.edge.fetch('/services/echo/stream', { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect(f.facilitator.settleCalls()).toHaveLength(1);
    expect(await res.text()).toBe('data: one\n\ndata: two\n\ndata: three\n\n');
  });

  it('does not deliver an event stream whose settlement failed', async () => {
    const { headers } = await f.pay();
    f.origin.mode = { kind: 'sse', events: ['secret'], gapMs: 5 };
    f.facilitator.answers.settle = { kind: 'reject', reason: 'invalid_exact_evm_insufficient_balance' };
    const res = await f.edge.fetch('/services/echo/stream', { headers });
    expect(res.status).toBe(402);
    expect(await res.text()).not.toContain('secret');
  });

  it('streams a body larger than 8 MiB after settling on its headers', async () => {
    const { headers } = await f.pay();
    const bytes = 9 * 1024 * 1024;
    f.origin.mode = { kind: 'large', bytes };
    const res = await f.edge.fetch('/services/echo/big', { headers });
    expect(res.status).toBe(200);
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect((await res.arrayBuffer()).byteLength).toBe(bytes);
  });

  it('buffers a small body of known length and settles before sending it', async () => {
    const { headers } = await f.pay();
    f.origin.mode = { kind: 'large', bytes: 64 * 1024 };
    f.facilitator.answers.settle = { kind: 'delay', ms: 300 };
    const started = Date.now();
    const res = await f.edge.fetch('/services/echo/small', { headers });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(64 * 1024);
  });
});

describe('metrics', () => {
  it('counts requests, challenges, verifications, failures with their reason, and charges per offer', async () => {
    await f.edge.fetch('/services/echo');
    const { headers } = await f.pay();
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    await replayIsRefused(headers);
    const labels = 'offer_namespace="llm",offer_name="echo",chain="eip155:84532",asset_symbol="USDC"';
    const text = await metricsOnceCharged(f.edge, labels);
    expect(text).toMatch(new RegExp(`obol_x402_verifier_requests_total\\{${labels}\\} \\d+`));
    expect(text).toContain(`obol_x402_verifier_payment_required_total{${labels}}`);
    expect(text).toContain(`obol_x402_verifier_payment_verified_total{${labels}}`);
    expect(text).toContain('reason="invalid_exact_evm_nonce_already_used"');
  });
});
