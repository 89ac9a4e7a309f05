import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PaymentRequirement } from '../../../core/requirement.js';
import { BUYER, paymentHeaders, signPayment } from '../../../test/support/payments.js';
import { decodeChallengeHeader, decodeReceipt, eventually, metricsOnceCharged, startGateFixture, type GateFixture } from '../../../test/support/gate.js';
import { closeServer } from '../../../test/support/http-server.js';
import { sampleOffer } from '../../../test/support/snapshots.js';

/** An offer that accepts the same price three ways (issue 11): Base Sepolia USDC, Base USDC, an 18-decimal token on a chain without a v1 name. */
const TOKEN_18 = { address: '0x1111111111111111111111111111111111111111', symbol: 'TOK', decimals: 18, eip712Name: 'Token', eip712Version: '1' };
const OTHER_PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const multi = sampleOffer({
  name: 'multi',
  spec: { payment: { network: 'base-sepolia', payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', price: { perRequest: '0.001' }, alternatives: [{ network: 'base' }, { network: 'eip155:10', asset: TOKEN_18, payTo: OTHER_PAY_TO }] } },
});
const [primary, base, token18] = [multi.requirement, ...(multi.alternatives ?? [])] as [PaymentRequirement, PaymentRequirement, PaymentRequirement];
const URL_ = 'https://edge.test/services/multi';

/** A chain's JSON-RPC as the ledger reads it: records each eth_call and answers `authorizationState` = true. */
interface FakeRpc { readonly url: string; readonly calls: Array<{ to: string; data: string }>; close(): Promise<void> }
async function startFakeRpc(): Promise<FakeRpc> {
  const calls: FakeRpc['calls'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
    req.on('end', () => {
      const call = JSON.parse(body) as { id: number; method: string; params: [{ to: string; data: string }] };
      if (call.method === 'eth_call') calls.push({ to: call.params[0].to, data: call.params[0].data });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: `0x${'0'.repeat(63)}1` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => closeServer(server) };
}

let f: GateFixture;
let baseSepoliaRpc: FakeRpc;
let baseRpc: FakeRpc;
beforeAll(async () => {
  [baseSepoliaRpc, baseRpc] = await Promise.all([startFakeRpc(), startFakeRpc()]);
  f = await startGateFixture({ METRICS_TOKEN: 'metrics-token', CHAIN_RPC_URLS: `eip155:84532=${baseSepoliaRpc.url},eip155:8453=${baseRpc.url}` }, [multi]);
});
afterAll(async () => {
  await f?.dispose();
  await baseSepoliaRpc?.close();
  await baseRpc?.close();
});
beforeEach(() => f.reset());

describe('an offer with several ways to pay', () => {
  it('lists every option in the seller\'s order: all in the v2 header, those with a v1 name in the v1 body', async () => {
    const res = await f.edge.fetch('/services/multi');
    expect(res.status).toBe(402);
    const v2 = decodeChallengeHeader(res);
    expect(v2.accepts.map((a) => [a['network'], a['asset'], a['amount'], a['payTo']])).toEqual([
      ['eip155:84532', primary.asset.address, '1000', primary.payTo],
      ['eip155:8453', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', '1000', primary.payTo],
      ['eip155:10', TOKEN_18.address, '1000000000000000', OTHER_PAY_TO],
    ]);
    const v1 = (await res.json()) as { accepts: Array<Record<string, unknown>> };
    expect(v1.accepts.map((a) => [a['network'], a['maxAmountRequired']])).toEqual([['base-sepolia', '1000'], ['base', '1000']]);
  });

  it('a browser gets the same 402 as a page with one pay button per option', async () => {
    const res = await f.edge.fetch('/services/multi', { headers: { Accept: 'text/html' } });
    expect(res.status).toBe(402);
    expect(decodeChallengeHeader(res).accepts).toHaveLength(3);
    const page = await res.text();
    for (const index of [0, 1, 2]) expect(page).toContain(`data-pay="${index}"`);
    expect(page).toContain('Pay 0.001 TOK on Chain 10');
  });

  it.each([
    ['v2 on Base (the second option)', () => base, 2 as const, 'PAYMENT-RESPONSE' as const, 'eip155:8453'],
    ['v1 on Base, chosen by its v1 name', () => base, 1 as const, 'X-PAYMENT-RESPONSE' as const, 'base'],
    ['v2 in the 18-decimal token (the third option)', () => token18, 2 as const, 'PAYMENT-RESPONSE' as const, 'eip155:10'],
  ])('pays %s: checked, verified and settled on that option\'s chain', async (_case, option, version, receiptHeader, network) => {
    const requirement = option();
    const payment = await signPayment({ requirement, version, resourceUrl: URL_ });
    const res = await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) });
    expect(res.status).toBe(200);
    expect(decodeReceipt(res, receiptHeader)).toMatchObject({ success: true, network, payer: BUYER.address });
    const [verify, settle] = [f.facilitator.verifyCalls(), f.facilitator.settleCalls()];
    expect(verify).toHaveLength(1);
    expect(settle).toHaveLength(1);
    const amountField = version === 2 ? 'amount' : 'maxAmountRequired';
    expect(settle[0]?.body).toMatchObject({ x402Version: version, paymentRequirements: { network, [amountField]: requirement.amount, asset: requirement.asset.address, payTo: requirement.payTo, extra: { name: requirement.asset.eip712Domain.name } } });
  });

  it('keys the replay guard by the option\'s chain and asset: the same authorization twice is refused', async () => {
    const payment = await signPayment({ requirement: base, version: 2, resourceUrl: URL_ });
    expect((await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) })).status).toBe(200);
    const again = await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) });
    expect(again.status).toBe(402);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_exact_evm_nonce_already_used');
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it.each([
    ['a network the offer does not list', { network: 'eip155:1', asset: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' }, 'invalid_exact_evm_network_mismatch'],
    ['a listed network in an asset it does not list', { asset: '0x2222222222222222222222222222222222222222' }, 'payment_requirements_mismatch'],
  ])('re-challenges a payment for %s with x402\'s reason, touching nothing', async (_case, accepted, reason) => {
    const payment = await signPayment({ requirement: base, version: 2, resourceUrl: URL_, accepted });
    const res = await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) });
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: string }).error).toBe(reason);
    expect(decodeChallengeHeader(res).accepts).toHaveLength(3);
    f.expectUntouched();
    // Nothing was claimed: the same authorization for the option it signed goes through.
    const honest = await signPayment({ requirement: base, version: 2, resourceUrl: URL_, authorization: { nonce: (payment.payload.authorization.nonce) as `0x${string}`, validBefore: payment.payload.authorization.validBefore } });
    expect((await f.edge.fetch('/services/multi', { headers: paymentHeaders(honest) })).status).toBe(200);
  });

  it('refuses a v1 payment naming a network no option has a v1 name for', async () => {
    const payment = await signPayment({ requirement: token18, version: 1, resourceUrl: URL_, envelope: { network: 'optimism' } });
    const res = await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) });
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_exact_evm_network_mismatch');
    f.expectUntouched();
  });

  it('resolves a settlement of unknown outcome on the chain paid: CHAIN_RPC_URLS\' Base entry, never a second /settle', async () => {
    const payment = await signPayment({ requirement: base, version: 2, resourceUrl: URL_ });
    f.facilitator.answers.settle = { kind: 'destroy' };
    const res = await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) });
    expect(res.status).toBe(503);
    await res.body?.cancel();
    f.facilitator.answers.settle = { kind: 'ok' };
    // The ledger's first check runs about a second later and reads authorizationState on Base's token.
    await eventually(() => baseRpc.calls.length > 0, 8000);
    expect(baseRpc.calls[0]?.to.toLowerCase()).toBe(base.asset.address.toLowerCase());
    expect(baseSepoliaRpc.calls).toEqual([]);
    // Executed on chain: the ledger records it settled, so the same payment is now a replay.
    await eventually(async () => {
      const again = await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) });
      return again.status === 402 && ((await again.json()) as { error: string }).error === 'invalid_exact_evm_nonce_already_used';
    }, 8000);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('counts a payment under the chain and asset of the option paid', async () => {
    const payment = await signPayment({ requirement: token18, version: 2, resourceUrl: URL_ });
    expect((await f.edge.fetch('/services/multi', { headers: paymentHeaders(payment) })).status).toBe(200);
    const labels = 'offer_namespace="llm",offer_name="multi",chain="eip155:10",asset_symbol="TOK"';
    const text = await metricsOnceCharged(f.edge, labels);
    expect(text).not.toContain('obol_x402_verifier_charged_requests_total{offer_namespace="llm",offer_name="multi",chain="eip155:84532"');
  });
});
