import { readFile } from 'node:fs/promises';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { isPrivateKey } from '../../../core/signature.js';

/**
 * The seller's key that owns the agent's ERC-8004 identity (the registry's ERC-721 token):
 * `OBOL_IDENTITY_KEY` (0x + 64 hex digits) or `--key-file`, like the catalog key. It pays the
 * registration's gas. Errors never echo the key; the account object holds only the address and
 * public key (viem keeps the private key in closures).
 */

export const IDENTITY_KEY_ENV = 'OBOL_IDENTITY_KEY';

export class IdentityKeyError extends Error {
  constructor(readonly reason: 'identity_key_missing' | 'identity_key_invalid' | 'identity_key_unreadable', message: string) {
    super(message);
    this.name = 'IdentityKeyError';
  }
}

export async function loadIdentityAccount(params: {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Wins over the environment. */
  readonly keyFile?: string;
}): Promise<PrivateKeyAccount> {
  let source = IDENTITY_KEY_ENV;
  let value = params.env[IDENTITY_KEY_ENV];
  if (params.keyFile !== undefined) {
    source = `key file ${params.keyFile}`;
    value = await readFile(params.keyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new IdentityKeyError('identity_key_unreadable', `cannot read ${source}: ${error.code ?? 'read failed'}`);
    });
  } else if (value === undefined || value.trim() === '') {
    throw new IdentityKeyError('identity_key_missing', `${IDENTITY_KEY_ENV} is not set: export the key that owns the agent's identity (0x + 64 hex digits) or pass --key-file`);
  }
  const key = value.trim();
  if (!isPrivateKey(key)) throw new IdentityKeyError('identity_key_invalid', `${source} must be 0x followed by 64 hex digits (a secp256k1 private key)`);
  return privateKeyToAccount(key);
}
