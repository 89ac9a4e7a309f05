import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SNAPSHOT_BYTES } from '../../../core/index.js';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { signerVars } from '../../../test/support/snapshots.js';

/**
 * A refused oversized push must not poison the buyer-facing listener: through workerd's real HTTP
 * listener (not dispatchFetch), the next request on the same keep-alive connection, or a new one,
 * answers promptly.
 */

const KiB = 1024;

interface Answer {
  status: number;
  ms: number;
  /** The request went over a connection an earlier request had used (keep-alive). */
  reused: boolean;
}

/** A PUT /_obol/v1/catalog whose body is `total` bytes sent chunked (no Content-Length). */
function chunkedPush(edge: TestEdge, agent: Agent | false, total: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${edge.url}/_obol/v1/catalog`, {
      method: 'PUT',
      agent,
      headers: { 'Content-Type': 'application/json', 'Obol-Signature': `0x${'11'.repeat(65)}` },
    });
    const chunk = Buffer.alloc(64 * KiB, 0x20);
    let written = 0;
    const pump = (): void => {
      while (written < total) {
        const part = chunk.subarray(0, Math.min(chunk.byteLength, total - written));
        written += part.byteLength;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      req.end();
    };
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    pump();
  });
}

function get(edge: TestEdge, agent: Agent | false, path: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${edge.url}${path}`, { agent });
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${path} had no answer after 20 s`)));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

let edge: TestEdge;
let agent: Agent;

beforeAll(async () => {
  edge = await startEdge({ vars: signerVars() });
});
afterAll(async () => {
  agent?.destroy();
  await edge.dispose();
});

describe('a refused chunked push', () => {
  it('leaves its keep-alive connection usable: the next GET on it answers promptly', async () => {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Warm the connection so the push and the GET after it share one socket.
    expect((await get(edge, agent, '/_obol/v1/catalog/status')).status).toBe(200);
    const push = await chunkedPush(edge, agent, MAX_SNAPSHOT_BYTES + 512 * KiB);
    expect(push.status).toBe(413);
    expect(push.reused).toBe(true);
    const next = await get(edge, agent, '/_obol/v1/catalog/status');
    expect(next).toMatchObject({ status: 200, reused: true });
    expect(next.ms).toBeLessThan(2000);
  });

  it('leaves the edge prompt for a new connection', async () => {
    const push = await chunkedPush(edge, false, MAX_SNAPSHOT_BYTES + 512 * KiB);
    expect(push.status).toBe(413);
    const next = await get(edge, false, '/api/services.json');
    expect(next.status).toBe(503);
    expect(next.ms).toBeLessThan(2000);
  });
});
