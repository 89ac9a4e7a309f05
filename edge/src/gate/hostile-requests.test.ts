import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodePayment } from '../../../test/support/payments.js';
import { decodeChallengeHeader, startGateFixture, type GateFixture } from '../../../test/support/gate.js';

/** Requests built to get more than they paid for: malleated signatures, odd paths, replays. */
let f: GateFixture;
let local: GateFixture;
beforeAll(async () => {
  [f, local] = await Promise.all([startGateFixture(), startGateFixture({ VERIFY_MODE: 'local' })]);
});
afterAll(async () => {
  await Promise.all([f?.dispose(), local?.dispose()]);
});
beforeEach(() => {
  f.reset();
  local.reset();
});

const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The same signature with s' = n − s and the recovery bit flipped: it recovers the same signer. */
function toHighS(signature: string): string {
  const r = signature.slice(2, 66);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  const flipped = v === 27 || v === 28 ? 55 - v : 1 - v;
  return `0x${r}${(CURVE_ORDER - s).toString(16).padStart(64, '0')}${flipped.toString(16).padStart(2, '0')}`;
}

describe('non-canonical (high-s) signatures', () => {
  it.each([['facilitator', () => f], ['local', () => local]] as const)('are refused in %s mode with invalid_exact_evm_signature, before the ledger and the facilitator', async (_mode, fixture) => {
    const g = fixture();
    const { payment } = await g.pay();
    const malleated = { ...payment, payload: { ...payment.payload, signature: toHighS(payment.payload.signature) } };
    const res = await g.edge.fetch('/services/echo', { headers: { 'PAYMENT-SIGNATURE': encodePayment(malleated) } });
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_exact_evm_signature');
    expect(decodeChallengeHeader(res).error).toBe('invalid_exact_evm_signature');
    g.expectUntouched();
    // The ledger never saw it: the original low-s signature still pays.
    expect((await g.edge.fetch('/services/echo', { headers: { 'PAYMENT-SIGNATURE': encodePayment(payment) } })).status).toBe(200);
  });
});

/** A request with the path exactly as written (fetch() would normalize some of it first). */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${f.edge.url}${path}`, { method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('paths with empty segments, ; parameters or dot segments', () => {
  it.each([
    '/services/echo//deep',
    '/services//echo/deep',
    '/services/echo/x//',
    '/services/echo;x/deep',
    '/services/echo/..;/echo/deep',
    '/services/echo/deep;jsessionid=1',
    '/services/echo%3Bx/deep',
  ])('refuses %s with 400 invalid_path before matching', async (path) => {
    const { headers } = await f.pay();
    const res = await rawGet(path, headers);
    expect(res.status, path).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'invalid_path' });
    f.expectUntouched();
  });

  it.each(['/services/echo/./deep', '/services/echo/x/../deep'])('charges %s as the path it resolves to, which is the path forwarded', async (path) => {
    // workerd resolves literal dot segments in request.url before the gate runs; the guard refuses any that still arrive.
    const res = await rawGet(path, {});
    expect(res.status).toBe(402);
    expect((JSON.parse(res.body) as { accepts: Array<{ resource: string; maxAmountRequired: string }> }).accepts[0]).toMatchObject({ resource: 'https://edge.test/services/echo/deep', maxAmountRequired: '2000' });
    f.expectUntouched();
  });
});

describe('a payment the ledger refuses never reaches the facilitator', () => {
  it('one payment then 5 replays of the same header make exactly 1 /verify and 1 /settle', async () => {
    const { headers } = await f.pay();
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    for (let i = 0; i < 5; i += 1) {
      const again = await f.edge.fetch('/services/echo', { headers });
      expect(again.status).toBe(402);
      expect(((await again.json()) as { error: string }).error).toBe('invalid_exact_evm_nonce_already_used');
    }
    // A /verify sent beside a refused claim would land after the 402: give it time to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(f.facilitator.verifyCalls()).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
    expect(f.origin.hits).toHaveLength(1);
  });
});
