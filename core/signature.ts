import { hashTypedData, recoverAddress, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { sha256Hex } from './sha256.js';

/**
 * Snapshot signatures (SPEC §6, scheme in docs/snapshot-signing.md): EIP-712 typed data
 * `CatalogSnapshot(bytes32 bodySha256)` in the domain {name: "Obol Edge Catalog", version: "1"},
 * where `bodySha256` is the SHA-256 of the exact body bytes, signed by a secp256k1 key whose
 * address is in the edge's CATALOG_SIGNERS. SHA-256 runs natively (WebCrypto), where the former
 * EIP-191 scheme's keccak over the whole body ran in plain JS (~0.9 s for 8 MB).
 */

export const SIGNATURE_HEADER = 'Obol-Signature';

export const SNAPSHOT_SIGNING_DOMAIN = { name: 'Obol Edge Catalog', version: '1' } as const;
export const SNAPSHOT_SIGNING_TYPES = { CatalogSnapshot: [{ name: 'bodySha256', type: 'bytes32' }] } as const;

export class InvalidSignatureError extends Error {
  readonly reason = 'invalid_signature';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSignatureError';
  }
}

const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;
const SHA256_HEX = /^0x[0-9a-f]{64}$/;

export function isPrivateKey(value: string): value is Hex {
  return PRIVATE_KEY.test(value);
}

/** SHA-256 of the exact body bytes as 0x-hex (lower case), computed natively. */
export function snapshotBodySha256(body: Uint8Array): Promise<Hex> {
  return sha256Hex(body);
}

/** The EIP-712 typed data a snapshot signature covers, for viem, cast or any EIP-712 wallet. */
export function snapshotTypedData(bodySha256: Hex) {
  return {
    domain: SNAPSHOT_SIGNING_DOMAIN,
    types: SNAPSHOT_SIGNING_TYPES,
    primaryType: 'CatalogSnapshot' as const,
    message: { bodySha256 },
  };
}

/** Use a caller's already computed body hash (the edge hashes once per push), else hash here. */
async function bodyHash(body: Uint8Array, given: string | undefined): Promise<Hex> {
  if (given === undefined) return snapshotBodySha256(body);
  const lower = given.toLowerCase();
  if (!SHA256_HEX.test(lower)) throw new InvalidSignatureError('bodySha256 must be 0x followed by 64 hex digits');
  return lower as Hex;
}

/** The EIP-712 digest that is signed: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(CatalogSnapshot)). */
export async function snapshotDigest(body: Uint8Array, bodySha256?: string): Promise<Hex> {
  return hashTypedData(snapshotTypedData(await bodyHash(body, bodySha256)));
}

export async function signSnapshotBody(params: { body: Uint8Array; privateKey: Hex; bodySha256?: string }): Promise<Hex> {
  if (!isPrivateKey(params.privateKey)) throw new InvalidSignatureError('the catalog key must be 0x followed by 64 hex digits');
  return privateKeyToAccount(params.privateKey).sign({ hash: await snapshotDigest(params.body, params.bodySha256) });
}

/**
 * The address that signed `body`, lower-cased. Throws InvalidSignatureError on a malformed signature.
 * `bodySha256` may carry the body's SHA-256 when the caller already has it; it must be of `body`.
 */
export async function recoverSnapshotSigner(params: { body: Uint8Array; signature: string; bodySha256?: string }): Promise<string> {
  if (!SIGNATURE.test(params.signature)) throw new InvalidSignatureError('Obol-Signature must be a 65-byte 0x-hex signature');
  const hash = await snapshotDigest(params.body, params.bodySha256);
  try {
    const address = await recoverAddress({ hash, signature: params.signature as Hex });
    return address.toLowerCase();
  } catch {
    throw new InvalidSignatureError('Obol-Signature does not recover to an address');
  }
}

export function signerAddress(privateKey: Hex): string {
  return privateKeyToAccount(privateKey).address.toLowerCase();
}
