import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRfc3339, MAX_SNAPSHOT_BYTES } from '../../../core/index.js';
import { recoverSnapshotSigner, signerAddress, signSnapshotBody } from '../../../core/signature.js';
import { startEdge, TEST_PUBLIC_BASE_URL, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars, snapshotBody, TEST_KEYS, TEST_PAY_TO } from '../../../test/support/snapshots.js';

/** Everything the edge says about its catalog, to prove a rejected push changed nothing. */
interface Served {
  status: unknown;
  body: Buffer;
  signature: string | null;
}

async function served(edge: TestEdge): Promise<Served> {
  const status = await (await edge.fetch('/_obol/v1/catalog/status')).json();
  const res = await edge.fetch('/_obol/v1/catalog');
  return { status, body: Buffer.from(await res.arrayBuffer()), signature: res.headers.get('obol-signature') };
}

async function expectRejected(edge: TestEdge, push: () => Promise<Response>, code: number, error: string | RegExp): Promise<{ message: string }> {
  const before = await served(edge);
  const res = await push();
  const json = (await res.json()) as { error: string; message: string };
  expect(res.status).toBe(code);
  if (typeof error === 'string') expect(json.error).toBe(error);
  else expect(json.error).toMatch(error);
  expect(json.message.length).toBeGreaterThan(10);
  const after = await served(edge);
  expect(after.status).toEqual(before.status);
  expect(after.signature).toBe(before.signature);
  expect(after.body.equals(before.body)).toBe(true);
  return json;
}

/** A PUT that declares an oversized Content-Length and sends only its first KiB. */
function declareOversized(target: TestEdge): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(`${target.url}/_obol/v1/catalog`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(MAX_SNAPSHOT_BYTES + 1), 'Obol-Signature': `0x${'11'.repeat(65)}` },
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        req.destroy();
        resolve(new Response(Buffer.concat(parts), { status: res.statusCode ?? 0 }));
      });
    });
    req.on('error', reject);
    req.write(Buffer.alloc(1024, 0x20));
  });
}

let edge: TestEdge;
let sequence = 1000;
const next = (): number => ++sequence;

beforeAll(async () => {
  edge = await startEdge({ vars: signerVars(TEST_KEYS.signer, TEST_KEYS.rotated) });
});
afterAll(async () => { await edge.dispose(); });

describe('before any push', () => {
  it('status reports sequence 0 with null times and GET /catalog answers 404', async () => {
    const fresh = await startEdge({ vars: signerVars() });
    try {
      const status = await fresh.fetch('/_obol/v1/catalog/status');
      expect(status.status).toBe(200);
      expect(await status.json()).toEqual({ audience: TEST_PUBLIC_BASE_URL, sequence: 0, issuedAt: null, receivedAt: null, offers: 0 });
      const body = await fresh.fetch('/_obol/v1/catalog');
      expect(body.status).toBe(404);
      expect(await body.json()).toMatchObject({ error: 'catalog_unavailable' });
    } finally {
      await fresh.dispose();
    }
  });
});

