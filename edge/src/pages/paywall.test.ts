import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatHttpDate, parseRfc3339 } from '../../../core/time.js';
import { decodeChallengeHeader, startGateFixture, type GateFixture } from '../../../test/support/gate.js';
import { sampleOffer } from '../../../test/support/snapshots.js';

/** SPEC §5 "People and retries": a browser gets the same 402 as a page; every other client today's JSON. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const HOSTILE = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';

let f: GateFixture;
beforeAll(async () => {
  f = await startGateFixture({}, [sampleOffer({ name: 'evil', spec: { registration: { enabled: true, description: HOSTILE } } })]);
});
afterAll(async () => { await f?.dispose(); });
beforeEach(() => f.reset());

const get = (path: string, accept?: string) => f.edge.fetch(path, accept === undefined ? {} : { headers: { Accept: accept } });

describe('the 402 for a person', () => {
  it('is an HTML page with the same status, challenge header, no-store, route headers and Vary: Accept', async () => {
    const page = await get('/services/echo/v1/chat', BROWSER_ACCEPT);
    const json = await get('/services/echo/v1/chat', '*/*');
    expect(page.status).toBe(402);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('payment-required')).toBe(json.headers.get('payment-required'));
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('vary')).toBe('Accept');
    expect(page.headers.get('link')).toBe('<https://edge.test/api/services.json>; rel="service-catalog"');
    expect(page.headers.get('access-control-expose-headers')).toBe('PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('data-field="atomic">1000<');
    expect(html).toContain('data-field="amount">0.001<');
    expect(html).toContain(`data-field="payTo">${f.requirement.payTo}<`);
    f.expectUntouched();
  });

  it('forbids every source but its own inline style and script, and fetches only its own origin', async () => {
    const csp = (await get('/services/echo', BROWSER_ACCEPT)).headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; script-src 'sha256-[A-Za-z0-9+/=]+'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$/);
  });

  it('escapes a hostile seller description', async () => {
    const res = await get('/services/evil', BROWSER_ACCEPT);
    expect(res.status).toBe(402);
    const html = await res.text();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(decodeChallengeHeader(res).resource).toMatchObject({ description: HOSTILE });
  });

  it('shows when a draining offer closes, beside the Sunset header', async () => {
    const res = await get('/services/sunset', BROWSER_ACCEPT);
    const endsAt = f.offers.sunset.drainEndsAt ?? '';
    expect(res.headers.get('sunset')).toBe(formatHttpDate(parseRfc3339(endsAt)));
    expect(await res.text()).toContain(`data-field="drain-ends">${endsAt}<`);
  });
});

describe('machine clients keep the JSON 402', () => {
  it('for curl and fetch (*/*), JSON, no Accept and ties, byte for byte the same body, with Vary: Accept', async () => {
    const reference = await get('/services/echo', '*/*');
    const body = await reference.text();
    expect(reference.headers.get('content-type')).toBe('application/json');
    expect(reference.headers.get('vary')).toBe('Accept');
    expect(JSON.parse(body)).toMatchObject({ x402Version: 1, error: 'payment_required' });
    for (const accept of [undefined, 'application/json', 'application/json, text/plain, */*', 'text/html, application/json', 'text/html;q=0.1, */*', 'image/png']) {
      const res = await get('/services/echo', accept);
      expect(res.status, String(accept)).toBe(402);
      expect(res.headers.get('content-type'), String(accept)).toBe('application/json');
      expect(await res.text(), String(accept)).toBe(body);
    }
    f.expectUntouched();
  });

  it('answers an 8 KiB Accept header like a short one, and touches nothing', async () => {
    const filler = 'application/x-filler;q=0.5, '.repeat(300);
    const html = await get('/services/echo', `${filler}text/html`);
    expect(html.status).toBe(402);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const json = await get('/services/echo', `${filler}application/json`);
    expect(json.status).toBe(402);
    expect(json.headers.get('content-type')).toBe('application/json');
    f.expectUntouched();
  });

  it('keeps a payment attempt out of the page: a browser sending a bad payment gets the JSON refusal', async () => {
    const { headers } = await f.pay({ authorization: { value: '999' } });
    const res = await f.edge.fetch('/services/echo', { headers: { ...headers, Accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toBe('application/json');
    f.expectUntouched();
  });
});
