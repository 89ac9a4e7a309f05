import type { Env } from '../env.js';
import type { NonceLedger } from './nonce-ledger.js';

/** The payer's shard of the replay guard: one Durable Object per lower-cased `from`. */
export function ledgerShard(from: string): string {
  return from.toLowerCase();
}

export function ledgerFor(env: Env, shard: string): DurableObjectStub<NonceLedger> {
  return env.NONCES.getByName(shard);
}
