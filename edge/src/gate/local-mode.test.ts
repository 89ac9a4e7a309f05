import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeBase64Json } from '../../../core/x402/base64-json.js';
import { encodePayment } from '../../../test/support/payments.js';
import { decodeReceipt, startGateFixture, type GateFixture } from '../../../test/support/gate.js';

/** VERIFY_MODE=local: the gate's own checks only, no /verify (SPEC §5 step 5; risk in docs/). */
let f: GateFixture;
beforeAll(async () => { f = await startGateFixture({ VERIFY_MODE: 'local', GATE_SERVER_TIMING: '1' }); });
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

  it('claims and consumes in one step: a replay after success is refused, the origin saw it once', async () => {
    const { headers } = await f.pay();
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    const again = await f.edge.fetch('/services/echo', { headers });
    expect(again.status).toBe(402);
    expect(decodeBase64Json(again.headers.get('PAYMENT-REQUIRED') ?? '')).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('never forwards an authorization again once it reached the origin, even when the origin failed', async () => {
    const { headers } = await f.pay();
    f.origin.mode = { kind: 'status', status: 500 };
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(500);
    f.origin.mode = { kind: 'echo' };
    const again = await f.edge.fetch('/services/echo', { headers });
    expect(again.status).toBe(402);
    expect(f.origin.hits).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(0);
  });

  it('lets exactly one of 20 concurrent requests with the same payment through', async () => {
    const { headers } = await f.pay();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => f.edge.fetch('/services/echo', { headers }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 402)).toHaveLength(19);
    expect(f.origin.hits).toHaveLength(1);
  });

  it('reports its steps in Server-Timing when GATE_SERVER_TIMING=1', async () => {
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    const names = (res.headers.get('server-timing') ?? '').split(/,\s*/).map((span) => span.split(';')[0]);
    expect(names).toEqual(['parse', 'local_checks', 'claim', 'origin', 'settle', 'total']);
  });
});

