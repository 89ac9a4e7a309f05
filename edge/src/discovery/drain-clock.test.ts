import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatRfc3339, parseRfc3339 } from '../../../core/index.js';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars } from '../../../test/support/snapshots.js';

let edge: TestEdge;
beforeAll(async () => {
  edge = await startEdge({ vars: signerVars() });
});
afterAll(async () => {
  await edge.dispose();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function documents(): Promise<{ services: string; skill: string; registration: string; etag: string | null }> {
  const services = await edge.fetch('/api/services.json');
  return {
    etag: services.headers.get('etag'),
    services: await services.text(),
    skill: await (await edge.fetch('/skill.md')).text(),
    registration: await (await edge.fetch('/.well-known/agent-registration.json')).text(),
  };
}

it('an offer whose drain deadline passes leaves all three documents by the edge clock, with no new push', async () => {
  // Whole seconds only (RFC 3339 to the second): the deadline lands 2–3 s from now.
  const drainEndsAt = formatRfc3339(Date.now() + 3_000);
  const registration = { enabled: true, services: [{ name: 'MCP', endpoint: 'https://mcp.test' }] };
  const res = await pushSnapshot(
    edge,
    makeSnapshot({
      offers: [sampleOffer({ name: 'leaving', spec: { drainAt: drainEndsAt, drainGracePeriod: '0s', registration } }), sampleOffer({ name: 'staying' })],
    }),
  );
  expect(res.status).toBe(200);

  const during = await documents();
  expect(JSON.parse(during.services).services.find((s: { name: string }) => s.name === 'leaving')).toMatchObject({ drainEndsAt });
  expect(during.skill).toContain(`draining · ends \`${drainEndsAt}\``);
  expect(JSON.parse(during.registration)).toMatchObject({ active: true });
  // After the catalog documents' entries (which never drain), the offer's own entries.
  expect(JSON.parse(during.registration).services.slice(-2)).toMatchObject([
    { name: 'web', available: false, drainEndsAt },
    { name: 'MCP', available: false, drainEndsAt },
  ]);

  const waitMs = parseRfc3339(drainEndsAt) - Date.now() + 50;
  expect(waitMs).toBeLessThan(3_500);
  await sleep(Math.max(0, waitMs));

  const after = await documents();
  expect(JSON.parse(after.services).services.map((s: { name: string }) => s.name)).toEqual(['staying']);
  expect(after.skill).not.toContain('leaving');
  expect(after.skill).toContain('1 service available.');
  expect(JSON.parse(after.registration)).toMatchObject({ active: false, x402Support: false, services: [] });
  expect(after.etag).not.toBe(during.etag);
  const status = await (await edge.fetch('/_obol/v1/catalog/status')).json();
  expect(status).toMatchObject({ sequence: 1 });
});
