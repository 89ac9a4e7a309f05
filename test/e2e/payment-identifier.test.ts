import { x402HTTPClient } from '@x402/core/client';
import { appendPaymentIdentifierToExtensions, generatePaymentId, PAYMENT_IDENTIFIER } from '@x402/extensions/payment-identifier';
import { wrapFetchWithPayment } from '@x402/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBuyerClient, readReceipt } from '../../stack/buyer.js';
import type { LocalStack } from '../../stack/local-stack.js';
import { buyerAndSellerBalances, serviceNamed, startE2EStack, tokenTransfers } from './stack-support.js';

/**
 * Issue 11 part 2, end to end: the official client (@x402/fetch 2.27 + @x402/extensions) pays the
 * edge under `wrangler dev` with a `payment-identifier`, loses the answer, and fetches it again by
 * re-sending the same payment — one settlement on the local chain, one charge to the buyer.
 */

let stack: LocalStack;
let price: bigint;

beforeAll(async () => {
  ({ stack } = await startE2EStack());
  price = BigInt((await serviceNamed(stack.edgeUrl, 'weather')).priceAtomicUnits);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 20_000);

const balances = () => buyerAndSellerBalances(stack);

function facilitatorCalls(): { verify: number; settle: number } {
  return { verify: stack.facilitator.stats.verifyRequests, settle: stack.facilitator.stats.settleRequests };
}

/**
 * The official v2 client, told to pay under `paymentId` as the extension's README shows. Its
 * transport can lose the next paid answer (the body arrives, the caller sees a dropped connection);
 * a retry re-sends the payment it made, through the client's own 402 hook.
 */
function identifiedBuyer(setId: (extensions: Record<string, unknown>) => void) {
  const client = makeBuyerClient(stack.accounts.buyer.privateKey, 2);
  client.onBeforePaymentCreation(async ({ paymentRequired }) => {
    setId((paymentRequired.extensions ??= {}));
  });
  const http = new x402HTTPClient(client);
  const state = { loseNextAnswer: false, sentPayment: undefined as string | undefined, lostBody: undefined as string | undefined, retryWithSentPayment: false };
  http.onPaymentRequired(async () => (state.retryWithSentPayment && state.sentPayment ? { headers: { 'PAYMENT-SIGNATURE': state.sentPayment } } : undefined));
  const transport: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const payment = request.headers.get('PAYMENT-SIGNATURE');
    const response = await fetch(request);
    if (payment === null || !state.loseNextAnswer) return response;
    state.sentPayment = payment;
    state.loseNextAnswer = false;
    state.lostBody = await response.text();
    throw new TypeError('fetch failed: connection reset after the answer arrived (simulated)');
  };
  return { pay: wrapFetchWithPayment(transport, http), state };
}

describe('a lost answer under a payment identifier', () => {
  it('is fetched again by re-sending the same payment: the same body and receipt, one settlement on chain, one charge', async () => {
    const paymentId = generatePaymentId();
    const buyer = identifiedBuyer((extensions) => appendPaymentIdentifierToExtensions(extensions, paymentId));
    const url = `${stack.edgeUrl}/services/weather?city=Oslo`;
    const before = await balances();
    const callsBefore = facilitatorCalls();

    buyer.state.loseNextAnswer = true;
    await expect(buyer.pay(url)).rejects.toThrow(/connection reset/);
    expect(buyer.state.lostBody).toContain('"city":"Oslo"');
    const sent = JSON.parse(Buffer.from(buyer.state.sentPayment ?? '', 'base64').toString('utf8')) as { extensions?: Record<string, { info?: { id?: string } }> };
    expect(sent.extensions?.[PAYMENT_IDENTIFIER]?.info?.id).toBe(paymentId);
    // The payment went through although its answer was lost.
    expect(await balances()).toEqual({ buyer: before.buyer - price, seller: before.seller + price });

    buyer.state.retryWithSentPayment = true;
    const retried = await buyer.pay(url);
    expect(retried.status).toBe(200);
    expect(await retried.text()).toBe(buyer.state.lostBody);
    const receipt = readReceipt(retried);
    expect(receipt).toMatchObject({ header: 'PAYMENT-RESPONSE', success: true, network: 'eip155:84532', payer: stack.accounts.buyer.address });

    // Exactly one settlement: one /settle, one mined transfer of the price, balances moved once.
    expect(facilitatorCalls()).toEqual({ verify: callsBefore.verify + 1, settle: callsBefore.settle + 1 });
    expect(stack.facilitator.stats.transactions.at(-1)).toBe(receipt?.transaction);
    const mined = await tokenTransfers(stack.rpcUrl, receipt?.transaction ?? '');
    expect(mined.transfers).toEqual([{ from: stack.accounts.buyer.address, to: stack.accounts.seller.address, value: price }]);
    expect(await balances()).toEqual({ buyer: before.buyer - price, seller: before.seller + price });
  }, 30_000);

  it('refuses a new payment under the same identifier with 409, and nothing moves', async () => {
    const paymentId = generatePaymentId();
    const first = identifiedBuyer((extensions) => appendPaymentIdentifierToExtensions(extensions, paymentId));
    expect((await first.pay(`${stack.edgeUrl}/services/weather?city=Rome`)).status).toBe(200);
    const before = await balances();
    const callsBefore = facilitatorCalls();
    // The official client signs a fresh authorization for the same identifier.
    const again = identifiedBuyer((extensions) => appendPaymentIdentifierToExtensions(extensions, paymentId));
    const conflict = await again.pay(`${stack.edgeUrl}/services/weather?city=Rome`);
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ error: 'payment_identifier_conflict', reason: 'payment_identifier_conflict' });
    expect(await balances()).toEqual(before);
    expect(facilitatorCalls()).toEqual(callsBefore);
  }, 30_000);

  it('refuses an identifier the extension\'s rules reject with 400 invalid_payment_identifier, and nothing moves', async () => {
    const before = await balances();
    const callsBefore = facilitatorCalls();
    const buyer = identifiedBuyer((extensions) => {
      // appendPaymentIdentifierToExtensions itself refuses such an id; a hand-made client might not.
      (extensions[PAYMENT_IDENTIFIER] as { info: { id?: string } }).info.id = 'too short';
    });
    const res = await buyer.pay(`${stack.edgeUrl}/services/weather`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'invalid_payment_identifier' });
    expect(await balances()).toEqual(before);
    expect(facilitatorCalls()).toEqual(callsBefore);
  }, 30_000);
});
