import { DurableObject } from 'cloudflare:workers';
import { sha256Hex } from '../../../core/sha256.js';
import type { Env } from '../env.js';

/**
 * CatalogStore: the one durable copy of the last accepted snapshot (SPEC §6). A single instance
 * (`idFromName('catalog')`) decides every push atomically, so two concurrent pushes cannot both win.
 * The body is stored as ≤ 1 MiB chunks (a Durable Object row holds at most 2 MB) written in one
 * transaction with its head, so a crash never leaves a torn body or a head without its body.
 */

/** Rows hold at most 2 MB; 1 MiB chunks keep a 16 MiB snapshot to 16 rows. */
export const CHUNK_BYTES = 1024 * 1024;

export interface StoredHead {
  readonly sequence: number;
  /** RFC 3339, from the snapshot. */
  readonly issuedAt: string;
  /** RFC 3339, when this edge accepted it. */
  readonly receivedAt: string;
  readonly signature: string;
  /** Hex SHA-256 of the exact body bytes. */
  readonly sha256: string;
  readonly size: number;
  readonly offers: number;
}

export interface StoredSnapshot {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly head: StoredHead;
}

export interface PushCandidate {
  readonly body: Uint8Array;
  /** Hex SHA-256 of `body` when the caller already computed it (the channel hashes once per push). */
  readonly sha256?: string;
  readonly signature: string;
  readonly sequence: number;
  readonly issuedAt: string;
  readonly receivedAt: string;
  readonly offers: number;
}

/** `accepted`: stored; `unchanged`: same sequence, same bytes; `stale`/`conflict`: 409. */
export type PushOutcome =
  | { readonly outcome: 'accepted'; readonly head: StoredHead }
  | { readonly outcome: 'unchanged'; readonly head: StoredHead }
  | { readonly outcome: 'stale'; readonly storedSequence: number }
  | { readonly outcome: 'conflict'; readonly storedSequence: number };

interface HeadRow extends Record<string, SqlStorageValue> {
  sequence: number;
  issued_at: string;
  received_at: string;
  signature: string;
  sha256: string;
  size: number;
  offers: number;
  chunks: number;
}

function toHead(row: HeadRow): StoredHead {
  return {
    sequence: row.sequence,
    issuedAt: row.issued_at,
    receivedAt: row.received_at,
    signature: row.signature,
    sha256: row.sha256,
    size: row.size,
    offers: row.offers,
  };
}

export class CatalogStore extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS catalog_head (
      id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL, issued_at TEXT NOT NULL,
      received_at TEXT NOT NULL, signature TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
      offers INTEGER NOT NULL, chunks INTEGER NOT NULL)`);
    this.sql.exec('CREATE TABLE IF NOT EXISTS catalog_chunk (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  }

  private headRow(): HeadRow | undefined {
    return this.sql.exec<HeadRow>('SELECT * FROM catalog_head WHERE id = 1').toArray()[0];
  }

  head(): StoredHead | null {
    const row = this.headRow();
    return row ? toHead(row) : null;
  }

  read(): StoredSnapshot | null {
    const row = this.headRow();
    if (!row) return null;
    const body = new Uint8Array(row.size);
    let offset = 0;
    for (const chunk of this.sql.exec<{ data: ArrayBuffer }>('SELECT data FROM catalog_chunk ORDER BY idx')) {
      body.set(new Uint8Array(chunk.data), offset);
      offset += chunk.data.byteLength;
    }
    // A mismatch would mean a torn write, which the transaction rules out; refuse to serve it anyway.
    if (offset !== row.size) throw new Error(`catalog body is ${offset} bytes, head says ${row.size}`);
    return { body, head: toHead(row) };
  }

  /** Decide and store a verified push. The caller has checked signature, schema, audience and time. */
  async accept(candidate: PushCandidate): Promise<PushOutcome> {
    const sha256 = candidate.sha256 ?? (await sha256Hex(candidate.body)).slice(2);
    // From here on nothing awaits: the decision and the write are one atomic step.
    const current = this.headRow();
    if (current && candidate.sequence < current.sequence) return { outcome: 'stale', storedSequence: current.sequence };
    if (current && candidate.sequence === current.sequence) {
      const same = current.sha256 === sha256 && current.size === candidate.body.byteLength;
      return same ? { outcome: 'unchanged', head: toHead(current) } : { outcome: 'conflict', storedSequence: current.sequence };
    }
    const chunks = Math.ceil(candidate.body.byteLength / CHUNK_BYTES);
    const row: HeadRow = {
      sequence: candidate.sequence,
      issued_at: candidate.issuedAt,
      received_at: candidate.receivedAt,
      signature: candidate.signature,
      sha256,
      size: candidate.body.byteLength,
      offers: candidate.offers,
      chunks,
    };
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('DELETE FROM catalog_chunk');
      for (let idx = 0; idx < chunks; idx++) {
        const part = candidate.body.slice(idx * CHUNK_BYTES, (idx + 1) * CHUNK_BYTES);
        this.sql.exec('INSERT INTO catalog_chunk (idx, data) VALUES (?, ?)', idx, part.buffer);
      }
      this.sql.exec(
        `INSERT OR REPLACE INTO catalog_head (id, sequence, issued_at, received_at, signature, sha256, size, offers, chunks)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
        row.sequence, row.issued_at, row.received_at, row.signature, row.sha256, row.size, row.offers, row.chunks,
      );
    });
    return { outcome: 'accepted', head: toHead(row) };
  }
}
