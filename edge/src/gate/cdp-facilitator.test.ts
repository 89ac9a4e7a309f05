import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCdpKey, startCdpFacilitator, type CdpFacilitator, type CdpTestKey } from '../../../test/support/cdp-facilitator.js';
import { decodeReceipt, startGateFixture, type GateFixture } from '../../../test/support/gate.js';
import { BUYER } from '../../../test/support/payments.js';

/**
 * FACILITATOR_AUTH=cdp in workerd: the edge signs a fresh JWT for each /verify and /settle with the
 * CDP API key from its secrets, and a stand-in for the CDP facilitator checks it before anything
 * reaches the facilitator behind it.
 */
function cdpVars(cdp: CdpFacilitator, key: CdpTestKey, secret = key.secret): Record<string, string> {
  return { FACILITATOR_URL: cdp.url, FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: key.keyId, CDP_API_KEY_SECRET: secret };
}

async function startCdpGate(key: CdpTestKey, secret?: string): Promise<{ f: GateFixture; cdp: CdpFacilitator }> {
  const cdp = await startCdpFacilitator({ trusted: key });
  const f = await startGateFixture(cdpVars(cdp, key, secret));
  cdp.upstream = f.facilitator.url;
  return { f, cdp };
}

describe.each([
  { format: 'Ed25519 (base64 secret)', key: makeCdpKey('ed25519'), oneLine: false },
  // As pasted from the portal's JSON download: one line, `\n` escapes.
  { format: 'ECDSA (SEC1 PEM, one line with \\n escapes)', key: makeCdpKey('ec', 'organizations/0f1e/apiKeys/4b5a'), oneLine: true },
])('a CDP API key, $format', ({ key, oneLine }) => {
  let f: GateFixture;
  let cdp: CdpFacilitator;
  beforeAll(async () => {
    ({ f, cdp } = await startCdpGate(key, oneLine ? key.secret.replace(/\n/g, '\\n') : key.secret));
  });
  afterAll(async () => {
    await f?.dispose();
    await cdp?.close();
  });
  beforeEach(() => {
    f.reset();
    cdp.reset();
    cdp.trusted = key;
  });

  it('pays end to end: one JWT per call, each bound to its own method, host and path', async () => {
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true, payer: BUYER.address });
    expect(f.origin.hits).toHaveLength(1);
    expect(cdp.refusals).toEqual([]);
    const host = new URL(cdp.url).host;
    expect(cdp.accepted.map((jwt) => jwt.claims['uris'])).toEqual([[`POST ${host}/platform/v2/x402/verify`], [`POST ${host}/platform/v2/x402/settle`]]);
    expect(cdp.accepted.map((jwt) => jwt.header)).toEqual([
      expect.objectContaining({ alg: key.alg, kid: key.keyId, typ: 'JWT' }),
      expect.objectContaining({ alg: key.alg, kid: key.keyId, typ: 'JWT' }),
    ]);
    expect(f.facilitator.verifyCalls()).toHaveLength(1);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('a key the facilitator refuses: 503 facilitator_unreachable, nothing forwarded, the payment usable again', async () => {
    cdp.trusted = makeCdpKey(key.alg === 'EdDSA' ? 'ed25519' : 'ec', key.keyId);
    const { headers } = await f.pay();
    const refused = await f.edge.fetch('/services/echo', { headers });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'facilitator_unreachable', retriable: true });
    expect(cdp.refusals).toEqual(['signature']);
    f.expectUntouched();
    cdp.trusted = key;
    expect((await f.edge.fetch('/services/echo', { headers })).status).toBe(200);
    expect(f.origin.hits).toHaveLength(1);
  });
});

describe.each<{ case: string; vars: Record<string, string>; setting: string }>([
  { case: 'cdp without its secret', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: 'k' }, setting: 'CDP_API_KEY_SECRET' },
  { case: 'an unknown mode', vars: { FACILITATOR_AUTH: 'jwt' }, setting: 'FACILITATOR_AUTH' },
  { case: 'a malformed key', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: 'k', CDP_API_KEY_SECRET: 'bm90IGEga2V5' }, setting: 'CDP_API_KEY_SECRET' },
  // Well-formed: only the key's import (once per isolate, before the first answer under /services) can tell.
  { case: 'an Ed25519 secret whose halves do not match', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: 'k', CDP_API_KEY_SECRET: mismatchedEd25519() }, setting: 'CDP_API_KEY_SECRET' },
])('misconfigured: $case', ({ vars, setting }) => {
  let f: GateFixture;
  beforeAll(async () => {
    f = await startGateFixture(vars);
    f.reset();
  });
  afterAll(async () => { await f?.dispose(); });

  it(`answers 500 naming ${setting}, with or without a payment; nothing reaches the facilitator or the origin`, async () => {
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('edge_misconfigured');
    expect(body.message.startsWith(`${setting}: `)).toBe(true);
    if (vars.CDP_API_KEY_SECRET) expect(body.message).not.toContain(vars.CDP_API_KEY_SECRET);
    expect((await f.edge.fetch('/services/echo')).status).toBe(500);
    f.expectUntouched();
  });
});

function mismatchedEd25519(): string {
  const [a, b] = [makeCdpKey('ed25519'), makeCdpKey('ed25519')];
  return Buffer.concat([Buffer.from(a.secret, 'base64').subarray(0, 32), Buffer.from(b.secret, 'base64').subarray(32)]).toString('base64');
}
