import { z } from 'zod';

/** Bindings and vars, typed once (wrangler.toml is their single source). */
export interface Env {
  CATALOG: DurableObjectNamespace;
  NONCES: DurableObjectNamespace;
  METRICS: DurableObjectNamespace;
  PUBLIC_BASE_URL?: string;
  /** Comma-separated 0x addresses allowed to sign catalog snapshots. */
  CATALOG_SIGNERS?: string;
  ORIGIN_URL?: string;
  ORIGIN_TIMEOUT_MS?: string;
  FACILITATOR_URL?: string;
  FACILITATOR_TIMEOUT_MS?: string;
  VERIFY_MODE?: string;
  /** Comma-separated `eip155:<id>=<url>`; lets the ledger resolve unknown settlements on chain. */
  CHAIN_RPC_URLS?: string;
  /** "1": the gate answers with a Server-Timing header of its steps (profiling only). */
  GATE_SERVER_TIMING?: string;
  /** Secrets. */
  METRICS_TOKEN?: string;
  FACILITATOR_AUTH_TOKEN?: string;
  ORIGIN_ACCESS_CLIENT_ID?: string;
  ORIGIN_ACCESS_CLIENT_SECRET?: string;
}

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

/** PUBLIC_BASE_URL without a trailing slash; required. */
export function publicBaseUrl(env: Env): string {
  if (!env.PUBLIC_BASE_URL) throw new ConfigError('PUBLIC_BASE_URL', 'is not set (the public origin of this edge, e.g. https://edge.example.com)');
  return parseSetting('PUBLIC_BASE_URL', absoluteHttpUrl, env.PUBLIC_BASE_URL);
}

/** CATALOG_SIGNERS as lower-cased addresses; empty means every push is refused (fail closed). */
export function catalogSigners(env: Env): readonly string[] {
  const raw = (env.CATALOG_SIGNERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'each signer must be a 0x-prefixed 20-byte address');
  return raw.map((value) => parseSetting('CATALOG_SIGNERS', address, value).toLowerCase());
}

export const settingSchemas = { absoluteHttpUrl, parseSetting };
