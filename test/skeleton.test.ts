import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEdge, type TestEdge } from './support/edge.js';

let edge: TestEdge;
beforeAll(async () => { edge = await startEdge(); });
afterAll(async () => { await edge.dispose(); });

it('edge boots in workerd and answers its health endpoint', async () => {
  const res = await edge.fetch('/healthz');
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});
