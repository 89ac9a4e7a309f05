import { Hono, type Context } from 'hono';
import { formatRfc3339 } from '../../../core/index.js';
import { SIGNATURE_HEADER, snapshotBodySha256 } from '../../../core/signature.js';
import type { AppEnv } from '../app.js';
import { catalogSigners, publicBaseUrl } from '../env.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import { installAcceptedSnapshot } from './cache.js';
import { checkContentType, checkSignature, parseSnapshotBody, PushRejected, readLimitedBody, requireSigners, type PushRejectReason } from './push.js';
import { catalogStore } from './store-client.js';

/**
 * The snapshot channel (SPEC §6), mounted at `/_obol/v1`: `PUT /catalog` takes a signed snapshot,
 * `GET /catalog` returns the stored body with its signature, `GET /catalog/status` its head.
 * A rejected push never reaches the store, and the store itself refuses rollbacks and conflicts.
 */

/** The one place push failures become status codes. */
const STATUS: Record<PushRejectReason, 400 | 401 | 409 | 413 | 415> = {
  no_catalog_signers: 401,
  missing_signature: 401,
  invalid_signature: 401,
  unknown_signer: 401,
  unsupported_media_type: 415,
  snapshot_too_large: 413,
  invalid_json: 400,
  duplicate_json_key: 400,
  invalid_snapshot: 400,
  invalid_offer_path: 400,
  duplicate_offer_path: 400,
  wrong_audience: 400,
  issued_at_too_old: 400,
  issued_at_in_future: 400,
  sequence_rollback: 409,
  sequence_conflict: 409,
};

type PushLog = { outcome: string; status: number; bytes?: number; sequence?: number; signer?: string; reason?: string };

function logPush(entry: PushLog): void {
  const level = entry.status >= 400 ? 'warn' : 'info';
  console.log(JSON.stringify({ level, msg: 'catalog push', ...entry }));
}

async function handlePush(c: Context<AppEnv>): Promise<Response> {
  const nowMs = Date.now();
  const signers = catalogSigners(c.env);
  const audience = publicBaseUrl(c.env);
  let bytes: number | undefined;
  let signer: string | undefined;
  try {
    requireSigners(signers);
    checkContentType(c.req.header('content-type'));
    const body = await readLimitedBody(c.req.raw);
    bytes = body.byteLength;
    const signature = c.req.header(SIGNATURE_HEADER);
    // Hashed once: the signature covers this hash, and the store keeps it as the body's ETag.
    const bodySha256 = await snapshotBodySha256(body);
    signer = await checkSignature({ body, bodySha256, signature, signers });
    const snapshot = parseSnapshotBody({ body, audience, nowMs });
    const result = await catalogStore(c.env).accept({
      body,
      sha256: bodySha256.slice(2),
      signature: (signature ?? '').trim(),
      sequence: snapshot.sequence,
      issuedAt: snapshot.issuedAt,
      receivedAt: formatRfc3339(nowMs),
      offers: snapshot.offers.length,
    });
    if (result.outcome === 'stale') {
      throw new PushRejected('sequence_rollback', `sequence ${snapshot.sequence} is lower than the stored ${result.storedSequence}`, result.storedSequence);
    }
    if (result.outcome === 'conflict') {
      throw new PushRejected('sequence_conflict', `sequence ${snapshot.sequence} is already stored with different bytes`, result.storedSequence);
    }
    // Also on a no-op: this isolate may still hold an older view of the same stored snapshot.
    installAcceptedSnapshot(snapshot, result.head, nowMs);
    logPush({ outcome: result.outcome, status: 200, bytes, sequence: snapshot.sequence, signer });
    return c.json(result.outcome === 'accepted' ? { sequence: snapshot.sequence } : { sequence: snapshot.sequence, unchanged: true });
  } catch (error) {
    if (!(error instanceof PushRejected)) throw error;
    const status = STATUS[error.reason];
    logPush({ outcome: 'rejected', status, reason: error.reason, ...(bytes !== undefined ? { bytes } : {}), ...(signer ? { signer } : {}) });
    const body = { error: error.reason, message: error.message, ...(error.storedSequence !== undefined ? { sequence: error.storedSequence } : {}) };
    return c.json(body, status);
  }
}

export const catalogChannel = new Hono<AppEnv>();
const otherMethods = methodNotAllowed(catalogChannel);
catalogChannel.use('/catalog/status', otherMethods);
catalogChannel.use('/catalog', otherMethods);

catalogChannel.get('/catalog/status', async (c) => {
  const head = await catalogStore(c.env).head();
  c.header('Cache-Control', 'no-store');
  // Before any push: sequence 0 (so an agent's max(edge + 1, now) needs no special case), times null.
  return c.json({
    audience: publicBaseUrl(c.env),
    sequence: head?.sequence ?? 0,
    issuedAt: head?.issuedAt ?? null,
    receivedAt: head?.receivedAt ?? null,
    offers: head?.offers ?? 0,
  });
});

catalogChannel.get('/catalog', async (c) => {
  const stored = await catalogStore(c.env).read();
  c.header('Cache-Control', 'no-store');
  if (!stored) return c.json({ error: 'catalog_unavailable', message: 'no snapshot has been accepted yet' }, 404);
  return c.body(stored.body, 200, {
    'Content-Type': 'application/json',
    [SIGNATURE_HEADER]: stored.head.signature,
    ETag: `"${stored.head.sha256}"`,
  });
});
catalogChannel.put('/catalog', handlePush);
