import { concat, keccak256, recoverAddress, stringToBytes, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

/**
 * Snapshot signatures (SPEC §6, scheme in docs/snapshot-signing.md): EIP-191 `personal_sign` over
 * the exact body bytes, by a secp256k1 key whose address is in the edge's CATALOG_SIGNERS.
 */

export const SIGNATURE_HEADER = 'Obol-Signature';

export class InvalidSignatureError extends Error {
  readonly reason = 'invalid_signature';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSignatureError';
  }
}

const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

export function isPrivateKey(value: string): value is Hex {
  return PRIVATE_KEY.test(value);
}

/**
 * The EIP-191 `personal_sign` digest of the body: keccak256("\x19Ethereum Signed Message:\n" + len + body).
 * Same value as viem's `hashMessage({ raw })`, about twice as fast on multi-MiB bodies (no hex round trip).
 */
export function snapshotDigest(body: Uint8Array): Hex {
  return keccak256(concat([stringToBytes(`\x19Ethereum Signed Message:\n${body.byteLength}`), body]));
}

export async function signSnapshotBody(params: { body: Uint8Array; privateKey: Hex }): Promise<Hex> {
  if (!isPrivateKey(params.privateKey)) throw new InvalidSignatureError('the catalog key must be 0x followed by 64 hex digits');
  return privateKeyToAccount(params.privateKey).sign({ hash: snapshotDigest(params.body) });
}

/** The address that signed `body`, lower-cased. Throws InvalidSignatureError on a malformed signature. */
export async function recoverSnapshotSigner(params: { body: Uint8Array; signature: string }): Promise<string> {
  if (!SIGNATURE.test(params.signature)) throw new InvalidSignatureError('Obol-Signature must be a 65-byte 0x-hex signature');
  try {
    const address = await recoverAddress({ hash: snapshotDigest(params.body), signature: params.signature as Hex });
    return address.toLowerCase();
  } catch {
    throw new InvalidSignatureError('Obol-Signature does not recover to an address');
  }
}

export function signerAddress(privateKey: Hex): string {
  return privateKeyToAccount(privateKey).address.toLowerCase();
}
