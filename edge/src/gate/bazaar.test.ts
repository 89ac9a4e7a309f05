import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { extractDiscoveryInfo, validateDiscoveryExtension } from '@x402/extensions/bazaar';
import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouteApiInput } from '../../../core/offer-api.js';
import { formatRfc3339 } from '../../../core/time.js';
import { TEST_PUBLIC_BASE_URL } from '../../../test/support/edge.js';
import { startGateFixture, type GateFixture } from '../../../test/support/gate.js';
import { BUYER } from '../../../test/support/payments.js';
import { sampleOffer } from '../../../test/support/snapshots.js';

/** Each paid route's 402 carries its offer's Bazaar declaration (x402 v2 `extensions.bazaar`), as @x402/extensions reads it. */

const API: RouteApiInput = {
  method: 'GET',
  query: { schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, example: { city: 'Berlin' } },
  output: { example: { forecast: 'sunny' } },
  tags: ['weather', 'demo'],
};

const weather = sampleOffer({ name: 'weather', spec: { api: API } });
const legacy = sampleOffer({ name: 'legacy', spec: { api: API, drainAt: formatRfc3339(Date.now() - 60_000), drainGracePeriod: '1h' } });
const upcoming = sampleOffer({ name: 'upcoming', spec: { api: API, drainAt: formatRfc3339(Date.now() + 3_600_000), drainGracePeriod: '1h' } });

let f: GateFixture;
beforeAll(async () => { f = await startGateFixture({}, [weather, legacy, upcoming]); });
afterAll(async () => { await f?.dispose(); });
beforeEach(() => f.reset());

async function challenge(path: string) {
  const res = await f.edge.fetch(path);
  expect(res.status).toBe(402);
  const header = res.headers.get('PAYMENT-REQUIRED') ?? '';
  return { header, decoded: decodePaymentRequiredHeader(header) };
}

describe('the Bazaar extension of the 402', () => {
  it('declares the offer built by the agent, valid by the official validator, beside payment-identifier, with the tags', async () => {
    const { decoded } = await challenge('/services/weather?city=Lisbon');
    const bazaar = decoded.extensions?.['bazaar'];
    expect(bazaar).toEqual(weather.bazaar);
    expect(validateDiscoveryExtension(bazaar as never)).toEqual({ valid: true });
    expect(decoded.extensions).toHaveProperty('payment-identifier');
    expect(decoded.resource.tags).toEqual(['weather', 'demo']);
    f.expectUntouched();
  });

  it('reuses the encoded challenge: the same bytes on every unpaid request', async () => {
    const first = await challenge('/services/weather');
    const second = await challenge('/services/weather');
    expect(second.header).toBe(first.header);
  });

  it('a draining offer declares its deadline (still valid); an active one does not', async () => {
    const draining = (await challenge('/services/legacy')).decoded.extensions?.['bazaar'] as { info: Record<string, unknown> };
    expect(draining.info['drainEndsAt']).toBe(legacy.drainEndsAt);
    expect(validateDiscoveryExtension(draining as never)).toEqual({ valid: true });
    const active = (await challenge('/services/weather')).decoded.extensions?.['bazaar'] as { info: Record<string, unknown> };
    expect(active.info['drainEndsAt']).toBeUndefined();
    // A drainAt still ahead drains already (docs/contract.md): the 402 names the deadline, as services.json does.
    const ahead = (await challenge('/services/upcoming')).decoded.extensions?.['bazaar'] as { info: Record<string, unknown> };
    expect(ahead.info['drainEndsAt']).toBe(upcoming.drainEndsAt);
  });

  it('an offer without spec.api declares no Bazaar extension', async () => {
    const { decoded } = await challenge('/services/echo');
    expect(decoded.extensions?.['bazaar']).toBeUndefined();
    expect(decoded.resource.tags).toBeUndefined();
  });

  it('the official client echoes it in its payment, and a facilitator catalogs the route from what it settles', async () => {
    const pay = wrapFetchWithPayment(fetch, new x402Client().register('eip155:*', new ExactEvmScheme(BUYER)));
    const res = await pay(`${f.edge.url}/services/weather?city=Lisbon`);
    expect(res.status).toBe(200);
    const settled = f.facilitator.settleCalls()[0]?.body as { paymentPayload: PaymentPayload; paymentRequirements: PaymentRequirements };
    const discovered = extractDiscoveryInfo(settled.paymentPayload, settled.paymentRequirements);
    expect(discovered).toMatchObject({ resourceUrl: `${TEST_PUBLIC_BASE_URL}/services/weather`, method: 'GET', tags: ['weather', 'demo'] });
    expect(discovered?.discoveryInfo).toEqual(weather.bazaar?.info);
  });
});
