import { appendPaymentIdentifierToExtensions, generatePaymentId, PAYMENT_IDENTIFIER } from '@x402/extensions/payment-identifier';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PaymentPayloadV2 } from '../../../core/x402/payment-header.js';
import { decodeChallengeHeader, decodeReceipt, startGateFixture, type GateFixture } from '../../../test/support/gate.js';
import type { OriginMode } from '../../../test/support/origin.js';
import { paymentHeaders } from '../../../test/support/payments.js';

/** SPEC §5 "People and retries": the x402 `payment-identifier` extension — a lost answer can be fetched again, never paid again. */
let f: GateFixture;
let declared: Record<string, unknown>;
beforeAll(async () => {
  f = await startGateFixture();
  const challenge = decodeChallengeHeader(await f.edge.fetch('/services/echo')) as { extensions?: Record<string, unknown> };
  declared = challenge.extensions ?? {};
});
afterAll(async () => { await f?.dispose(); });
beforeEach(() => f.reset());

/** A signed payment for `echo` carrying `id` the way the official client adds it to the 402's declaration. */
async function payUnder(id: string): Promise<{ payment: PaymentPayloadV2; headers: Record<string, string> }> {
  const extensions = appendPaymentIdentifierToExtensions(structuredClone(declared), id);
  const payment = { ...((await f.pay()).payment as PaymentPayloadV2), extensions };
  return { payment, headers: paymentHeaders(payment) };
}

async function payWithExtension(extension: unknown): Promise<{ payment: PaymentPayloadV2; headers: Record<string, string> }> {
  const payment = { ...((await f.pay()).payment as PaymentPayloadV2), extensions: { [PAYMENT_IDENTIFIER]: extension } };
  return { payment, headers: paymentHeaders(payment) };
}

