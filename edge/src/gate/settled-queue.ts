import type { Env } from '../env.js';
import { ledgerFor } from './ledger-client.js';

/**
 * The `claimed → settled` move of a paid request without a `payment-identifier`, with its tx hash.
 * The claim already refuses every other use of the authorization, so this move is the ledger's
 * record, not its guard: it rides on the payer's next claim from this isolate (no round trip of its
 * own, which cost ~5 % of paid throughput), or a background flush writes it within a second.
 * Lost only with the isolate, like any background write: the row then stays `claimed`, which
 * refuses replays exactly as `settled` does.
 */
export interface SettledAuthorization {
  readonly key: string;
  readonly transaction: string;
}

export const SETTLED_FLUSH_MS = 1000;
/** Past this many queued rows the flush starts at once: a flood of payers never holds many back. */
export const MAX_QUEUED_SETTLED = 1024;
/** The flush loop gives up after this many rounds; the next queued row restarts it. */
const MAX_FLUSH_ROUNDS = 5;

// Module state lives as long as the isolate; keyed by the payer's ledger shard (ledger-client.ts).
const queued = new Map<string, SettledAuthorization[]>();
let queuedRows = 0;
let loopArmed = false;

export function queueSettled(env: Env, ctx: Pick<ExecutionContext, 'waitUntil'>, shard: string, row: SettledAuthorization): void {
  const rows = queued.get(shard);
  if (rows) rows.push(row);
  else queued.set(shard, [row]);
  queuedRows += 1;
  if (queuedRows >= MAX_QUEUED_SETTLED) ctx.waitUntil(flushAll(env));
  else if (!loopArmed) {
    loopArmed = true;
    ctx.waitUntil(flushLoop(env));
  }
}

/** The shard's queued rows, removed from the queue: the caller writes them (and gives them back if it cannot). */
export function takeSettled(shard: string): readonly SettledAuthorization[] | undefined {
  const rows = queued.get(shard);
  if (!rows) return undefined;
  queued.delete(shard);
  queuedRows -= rows.length;
  return rows;
}

/** Rows whose write failed go back to their shard's queue, while the queue has room for them. */
export function requeueSettled(shard: string, rows: readonly SettledAuthorization[]): void {
  if (queuedRows + rows.length > MAX_QUEUED_SETTLED) return;
  queued.set(shard, [...rows, ...(queued.get(shard) ?? [])]);
  queuedRows += rows.length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function flushLoop(env: Env): Promise<void> {
  try {
    for (let round = 0; round < MAX_FLUSH_ROUNDS && queuedRows > 0; round++) {
      await sleep(SETTLED_FLUSH_MS);
      await flushAll(env);
    }
  } finally {
    loopArmed = false;
  }
}

async function flushAll(env: Env): Promise<void> {
  const shards = [...queued.keys()];
  await Promise.all(shards.map(async (shard) => {
    const rows = takeSettled(shard);
    if (!rows) return;
    try {
      // The stub is made here, so it belongs to the request whose waitUntil runs this flush.
      await ledgerFor(env, shard).settledMany(rows);
    } catch (error) {
      requeueSettled(shard, rows);
      console.error(JSON.stringify({ level: 'error', msg: 'nonce ledger: settled rows not written; kept for the next flush while the queue has room', rows: rows.length, error: String(error) }));
    }
  }));
}