describe('accepted pushes', () => {
  it('accepts a signed snapshot and serves it back byte for byte with its signature', async () => {
    const seq = next();
    const snapshot = makeSnapshot({ sequence: seq, offers: [sampleOffer(), sampleOffer({ name: 'other', namespace: 'a' })] });
    const res = await pushSnapshot(edge, snapshot);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sequence: seq });

    const now = await served(edge);
    expect(now.status).toMatchObject({ audience: TEST_PUBLIC_BASE_URL, sequence: seq, issuedAt: snapshot.issuedAt, offers: 2 });
    expect(now.body.toString('utf8')).toBe(snapshotBody(snapshot));
    const signer = await recoverSnapshotSigner({ body: new Uint8Array(now.body), signature: now.signature ?? '' });
    expect(signer).toBe(signerAddress(TEST_KEYS.signer));
  });

  it('answers a repeat of the stored sequence with identical bytes as a 200 no-op', async () => {
    const body = snapshotBody(makeSnapshot({ sequence: next() }));
    expect((await pushSnapshot(edge, body)).status).toBe(200);
    const before = await served(edge);
    const again = await pushSnapshot(edge, body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ sequence: sequence, unchanged: true });
    const after = await served(edge);
    expect(after.status).toEqual(before.status);
  });

  it('accepts a push signed by any listed signer (key rotation)', async () => {
    const res = await pushSnapshot(edge, makeSnapshot({ sequence: next() }), { key: TEST_KEYS.rotated });
    expect(res.status).toBe(200);
    expect((await served(edge)).status).toMatchObject({ sequence });
  });

  it('accepts issuedAt 59 minutes old and 4 minutes ahead', async () => {
    const old = makeSnapshot({ sequence: next(), issuedAt: formatRfc3339(Date.now() - 59 * 60_000) });
    expect((await pushSnapshot(edge, old)).status).toBe(200);
    const ahead = makeSnapshot({ sequence: next(), issuedAt: formatRfc3339(Date.now() + 4 * 60_000) });
    expect((await pushSnapshot(edge, ahead)).status).toBe(200);
  });
});

