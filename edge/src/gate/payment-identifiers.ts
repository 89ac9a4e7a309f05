import type { LedgerState } from './nonce-ledger.js';

/**
 * The `payment-identifier` extension's side of the replay guard: which payment each identifier
 * names and the answer its settlement bought, kept beside the ledger row (the payer's
 * `NonceLedger`, so identifiers are the payer's own) and deleted with it after `validBefore`.
 * docs/payment-gate.md "Retries under a payment identifier".
 */

/** Largest answer kept for retries, body and headers together; a larger one is settled and sent, never kept. */
export const MAX_KEPT_ANSWER_BYTES = 1024 * 1024;

/** Framing of one connection, not part of the answer (RFC 9110 §7.6.1); the runtime frames a replay itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length']);

/** The origin's answer as a retry gets it again (the route headers and the receipt are added on the way out). */
export interface KeptAnswer {
  readonly status: number;
  /** Name-value pairs, so a repeated header (Set-Cookie) stays as it came. */
  readonly headers: string[][];
  readonly body: ArrayBuffer | null;
}

/** What a retry of the same payment finds: the settlement receipt, and the answer if it was kept. */
export interface RetryRecord {
  readonly receipt: Record<string, string> | null;
  readonly answer: KeptAnswer | null;
}

/** The answer to keep for retries, or null for a stream (never buffered) and for an answer over the bound. */
export function answerToKeep(response: Response, body: ArrayBuffer | ReadableStream | null): KeptAnswer | null {
  if (body instanceof ReadableStream) return null;
  const headers = [...response.headers].filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
  const size = (body?.byteLength ?? 0) + JSON.stringify(headers).length;
  return size > MAX_KEPT_ANSWER_BYTES ? null : { status: response.status, headers, body };
}

/** An identifier's row joined with the state of the authorization it names (null once that row is gone). */
export interface HeldIdentifier {
  readonly key: string;
  readonly fingerprint: string;
  readonly state: LedgerState | null;
  readonly record: RetryRecord;
}

interface Row {
  key: string;
  fingerprint: string;
  state: LedgerState | null;
  receipt: string | null;
  status: number | null;
  headers: string | null;
  body: ArrayBuffer | null;
  [column: string]: SqlStorageValue;
}

/**
 * While its payment may still be or have been charged (claimed, pending, settled), an identifier
 * names only that payment. Once that payment was never charged (released, consumed) or its row
 * expired, the identifier passes to the buyer's next payment.
 */
export function holdsIdentifier(state: LedgerState | null): boolean {
  return state === 'claimed' || state === 'pending' || state === 'settled';
}

/** The identifiers table of one payer's ledger; every method is synchronous, so the ledger's transitions stay atomic. */
export class PaymentIdentifierTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS payment_identifiers (
      id TEXT PRIMARY KEY, key TEXT NOT NULL, fingerprint TEXT NOT NULL, expires_at INTEGER NOT NULL,
      receipt TEXT, status INTEGER, headers TEXT, body BLOB)`);
    sql.exec('CREATE INDEX IF NOT EXISTS payment_identifiers_expiry ON payment_identifiers (expires_at)');
  }

  held(id: string): HeldIdentifier | undefined {
    const row = this.sql.exec<Row>(
      `SELECT p.key, p.fingerprint, a.state, p.receipt, p.status, p.headers, p.body
       FROM payment_identifiers p LEFT JOIN authorizations a ON a.key = p.key WHERE p.id = ?`, id,
    ).toArray()[0];
    if (!row) return undefined;
    const answer = row.status === null ? null : { status: row.status, headers: JSON.parse(row.headers ?? '[]') as string[][], body: row.body };
    const receipt = row.receipt === null ? null : (JSON.parse(row.receipt) as Record<string, string>);
    return { key: row.key, fingerprint: row.fingerprint, state: row.state, record: { receipt, answer } };
  }

  /** The identifier now names this payment (a new one, or one it passed to); nothing is kept yet. */
  bind(id: string, key: string, fingerprint: string, expiresAt: number): void {
    this.sql.exec(
      `INSERT INTO payment_identifiers (id, key, fingerprint, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET key = excluded.key, fingerprint = excluded.fingerprint, expires_at = excluded.expires_at,
         receipt = NULL, status = NULL, headers = NULL, body = NULL`,
      id, key, fingerprint, expiresAt,
    );
  }

  /** The settled payment's receipt and, within the bound, its answer. */
  keep(id: string, key: string, record: RetryRecord): void {
    const { answer } = record;
    this.sql.exec(
      'UPDATE payment_identifiers SET receipt = ?, status = ?, headers = ?, body = ? WHERE id = ? AND key = ?',
      record.receipt === null ? null : JSON.stringify(record.receipt),
      answer?.status ?? null, answer ? JSON.stringify(answer.headers) : null, answer?.body ?? null, id, key,
    );
  }

  expire(now: number): void {
    this.sql.exec('DELETE FROM payment_identifiers WHERE expires_at < ?', now);
  }
}
