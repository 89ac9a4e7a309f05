import { declarePaymentIdentifierExtension } from '@x402/extensions/payment-identifier';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatHttpDate, parseRfc3339 } from '../../../core/time.js';
import { encodePayment, OTHER_KEY } from '../../../test/support/payments.js';
import { decodeChallengeHeader, startGateFixture, type GateFixture } from '../../../test/support/gate.js';
import { startEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer } from '../../../test/support/snapshots.js';
import { formatRfc3339 } from '../../../core/time.js';

/** SPEC §5: which offer a request is for, its state, and the 402 challenge. Nothing here is paid. */
let f: GateFixture;
beforeAll(async () => { f = await startGateFixture(); });
afterAll(async () => { await f?.dispose(); });
beforeEach(() => f.reset());

function expectRouteHeaders(res: Response): void {
  expect(res.headers.get('link')).toBe('<https://edge.test/api/services.json>; rel="service-catalog"');
  expect(res.headers.get('access-control-expose-headers')).toBe('PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE');
}

describe('route decisions', () => {
  it('answers 503 for everything under /services before the first snapshot (fail closed)', async () => {
    const edge = await startEdge({ vars: { FACILITATOR_URL: f.facilitator.url, ORIGIN_URL: f.origin.url } });
    try {
      const res = await edge.fetch('/services/echo', { headers: (await f.pay()).headers });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'catalog_unavailable' });
    } finally {
      await edge.dispose();
    }
    f.expectUntouched();
  });

  it('answers 404 JSON for a path under /services that matches no offer, including a mere name prefix', async () => {
    for (const path of ['/services/nope', '/services/echoes', '/services/echo-deep']) {
      const res = await f.edge.fetch(path);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'offer_not_found' });
    }
    f.expectUntouched();
  });

  it('answers 410 with drainEndsAt for a drained offer', async () => {
    const res = await f.edge.fetch('/services/gone/v1/chat', { headers: (await f.pay()).headers });
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({ error: 'offer_drained', drainEndsAt: f.offers.gone.drainEndsAt });
    expectRouteHeaders(res);
    f.expectUntouched();
  });

  it('answers 503 offer_unavailable for an offer in the snapshot that is not published', async () => {
    const res = await f.edge.fetch('/services/sick', { headers: (await f.pay()).headers });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'offer_unavailable' });
    f.expectUntouched();
  });

  it('answers an OPTIONS preflight with 204 and the payment headers allowed, never gated or forwarded', async () => {
    const res = await f.edge.fetch('/services/echo/v1/chat', {
      method: 'OPTIONS',
      headers: { Origin: 'https://buyer.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'payment-signature, content-type' },
    });
    expect(res.status).toBe(204);
    const allowed = res.headers.get('access-control-allow-headers') ?? '';
    expect(allowed).toContain('PAYMENT-SIGNATURE');
    expect(allowed).toContain('X-PAYMENT');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expectRouteHeaders(res);
    f.expectUntouched();
  });
});

describe('drain by the edge clock', () => {
  it('turns a draining route into 410 at drainEndsAt without a new snapshot', async () => {
    // `soon` drains out ~2 s after this push, with no new snapshot: the edge's own clock decides.
    const soon = sampleOffer({ name: 'soon', spec: { drainAt: formatRfc3339(Date.now() + 2000), drainGracePeriod: '0s' } });
    const pushed = await pushSnapshot(f.edge, makeSnapshot({ offers: [...Object.values(f.offers), soon], sequence: Date.now() }));
    expect(pushed.status).toBe(200);
    const before = await f.edge.fetch('/services/soon');
    expect(before.status).toBe(402);
    expect(before.headers.get('sunset')).not.toBeNull();
    const body = (await (await f.edge.fetch('/_obol/v1/catalog')).json()) as { offers: Array<{ name: string; drainEndsAt?: string }> };
    const endsAt = parseRfc3339(body.offers.find((o) => o.name === 'soon')?.drainEndsAt ?? '');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now()) + 50));
    const after = await f.edge.fetch('/services/soon');
    expect(after.status).toBe(410);
    f.expectUntouched();
  });
});

