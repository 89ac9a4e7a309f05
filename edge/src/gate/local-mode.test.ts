import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeBase64Json } from '../../../core/x402/base64-json.js';
import { encodePayment } from '../../../test/support/payments.js';
import { decodeReceipt, startGateFixture, type GateFixture } from '../../../test/support/gate.js';

/** VERIFY_MODE=local: the gate's own checks only, no /verify (SPEC §5 step 5; risk in docs/). */
let f: GateFixture;
beforeAll(async () => { f = await startGateFixture({ VERIFY_MODE: 'local' }); });
afterAll(async () => { await f?.dispose(); });
beforeEach(() => f.reset());

describe('local verify mode', () => {
  it('skips /verify, forwards, and still settles before answering', async () => {
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect(f.facilitator.verifyCalls()).toHaveLength(0);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('refuses smart-wallet signatures it cannot check itself', async () => {
    const { payment } = await f.pay();
    const long = { ...payment, payload: { ...payment.payload, signature: `${payment.payload.signature}${'00'.repeat(64)}` } };
    const res = await f.edge.fetch('/services/echo', { headers: { 'PAYMENT-SIGNATURE': encodePayment(long) } });
    expect(res.status).toBe(402);
    expect(decodeBase64Json(res.headers.get('PAYMENT-REQUIRED') ?? '')).toMatchObject({ error: 'invalid_exact_evm_signature' });
    f.expectUntouched();
  });

  it('withholds the body of an unfunded payer whose settlement fails (the documented local-mode risk)', async () => {
    const { headers } = await f.pay();
    f.facilitator.answers.settle = { kind: 'reject', reason: 'invalid_exact_evm_insufficient_balance' };
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(402);
    expect(await res.text()).not.toContain('"payer"');
    expect(f.origin.hits).toHaveLength(1);
  });
});
