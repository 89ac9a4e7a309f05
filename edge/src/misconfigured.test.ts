import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type TestEdge } from '../../test/support/edge.js';
import { startFakeFacilitator, type FakeFacilitator } from '../../test/support/fake-facilitator.js';
import { startOrigin, type TestOrigin } from '../../test/support/origin.js';
import { paymentHeaders, signPayment } from '../../test/support/payments.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars } from '../../test/support/snapshots.js';

/**
 * wrangler.toml ships no PUBLIC_BASE_URL or ORIGIN_URL. A deploy that forgets one, or keeps a
 * loopback value from a local run, answers 500 edge_misconfigured naming the setting: no document,
 * no 402, no free pass, nothing forwarded. The edges below start on the Durable Object state of a
 * correctly configured one that holds a catalog, so only the setting differs.
 */

const DOCUMENTS = ['/skill.md', '/api/services.json', '/.well-known/agent-registration.json'];
const offer = sampleOffer({ name: 'echo' });
const persistDir = mkdtempSync(join(tmpdir(), 'obol-misconfigured-'));
let origin: TestOrigin;
let facilitator: FakeFacilitator;

function settings(): Record<string, string> {
  return { ...signerVars(), ORIGIN_URL: origin.url, FACILITATOR_URL: facilitator.url };
}

beforeAll(async () => {
  origin = await startOrigin();
  facilitator = await startFakeFacilitator();
  const configured = await startEdge({ vars: settings(), persistDir });
  try {
    expect((await pushSnapshot(configured, makeSnapshot({ offers: [offer] }))).status).toBe(200);
    expect((await configured.fetch(offer.path)).status).toBe(402);
  } finally {
    await configured.dispose();
  }
});

afterAll(async () => {
  await origin.close();
  await facilitator.close();
  rmSync(persistDir, { recursive: true, force: true });
});

async function expectMisconfigured(res: Response, setting: string, detail: string): Promise<void> {
  expect(res.status).toBe(500);
  const body = (await res.json()) as { error: string; reason: string; message: string };
  expect(body).toMatchObject({ error: 'edge_misconfigured', reason: 'invalid_configuration' });
  expect(body.message).toMatch(new RegExp(`^${setting}: ${detail}`));
}

async function paid(edge: TestEdge): Promise<Response> {
  if (!offer.requirement) throw new Error('the sample offer has no requirement');
  const payment = await signPayment({ requirement: offer.requirement, version: 2, resourceUrl: `https://edge.test${offer.path}` });
  return edge.fetch(offer.path, { headers: paymentHeaders(payment) });
}

// `discovery: undefined`: the documents do not need ORIGIN_URL (the agent may push before the tunnel exists).
describe.each([
  { case: 'PUBLIC_BASE_URL unset', vars: { PUBLIC_BASE_URL: undefined }, discovery: 'PUBLIC_BASE_URL', gate: 'PUBLIC_BASE_URL', detail: 'is not set' },
  { case: 'ORIGIN_URL unset', vars: { ORIGIN_URL: undefined }, discovery: undefined, gate: 'ORIGIN_URL', detail: 'is not set' },
  { case: 'a loopback PUBLIC_BASE_URL without LOCAL_DEV=1', vars: { LOCAL_DEV: undefined, PUBLIC_BASE_URL: 'http://127.0.0.1:8787' }, discovery: 'PUBLIC_BASE_URL', gate: 'PUBLIC_BASE_URL', detail: 'is a loopback URL' },
  { case: 'a loopback ORIGIN_URL without LOCAL_DEV=1', vars: { LOCAL_DEV: undefined }, discovery: undefined, gate: 'ORIGIN_URL', detail: 'is a loopback URL' },
])('$case', ({ vars, discovery, gate, detail }) => {
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startEdge({ vars: { ...settings(), ...vars }, persistDir });
    origin.reset();
    facilitator.reset();
  });
  afterAll(async () => { await edge.dispose(); });

  it('answers 500 naming the setting for every discovery document that needs it', async () => {
    for (const path of DOCUMENTS) {
      const res = await edge.fetch(path);
      if (discovery) await expectMisconfigured(res, discovery, detail);
      else expect(res.status, path).toBe(200);
    }
  });

  it('answers 500 naming the setting under /services, paid or not, and forwards nothing', async () => {
    await expectMisconfigured(await edge.fetch(offer.path), gate, detail);
    await expectMisconfigured(await paid(edge), gate, detail);
    for (const path of ['/services/no-such-offer', '/services']) await expectMisconfigured(await edge.fetch(path), gate, detail);
    expect(origin.hits).toEqual([]);
    expect(facilitator.calls).toEqual([]);
  });
});