describe('step 1: no payment header', () => {
  it('answers 402 with the v1 body and the v2 PAYMENT-REQUIRED header offering the same deal', async () => {
    const res = await f.edge.fetch('/services/echo/v1/chat?x=1');
    expect(res.status).toBe(402);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectRouteHeaders(res);
    const v1 = (await res.json()) as { x402Version: number; error: string; accepts: Array<Record<string, unknown>> };
    const v2 = decodeChallengeHeader(res);
    const r = f.requirement;
    expect(v1).toEqual({
      x402Version: 1, error: 'payment_required',
      accepts: [{ scheme: 'exact', network: 'base-sepolia', maxAmountRequired: '1000', resource: 'https://edge.test/services/echo/v1/chat', description: r.description, mimeType: r.mimeType, payTo: r.payTo, maxTimeoutSeconds: 300, asset: r.asset.address, extra: { name: 'USDC', version: '2' } }],
    });
    expect(v2).toEqual({
      x402Version: 2, error: 'payment_required',
      resource: { url: 'https://edge.test/services/echo/v1/chat', description: r.description, mimeType: r.mimeType },
      accepts: [{ scheme: 'exact', network: 'eip155:84532', amount: '1000', asset: r.asset.address, payTo: r.payTo, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } }],
      extensions: { 'payment-identifier': declarePaymentIdentifierExtension(false) },
    });
    f.expectUntouched();
  });

  it('names each resource in its own challenge, also when the unpaid 402 is served from the per-snapshot cache', async () => {
    for (const round of [1, 2]) {
      for (const path of ['/services/echo/a', '/services/echo/b']) {
        const res = await f.edge.fetch(path);
        expect(res.status, `round ${round}`).toBe(402);
        expect(decodeChallengeHeader(res).resource).toMatchObject({ url: `https://edge.test${path}` });
        expect(((await res.json()) as { accepts: Array<{ resource: string }> }).accepts[0]?.resource).toBe(`https://edge.test${path}`);
      }
    }
    f.expectUntouched();
  });

  it('challenges before validating the request itself (a malformed POST still gets the 402)', async () => {
    const res = await f.edge.fetch('/services/echo', { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(402);
    f.expectUntouched();
  });

  it('uses the longest matching offer path', async () => {
    const res = await f.edge.fetch('/services/echo/deep/x');
    expect(decodeChallengeHeader(res).accepts[0]?.['amount']).toBe('2000');
    const shallow = await f.edge.fetch('/services/echo/deeper');
    expect(decodeChallengeHeader(shallow).accepts[0]?.['amount']).toBe('1000');
  });

  it('adds the Sunset header (IMF-fixdate of drainEndsAt) on a draining offer', async () => {
    const res = await f.edge.fetch('/services/sunset');
    expect(res.status).toBe(402);
    const endsAt = f.offers.sunset.drainEndsAt;
    expect(endsAt).toBeDefined();
    expect(res.headers.get('sunset')).toBe(formatHttpDate(parseRfc3339(endsAt ?? '')));
    expect((await f.edge.fetch('/services/echo')).headers.get('sunset')).toBeNull();
  });
});

describe('step 2: malformed payment header → 400 invalid_payment_header', () => {
  async function expect400(headers: Record<string, string>): Promise<void> {
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; reason: string };
    expect(body.reason).toBe('invalid_payment_header');
    expect(body.error.length).toBeGreaterThan(5);
    expectRouteHeaders(res);
    f.expectUntouched();
  }

  it('rejects garbage base64', () => expect400({ 'PAYMENT-SIGNATURE': '%%%garbage%%%' }));
  it('rejects base64 of non-JSON', () => expect400({ 'PAYMENT-SIGNATURE': btoa('this is not json') }));
  it('rejects JSON of the wrong shape', () => expect400({ 'PAYMENT-SIGNATURE': encodePayment({ x402Version: 2, accepted: { scheme: 'exact' }, payload: {} }) }));
  it('rejects a header over 16 KiB', () => expect400({ 'PAYMENT-SIGNATURE': 'QUFB'.repeat(4200) }));
  it('rejects a v1 payment in PAYMENT-SIGNATURE', async () => {
    const { payment } = await f.pay({ version: 1 });
    await expect400({ 'PAYMENT-SIGNATURE': encodePayment(payment) });
  });
  it('rejects a v2 payment in X-PAYMENT', async () => {
    const { payment } = await f.pay({ version: 2 });
    await expect400({ 'X-PAYMENT': encodePayment(payment) });
  });
});

