import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { ExactEvmSchemeV1 } from '@x402/evm/v1';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUYER } from '../../../test/support/payments.js';
import { startGateFixture, type GateFixture } from '../../../test/support/gate.js';

/** The official x402 buyer client (`@x402/fetch` + `@x402/evm` 2.27) pays through the gate unmodified. */
let f: GateFixture;
beforeAll(async () => { f = await startGateFixture(); });
afterAll(async () => { await f?.dispose(); });
beforeEach(() => f.reset());

/** A v1-era server view: the client only sees the 402 body, as a v1 client reads it. */
const bodyOnlyFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (res.status !== 402) return res;
  const headers = new Headers(res.headers);
  headers.delete('PAYMENT-REQUIRED');
  return new Response(await res.text(), { status: 402, headers });
};

describe('official x402 client', () => {
  it('completes a v2 payment (PAYMENT-REQUIRED → PAYMENT-SIGNATURE) and decodes the receipt', async () => {
    const client = new x402Client().register('eip155:*', new ExactEvmScheme(BUYER));
    const pay = wrapFetchWithPayment(fetch, client);
    const res = await pay(`${f.edge.url}/services/echo/v1/models`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ url: '/services/echo/v1/models', payer: BUYER.address });
    const receipt = decodePaymentResponseHeader(res.headers.get('PAYMENT-RESPONSE') ?? '');
    expect(receipt).toMatchObject({ success: true, network: 'eip155:84532', payer: BUYER.address });
    expect(f.facilitator.verifyCalls()[0]?.body).toMatchObject({ x402Version: 2 });
    expect(f.origin.hits).toHaveLength(1);
  });

  it('completes a v1 payment (body challenge → X-PAYMENT) and decodes the receipt', async () => {
    const client = new x402Client().registerV1('base-sepolia', new ExactEvmSchemeV1(BUYER));
    const pay = wrapFetchWithPayment(bodyOnlyFetch, client);
    const res = await pay(`${f.edge.url}/services/echo`, { method: 'POST', body: '{"q":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ body: '{"q":1}', payer: BUYER.address });
    const receipt = decodePaymentResponseHeader(res.headers.get('X-PAYMENT-RESPONSE') ?? '');
    expect(receipt).toMatchObject({ success: true, network: 'base-sepolia', payer: BUYER.address });
    expect(f.facilitator.settleCalls()[0]?.body).toMatchObject({ x402Version: 1 });
  });
});
