import { describe, expect, it } from 'vitest';
import { ConfigError, originUrl, publicBaseUrl, type Env } from './env.js';

/** The deployment URLs: required, http(s), and never loopback unless LOCAL_DEV=1 says the edge runs on this machine. */
const env = (settings: Partial<Env>) => settings as Env;

function refusal(read: () => string): ConfigError {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe.each([
  ['PUBLIC_BASE_URL', publicBaseUrl, 'https://edge.example.com'],
  ['ORIGIN_URL', originUrl, 'https://origin.example.com'],
] as const)('%s', (setting, read, publicUrl) => {
  it('is required', () => {
    for (const value of [undefined, '']) {
      const error = refusal(() => read(env({ [setting]: value })));
      expect(error.setting).toBe(setting);
      expect(error.message).toMatch(new RegExp(`^${setting}: is not set`));
    }
  });

  it('must be an http(s) URL', () => {
    expect(refusal(() => read(env({ [setting]: 'ftp://edge.example.com' }))).setting).toBe(setting);
    expect(refusal(() => read(env({ [setting]: 'edge.example.com' }))).setting).toBe(setting);
  });

  it('is read without its trailing slash', () => {
    expect(read(env({ [setting]: `${publicUrl}/` }))).toBe(publicUrl);
  });

  it.each(['http://127.0.0.1:8787', 'http://localhost:9000', 'http://api.localhost', 'http://127.1', 'http://[::1]:8787', 'http://0.0.0.0'])(
    'refuses the loopback %s on a deployed edge (no LOCAL_DEV=1)',
    (url) => {
      for (const local of [undefined, '', '0', 'true']) {
        const error = refusal(() => read(env({ [setting]: url, LOCAL_DEV: local })));
        expect(error.setting).toBe(setting);
        expect(error.message).toContain('loopback');
      }
      expect(read(env({ [setting]: url, LOCAL_DEV: '1' }))).toBe(url);
    },
  );

  it('accepts a public host that merely starts with 127', () => {
    expect(read(env({ [setting]: 'https://127.example.com' }))).toBe('https://127.example.com');
  });
});
