import { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBuyerClient } from '../../stack/buyer.js';
import { LOCAL_ACCOUNTS, startChain, TOKEN_ADDRESS, type LocalChain } from '../../stack/chain.js';
import { MAX_BODY_BYTES, startFacilitator, type LocalFacilitator } from '../../stack/facilitator.js';
import { declareBazaar } from '../../cluster-agent/src/discovery/bazaar-declaration.js';
import { RouteApi } from '../../core/offer-api.js';

const { buyer, seller, facilitator: settler } = LOCAL_ACCOUNTS;
let chain: LocalChain;
let facilitator: LocalFacilitator;
let client: HTTPFacilitatorClient;
const logs: Record<string, unknown>[] = [];

function requirementV2(amount: string): PaymentRequirements {
  return {
    scheme: 'exact', network: 'eip155:84532', asset: TOKEN_ADDRESS, amount, payTo: seller.address,
    maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' },
  };
}

function requirementV1(amount: string) {
  return {
    scheme: 'exact', network: 'base-sepolia', maxAmountRequired: amount, resource: 'http://127.0.0.1:8787/services/demo',
    description: 'demo', mimeType: 'application/json', payTo: seller.address, maxTimeoutSeconds: 300, asset: TOKEN_ADDRESS,
    extra: { name: 'USDC', version: '2' },
  };
}

/** A payment created by the official client scheme, exactly as a buyer's x402 client would. */
async function payV2(amount: string): Promise<PaymentPayload> {
  return makeBuyerClient(buyer.privateKey, 2).createPaymentPayload({
    x402Version: 2, resource: { url: 'http://127.0.0.1:8787/services/demo' }, accepts: [requirementV2(amount)],
  });
}

