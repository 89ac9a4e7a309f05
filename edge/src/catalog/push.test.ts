import { describe, expect, it } from 'vitest';
import { formatRfc3339, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_OFFERS, type SnapshotOffer } from '../../../core/index.js';
import { TEST_PUBLIC_BASE_URL } from '../../../test/support/edge.js';
import { makeSnapshot, sampleOffers, snapshotBody } from '../../../test/support/snapshots.js';
import { checkContentType, parseSnapshotBody, PushRejected, readLimitedBody, REFUSED_BODY_DRAIN_BYTES } from './push.js';

const MiB = 1024 * 1024;

/** A chunked request body (no Content-Length) of `total` bytes that counts what was pulled. */
function streamedRequest(total: number): { request: Request; pulled: () => number; cancelled: () => boolean } {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = Math.min(MiB, total - pulled);
      if (size <= 0) return controller.close();
      pulled += size;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
    cancel() { cancelled = true; },
  });
  const init = { method: 'PUT', body: stream, duplex: 'half' } as RequestInit;
  return { request: new Request('https://edge.test/_obol/v1/catalog', init), pulled: () => pulled, cancelled: () => cancelled };
}

/** The PushRejected reason a call throws, or 'none'. */
function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof PushRejected) return error.reason;
    throw error;
  }
  return 'none';
}

async function rejection(promise: Promise<unknown>): Promise<PushRejected> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PushRejected) return error;
    throw error;
  }
  throw new Error('expected a PushRejected');
}

describe('readLimitedBody', () => {
  it('stops reading a streamed body as soon as it passes the limit and cancels the stream', async () => {
    const req = streamedRequest(64 * MiB);
    const error = await rejection(readLimitedBody(req.request));
    expect(error.reason).toBe('snapshot_too_large');
    expect(req.pulled()).toBeLessThanOrEqual(MAX_SNAPSHOT_BYTES + 2 * MiB);
    expect(req.cancelled()).toBe(true);
  });

  it('reads a refused body to its end when it ends within the drain bound, so workerd can reuse the connection', async () => {
    const req = streamedRequest(MAX_SNAPSHOT_BYTES + REFUSED_BODY_DRAIN_BYTES / 2);
    expect((await rejection(readLimitedBody(req.request))).reason).toBe('snapshot_too_large');
    expect(req.pulled()).toBe(MAX_SNAPSHOT_BYTES + REFUSED_BODY_DRAIN_BYTES / 2);
    expect(req.cancelled()).toBe(false);
  });

  it('reads a streamed body of exactly the limit', async () => {
    const body = await readLimitedBody(streamedRequest(MAX_SNAPSHOT_BYTES).request);
    expect(body.byteLength).toBe(MAX_SNAPSHOT_BYTES);
  });

  it('refuses from Content-Length alone without reading', async () => {
    const req = new Request('https://edge.test/', { method: 'PUT', body: 'x', headers: { 'content-length': String(MAX_SNAPSHOT_BYTES + 1) } });
    expect((await rejection(readLimitedBody(req))).reason).toBe('snapshot_too_large');
  });
});

describe('checkContentType', () => {
  it('accepts application/json with parameters, in any case', () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) expect(() => checkContentType(type)).not.toThrow();
  });

  it('refuses other or missing types with 415 reason', () => {
    for (const type of [undefined, '', 'text/plain', 'application/jsonx', 'application/x-www-form-urlencoded']) {
      expect(reasonOf(() => checkContentType(type)), String(type)).toBe('unsupported_media_type');
    }
  });
});

describe('parseSnapshotBody issuedAt window', () => {
  const NOW = Date.parse('2026-11-23T10:00:00Z');
  const parse = (offsetMs: number) => {
    const body = new TextEncoder().encode(snapshotBody(makeSnapshot({ issuedAt: formatRfc3339(NOW + offsetMs) })));
    return () => parseSnapshotBody({ body, audience: TEST_PUBLIC_BASE_URL, nowMs: NOW });
  };

  it('accepts exactly 1 h old and exactly 5 min ahead', () => {
    expect(parse(-3600_000)).not.toThrow();
    expect(parse(300_000)).not.toThrow();
  });

  it('refuses one second past either bound', () => {
    expect(reasonOf(parse(-3601_000))).toBe('issued_at_too_old');
    expect(reasonOf(parse(301_000))).toBe('issued_at_in_future');
  });

  it('treats an audience with a trailing slash as the same edge', () => {
    const body = new TextEncoder().encode(snapshotBody(makeSnapshot({ issuedAt: formatRfc3339(NOW), audience: `${TEST_PUBLIC_BASE_URL}/` })));
    expect(parseSnapshotBody({ body, audience: TEST_PUBLIC_BASE_URL, nowMs: NOW }).audience).toBe(`${TEST_PUBLIC_BASE_URL}/`);
  });

  it('refuses a body with a byte-order mark as invalid JSON', () => {
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(snapshotBody(makeSnapshot({ issuedAt: formatRfc3339(NOW) })))]);
    expect(reasonOf(() => parseSnapshotBody({ body, audience: TEST_PUBLIC_BASE_URL, nowMs: NOW }))).toBe('invalid_json');
  });
});

describe('parseSnapshotBody on a re-push', () => {
  const NOW = Date.now();
  const parse = (snapshot: ReturnType<typeof makeSnapshot>) =>
    parseSnapshotBody({ body: new TextEncoder().encode(snapshotBody(snapshot)), audience: TEST_PUBLIC_BASE_URL, nowMs: NOW });
  const offers = sampleOffers(5);
  const first = makeSnapshot({ offers, sequence: 1, issuedAt: formatRfc3339(NOW) });

  it('returns every offer in order, the changed one as changed', () => {
    parse(first);
    const changed = offers.map((offer, i) => (i === 3 ? { ...offer, description: 'changed', skills: ['new'] } : offer));
    const second = parse(makeSnapshot({ offers: changed, sequence: 2, issuedAt: formatRfc3339(NOW) }));
    expect(second.offers).toEqual(changed);
    expect(second.offers.map((o) => o.key)).toEqual(offers.map((o) => o.key));
  });

  it('names an offer that turned invalid by its place in the pushed snapshot', () => {
    parse(first);
    const broken = offers.map((offer, i) => (i === 3 ? { ...offer, upstreamHealthy: 'yes' as unknown as boolean } : offer));
    let message = '';
    try {
      parse(makeSnapshot({ offers: broken, sequence: 2, issuedAt: formatRfc3339(NOW) }));
    } catch (error) {
      if (error instanceof PushRejected) message = `${error.reason}: ${error.message}`;
    }
    expect(message).toMatch(/^invalid_snapshot: /);
    expect(message).toContain('offers[3].upstreamHealthy');
  });

  it('still refuses an unchanged offer list beyond the offer limit', () => {
    const tooMany = makeSnapshot({ offers: Array.from({ length: MAX_SNAPSHOT_OFFERS + 1 }, () => offers[0] as SnapshotOffer), issuedAt: formatRfc3339(NOW) });
    expect(reasonOf(() => parse(tooMany))).toBe('invalid_snapshot');
  });
});
