import { generateKeyPairSync, verify as verifySignature, type KeyObject } from 'node:crypto';
import { closeServer } from './http-server.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Coinbase (CDP) facilitator's front door on 127.0.0.1:0: every call must carry
 * `Authorization: Bearer <JWT>` signed by the trusted CDP API key and bound to this very request
 * (the `uris` claim is `<METHOD> <host><path>`), fresh (`nbf`/`exp`, at most 120 s), with `kid` and a
 * never-seen `nonce`; otherwise 401, the way the CDP API refuses. Accepted calls are forwarded to
 * `upstream` (e.g. the fake facilitator) with the base path stripped. Signatures are checked with
 * node:crypto (OpenSSL), independently of the library the edge signs with.
 */
export const CDP_BASE_PATH = '/platform/v2/x402';

export interface CdpTestKey {
  readonly keyId: string;
  /** CDP_API_KEY_SECRET in the portal's format: base64 seed‖public (Ed25519) or a SEC1 PEM (EC). */
  readonly secret: string;
  readonly publicKey: KeyObject;
  readonly alg: 'EdDSA' | 'ES256';
}

/** A fresh CDP-style API key. */
export function makeCdpKey(format: 'ed25519' | 'ec', keyId = crypto.randomUUID()): CdpTestKey {
  if (format === 'ec') {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return { keyId, secret: privateKey.export({ type: 'sec1', format: 'pem' }).toString(), publicKey, alg: 'ES256' };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const secret = Buffer.concat([Buffer.from(jwk.d ?? '', 'base64url'), Buffer.from(jwk.x ?? '', 'base64url')]).toString('base64');
  return { keyId, secret, publicKey, alg: 'EdDSA' };
}

export interface AcceptedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export interface CdpFacilitator {
  /** FACILITATOR_URL for the edge: the stub's origin plus the CDP base path. */
  readonly url: string;
  readonly accepted: AcceptedJwt[];
  /** Why each refused call was refused. */
  readonly refusals: string[];
  /** The key calls must be signed with (swap it to simulate a wrong or revoked key). */
  trusted: CdpTestKey;
  /** Where accepted calls go. */
  upstream: string;
  reset(): void;
  close(): Promise<void>;
}

function decodePart(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Why the call's JWT is not acceptable, or its decoded parts. */
function checkJwt(req: IncomingMessage, key: CdpTestKey, seenNonces: Set<string>): string | AcceptedJwt {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(req.headers.authorization ?? '');
  if (!match) return 'no bearer JWT';
  const [, h, p, s] = match;
  const header = decodePart(h);
  const claims = decodePart(p);
  if (!header || !claims) return 'undecodable JWT';
  if (header['alg'] !== key.alg) return `alg ${String(header['alg'])}`;
  if (header['typ'] !== 'JWT') return 'typ';
  if (header['kid'] !== key.keyId) return 'kid';
  const signature = Buffer.from(s ?? '', 'base64url');
  const signed = Buffer.from(`${h}.${p}`);
  const valid = key.alg === 'EdDSA'
    ? verifySignature(null, signed, key.publicKey, signature)
    : verifySignature('sha256', signed, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  if (!valid) return 'signature';
  const nonce = header['nonce'];
  if (typeof nonce !== 'string' || !/^[0-9a-f]{32}$/.test(nonce)) return 'nonce';
  if (seenNonces.has(nonce)) return 'nonce reused';
  if (claims['iss'] !== 'cdp' || claims['sub'] !== key.keyId) return 'iss/sub';
  const now = Math.floor(Date.now() / 1000);
  const [iat, nbf, exp] = [claims['iat'], claims['nbf'], claims['exp']];
  if (typeof iat !== 'number' || typeof nbf !== 'number' || typeof exp !== 'number') return 'iat/nbf/exp';
  if (nbf > now + 5 || exp <= now) return 'not valid now';
  if (exp - iat > 120) return 'lifetime over 120 s';
  const uri = `${req.method} ${req.headers.host}${(req.url ?? '').split('?')[0]}`;
  const uris = claims['uris'];
  if (!Array.isArray(uris) || uris.length !== 1 || uris[0] !== uri) return `uris ${JSON.stringify(uris)} is not [${uri}]`;
  seenNonces.add(nonce);
  return { header, claims };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startCdpFacilitator(options: { trusted: CdpTestKey; upstream?: string }): Promise<CdpFacilitator> {
  const seenNonces = new Set<string>();
  const accepted: AcceptedJwt[] = [];
  const refusals: string[] = [];
  let trusted = options.trusted;
  let upstream = options.upstream ?? '';
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? '/';
      const checked = path.startsWith(`${CDP_BASE_PATH}/`) ? checkJwt(req, trusted, seenNonces) : 'not under the CDP base path';
      if (typeof checked === 'string') {
        refusals.push(checked);
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errorType: 'unauthorized', errorMessage: 'Unauthorized' }));
        return;
      }
      accepted.push(checked);
      const forwarded = await fetch(`${upstream}${path.slice(CDP_BASE_PATH.length)}`, {
        method: req.method ?? 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        ...(req.method === 'GET' ? {} : { body }),
      });
      res.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await forwarded.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${CDP_BASE_PATH}`,
    accepted,
    refusals,
    get trusted() { return trusted; },
    set trusted(key) { trusted = key; },
    get upstream() { return upstream; },
    set upstream(url) { upstream = url; },
    reset() {
      accepted.length = 0;
      refusals.length = 0;
    },
    close: () => closeServer(server),
  };
}