async function payV1(amount: string): Promise<PaymentPayload> {
  return makeBuyerClient(buyer.privateKey, 1).createPaymentPayload(
    { x402Version: 1, accepts: [requirementV1(amount)] } as unknown as Parameters<ReturnType<typeof makeBuyerClient>['createPaymentPayload']>[0],
  );
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${facilitator.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function balances(): Promise<[bigint, bigint]> {
  return [await chain.balanceOf(buyer.address), await chain.balanceOf(seller.address)];
}

beforeAll(async () => {
  chain = await startChain();
  facilitator = await startFacilitator({ rpcUrl: chain.rpcUrl, privateKey: settler.privateKey, log: (entry) => logs.push(entry) });
  client = new HTTPFacilitatorClient({ url: facilitator.url, timeoutMs: 10_000 });
});

afterAll(async () => {
  await facilitator?.stop();
  await chain?.stop();
});

describe('local x402 facilitator over the local chain', () => {
  it('/supported lists exact on eip155:84532 (v2) and base-sepolia (v1) with its settling address', async () => {
    const supported = await client.getSupported();
    expect(supported.kinds).toEqual(expect.arrayContaining([
      { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
      { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
    ]));
    expect(Object.values(supported.signers).flat()).toContain(settler.address);
  });

  it('verifies and settles a v2 payment from the official client; balances move by exactly the amount once', async () => {
    const payload = await payV2('2500');
    const [buyerBefore, sellerBefore] = await balances();
    const verified = await client.verify(payload, requirementV2('2500'));
    expect(verified).toMatchObject({ isValid: true, payer: buyer.address });
    expect(await balances()).toEqual([buyerBefore, sellerBefore]);

    const settled = await client.settle(payload, requirementV2('2500'));
    expect(settled).toMatchObject({ success: true, network: 'eip155:84532', payer: buyer.address });
    expect(settled.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(facilitator.stats.transactions).toContain(settled.transaction);
    expect(await balances()).toEqual([buyerBefore - 2500n, sellerBefore + 2500n]);
  });

  it('a replayed settle fails with invalid_exact_evm_nonce_already_used and moves nothing; verify then says the same', async () => {
    const payload = await payV2('700');
    expect((await client.settle(payload, requirementV2('700'))).success).toBe(true);
    const after = await balances();
    const replay = await client.settle(payload, requirementV2('700'));
    expect(replay).toMatchObject({ success: false, errorReason: 'invalid_exact_evm_nonce_already_used', transaction: '' });
    const reverify = await client.verify(payload, requirementV2('700'));
    expect(reverify).toMatchObject({ isValid: false, invalidReason: 'invalid_exact_evm_nonce_already_used' });
    expect(await balances()).toEqual(after);
  });

  it('verifies and settles a v1 payment (X-PAYMENT shape) over the wire; its replay fails', async () => {
    const payload = await payV1('1500');
    expect(payload).toMatchObject({ x402Version: 1, scheme: 'exact', network: 'base-sepolia' });
    const body = { x402Version: 1, paymentPayload: payload, paymentRequirements: requirementV1('1500') };
    const [buyerBefore, sellerBefore] = await balances();
    expect(await post('/verify', body)).toEqual({ status: 200, json: { isValid: true, payer: buyer.address } });
    const settled = await post('/settle', body);
    expect(settled.json).toMatchObject({ success: true, network: 'base-sepolia', payer: buyer.address });
    expect(await balances()).toEqual([buyerBefore - 1500n, sellerBefore + 1500n]);
    expect((await post('/settle', body)).json).toMatchObject({ success: false, errorReason: 'invalid_exact_evm_nonce_already_used' });
    expect(await balances()).toEqual([buyerBefore - 1500n, sellerBefore + 1500n]);
  });

  it('passes the library verdict through for a payment that does not match the requirement', async () => {
    const payload = await payV2('900');
    const verdict = await client.verify(payload, requirementV2('901'));
    expect(verdict).toMatchObject({ isValid: false, invalidReason: 'invalid_exact_evm_payload_authorization_value_mismatch' });
    const wrongPayee = { ...requirementV2('900'), payTo: buyer.address };
    expect(await client.verify(payload, wrongPayee)).toMatchObject({ isValid: false, invalidReason: 'invalid_exact_evm_recipient_mismatch' });
  });

  it('answers an unsupported network or scheme as invalid, never settling it', async () => {
    const payload = await payV2('900');
    const before = facilitator.stats.transactions.length;
    const other = { ...requirementV2('900'), network: 'eip155:8453' as const };
    expect(await client.verify(payload, other)).toMatchObject({ isValid: false, invalidReason: 'invalid_network' });
    expect(await client.settle(payload, other)).toMatchObject({ success: false, errorReason: 'invalid_network' });
    expect(await client.verify(payload, { ...requirementV2('900'), scheme: 'upto' })).toMatchObject({ isValid: false, invalidReason: 'unsupported_scheme' });
    expect(facilitator.stats.transactions.length).toBe(before);
  });

  it('settles concurrent payments one at a time, all of them, each exactly once', async () => {
    const payloads = await Promise.all([payV2('11'), payV2('12'), payV2('13')]);
    const [buyerBefore, sellerBefore] = await balances();
    const results = await Promise.all(payloads.map((p, i) => client.settle(p, requirementV2(String(11 + i)))));
    expect(results.map((r) => r.success)).toEqual([true, true, true]);
    expect(new Set(results.map((r) => r.transaction)).size).toBe(3);
    expect(await balances()).toEqual([buyerBefore - 36n, sellerBefore + 36n]);
  });

  it('rejects malformed bodies with 400/413 and a reason, changing nothing', async () => {
    const payload = await payV2('5');
    const good = { x402Version: 2, paymentPayload: payload, paymentRequirements: requirementV2('5') };
    const before = { ...facilitator.stats, transactions: [...facilitator.stats.transactions] };
    const snapshot = await balances();

    expect(await post('/settle', '{not json')).toEqual({ status: 400, json: { error: 'invalid_json', details: [] } });
    const versionMismatch = await post('/settle', { ...good, x402Version: 1 });
    expect(versionMismatch.status).toBe(400);
    expect(versionMismatch.json.error).toBe('invalid_request');
    const badNonce = { ...good, paymentPayload: { ...payload, payload: { ...payload.payload, signature: '0x1234' } } };
    const bad = await post('/settle', badNonce);
    expect(bad.status).toBe(400);
    expect(String((bad.json.details as string[])[0])).toMatch(/^✖ .*\n {2}→ at paymentPayload\.payload\.signature$/m);
    expect((await post('/verify', { ...good, paymentRequirements: { ...good.paymentRequirements, amount: -5 } })).status).toBe(400);
    expect((await post('/settle', 'x'.repeat(MAX_BODY_BYTES + 1))).status).toBe(413);
    expect((await fetch(`${facilitator.url}/nope`)).status).toBe(404);

    expect(facilitator.stats.settleRequests).toBe(before.settleRequests);
    expect(facilitator.stats.badRequests).toBe(before.badRequests + 5);
    expect(await balances()).toEqual(snapshot);
    // The good body still settles afterwards: nothing above consumed it.
    expect((await post('/settle', good)).json).toMatchObject({ success: true });
  });

  it('catalogs the resource a settled v2 payment declared for Bazaar, and only then', async () => {
    expect((await client.getSupported()).extensions).toContain('bazaar');
    const bazaar = declareBazaar(RouteApi.parse({ method: 'GET', tags: ['demo'] }));
    const unpaid = { ...(await payV2('1300')), extensions: { bazaar } };
    expect((await client.verify(unpaid, requirementV2('1300'))).isValid).toBe(true);
    const listed = async () => (await fetch(`${facilitator.url}/discovery/resources`)).json() as Promise<{ items: { resource: string }[] }>;
    expect((await listed()).items.map((i) => i.resource)).not.toContain('http://127.0.0.1:8787/services/bazaar-demo');
    const paid = { ...(await payV2('1400')), resource: { url: 'http://127.0.0.1:8787/services/bazaar-demo?x=1', tags: ['demo'] }, extensions: { bazaar } };
    expect((await client.settle(paid, requirementV2('1400'))).success).toBe(true);
    const item = (await listed()).items.find((i) => i.resource === 'http://127.0.0.1:8787/services/bazaar-demo');
    expect(item).toMatchObject({ type: 'http', x402Version: 2, tags: ['demo'], accepts: [requirementV2('1400')], extensions: { bazaar } });
    const bad = await fetch(`${facilitator.url}/discovery/resources?limit=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_query' });
  });

  it('logs one JSON object per event without any key material', () => {
    const text = JSON.stringify(logs);
    expect(logs.some((l) => l.msg === 'settle' && l.success === true)).toBe(true);
    expect(text).not.toContain(settler.privateKey.slice(2));
    expect(text).not.toContain(buyer.privateKey.slice(2));
  });
});
