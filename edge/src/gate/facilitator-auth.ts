import { SignJWT, base64url, importJWK, importPKCS8, jwtVerify, type CryptoKey } from 'jose';
import { ConfigError, type Env } from '../env.js';
import type { FacilitatorHeaderProvider } from './facilitator-client.js';

/**
 * How the gate authenticates to its facilitator (FACILITATOR_AUTH): not at all, with a static
 * bearer token, or with a Coinbase Developer Platform API key that signs a short-lived JWT bound to
 * each call's method, host and path (what the CDP facilitator at api.cdp.coinbase.com requires).
 * Settings are checked here synchronously; the key is imported once per isolate by `facilitatorAuth`.
 */
export type FacilitatorAuthMode = 'none' | 'bearer' | 'cdp';

/** A CDP API key secret in one of the two formats the CDP portal issues, decoded but not yet imported. */
export type CdpKeySecret =
  | { readonly format: 'ed25519'; readonly seed: Uint8Array; readonly publicKey: Uint8Array }
  | { readonly format: 'ec'; readonly pkcs8Pem: string };

export type FacilitatorAuthSetting =
  | { readonly mode: 'none' }
  | { readonly mode: 'bearer'; readonly token: string }
  | { readonly mode: 'cdp'; readonly keyId: string; readonly secret: CdpKeySecret };

/** The CDP SDK's lifetime for a request JWT: long enough for clock skew, short enough to be useless if leaked. */
export const CDP_JWT_LIFETIME_S = 120;

const MODES: readonly string[] = ['none', 'bearer', 'cdp'] satisfies FacilitatorAuthMode[];
// A header value: no control characters (a CR/LF would split the header), no spaces.
const HEADER_TOKEN = /^[\x21-\x7e]+$/;

export function parseFacilitatorAuth(env: Env): FacilitatorAuthSetting {
  const explicit = env.FACILITATOR_AUTH;
  if (explicit !== undefined && explicit !== '' && !MODES.includes(explicit)) {
    throw new ConfigError('FACILITATOR_AUTH', 'must be "none", "bearer" (FACILITATOR_AUTH_TOKEN) or "cdp" (CDP_API_KEY_ID and CDP_API_KEY_SECRET)');
  }
  if (!explicit && (env.CDP_API_KEY_ID || env.CDP_API_KEY_SECRET)) {
    // A CDP key left unused would fail every call at the CDP facilitator instead of here.
    throw new ConfigError('FACILITATOR_AUTH', 'is not set while a CDP API key is: set FACILITATOR_AUTH=cdp to use it (or "bearer"/"none")');
  }
  const mode = (explicit || (env.FACILITATOR_AUTH_TOKEN ? 'bearer' : 'none')) as FacilitatorAuthMode;
  if (mode === 'none') return { mode };
  if (mode === 'bearer') {
    const token = env.FACILITATOR_AUTH_TOKEN;
    if (!token) throw new ConfigError('FACILITATOR_AUTH_TOKEN', 'is not set (FACILITATOR_AUTH=bearer sends it as Authorization: Bearer …)');
    if (!HEADER_TOKEN.test(token)) throw new ConfigError('FACILITATOR_AUTH_TOKEN', 'must be one line of visible ASCII characters, without spaces');
    return { mode, token };
  }
  const keyId = env.CDP_API_KEY_ID;
  if (!keyId) throw new ConfigError('CDP_API_KEY_ID', 'is not set (FACILITATOR_AUTH=cdp): the API key ID from the CDP portal');
  if (!HEADER_TOKEN.test(keyId) || keyId.length > 256) throw new ConfigError('CDP_API_KEY_ID', 'must be the API key ID from the CDP portal (a UUID or organizations/…/apiKeys/…)');
  if (!env.CDP_API_KEY_SECRET) throw new ConfigError('CDP_API_KEY_SECRET', 'is not set (FACILITATOR_AUTH=cdp): the API key secret from the CDP portal');
  return { mode, keyId, secret: parseCdpKeySecret(env.CDP_API_KEY_SECRET) };
}

const SECRET_FORMATS = 'must be the base64 Ed25519 secret (64 bytes) or the EC private key PEM the CDP portal issued';

function decodeBase64(value: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
}

