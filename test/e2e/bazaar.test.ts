import { validate } from '@readme/openapi-parser';
import { HTTPFacilitatorClient } from '@x402/core/http';
import { withBazaar, type DiscoveryResource } from '@x402/extensions/bazaar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../stack/local-stack.js';
import { recordingBuyer, serviceNamed, startE2EStack } from './stack-support.js';

/**
 * Issue 12 on the local stack: the example offers' 402s declare Bazaar, the local facilitator
 * catalogs what it settles, and /openapi.json describes the same routes.
 */

let stack: LocalStack;

beforeAll(async () => {
  ({ stack } = await startE2EStack());
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 20_000);

function bazaarClient() {
  return withBazaar(new HTTPFacilitatorClient({ url: stack.facilitator.url })).extensions.bazaar;
}

async function listed(): Promise<Map<string, DiscoveryResource>> {
  const { items } = await bazaarClient().listResources();
  return new Map(items.map((item) => [item.resource, item]));
}

const info = (item: DiscoveryResource | undefined) => (item?.extensions?.['bazaar'] as { info: Record<string, unknown> } | undefined)?.info;

describe('Bazaar on the local stack', () => {
  it('the facilitator lists the demo offers once paid for, each as its 402 declared it; the draining one names its deadline', async () => {
    const weatherUrl = `${stack.edgeUrl}/services/weather`;
    const legacyUrl = `${stack.edgeUrl}/services/legacy-summarize`;
    const before = await listed();
    expect(before.has(weatherUrl)).toBe(false);
    expect(before.has(legacyUrl)).toBe(false);

    const { pay } = recordingBuyer(2);
    expect((await pay(`${weatherUrl}?city=Berlin`)).status).toBe(200);
    expect((await pay(`${legacyUrl}?text=hello`)).status).toBe(200);

    const after = await listed();
    const weather = after.get(weatherUrl);
    const price = (await serviceNamed(stack.edgeUrl, 'weather')).priceAtomicUnits;
    expect(weather).toMatchObject({ type: 'http', x402Version: 2, tags: ['weather', 'forecast', 'demo'] });
    expect(weather?.accepts[0]).toMatchObject({ amount: price, payTo: stack.accounts.seller.address, network: 'eip155:84532' });
    expect(info(weather)).toEqual({
      input: { type: 'http', method: 'GET', queryParams: { city: 'Berlin' } },
      output: { type: 'json', example: { city: 'Berlin', forecast: 'sunny', temperatureC: 21 } },
    });
    const legacy = after.get(legacyUrl);
    const { drainEndsAt } = await serviceNamed(stack.edgeUrl, 'legacy-summarize');
    expect(drainEndsAt).toBe('2030-01-01T01:00:00Z');
    expect(info(legacy)).toMatchObject({ input: { type: 'http', method: 'GET' }, drainEndsAt });
  }, 30_000);

  it('/openapi.json describes the same routes, validates, and shows the drain', async () => {
    const res = await fetch(`${stack.edgeUrl}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { deprecated?: boolean; 'x-payment-info': { amount: string; drainEndsAt?: string } }>> };
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(doc.paths['/services/weather']?.['get']?.['x-payment-info'].amount).toBe((await serviceNamed(stack.edgeUrl, 'weather')).priceAtomicUnits);
    const legacy = doc.paths['/services/legacy-summarize']?.['get'];
    expect(legacy?.deprecated).toBe(true);
    expect(legacy?.['x-payment-info'].drainEndsAt).toBe('2030-01-01T01:00:00Z');
  }, 20_000);
});
