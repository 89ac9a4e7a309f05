import { DurableObject } from 'cloudflare:workers';
import type { FacilitatorRequest } from '../../../core/x402/settlement.js';
import type { Env } from '../env.js';
import { authorizationUsed, caip2Of, chainRpcUrls } from './authorization-state.js';
import { holdsIdentifier, PaymentIdentifierTable, type RetryRecord } from './payment-identifiers.js';
import type { SettledAuthorization } from './settled-queue.js';
import { gateSettings } from './settings.js';

/**
 * The replay guard (SPEC §5 step 4): one SQLite Durable Object per payer, one row per signed
 * authorization `(chainId, asset, from, nonce)`. Every method runs without an await between its
 * read and its write, so each transition is atomic.
 *
 *   claimed  ─release→ released ─claim→ claimed   (only the claiming request releases, after its own
 *                                                 failed /verify, before any forward)
 *   claimed  ─settled→ settled   (tx hash kept; written after the answer, with the payer's next
 *                                 claim or within a second: settled-queue.ts)
 *   claimed  ─consume→ consumed  (the origin was reached and nothing was settled; background too)
 *   claimed  ─pending→ pending   ─alarm reads authorizationState on chain→ settled | consumed
 *   (never by POSTing /settle again: that would BE a settlement, charging for a withheld body)
 *
 * A payment with a `payment-identifier` also binds its identifier in the claim, and keeps its
 * answer in `settled` (payment-identifiers.ts): a retry of the same payment then finds the row
 * refused with what its first request left, and another payment under the identifier is refused.
 */
export type LedgerState = 'claimed' | 'released' | 'consumed' | 'settled' | 'pending';
type Refused = Exclude<LedgerState, 'released'>;
export type ClaimResult =
  | { ok: true }
  /** Another use of the authorization, as before identifiers. */
  | { ok: false; refusal: 'used'; state: Refused }
  /** The same payment again under its identifier: where it stands and what its first request left. */
  | { ok: false; refusal: 'retried'; state: Refused; record: RetryRecord }
  /** The identifier names another payment (or this payment sent for another request); nothing changed. */
  | { ok: false; refusal: 'identifier_conflict' };

/** A payment's `payment-identifier` and the fingerprint of the payment it was sent with. */
export interface IdentifiedPayment {
  readonly id: string;
  readonly fingerprint: string;
}

/** Rows live this long past the authorization's `validBefore` (clock skew between edge and chain). */
export const EXPIRY_MARGIN_MS = 10 * 60 * 1000;
export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 5 * 60 * 1000;

/** After `validBefore` an unexecuted authorization can no longer execute; this long is left for inclusion. */
export const SETTLEMENT_INCLUSION_MS = 60_000;

interface Row {
  state: LedgerState;
  attempts: number;
  request: string | null;
  [key: string]: SqlStorageValue;
}

