import { readFile } from 'node:fs/promises';
import type { Hex } from 'viem';
import { isPrivateKey, signSnapshotBody, signerAddress } from '../../../core/signature.js';

/**
 * The catalog signing key: `OBOL_CATALOG_KEY` (0x-prefixed hex private key) or a key file. Errors
 * say what is wrong without ever echoing the key; `toString`/JSON of a signer show the address only.
 */

export const CATALOG_KEY_ENV = 'OBOL_CATALOG_KEY';

export type CatalogKeyErrorReason = 'catalog_key_missing' | 'catalog_key_invalid' | 'catalog_key_unreadable';

export class CatalogKeyError extends Error {
  constructor(readonly reason: CatalogKeyErrorReason, message: string) {
    super(message);
    this.name = 'CatalogKeyError';
  }
}

export interface CatalogSigner {
  /** Lower-cased address; put it in the edge's CATALOG_SIGNERS. */
  readonly address: string;
  sign(body: Uint8Array): Promise<Hex>;
}

/** A signer over a private key; the key is kept in a closure, never on the object. */
export function catalogSigner(privateKey: string, source = CATALOG_KEY_ENV): CatalogSigner {
  const key = privateKey.trim();
  if (!isPrivateKey(key)) {
    throw new CatalogKeyError('catalog_key_invalid', `${source} must be 0x followed by 64 hex digits (a secp256k1 private key)`);
  }
  const address = signerAddress(key);
  return {
    address,
    sign: (body) => signSnapshotBody({ body, privateKey: key }),
    toJSON: () => ({ address }),
    toString: () => `CatalogSigner(${address})`,
  } as CatalogSigner;
}

export interface LoadSignerParams {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A file holding the key; wins over the environment. */
  readonly keyFile?: string;
}

export async function loadCatalogSigner(params: LoadSignerParams): Promise<CatalogSigner> {
  if (params.keyFile !== undefined) {
    let text: string;
    try {
      text = await readFile(params.keyFile, 'utf8');
    } catch (error) {
      throw new CatalogKeyError('catalog_key_unreadable', `cannot read key file ${params.keyFile}: ${(error as NodeJS.ErrnoException).code ?? 'read failed'}`);
    }
    return catalogSigner(text, `key file ${params.keyFile}`);
  }
  const value = params.env[CATALOG_KEY_ENV];
  if (value === undefined || value.trim() === '') {
    throw new CatalogKeyError('catalog_key_missing', `${CATALOG_KEY_ENV} is not set: export the catalog signing key (0x + 64 hex digits) or pass --key-file`);
  }
  return catalogSigner(value);
}
