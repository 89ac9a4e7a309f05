import { describe, expect, it } from 'vitest';
import { MAX_API_JSON_BYTES, MAX_API_TOTAL_JSON_BYTES } from './offer-api.js';
import { describeProblems, parseServiceOffer } from './offer-rules.js';
import type { ServiceOfferInput } from './offer.js';

const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function offer(api: unknown): ServiceOfferInput {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name: 'weather', namespace: 'apis' },
    spec: { upstream: { service: 'weather' }, payment: { network: 'base-sepolia', payTo: PAY_TO, price: { perRequest: '0.001' } }, api },
  } as ServiceOfferInput;
}

function problemsOf(api: unknown): string {
  const parsed = parseServiceOffer(offer(api));
  if (parsed.ok) throw new Error('expected problems');
  return describeProblems(parsed.problems);
}

const CITY_QUERY = {
  schema: { type: 'object', properties: { city: { type: 'string', description: 'a city name' } }, required: ['city'] },
  example: { city: 'Berlin' },
};

describe('spec.api', () => {
  it('accepts a described GET route and keeps it as written (body type defaults to json)', () => {
    const api = { method: 'GET', query: CITY_QUERY, output: { example: { forecast: 'sunny' } }, tags: ['weather', 'forecast'] };
    const parsed = parseServiceOffer(offer(api));
    expect(parsed.ok && parsed.offer.spec.api).toEqual(api);
    const post = parseServiceOffer(offer({ method: 'POST', body: { schema: { type: 'object' } } }));
    expect(post.ok && post.offer.spec.api?.body?.type).toBe('json');
  });

  it('is optional: an offer without it is unchanged', () => {
    const parsed = parseServiceOffer(offer(undefined));
    expect(parsed.ok && parsed.offer.spec.api).toBeUndefined();
  });

  it('refuses a schema keyword outside the supported subset, naming where it is ($ref cannot stand alone)', () => {
    const schema = { type: 'object', properties: { city: { $ref: '#/$defs/city' } } };
    expect(problemsOf({ method: 'GET', query: { schema } })).toBe('spec.api.query.schema.properties.city: Unrecognized key: "$ref"');
  });

  it('refuses a schema of the wrong shape: a type JSON Schema does not have, a query schema that is not an object', () => {
    expect(problemsOf({ method: 'GET', query: { schema: { type: 'object', properties: { n: { type: 'float' } } } } })).toMatch(
      /^spec\.api\.query\.schema\.properties\.n\.type: /,
    );
    expect(problemsOf({ method: 'GET', query: { schema: { type: 'string' } } })).toBe(
      'spec.api.query.schema: must be an object schema (type: "object") whose properties are the query parameters',
    );
    expect(problemsOf({ method: 'POST', body: { schema: { type: 'object', required: 'city' } } })).toMatch(/^spec\.api\.body\.schema\.required: /);
  });

  it('refuses an oversized example or schema with its size', () => {
    const example = { text: 'x'.repeat(MAX_API_JSON_BYTES) };
    expect(problemsOf({ method: 'GET', output: { example } })).toBe(
      `spec.api.output.example: must be at most ${MAX_API_JSON_BYTES} bytes as JSON (is ${JSON.stringify(example).length})`,
    );
    const properties = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, { type: 'string' }]));
    expect(problemsOf({ method: 'GET', query: { schema: { type: 'object', properties } } })).toMatch(
      new RegExp(`^spec\\.api\\.query\\.schema: must be at most ${MAX_API_JSON_BYTES} bytes as JSON`),
    );
  });

  it('refuses a description whose parts fit but whose whole does not', () => {
    const example = { text: 'x'.repeat(MAX_API_JSON_BYTES - 20) };
    const api = { method: 'GET', query: { schema: { type: 'object' }, example }, output: { example } };
    expect(problemsOf(api)).toBe(`spec.api: must be at most ${MAX_API_TOTAL_JSON_BYTES} bytes as JSON in all (is ${JSON.stringify(api).length})`);
  });

  it('refuses an example that is not a JSON object', () => {
    expect(problemsOf({ method: 'GET', output: { example: 'sunny' } })).toMatch(/^spec\.api\.output\.example: /);
  });

  it('refuses input where the method does not carry it', () => {
    expect(problemsOf({ method: 'POST', query: CITY_QUERY })).toBe(
      'spec.api.query: applies only to GET, HEAD and DELETE; a POST request carries its input in spec.api.body',
    );
    expect(problemsOf({ method: 'GET', body: { schema: { type: 'object' } } })).toBe(
      'spec.api.body: applies only to POST, PUT and PATCH; a GET request carries its input in spec.api.query',
    );
  });

  it('refuses an example that leaves out a property the schema requires', () => {
    expect(problemsOf({ method: 'GET', query: { schema: CITY_QUERY.schema } })).toBe(
      'spec.api.query.example: must give every property the schema requires (missing: city)',
    );
  });

  it('refuses tags Bazaar would drop: too many, too long, not printable ASCII, repeated', () => {
    expect(problemsOf({ method: 'GET', tags: ['a', 'b', 'c', 'd', 'e', 'f'] })).toMatch(/^spec\.api\.tags: /);
    expect(problemsOf({ method: 'GET', tags: ['x'.repeat(33)] })).toMatch(/^spec\.api\.tags\[0\]: /);
    expect(problemsOf({ method: 'GET', tags: ['météo'] })).toBe('spec.api.tags[0]: must be printable ASCII');
    expect(problemsOf({ method: 'GET', tags: ['Weather', 'weather'] })).toBe('spec.api.tags: must not repeat a tag (compared ignoring case)');
  });

  it('refuses an unknown method', () => {
    expect(problemsOf({ method: 'get' })).toMatch(/^spec\.api\.method: /);
  });
});
