import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCdpKey, startCdpFacilitator, type CdpFacilitator, type CdpTestKey } from '../../../test/support/cdp-facilitator.js';
import { startFakeFacilitator, type FakeFacilitator } from '../../../test/support/fake-facilitator.js';
import { ConfigError, type Env } from '../env.js';
import { facilitatorAuth, parseFacilitatorAuth, type FacilitatorAuthSetting } from './facilitator-auth.js';
import { createFacilitatorClient } from './facilitator-client.js';
import { gateSettings } from './settings.js';

/** FACILITATOR_AUTH: each mode parses, every misconfiguration names its setting, a CDP JWT per call. */
const ed = makeCdpKey('ed25519');
const ec = makeCdpKey('ec', 'organizations/0f1e2d3c/apiKeys/4b5a6978');
const pkcs8Pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function env(vars: Record<string, string | undefined>): Env {
  return vars as unknown as Env;
}

function configError(vars: Record<string, string | undefined>): ConfigError {
  try {
    parseFacilitatorAuth(env(vars));
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('each mode parses', () => {
  it.each([
    { case: 'unset, no token → none (today)', vars: {}, mode: 'none' },
    { case: 'unset, a token → bearer (today)', vars: { FACILITATOR_AUTH_TOKEN: 'fac-token' }, mode: 'bearer' },
    { case: 'an empty value counts as unset', vars: { FACILITATOR_AUTH: '', FACILITATOR_AUTH_TOKEN: 'fac-token' }, mode: 'bearer' },
    { case: 'none, even with a token set', vars: { FACILITATOR_AUTH: 'none', FACILITATOR_AUTH_TOKEN: 'fac-token' }, mode: 'none' },
    { case: 'bearer', vars: { FACILITATOR_AUTH: 'bearer', FACILITATOR_AUTH_TOKEN: 'fac-token' }, mode: 'bearer' },
    { case: 'cdp with an Ed25519 secret', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ed.keyId, CDP_API_KEY_SECRET: ed.secret }, mode: 'cdp' },
    { case: 'cdp with the portal\'s EC PEM', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ec.keyId, CDP_API_KEY_SECRET: ec.secret }, mode: 'cdp' },
  ])('$case', ({ vars, mode }) => {
    expect(parseFacilitatorAuth(env(vars)).mode).toBe(mode);
  });

  it('keeps the bearer token and decodes both CDP secret formats', () => {
    expect(parseFacilitatorAuth(env({ FACILITATOR_AUTH_TOKEN: 'fac-token' }))).toEqual({ mode: 'bearer', token: 'fac-token' });
    const edSetting = parseFacilitatorAuth(env({ FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ed.keyId, CDP_API_KEY_SECRET: ed.secret }));
    expect(edSetting).toMatchObject({ mode: 'cdp', keyId: ed.keyId, secret: { format: 'ed25519' } });
    // The JSON download's one-line form, with `\n` escapes, and a PKCS#8 PEM are the same kind of key.
    for (const secret of [ec.secret.replace(/\n/g, '\\n'), pkcs8Pem]) {
      const setting = parseFacilitatorAuth(env({ FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ec.keyId, CDP_API_KEY_SECRET: secret }));
      expect(setting).toMatchObject({ mode: 'cdp', secret: { format: 'ec' } });
    }
  });

  it('is part of the gate settings, parsed with them', () => {
    const base = { PUBLIC_BASE_URL: 'https://edge.test', ORIGIN_URL: 'https://origin.test', FACILITATOR_URL: 'https://facilitator.test' };
    expect(gateSettings(env(base)).facilitatorAuth).toEqual({ mode: 'none' });
    expect(gateSettings(env({ ...base, FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ed.keyId, CDP_API_KEY_SECRET: ed.secret })).facilitatorAuth.mode).toBe('cdp');
    expect(() => gateSettings(env({ ...base, FACILITATOR_AUTH: 'jwt' }))).toThrow(/^FACILITATOR_AUTH: /);
  });
});

