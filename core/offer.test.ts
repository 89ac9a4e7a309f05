import { describe, expect, it } from 'vitest';
import { PATH_PATTERN, offerKey, offerPath, pathProblems, type ServiceOfferInput } from './offer.js';
import { describeProblems, parseServiceOffer } from './offer-rules.js';

const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function offer(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): ServiceOfferInput {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name: 'qwen', namespace: 'llm', ...metadata },
    spec: { upstream: { service: 'ollama' }, payment: { network: 'base-sepolia', payTo: PAY_TO, price: { perRequest: '0.001' } }, ...spec },
  } as ServiceOfferInput;
}

function problemsOf(input: unknown): string {
  const parsed = parseServiceOffer(input);
  if (parsed.ok) throw new Error('expected problems');
  return describeProblems(parsed.problems);
}

describe('ServiceOffer schema', () => {
  it('applies the documented defaults', () => {
    const parsed = parseServiceOffer(offer({}, { namespace: undefined }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const { spec, metadata } = parsed.offer;
    expect(metadata.namespace).toBe('default');
    expect(spec.type).toBe('http');
    expect(spec.upstream).toEqual({ service: 'ollama', port: 11434, healthPath: '/health' });
    expect(spec.payment.scheme).toBe('exact');
    expect(spec.payment.maxTimeoutSeconds).toBe(300);
    expect(spec.registration).toBeUndefined();
    expect(offerPath(parsed.offer)).toBe('/services/qwen');
    expect(offerKey(metadata)).toBe('default/qwen');
  });

  it('defaults registration.enabled to false', () => {
    const parsed = parseServiceOffer(offer({ registration: { name: 'x' } }));
    expect(parsed.ok && parsed.offer.spec.registration?.enabled).toBe(false);
  });

  it('names the field and the rule for each schema failure', () => {
    expect(problemsOf(offer({ payment: { network: 'base', payTo: '0x123', price: { perRequest: '1' } } }))).toBe(
      'spec.payment.payTo: must be a 0x-prefixed 20-byte hex address',
    );
    expect(problemsOf(offer({ payment: { network: 'base', payTo: PAY_TO, price: { perRequest: '-1' } } }))).toContain(
      'spec.payment.price.perRequest: must be a non-negative decimal string like "0.001"',
    );
    expect(problemsOf(offer({ drainGracePeriod: '1d' }))).toContain('spec.drainGracePeriod: must be a duration like "30m", "1h30m" or "0s"');
    expect(problemsOf(offer({ drainGracePeriod: '' }))).toContain('spec.drainGracePeriod');
    expect(problemsOf(offer({ payment: { network: 'base', payTo: PAY_TO, scheme: 'upto', price: { perRequest: '1' } } }))).toContain('spec.payment.scheme');
    expect(problemsOf(offer({ payment: { network: 'base', payTo: PAY_TO, maxTimeoutSeconds: 0, price: { perRequest: '1' } } }))).toContain(
      'spec.payment.maxTimeoutSeconds',
    );
    expect(problemsOf({ ...offer(), kind: 'Service' })).toContain('kind');
    expect(problemsOf(offer({}, { name: 'Bad_Name' }))).toBe('metadata.name: must be a DNS-1123 subdomain');
  });

  it('requires spec.payment', () => {
    const { payment: _payment, ...spec } = offer().spec as Record<string, unknown>;
    expect(problemsOf({ ...offer(), spec })).toContain('spec.payment');
  });

  it('refuses a path outside /services/ in the schema', () => {
    expect(problemsOf(offer({ path: '/api/foo' }))).toBe('spec.path: path must start with "/services/"');
    expect(problemsOf(offer({ path: '/services/a b' }))).toBe('spec.path: path must use only URL path characters (A-Z a-z 0-9 . _ ~ - /)');
    expect(problemsOf(offer({ path: '/services/' }))).toBe('spec.path: path must not end with "/"');
  });

  it('refuses "..", ".", "//" and a trailing "/" in the schema, so the CRD carries the rule', () => {
    expect(problemsOf(offer({ path: '/services/a/../b' }))).toBe('spec.path: path must not contain ".." or "." segments');
    expect(problemsOf(offer({ path: '/services/./b' }))).toBe('spec.path: path must not contain ".." or "." segments');
    expect(problemsOf(offer({ path: '/services/..' }))).toBe('spec.path: path must not contain ".." or "." segments');
    expect(problemsOf(offer({ path: '/services//a' }))).toBe('spec.path: path must not contain "//"');
    expect(problemsOf(offer({ path: '/services/a/' }))).toBe('spec.path: path must not end with "/"');
  });

  it('accepts nested paths and dots inside segments', () => {
    for (const path of ['/services/llm/v1.2', '/services/.well-known', '/services/..a/...', '/services/a.', '/services/~x_y-z']) {
      expect(parseServiceOffer(offer({ path })).ok, path).toBe(true);
    }
  });

  it('lists every path problem at once, and finds one for every path the pattern refuses', () => {
    expect(pathProblems('/other//x/')).toEqual(['must start with "/services/"', 'must not contain "//"', 'must not end with "/"']);
    expect(pathProblems('/services/ok')).toEqual([]);
    const pattern = new RegExp(PATH_PATTERN);
    const samples = ['/services', '/services/', '/services/a', '/services/.', '/services/..', '/services/...', '/services/.a', '/services/a//b', '/services/a/', '/x/a', '/services/a%2F', '/services/a/./b'];
    for (const path of samples) expect(pathProblems(path).length === 0, path).toBe(pattern.test(path));
  });
});

describe('ServiceOffer cross-field rules', () => {
  it('refuses a price table with perEpoch alone', () => {
    expect(problemsOf(offer({ payment: { network: 'base', payTo: PAY_TO, price: { perEpoch: '5' } } }))).toBe(
      'spec.payment.price: needs perRequest, perMTok or perHour (perEpoch alone is not chargeable)',
    );
  });

  it('refuses an impossible drainAt with a readable message', () => {
    expect(problemsOf(offer({ drainAt: '2026-02-30T00:00:00Z' }))).toBe(
      'spec.drainAt: "2026-02-30T00:00:00Z" is not an RFC 3339 time like "2026-06-01T13:00:00Z"',
    );
  });
});

describe('ServiceOffer addresses (EIP-55)', () => {
  // PAY_TO with one letter's case flipped: the checksum no longer matches, as after a typo.
  const BAD_CHECKSUM = '0x70997970c51812dc3A010C7d01b50e0d17dc79C8';
  const payment = (patch: Record<string, unknown>) => ({ payment: { network: 'base-sepolia', payTo: PAY_TO, price: { perRequest: '0.001' }, ...patch } });

  it('refuses a mixed-case payTo whose EIP-55 checksum is wrong, naming the field', () => {
    expect(problemsOf(offer(payment({ payTo: BAD_CHECKSUM })))).toBe(
      'spec.payment.payTo: mixed-case address whose EIP-55 checksum does not match: likely mistyped (check every character)',
    );
  });

  it('refuses a mixed-case asset address whose EIP-55 checksum is wrong, naming the field', () => {
    const asset = { address: '0x036cbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6, eip712Name: 'USDC', eip712Version: '2' };
    expect(problemsOf(offer(payment({ asset })))).toBe(
      'spec.payment.asset.address: mixed-case address whose EIP-55 checksum does not match: likely mistyped (check every character)',
    );
  });

  it('accepts a correct checksum, and all-lowercase or all-uppercase hex (which carries no checksum)', () => {
    for (const payTo of [PAY_TO, PAY_TO.toLowerCase(), `0x${PAY_TO.slice(2).toUpperCase()}`]) {
      expect(parseServiceOffer(offer(payment({ payTo }))).ok, payTo).toBe(true);
    }
  });
});

describe('ServiceOffer drain times are bounded so every drain deadline is a snapshot time', () => {
  it('refuses drainAt 9999-12-31T23:00:00Z (its drainEndsAt would be in year 10000)', () => {
    expect(problemsOf(offer({ drainAt: '9999-12-31T23:00:00Z' }))).toBe(
      'spec.drainAt: must be an RFC 3339 time from 1970 to 8999 like "2026-06-01T13:00:00Z"',
    );
  });

  it('refuses month 13, day 32 and hour 24 in the schema, so the API server refuses them too', () => {
    for (const drainAt of ['2026-13-01T00:00:00Z', '2026-01-32T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z']) {
      expect(problemsOf(offer({ drainAt })), drainAt).toBe('spec.drainAt: must be an RFC 3339 time from 1970 to 8999 like "2026-06-01T13:00:00Z"');
    }
  });

  it('refuses a drainGracePeriod over 8760h (365 days), however it is spelled', () => {
    for (const drainGracePeriod of ['8761h', '525601m', '31536001s', '8760h1s']) {
      expect(problemsOf(offer({ drainGracePeriod })), drainGracePeriod).toBe('spec.drainGracePeriod: must be at most 8760h (365 days)');
    }
    expect(parseServiceOffer(offer({ drainAt: '8999-12-31T23:59:59Z', drainGracePeriod: '8760h' })).ok).toBe(true);
  });

  it('accepts the bounds: 1970 and 8999, with an offset', () => {
    for (const drainAt of ['1970-01-01T00:00:00Z', '8999-12-31T23:59:59-23:59', '2026-06-01T13:00:00.5+02:00']) {
      expect(parseServiceOffer(offer({ drainAt, drainGracePeriod: '8760h' })).ok, drainAt).toBe(true);
    }
  });
});