/** Headers as the buyer sees them, without the connection's own framing. */
function answerHeaders(res: Response): Record<string, string> {
  const headers = Object.fromEntries(res.headers);
  for (const name of ['connection', 'keep-alive', 'transfer-encoding']) delete headers[name];
  return headers;
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('the 402 advertises the extension', () => {
  it('declares payment-identifier (optional) beside the accepts, for v2 clients', () => {
    expect(declared[PAYMENT_IDENTIFIER]).toMatchObject({ info: { required: false }, schema: { type: 'object' } });
  });
});

describe('a retry of a settled payment under its identifier', () => {
  it('gets the same status, headers and body again, with the same receipt; origin and /settle saw it once', async () => {
    const { headers } = await payUnder(generatePaymentId());
    f.origin.mode = { kind: 'status', status: 201, body: '{"made":"one"}' };
    const first = await f.edge.fetch('/services/echo/orders?n=1', { method: 'POST', body: '{"a":1}', headers });
    const firstBody = await first.text();
    expect(first.status).toBe(201);
    f.origin.mode = { kind: 'status', status: 201, body: '{"made":"two"}' };
    const again = await f.edge.fetch('/services/echo/orders?n=1', { method: 'POST', body: '{"a":1}', headers });
    expect(again.status).toBe(201);
    expect(await again.text()).toBe(firstBody);
    expect(answerHeaders(again)).toEqual(answerHeaders(first));
    expect(decodeReceipt(again, 'PAYMENT-RESPONSE')).toEqual(decodeReceipt(first, 'PAYMENT-RESPONSE'));
    expect(again.headers.get('cache-control')).toBe('private');
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.verifyCalls()).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('is answered 409 payment_in_progress while the first request is still being settled, then gets the answer; one settlement', async () => {
    const { headers } = await payUnder(generatePaymentId());
    f.facilitator.answers.settle = { kind: 'delay', ms: 700 };
    const first = f.edge.fetch('/services/echo', { headers });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = await f.edge.fetch('/services/echo', { headers });
    expect(during.status).toBe(409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(await json(during)).toEqual({ error: 'payment_in_progress', reason: 'payment_in_progress', retriable: true });
    const firstAnswer = await first;
    expect(firstAnswer.status).toBe(200);
    const firstBody = await firstAnswer.text();
    const after = await f.edge.fetch('/services/echo', { headers });
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(firstBody);
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('reaches the buyer who hung up right after sending the payment: the request ran to its end, the retry gets its answer', async () => {
    const { headers } = await payUnder(generatePaymentId());
    f.facilitator.answers.settle = { kind: 'delay', ms: 500 };
    const hangUp = new AbortController();
    const first = f.edge.fetch('/services/echo', { headers, signal: hangUp.signal });
    await new Promise((resolve) => setTimeout(resolve, 200));
    hangUp.abort();
    await expect(first).rejects.toThrow();
    const statuses: number[] = [];
    let answer: Response | undefined;
    for (let attempt = 0; attempt < 40 && !answer; attempt++) {
      const res = await f.edge.fetch('/services/echo', { headers });
      statuses.push(res.status);
      if (res.status === 200) answer = res;
      else await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after') ?? 1) * 100));
    }
    expect(statuses.slice(0, -1).every((status) => status === 409)).toBe(true);
    expect(await answer?.json()).toMatchObject({ url: '/services/echo' });
    expect(decodeReceipt(answer as Response, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('settles exactly once when 20 retries of one payment arrive together', async () => {
    const { headers } = await payUnder(generatePaymentId());
    const answers = await Promise.all(Array.from({ length: 20 }, async () => {
      const res = await f.edge.fetch('/services/echo', { headers });
      return { status: res.status, body: await res.text() };
    }));
    expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    expect(new Set(answers.filter((a) => a.status === 200).map((a) => a.body)).size).toBe(1);
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('does not replay a stream or an answer over 1 MiB: 409 payment_answer_not_kept with the receipt, never a second settlement', async () => {
    const modes: OriginMode[] = [{ kind: 'sse', events: ['one'] }, { kind: 'large', bytes: 1024 * 1024 + 1 }];
    for (const mode of modes) {
      f.reset();
      const { headers } = await payUnder(generatePaymentId());
      f.origin.mode = mode;
      const first = await f.edge.fetch('/services/echo/big', { headers });
      expect(first.status).toBe(200);
      await first.arrayBuffer();
      const again = await f.edge.fetch('/services/echo/big', { headers });
      expect(again.status).toBe(409);
      expect(await json(again)).toMatchObject({ error: 'payment_answer_not_kept', reason: 'payment_answer_not_kept', retriable: false });
      expect(decodeReceipt(again, 'PAYMENT-RESPONSE')).toEqual(decodeReceipt(first, 'PAYMENT-RESPONSE'));
      expect(f.origin.hits).toHaveLength(1);
      expect(f.facilitator.settleCalls()).toHaveLength(1);
    }
  });

  it('keeps an answer of exactly 1 MiB less its headers', async () => {
    const { headers } = await payUnder(generatePaymentId());
    f.origin.mode = { kind: 'large', bytes: 1024 * 1024 - 4096 };
    const first = await f.edge.fetch('/services/echo/big', { headers });
    const firstBytes = (await first.arrayBuffer()).byteLength;
    const again = await f.edge.fetch('/services/echo/big', { headers });
    expect(again.status).toBe(200);
    expect((await again.arrayBuffer()).byteLength).toBe(firstBytes);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });
});

describe('an identifier reused for something else', () => {
  it('with another payment: 409 payment_identifier_conflict, and nothing changes (that payment stays unused)', async () => {
    const id = generatePaymentId();
    const settled = await payUnder(id);
    expect((await f.edge.fetch('/services/echo', { headers: settled.headers })).status).toBe(200);
    f.reset();
    const other = await payUnder(id);
    const conflict = await f.edge.fetch('/services/echo', { headers: other.headers });
    expect(conflict.status).toBe(409);
    expect(await json(conflict)).toMatchObject({ error: 'payment_identifier_conflict', reason: 'payment_identifier_conflict', retriable: false });
    f.expectUntouched();
    // The other payment was not claimed: under a new identifier it pays normally.
    const fresh = { ...other.payment, extensions: appendPaymentIdentifierToExtensions(structuredClone(declared), generatePaymentId()) };
    expect((await f.edge.fetch('/services/echo', { headers: paymentHeaders(fresh) })).status).toBe(200);
    // And the identifier still names the first payment.
    expect((await f.edge.fetch('/services/echo', { headers: settled.headers })).status).toBe(200);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('with the same payment for another request: 409, not the other request\'s answer', async () => {
    const { headers } = await payUnder(generatePaymentId());
    expect((await f.edge.fetch('/services/echo/a', { headers })).status).toBe(200);
    const elsewhere = await f.edge.fetch('/services/echo/b', { headers });
    expect(elsewhere.status).toBe(409);
    expect(await json(elsewhere)).toMatchObject({ error: 'payment_identifier_conflict' });
    expect(f.origin.hits).toHaveLength(1);
  });

  it('passes to a new payment once its payment was never charged (the origin failed)', async () => {
    const id = generatePaymentId();
    const failed = await payUnder(id);
    f.origin.mode = { kind: 'status', status: 500 };
    expect((await f.edge.fetch('/services/echo', { headers: failed.headers })).status).toBe(500);
    f.origin.mode = { kind: 'echo' };
    // The failed payment itself is used up, as without an identifier.
    const replay = await f.edge.fetch('/services/echo', { headers: failed.headers });
    expect(replay.status).toBe(402);
    expect(decodeChallengeHeader(replay).error).toBe('invalid_exact_evm_nonce_already_used');
    const next = await payUnder(id);
    expect((await f.edge.fetch('/services/echo', { headers: next.headers })).status).toBe(200);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });
});

describe('identifiers the extension\'s rules refuse', () => {
  it.each([
    ['too short', { info: { required: false, id: 'pay_short' } }],
    ['a character outside [A-Za-z0-9_-]', { info: { required: false, id: 'pay_0123456789abcdef!' } }],
    ['no boolean required', { info: { id: 'pay_0123456789abcdef' } }],
    ['not an object', 'pay_0123456789abcdef'],
  ])('%s: 400 invalid_payment_identifier, nothing claimed, verified or forwarded', async (_name, extension) => {
    const { payment, headers } = await payWithExtension(extension);
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body['reason']).toBe('invalid_payment_identifier');
    expect(body['error']).toContain('payment-identifier');
    f.expectUntouched();
    // Nothing was claimed: the same authorization without the bad identifier pays.
    expect((await f.edge.fetch('/services/echo', { headers: paymentHeaders({ ...payment, extensions: {} }) })).status).toBe(200);
  });
});

describe('without an identifier', () => {
  it('a payment that echoes the declaration without an id is refused on a second use, as today', async () => {
    const payment = { ...((await f.pay()).payment as PaymentPayloadV2), extensions: structuredClone(declared) };
    const headers = paymentHeaders(payment);
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    const again = await f.edge.fetch('/services/echo', { headers });
    expect(again.status).toBe(402);
    expect(decodeChallengeHeader(again).error).toBe('invalid_exact_evm_nonce_already_used');
    expect(f.origin.hits).toHaveLength(1);
  });
});
