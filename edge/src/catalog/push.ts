import { z } from 'zod';
import { MAX_SNAPSHOT_BYTES, parseRfc3339, type CatalogSnapshot } from '../../../core/index.js';
import { InvalidSignatureError, recoverSnapshotSigner } from '../../../core/signature.js';
import { checkOfferPaths } from './offer-paths.js';
import { readSnapshotText } from './snapshot-text.js';

/**
 * The checks of a snapshot push (SPEC §6), in order: signature over the exact bytes first, then
 * JSON, duplicate keys, schema, offer paths, audience and issuedAt. Each failure is a PushRejected
 * with a machine-readable reason; `channel.ts` maps reasons to status codes in one place.
 */

export const MAX_ISSUED_AGE_MS = 60 * 60 * 1000;
export const MAX_ISSUED_AHEAD_MS = 5 * 60 * 1000;

export type PushRejectReason =
  | 'no_catalog_signers'
  | 'missing_signature'
  | 'invalid_signature'
  | 'unknown_signer'
  | 'unsupported_media_type'
  | 'snapshot_too_large'
  | 'invalid_json'
  | 'duplicate_json_key'
  | 'invalid_snapshot'
  | 'invalid_offer_path'
  | 'duplicate_offer_path'
  | 'wrong_audience'
  | 'issued_at_too_old'
  | 'issued_at_in_future'
  | 'sequence_rollback'
  | 'sequence_conflict';

export class PushRejected extends Error {
  constructor(readonly reason: PushRejectReason, message: string, readonly storedSequence?: number) {
    super(message);
    this.name = 'PushRejected';
  }
}

/** Refuse a body whose Content-Type is not JSON (parameters like charset are allowed). */
export function checkContentType(contentType: string | undefined): void {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (media !== 'application/json') {
    throw new PushRejected('unsupported_media_type', `Content-Type must be application/json, got "${contentType ?? ''}"`);
  }
}

function tooLarge(size: string): PushRejected {
  return new PushRejected('snapshot_too_large', `snapshot body is ${size} bytes; the limit is ${MAX_SNAPSHOT_BYTES} bytes`);
}

/**
 * How far past the limit a refused body is still read and discarded. workerd can reuse the
 * connection only once the whole request was read: a cancelled body closes the socket under a
 * keep-alive client, whose next request on it then fails. Beyond this the stream is cancelled.
 */
export const REFUSED_BODY_DRAIN_BYTES = 1024 * 1024;

/** Discard what is left of a refused body, up to REFUSED_BODY_DRAIN_BYTES past the limit. */
async function drainRefused(reader: ReadableStreamDefaultReader<Uint8Array>, total: number): Promise<void> {
  let read = total;
  while (read < MAX_SNAPSHOT_BYTES + REFUSED_BODY_DRAIN_BYTES) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
  }
  await reader.cancel();
}

/**
 * Read the body, stopping soon after it passes the limit (Content-Length is checked up front too).
 * Not `hono/body-limit`: it leaves a refused chunked body unread, and workerd then resets the keep-alive connection.
 */
export async function readLimitedBody(request: Request): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  const framed = declared !== null && /^\d+$/.test(declared);
  if (framed && Number(declared) > MAX_SNAPSHOT_BYTES) throw tooLarge(declared);
  if (!request.body) return new Uint8Array(0);
  // A declared length bounds the body (HTTP framing), so the runtime may read it whole: ~10x less CPU than chunk by chunk.
  if (framed) return new Uint8Array(await request.arrayBuffer());
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_SNAPSHOT_BYTES) {
      parts.length = 0;
      await drainRefused(reader, total);
      throw tooLarge(`more than ${MAX_SNAPSHOT_BYTES}`);
    }
    parts.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.byteLength;
  }
  return body;
}

/** Fail closed: with no signer configured, every push is refused. */
export function requireSigners(signers: readonly string[]): void {
  if (signers.length === 0) {
    throw new PushRejected('no_catalog_signers', 'this edge has no CATALOG_SIGNERS configured, so every push is refused; set CATALOG_SIGNERS to the agent\'s signer address');
  }
}

/** The signer must be in the allowlist; the signature covers the exact body bytes. */
export async function checkSignature(params: { body: Uint8Array; bodySha256?: string; signature: string | undefined; signers: readonly string[] }): Promise<string> {
  requireSigners(params.signers);
  if (!params.signature) throw new PushRejected('missing_signature', 'the Obol-Signature header is missing');
  let signer: string;
  try {
    const recover = { body: params.body, signature: params.signature.trim() };
    signer = await recoverSnapshotSigner(params.bodySha256 === undefined ? recover : { ...recover, bodySha256: params.bodySha256 });
  } catch (error) {
    if (error instanceof InvalidSignatureError) throw new PushRejected('invalid_signature', error.message);
    throw error;
  }
  if (!params.signers.includes(signer)) {
    throw new PushRejected('unknown_signer', `the body is signed by ${signer}, which is not in CATALOG_SIGNERS`);
  }
  return signer;
}

/** The first few schema issues as zod prints them: bounded, for a 400 body and a log line. */
export function describeIssues(error: z.ZodError): string {
  return z.prettifyError({ issues: error.issues.slice(0, 5) });
}

/** JSON, duplicate keys, schema, offer paths, audience and issuedAt window; returns the parsed snapshot. */
export function parseSnapshotBody(params: { body: Uint8Array; audience: string; nowMs: number }): CatalogSnapshot {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(params.body);
  } catch (error) {
    throw new PushRejected('invalid_json', `the body is not UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const read = readSnapshotText(text);
  if (!read.ok) {
    if (read.reason === 'invalid_json') throw new PushRejected('invalid_json', `the body is not UTF-8 JSON: ${read.message}`);
    if (read.reason === 'duplicate_json_key') throw new PushRejected('duplicate_json_key', read.message);
    throw new PushRejected('invalid_snapshot', `the snapshot does not fit the schema:\n${describeIssues(read.error)}`);
  }
  const { snapshot } = read;
  const pathProblem = checkOfferPaths(snapshot.offers);
  if (pathProblem) throw new PushRejected(pathProblem.reason, pathProblem.message);
  if (snapshot.audience.replace(/\/+$/, '') !== params.audience) {
    throw new PushRejected('wrong_audience', `the snapshot is for "${snapshot.audience}", this edge is "${params.audience}"`);
  }
  const issuedMs = parseRfc3339(snapshot.issuedAt);
  if (params.nowMs - issuedMs > MAX_ISSUED_AGE_MS) {
    throw new PushRejected('issued_at_too_old', `issuedAt ${snapshot.issuedAt} is more than 1 h old; sign a fresh snapshot`);
  }
  if (issuedMs - params.nowMs > MAX_ISSUED_AHEAD_MS) {
    throw new PushRejected('issued_at_in_future', `issuedAt ${snapshot.issuedAt} is more than 5 min in the future; check the agent's clock`);
  }
  return snapshot;
}