export class NonceLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly identifiers: PaymentIdentifierTable;
  /** The alarm this instance last saw or set; saves a storage read on every claim. */
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS authorizations (
      key TEXT PRIMARY KEY, state TEXT NOT NULL, expires_at INTEGER NOT NULL, tx TEXT,
      request TEXT, attempts INTEGER NOT NULL DEFAULT 0, retry_at INTEGER, updated_at INTEGER NOT NULL)`);
    this.sql.exec('CREATE INDEX IF NOT EXISTS authorizations_expiry ON authorizations (expires_at)');
    this.identifiers = new PaymentIdentifierTable(this.sql);
  }

  private row(key: string): Row | undefined {
    return this.sql.exec<Row>('SELECT state, attempts, request FROM authorizations WHERE key = ?', key).toArray()[0];
  }

  /** One statement: the row moves only from one of `from`, so the check and the write are one step. */
  private move(key: string, from: readonly LedgerState[], to: LedgerState, extra: { tx?: string | null; request?: string | null; retryAt?: number | null } = {}): boolean {
    const moved = this.sql.exec(
      `UPDATE authorizations SET state = ?, tx = COALESCE(?, tx), request = COALESCE(?, CASE WHEN ? = 'pending' THEN request END),
         retry_at = ?, updated_at = ? WHERE key = ? AND state IN (${from.map(() => '?').join(', ')}) RETURNING key`,
      to, extra.tx ?? null, extra.request ?? null, to, extra.retryAt ?? null, Date.now(), key, ...from,
    );
    return moved.toArray().length > 0;
  }

  /**
   * Atomically claim an authorization; a released one may be claimed again. From here on only
   * this request can release it, so the row refuses every other use until it expires. With an
   * identifier, the identifier is checked and bound in the same step.
   */
  async claim(key: string, validBeforeMs: number, identified?: IdentifiedPayment, settledEarlier?: readonly SettledAuthorization[]): Promise<ClaimResult> {
    if (settledEarlier) this.settledMany(settledEarlier);
    const expiresAt = validBeforeMs + EXPIRY_MARGIN_MS;
    const held = identified && this.identifiers.held(identified.id);
    // The same payment again (same fingerprint) is a retry; anything else under a held identifier is refused.
    const retry = held && held.fingerprint === identified?.fingerprint ? held.record : undefined;
    if (held && !retry && holdsIdentifier(held.state)) return { ok: false, refusal: 'identifier_conflict' };
    // One statement on the hot path: a new row, or a released one taken again; anything else stays.
    const claimed = this.sql.exec(
      `INSERT INTO authorizations (key, state, expires_at, updated_at) VALUES (?, 'claimed', ?, ?)
       ON CONFLICT(key) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at, updated_at = excluded.updated_at
       WHERE authorizations.state = 'released' RETURNING key`,
      key, expiresAt, Date.now(),
    ).toArray();
    if (claimed.length === 0) {
      const found = this.row(key)?.state;
      const state = found === undefined || found === 'released' ? 'claimed' : found;
      return retry ? { ok: false, refusal: 'retried', state, record: retry } : { ok: false, refusal: 'used', state };
    }
    if (identified) this.identifiers.bind(identified.id, key, identified.fingerprint, expiresAt);
    await this.scheduleAtMost(expiresAt);
    return { ok: true };
  }

  /** Give a claim back; only possible while the request never went to the origin. */
  release(key: string): boolean {
    return this.move(key, ['claimed'], 'released');
  }

  /** The request reached (or may have reached) the origin and nothing was settled. */
  consume(key: string): boolean {
    return this.move(key, ['claimed'], 'consumed');
  }

  /** From `pending` too: the alarm found the authorization executed on chain. `kept`: what a retry under the identifier gets. */
  settled(key: string, transaction: string | null, kept?: { id: string; record: RetryRecord }): boolean {
    const moved = this.move(key, ['claimed', 'consumed', 'pending'], 'settled', { tx: transaction });
    if (moved && kept) this.identifiers.keep(kept.id, key, kept.record);
    return moved;
  }

  /** Settled rows of earlier requests, queued by an isolate (settled-queue.ts). */
  settledMany(rows: readonly SettledAuthorization[]): void {
    for (const row of rows) this.settled(row.key, row.transaction);
  }

  /** `/settle` outcome unknown: keep the request (the facilitator body, as JSON) and re-ask the facilitator in the background. */
  async pending(key: string, requestJson: string): Promise<boolean> {
    const moved = this.move(key, ['claimed', 'consumed'], 'pending', { request: requestJson, retryAt: Date.now() + FIRST_RETRY_MS });
    if (moved) await this.scheduleAlarm();
    return moved;
  }

  state(key: string): LedgerState | undefined {
    return this.row(key)?.state;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = undefined;
    const now = Date.now();
    this.sql.exec("DELETE FROM authorizations WHERE expires_at < ?", now);
    this.identifiers.expire(now);
    const due = this.sql.exec<{ key: string }>("SELECT key FROM authorizations WHERE state = 'pending' AND retry_at <= ? LIMIT 20", now).toArray();
    for (const { key } of due) await this.resolvePending(key);
    await this.scheduleAlarm();
  }

  /**
   * A settlement whose outcome was unknown: the first /settle may or may not have executed the
   * authorization. Ask the chain (CHAIN_RPC_URLS); once it is past `validBefore` and not executed,
   * it never will be. Without an RPC the outcome stays unknown and the row is consumed at expiry:
   * the edge itself never causes a charge for a response it withheld.
   */
  private async resolvePending(key: string): Promise<void> {
    const row = this.row(key);
    if (!row || row.state !== 'pending' || !row.request) return;
    const request = JSON.parse(row.request) as FacilitatorRequest;
    const deadline = Number(request.paymentPayload.payload.authorization.validBefore) * 1000 + SETTLEMENT_INCLUSION_MS;
    const used = await this.executedOnChain(request);
    let outcome: 'settled' | 'expired' | 'waiting';
    if (used === true) outcome = this.settled(key, null) ? 'settled' : 'waiting';
    else if (Date.now() > deadline) outcome = this.move(key, ['pending'], 'consumed') ? 'expired' : 'waiting';
    else {
      outcome = 'waiting';
      const backoff = Math.min(FIRST_RETRY_MS * 2 ** (row.attempts + 1), MAX_RETRY_MS);
      const retryAt = Math.min(Date.now() + backoff, deadline + 1);
      this.sql.exec('UPDATE authorizations SET attempts = attempts + 1, retry_at = ? WHERE key = ?', retryAt, key);
    }
    const chain = used === undefined ? 'unknown' : used ? 'executed' : 'not_executed';
    console.log(JSON.stringify({ level: outcome === 'expired' && used === undefined ? 'warn' : 'info', msg: 'pending settlement checked', outcome, chain }));
  }

  /** `authorizationState(from, nonce)` of the payment's token, or undefined when it cannot be read. */
  private async executedOnChain(request: FacilitatorRequest): Promise<boolean | undefined> {
    const requirement = request.paymentRequirements;
    const caip2 = caip2Of(requirement.network);
    try {
      const rpcUrl = caip2 ? chainRpcUrls(this.env)[caip2] : undefined;
      if (!rpcUrl) return undefined;
      const { from, nonce } = request.paymentPayload.payload.authorization;
      const timeoutMs = gateSettings(this.env).facilitatorTimeoutMs;
      return await authorizationUsed({ rpcUrl, asset: requirement.asset, authorizer: from, nonce, timeoutMs });
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', msg: 'authorizationState read failed', error: String(error).slice(0, 200) }));
      return undefined;
    }
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>("SELECT MIN(at) AS at FROM (SELECT MIN(expires_at) AS at FROM authorizations UNION ALL SELECT MIN(retry_at) FROM authorizations WHERE state = 'pending')")
      .toArray()[0]?.at;
    if (next === null || next === undefined) return;
    await this.scheduleAtMost(next);
  }

  /** Make sure an alarm fires no later than `at`; the hot path usually finds one already earlier. */
  private async scheduleAtMost(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = Math.max(at, Date.now());
    await this.ctx.storage.setAlarm(this.alarmAt);
  }
}