describe('a misconfiguration fails closed, naming the setting and never the secret', () => {
  it.each([
    { case: 'an unknown mode', vars: { FACILITATOR_AUTH: 'CDP' }, setting: 'FACILITATOR_AUTH' },
    { case: 'a CDP key without FACILITATOR_AUTH', vars: { CDP_API_KEY_ID: ed.keyId, CDP_API_KEY_SECRET: ed.secret }, setting: 'FACILITATOR_AUTH' },
    { case: 'bearer without a token', vars: { FACILITATOR_AUTH: 'bearer' }, setting: 'FACILITATOR_AUTH_TOKEN' },
    { case: 'a token that would split the header', vars: { FACILITATOR_AUTH: 'bearer', FACILITATOR_AUTH_TOKEN: 'tok\r\nx-evil: 1' }, setting: 'FACILITATOR_AUTH_TOKEN' },
    { case: 'cdp without a key ID', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_SECRET: ed.secret }, setting: 'CDP_API_KEY_ID' },
    { case: 'cdp without a secret', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ed.keyId }, setting: 'CDP_API_KEY_SECRET' },
    { case: 'a secret of the wrong length', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ed.keyId, CDP_API_KEY_SECRET: ed.secret.slice(8) }, setting: 'CDP_API_KEY_SECRET' },
    { case: 'a secret that is not base64', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ed.keyId, CDP_API_KEY_SECRET: `${ed.secret.slice(0, -4)}!!!!` }, setting: 'CDP_API_KEY_SECRET' },
    { case: 'a public key PEM', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ec.keyId, CDP_API_KEY_SECRET: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString() }, setting: 'CDP_API_KEY_SECRET' },
    { case: 'a PEM with a broken body', vars: { FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ec.keyId, CDP_API_KEY_SECRET: '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----' }, setting: 'CDP_API_KEY_SECRET' },
  ])('$case → $setting', ({ vars, setting }) => {
    const error = configError(vars);
    expect(error.setting).toBe(setting);
    expect(error.message.startsWith(`${setting}: `)).toBe(true);
    for (const secret of [ed.secret, ec.secret, ed.secret.slice(8, 40)]) expect(error.message).not.toContain(secret);
  });

  it('refuses, when the key is imported, an Ed25519 secret whose halves do not match', async () => {
    const other = makeCdpKey('ed25519');
    const mixed = Buffer.concat([Buffer.from(ed.secret, 'base64').subarray(0, 32), Buffer.from(other.secret, 'base64').subarray(32)]).toString('base64');
    const setting = parseFacilitatorAuth(env({ FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ed.keyId, CDP_API_KEY_SECRET: mixed }));
    await expect(facilitatorAuth(setting)).rejects.toMatchObject({ name: 'ConfigError', setting: 'CDP_API_KEY_SECRET' });
  });

  it('refuses, when the key is imported, an EC key on another curve', async () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const setting = parseFacilitatorAuth(env({ FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: ec.keyId, CDP_API_KEY_SECRET: k1 }));
    const error = await facilitatorAuth(setting).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConfigError', setting: 'CDP_API_KEY_SECRET' });
    expect(String(error)).not.toContain(k1.split('\n')[1]);
  });
});

describe('the facilitator client with FACILITATOR_AUTH=cdp', () => {
  let upstream: FakeFacilitator;
  let cdp: CdpFacilitator;
  const request = { x402Version: 2, paymentPayload: {}, paymentRequirements: { network: 'eip155:8453' } } as never;

  beforeAll(async () => {
    upstream = await startFakeFacilitator();
    cdp = await startCdpFacilitator({ trusted: ed, upstream: upstream.url });
  });
  afterAll(async () => {
    await cdp.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.reset();
    cdp.reset();
  });

  async function clientFor(key: CdpTestKey, headers?: Parameters<typeof createFacilitatorClient>[0]['headers']) {
    const setting: FacilitatorAuthSetting = parseFacilitatorAuth(env({ FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: key.keyId, CDP_API_KEY_SECRET: key.secret }));
    return createFacilitatorClient({ url: cdp.url, timeoutMs: 2000, auth: await facilitatorAuth(setting), headers });
  }

  it.each([{ key: ed }, { key: ec }])('signs each call with a fresh JWT bound to its own path ($key.alg)', async ({ key }) => {
    cdp.trusted = key;
    const client = await clientFor(key);
    expect(await client.verify(request)).toMatchObject({ kind: 'valid' });
    expect(await client.settle(request)).toMatchObject({ kind: 'success' });
    expect(await client.verify(request)).toMatchObject({ kind: 'valid' });
    expect(cdp.refusals).toEqual([]);
    const host = new URL(cdp.url).host;
    expect(cdp.accepted.map((jwt) => jwt.claims['uris'])).toEqual([
      [`POST ${host}/platform/v2/x402/verify`],
      [`POST ${host}/platform/v2/x402/settle`],
      [`POST ${host}/platform/v2/x402/verify`],
    ]);
    for (const { header, claims } of cdp.accepted) {
      expect(header).toMatchObject({ alg: key.alg, kid: key.keyId, typ: 'JWT' });
      expect(claims).toMatchObject({ iss: 'cdp', sub: key.keyId });
      expect(Number(claims['exp']) - Number(claims['iat'])).toBe(120);
    }
    expect(new Set(cdp.accepted.map((jwt) => jwt.header['nonce'])).size).toBe(3);
    expect(upstream.verifyCalls()).toHaveLength(2);
  });

  it('a key the facilitator does not trust: refused, unreachable (never the buyer\'s fault), nothing forwarded', async () => {
    cdp.trusted = ed;
    const impostor = makeCdpKey('ed25519', ed.keyId);
    const client = await clientFor(impostor);
    expect(await client.verify(request)).toEqual({ kind: 'unreachable', detail: "HTTP 401: the facilitator refused this edge's credentials (FACILITATOR_AUTH)" });
    expect(await client.settle(request)).toMatchObject({ kind: 'unknown' });
    expect(cdp.refusals).toEqual(['signature', 'signature']);
    expect(upstream.calls).toEqual([]);
  });

  it('keeps the code hook: its headers come after, and over, the configured ones', async () => {
    cdp.trusted = ed;
    const seen: string[] = [];
    const client = await clientFor(ed, ({ operation, method, url }) => {
      seen.push(`${operation} ${method} ${url}`);
      return { 'x-extra': 'from-code' };
    });
    expect(await client.verify(request)).toMatchObject({ kind: 'valid' });
    expect(seen).toEqual([`verify POST ${cdp.url}/verify`]);
    const overriding = await clientFor(ed, () => ({ authorization: 'Bearer from-code' }));
    expect(await overriding.verify(request)).toMatchObject({ kind: 'unreachable' });
    expect(cdp.refusals).toEqual(['no bearer JWT']);
  });
});