describe('step 3: local checks → 402 re-challenge naming the reason', () => {
  const nowS = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => ReturnType<GateFixture['pay']>, string]> = [
    ['wrong scheme (v1)', () => f.pay({ version: 1, envelope: { scheme: 'upto' } }), 'invalid_exact_evm_scheme'],
    ['wrong scheme (v2)', () => f.pay({ accepted: { scheme: 'upto' } }), 'invalid_exact_evm_scheme'],
    ['wrong network (v1)', () => f.pay({ version: 1, envelope: { network: 'base' } }), 'invalid_exact_evm_network_mismatch'],
    ['wrong network (v2)', () => f.pay({ accepted: { network: 'eip155:8453' } }), 'invalid_exact_evm_network_mismatch'],
    ['tampered accepted.amount', () => f.pay({ accepted: { amount: '1' } }), 'invalid_exact_evm_payload_authorization_value_mismatch'],
    ['wrong payTo', () => f.pay({ authorization: { to: '0x000000000000000000000000000000000000dEaD' } }), 'invalid_exact_evm_recipient_mismatch'],
    ['underpayment', () => f.pay({ authorization: { value: '999' } }), 'invalid_exact_evm_payload_authorization_value_mismatch'],
    ['underpayment (v1)', () => f.pay({ version: 1, authorization: { value: '999' } }), 'invalid_exact_evm_authorization_value'],
    ['expired authorization', () => f.pay({ authorization: { validBefore: String(nowS() - 10) } }), 'invalid_exact_evm_payload_authorization_valid_before'],
    ['not-yet-valid authorization', () => f.pay({ authorization: { validAfter: String(nowS() + 120) } }), 'invalid_exact_evm_payload_authorization_valid_after'],
    ['signature by another key', () => f.pay({ signer: OTHER_KEY }), 'invalid_exact_evm_signature'],
    ['wrong EIP-712 domain name', () => f.pay({ domain: { name: 'USD Coin' } }), 'invalid_exact_evm_signature'],
  ];
  it.each(cases)('refuses %s', async (_name, make, reason) => {
    const { headers } = await make();
    const res = await f.edge.fetch('/services/echo', { method: 'POST', body: '{}', headers });
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: string }).error).toBe(reason);
    expect(decodeChallengeHeader(res).error).toBe(reason);
    expectRouteHeaders(res);
    f.expectUntouched();
  });
});

/** A request with the path exactly as written: fetch() would normalize encoded dot segments first. */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('path smuggling', () => {
  it('answers 400 invalid_path for encoded / or \\ and encoded dot segments, before any other decision', async () => {
    const { headers } = await f.pay();
    const smuggled = [
      '/services/echo%2F..%2Fecho-deep',
      '/services/echo%2fdeep',
      '/services/echo%5C..%5Csick',
      '/services/echo/%2e%2e%2Fgone',
      '/services/nope%2Fx',
      '/services/gone%2Fx',
    ];
    for (const path of smuggled) {
      const res = await rawGet(f.edge.url, path, headers);
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body), path).toEqual({ error: 'invalid_path' });
      expect(res.headers['payment-required'], path).toBeUndefined();
    }
    f.expectUntouched();
  });

  it('resolves encoded dot segments before matching, so the path charged is the path forwarded', async () => {
    // workerd (like Cloudflare's edge) normalizes `%2e%2e` segments in request.url; the guard also refuses any that arrive.
    const res = await rawGet(f.edge.url, '/services/sick/%2e%2e/echo/.%2E/echo', {});
    expect(res.status).toBe(402);
    const challenge = JSON.parse(Buffer.from(String(res.headers['payment-required']), 'base64').toString('utf8')) as { resource: { url: string } };
    expect(challenge.resource.url).toBe('https://edge.test/services/echo');
    f.expectUntouched();
  });

  it('still gates ordinary paths with encoded characters that are not separators', async () => {
    const res = await rawGet(f.edge.url, '/services/echo/a%20b', {});
    expect(res.status).toBe(402);
  });

  it('sends no Server-Timing header unless GATE_SERVER_TIMING=1', async () => {
    const res = await f.edge.fetch('/services/echo', { headers: (await f.pay()).headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toBeNull();
  });
});
