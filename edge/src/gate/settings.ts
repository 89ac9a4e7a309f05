import { z } from 'zod';
import { ConfigError, originUrl, publicBaseUrl, settingSchemas, type Env } from '../env.js';
import { parseFacilitatorAuth, type FacilitatorAuthSetting } from './facilitator-auth.js';

/** The gate's settings, parsed once per request from wrangler vars and secrets. */
export type VerifyMode = 'facilitator' | 'local';

export interface GateSettings {
  /** PUBLIC_BASE_URL: resources and the catalog link are named under it. */
  readonly baseUrl: string;
  readonly originUrl: string;
  readonly originTimeoutMs: number;
  readonly facilitatorUrl: string;
  readonly facilitatorTimeoutMs: number;
  /** `/settle` waits for the transaction's receipt: a block or two, 12 s each on Ethereum. */
  readonly facilitatorSettleTimeoutMs: number;
  /** FACILITATOR_AUTH and its secrets: how the gate authenticates to the facilitator. */
  readonly facilitatorAuth: FacilitatorAuthSetting;
  readonly verifyMode: VerifyMode;
  /** GATE_SERVER_TIMING=1: add a Server-Timing header of the gate's steps (profiling only). */
  readonly serverTiming: boolean;
}

export const DEFAULT_ORIGIN_TIMEOUT_MS = 120_000;
export const DEFAULT_FACILITATOR_TIMEOUT_MS = 10_000;
export const DEFAULT_FACILITATOR_SETTLE_TIMEOUT_MS = 60_000;

const timeoutMs = z.coerce.number().int().min(1).max(3_600_000);

function required(setting: 'FACILITATOR_URL', value: string | undefined): string {
  if (!value) throw new ConfigError(setting, 'is not set');
  return settingSchemas.parseSetting(setting, settingSchemas.absoluteHttpUrl, value);
}

// Vars do not change within an isolate's life, so they are parsed once per distinct set.
let cached: { key: string; settings: GateSettings } | undefined;

export function gateSettings(env: Env): GateSettings {
  const key = [env.PUBLIC_BASE_URL, env.LOCAL_DEV, env.ORIGIN_URL, env.ORIGIN_TIMEOUT_MS, env.FACILITATOR_URL, env.FACILITATOR_TIMEOUT_MS, env.FACILITATOR_SETTLE_TIMEOUT_MS, env.VERIFY_MODE, env.GATE_SERVER_TIMING, env.FACILITATOR_AUTH, env.FACILITATOR_AUTH_TOKEN, env.CDP_API_KEY_ID, env.CDP_API_KEY_SECRET].join('\n');
  if (cached?.key === key) return cached.settings;
  const settings = parseGateSettings(env);
  cached = { key, settings };
  return settings;
}

function parseGateSettings(env: Env): GateSettings {
  const mode = env.VERIFY_MODE ?? 'facilitator';
  if (mode !== 'facilitator' && mode !== 'local') throw new ConfigError('VERIFY_MODE', 'must be "facilitator" or "local"');
  return {
    baseUrl: publicBaseUrl(env),
    originUrl: originUrl(env),
    originTimeoutMs: settingSchemas.parseSetting('ORIGIN_TIMEOUT_MS', timeoutMs, env.ORIGIN_TIMEOUT_MS ?? DEFAULT_ORIGIN_TIMEOUT_MS),
    facilitatorUrl: required('FACILITATOR_URL', env.FACILITATOR_URL),
    facilitatorTimeoutMs: settingSchemas.parseSetting('FACILITATOR_TIMEOUT_MS', timeoutMs, env.FACILITATOR_TIMEOUT_MS ?? DEFAULT_FACILITATOR_TIMEOUT_MS),
    facilitatorSettleTimeoutMs: settingSchemas.parseSetting('FACILITATOR_SETTLE_TIMEOUT_MS', timeoutMs, env.FACILITATOR_SETTLE_TIMEOUT_MS ?? DEFAULT_FACILITATOR_SETTLE_TIMEOUT_MS),
    facilitatorAuth: parseFacilitatorAuth(env),
    verifyMode: mode,
    serverTiming: env.GATE_SERVER_TIMING === '1',
  };
}