describe('rejected pushes change nothing', () => {
  it('401 for a missing signature', async () => {
    await expectRejected(edge, () => pushSnapshot(edge, makeSnapshot({ sequence: next() }), { signature: null }), 401, 'missing_signature');
  });

  it('401 for a malformed signature', async () => {
    await expectRejected(edge, () => pushSnapshot(edge, makeSnapshot({ sequence: next() }), { signature: '0x1234' }), 401, 'invalid_signature');
  });

  it('401 for a forged signature (valid shape, tampered bytes)', async () => {
    const body = snapshotBody(makeSnapshot({ sequence: next() }));
    const good = await signSnapshotBody({ body: new TextEncoder().encode(body), privateKey: TEST_KEYS.signer });
    const forged = `${good.slice(0, 10)}${good[10] === 'a' ? 'b' : 'a'}${good.slice(11)}`;
    const res = await expectRejected(edge, () => pushSnapshot(edge, body, { signature: forged }), 401, /^(unknown_signer|invalid_signature)$/);
    expect(res.message).not.toContain(TEST_KEYS.signer.slice(2));
  });

  it('401 for a signer that is not in CATALOG_SIGNERS', async () => {
    const json = await expectRejected(edge, () => pushSnapshot(edge, makeSnapshot({ sequence: next() }), { key: TEST_KEYS.stranger }), 401, 'unknown_signer');
    expect(json.message).toContain(signerAddress(TEST_KEYS.stranger));
  });

  it('401 for a signature over different bytes', async () => {
    const signed = snapshotBody(makeSnapshot({ sequence: next() }));
    const sent = signed.replace('Test Seller', 'Evil Seller');
    const signature = await signSnapshotBody({ body: new TextEncoder().encode(signed), privateKey: TEST_KEYS.signer });
    await expectRejected(edge, () => pushSnapshot(edge, sent, { signature }), 401, 'unknown_signer');
  });

  it('409 for a lower sequence (rollback)', async () => {
    const { sequence: stored } = (await (await edge.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number };
    const json = await expectRejected(edge, () => pushSnapshot(edge, makeSnapshot({ sequence: 5 })), 409, 'sequence_rollback');
    expect(json).toMatchObject({ sequence: stored });
  });

  it('409 for the stored sequence with different bytes', async () => {
    const seq = next();
    expect((await pushSnapshot(edge, makeSnapshot({ sequence: seq }))).status).toBe(200);
    await expectRejected(edge, () => pushSnapshot(edge, makeSnapshot({ sequence: seq, offers: [sampleOffer()] })), 409, 'sequence_conflict');
  });

  it('400 for the wrong audience', async () => {
    const json = await expectRejected(edge, () => pushSnapshot(edge, makeSnapshot({ sequence: next(), audience: 'https://other.example' })), 400, 'wrong_audience');
    expect(json.message).toContain('https://other.example');
  });

  it('400 for issuedAt more than 1 h old', async () => {
    const snapshot = makeSnapshot({ sequence: next(), issuedAt: formatRfc3339(Date.now() - 61 * 60_000) });
    await expectRejected(edge, () => pushSnapshot(edge, snapshot), 400, 'issued_at_too_old');
  });

  it('400 for issuedAt more than 5 min in the future', async () => {
    const snapshot = makeSnapshot({ sequence: next(), issuedAt: formatRfc3339(Date.now() + 6 * 60_000) });
    await expectRejected(edge, () => pushSnapshot(edge, snapshot), 400, 'issued_at_in_future');
  });

  it('400 for malformed JSON, signed correctly', async () => {
    await expectRejected(edge, () => pushSnapshot(edge, '{"schemaVersion":"1",'), 400, 'invalid_json');
  });

  it('400 for a body that is not UTF-8', async () => {
    await expectRejected(edge, () => pushSnapshot(edge, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, 'invalid_json');
    // A key whose escape does not parse is not JSON either: 400 like any other, never a 500.
    for (const body of ['{"\\x":1}', '{"a":1,"b\\q":2}', '{"k\u0001\\n":1}']) await expectRejected(edge, () => pushSnapshot(edge, body), 400, 'invalid_json');
  });

  it('400 naming the field for a schema-invalid snapshot', async () => {
    const body = JSON.stringify({ ...makeSnapshot({ sequence: next() }), sequence: -3 });
    const json = await expectRejected(edge, () => pushSnapshot(edge, body), 400, 'invalid_snapshot');
    expect(json.message).toMatch(/^the snapshot does not fit the schema:\n✖ .+\n {2}→ at sequence$/);
  });

  it('400 listing at most five schema problems, each with its field', async () => {
    const snapshot = makeSnapshot({ sequence: next(), offers: Array.from({ length: 8 }, (_, i) => sampleOffer({ name: `o${i}` })) });
    const body = JSON.stringify({ ...snapshot, offers: snapshot.offers.map((o) => ({ ...o, path: 7 })) });
    const json = await expectRejected(edge, () => pushSnapshot(edge, body), 400, 'invalid_snapshot');
    expect(json.message.match(/✖/g)).toHaveLength(5);
    expect(json.message).toContain('→ at offers[0].path');
  });

  it('413 from Content-Length alone, before the body arrives', async () => {
    // Declare 16 MiB + 1 but send 1 KiB: only an up-front check can answer before the body ends.
    await expectRejected(edge, () => declareOversized(edge), 413, 'snapshot_too_large');
  });

  it('413 for a body over the limit sent in full', async () => {
    const push = async (): Promise<Response> => {
      try {
        return await pushSnapshot(edge, new Uint8Array(MAX_SNAPSHOT_BYTES + 1).fill(0x20), { signature: `0x${'11'.repeat(65)}` });
      } catch {
        // workerd may close the socket while the client still writes the rest; the verdict is the same.
        return declareOversized(edge);
      }
    };
    await expectRejected(edge, push, 413, 'snapshot_too_large');
  });

  it('415 for a Content-Type other than application/json', async () => {
    const snapshot = makeSnapshot({ sequence: next() });
    await expectRejected(edge, () => pushSnapshot(edge, snapshot, { headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  });

  it('405 with Allow for other methods on /catalog', async () => {
    for (const method of ['POST', 'DELETE', 'PATCH']) {
      const before = await served(edge);
      const res = await edge.fetch('/_obol/v1/catalog', { method, body: snapshotBody(makeSnapshot({ sequence: next() })), headers: { 'Content-Type': 'application/json' } });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD, PUT');
      expect(await res.json()).toEqual({ error: 'method_not_allowed', message: 'use GET, HEAD, PUT' });
      const after = await served(edge);
      expect(after.status).toEqual(before.status);
      expect(after.body.equals(before.body)).toBe(true);
    }
  });

  it('405 with Allow for other methods on /catalog/status', async () => {
    for (const method of ['PUT', 'POST', 'DELETE']) {
      const res = await edge.fetch('/_obol/v1/catalog/status', { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(await res.json()).toEqual({ error: 'method_not_allowed', message: 'use GET, HEAD' });
    }
    expect((await edge.fetch('/_obol/v1/catalog/status', { method: 'HEAD' })).status).toBe(200);
    expect((await edge.fetch('/_obol/v1/nothing-here', { method: 'POST' })).status).toBe(404);
  });
});

describe('signed snapshots with paths the agent would never publish', () => {
  const withPath = (path: string) => ({ ...sampleOffer({ name: 'evil', namespace: 'mallory' }), path });

  for (const [what, path, problem] of [
    ['a ".." segment', '/services/evil/../paid', '".."'],
    ['a trailing "/"', '/services/evil/', 'end with "/"'],
    ['an empty segment "//"', '/services//evil', '"//"'],
  ] as const) {
    it(`400 naming the offer for a path with ${what}`, async () => {
      const snapshot = makeSnapshot({ sequence: next(), offers: [sampleOffer(), withPath(path)] });
      const json = await expectRejected(edge, () => pushSnapshot(edge, snapshot), 400, 'invalid_offer_path');
      expect(json.message).toContain('mallory/evil');
      expect(json.message).toContain(problem);
    });
  }

  it('400 naming both offers when two offers claim one path', async () => {
    const first = sampleOffer({ name: 'cheap', namespace: 'a' });
    const second = { ...sampleOffer({ name: 'dear', namespace: 'b', spec: { payment: { network: 'base-sepolia', payTo: TEST_PAY_TO, price: { perRequest: '5' } } } }), path: first.path };
    const snapshot = makeSnapshot({ sequence: next(), offers: [first, second] });
    const json = await expectRejected(edge, () => pushSnapshot(edge, snapshot), 400, 'duplicate_offer_path');
    expect(json.message).toContain('a/cheap');
    expect(json.message).toContain('b/dear');
    expect(json.message).toContain(first.path);
  });
});

describe('signed snapshots with duplicate JSON keys', () => {
  it('400 naming the key for a duplicated top-level key', async () => {
    const snapshot = makeSnapshot({ sequence: next() });
    // JSON.parse keeps the last "sequence"; another verifier may keep the first.
    const body = snapshotBody(snapshot).replace('{', `{"sequence":${snapshot.sequence + 1_000_000},`);
    const json = await expectRejected(edge, () => pushSnapshot(edge, body), 400, 'duplicate_json_key');
    expect(json.message).toContain('"sequence"');
  });

  it('400 naming the key path for a key duplicated inside an offer', async () => {
    const snapshot = makeSnapshot({ sequence: next(), offers: [sampleOffer({ name: 'one', namespace: 'a' }), sampleOffer({ name: 'two', namespace: 'a' })] });
    const body = snapshotBody(snapshot).replace('"key":"a/two",', '"key":"a/two","path":"/services/one",');
    expect(body).not.toBe(snapshotBody(snapshot));
    const json = await expectRejected(edge, () => pushSnapshot(edge, body), 400, 'duplicate_json_key');
    expect(json.message).toContain('offers.1.path');
  });

  it('400 when the duplicate is spelled with an escape', async () => {
    const body = snapshotBody(makeSnapshot({ sequence: next() })).replace('{', '{"\\u0073equence":1,');
    const json = await expectRejected(edge, () => pushSnapshot(edge, body), 400, 'duplicate_json_key');
    expect(json.message).toContain('"sequence"');
  });
});

describe('fail closed without signers', () => {
  it('refuses every push with 401 naming CATALOG_SIGNERS when none is configured', async () => {
    const closed = await startEdge();
    try {
      const json = await expectRejected(closed, () => pushSnapshot(closed, makeSnapshot({ sequence: 1 })), 401, 'no_catalog_signers');
      expect(json.message).toContain('CATALOG_SIGNERS');
      expect((await closed.fetch('/_obol/v1/catalog')).status).toBe(404);
    } finally {
      await closed.dispose();
    }
  });
});