/** The secret's format, checked without importing it. Never echoes the secret in an error. */
export function parseCdpKeySecret(raw: string): CdpKeySecret {
  // The portal's JSON download writes the PEM with `\n` escapes; people paste it that way.
  const text = raw.replace(/\\n/g, '\n').trim();
  const pem = /^-----BEGIN (EC PRIVATE KEY|PRIVATE KEY)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----$/.exec(text);
  if (pem) {
    const der = decodeBase64((pem[2] ?? '').replace(/\s+/g, ''));
    if (!der || der[0] !== 0x30) throw new ConfigError('CDP_API_KEY_SECRET', `has a PEM body that is not DER; it ${SECRET_FORMATS}`);
    const pkcs8 = pem[1] === 'EC PRIVATE KEY' ? sec1ToPkcs8(der) : der;
    return { format: 'ec', pkcs8Pem: `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...pkcs8))}\n-----END PRIVATE KEY-----` };
  }
  if (text.startsWith('-----')) throw new ConfigError('CDP_API_KEY_SECRET', `is a PEM of another kind; it ${SECRET_FORMATS}`);
  const bytes = decodeBase64(text);
  if (!bytes || bytes.length !== 64) throw new ConfigError('CDP_API_KEY_SECRET', SECRET_FORMATS);
  return { format: 'ed25519', seed: bytes.subarray(0, 32), publicKey: bytes.subarray(32) };
}

// PKCS#8's AlgorithmIdentifier for an EC key on P-256 (RFC 5480: id-ecPublicKey, prime256v1), the only curve ES256 uses.
const P256_ALGORITHM = [0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

function derLength(length: number): number[] {
  return length < 0x80 ? [length] : length < 0x100 ? [0x81, length] : [0x82, length >> 8, length & 0xff];
}

/**
 * WebCrypto imports PKCS#8 only; the portal issues SEC1 ("EC PRIVATE KEY", RFC 5915). PKCS#8
 * (RFC 5208) is SEC1 wrapped as-is in an envelope naming the curve; the import parses and checks it.
 */
function sec1ToPkcs8(sec1: Uint8Array): Uint8Array {
  const body = [0x02, 0x01, 0x00, ...P256_ALGORITHM, 0x04, ...derLength(sec1.length), ...sec1];
  return Uint8Array.from([0x30, ...derLength(body.length), ...body]);
}

type Signing = { key: CryptoKey; alg: 'EdDSA' | 'ES256' };

async function importCdpKey(secret: CdpKeySecret): Promise<Signing> {
  try {
    if (secret.format === 'ec') return { key: await importPKCS8(secret.pkcs8Pem, 'ES256'), alg: 'ES256' };
    const jwk = { kty: 'OKP', crv: 'Ed25519', d: base64url.encode(secret.seed), x: base64url.encode(secret.publicKey) };
    const key = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
    // The secret carries both halves: a mismatch would sign tokens the facilitator can never verify.
    const publicKey = (await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'EdDSA')) as CryptoKey;
    await jwtVerify(await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).sign(key), publicKey);
    return { key, alg: 'EdDSA' };
  } catch {
    // The library's message may quote key material; say what is wrong in our words only.
    const what = secret.format === 'ec' ? 'an EC private key on P-256 (ES256)' : 'an Ed25519 key whose two halves match';
    throw new ConfigError('CDP_API_KEY_SECRET', `is not ${what}; it ${SECRET_FORMATS}`);
  }
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `POST api.cdp.coinbase.com/platform/v2/x402/verify`: the request a CDP JWT is valid for. */
function boundRequest(method: string, url: string): string {
  const { host, pathname } = new URL(url);
  return `${method} ${host}${pathname}`;
}

/** A CDP request JWT, with the claims `@coinbase/cdp-sdk`'s `generateJwt` makes for the x402 facilitator. */
async function signCdpJwt(params: { keyId: string; signing: Signing; uri: string; nowS: number }): Promise<string> {
  const { keyId, signing, uri, nowS } = params;
  return new SignJWT({ sub: keyId, iss: 'cdp', uris: [uri] })
    .setProtectedHeader({ alg: signing.alg, kid: keyId, typ: 'JWT', nonce: randomHex(16) })
    .setIssuedAt(nowS)
    .setNotBefore(nowS)
    .setExpirationTime(nowS + CDP_JWT_LIFETIME_S)
    .sign(signing.key);
}

/**
 * The facilitator's `Authorization` per call, or undefined for `none`. For `cdp` the key is imported
 * here (a bad one throws ConfigError) and every call gets a fresh JWT for its own URL.
 */
export async function facilitatorAuth(setting: FacilitatorAuthSetting): Promise<FacilitatorHeaderProvider | undefined> {
  if (setting.mode === 'none') return undefined;
  if (setting.mode === 'bearer') {
    const headers = { authorization: `Bearer ${setting.token}` };
    return () => headers;
  }
  const signing = await importCdpKey(setting.secret);
  const uris = new Map<string, string>();
  return async ({ method, url }) => {
    const key = `${method} ${url}`;
    let uri = uris.get(key);
    if (uri === undefined) uris.set(key, (uri = boundRequest(method, url)));
    const jwt = await signCdpJwt({ keyId: setting.keyId, signing, uri, nowS: Math.floor(Date.now() / 1000) });
    return { authorization: `Bearer ${jwt}` };
  };
}
