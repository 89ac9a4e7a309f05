import { z } from 'zod';

/**
 * The worker's bindings and settings: `Cloudflare.Env`, which `npm run types` generates from
 * wrangler.toml (and .dev.vars.example for the settings a deploy adds) into
 * edge/worker-configuration.d.ts. Every string setting may be unset on a deployed edge (a secret
 * never put, a var a deploy left out), so each is optional here and parsed fail-closed below.
 */
type Generated = Cloudflare.Env;
type Setting = { [K in keyof Generated]: Generated[K] extends string ? K : never }[keyof Generated];
export type Env = Omit<Generated, Setting> & Partial<Pick<Generated, Setting>>;

export class ConfigError extends Error {
  readonly reason = 'invalid_configuration';
  constructor(readonly setting: string, detail: string) {
    super(`${setting}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const absoluteHttpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL')
  .transform((value) => value.replace(/\/+$/, ''));

function parseSetting<T>(setting: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ConfigError(setting, z.prettifyError(parsed.error));
}

/** Hosts that reach only the machine the worker runs on (as the URL parser normalizes them): never a deployed edge's. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(hostname) || ['0.0.0.0', '[::1]', '[::]'].includes(hostname);
}

/**
 * A required http(s) URL without a trailing slash. A loopback one is accepted only where
 * LOCAL_DEV=1 (set by .dev.vars, the local stack, the tests and benches): a deployed edge that
 * kept a local value would serve localhost URLs or forward payments nowhere.
 */
// Settings are fixed for an isolate's life: each distinct value is parsed once (the gate asks per request).
const parsedUrls = new Map<string, string>();

function deploymentUrl(env: Env, setting: 'PUBLIC_BASE_URL' | 'ORIGIN_URL', meaning: string): string {
  const raw = env[setting];
  if (!raw) throw new ConfigError(setting, `is not set (${meaning})`);
  const key = `${setting}\n${env.LOCAL_DEV}\n${raw}`;
  const known = parsedUrls.get(key);
  if (known !== undefined) return known;
  const url = parseSetting(setting, absoluteHttpUrl, raw);
  if (env.LOCAL_DEV !== '1' && isLoopback(new URL(url).hostname)) {
    throw new ConfigError(setting, `is a loopback URL (${url}) on a deployed edge; set ${meaning}, or LOCAL_DEV=1 for a local run`);
  }
  parsedUrls.set(key, url);
  return url;
}

/** PUBLIC_BASE_URL without a trailing slash; required. */
export function publicBaseUrl(env: Env): string {
  return deploymentUrl(env, 'PUBLIC_BASE_URL', 'the public origin of this edge, e.g. https://edge.example.com');
}

/** ORIGIN_URL without a trailing slash; required by the gate, never loopback on a deployed edge. */
export function originUrl(env: Env): string {
  return deploymentUrl(env, 'ORIGIN_URL', "the seller's tunnel hostname, e.g. https://origin.example.com");
}

/** CATALOG_SIGNERS as lower-cased addresses; empty means every push is refused (fail closed). */
export function catalogSigners(env: Env): readonly string[] {
  const raw = (env.CATALOG_SIGNERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'each signer must be a 0x-prefixed 20-byte address');
  return raw.map((value) => parseSetting('CATALOG_SIGNERS', address, value).toLowerCase());
}

export const settingSchemas = { absoluteHttpUrl, parseSetting };
