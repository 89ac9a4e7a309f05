import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { recoverTypedDataAddress, sha256, verifyTypedData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  InvalidSignatureError,
  recoverSnapshotSigner,
  signerAddress,
  signSnapshotBody,
  snapshotBodySha256,
  snapshotTypedData,
} from './signature.js';

const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const body = new TextEncoder().encode('{"schemaVersion":"1","sequence":1}');

describe('snapshot signatures (EIP-712 CatalogSnapshot(bytes32 bodySha256) over the exact body bytes)', () => {
  it('round-trips: the signature recovers the signer\'s address', async () => {
    const signature = await signSnapshotBody({ body, privateKey: KEY });
    expect(signerAddress(KEY)).toBe(ADDRESS);
    expect(await recoverSnapshotSigner({ body, signature })).toBe(ADDRESS);
  });

  it('recovers another address from a tampered body', async () => {
    const signature = await signSnapshotBody({ body, privateKey: KEY });
    const tampered = new TextEncoder().encode('{"schemaVersion":"1","sequence":2}');
    const other = await recoverSnapshotSigner({ body: tampered, signature });
    expect(other).toMatch(/^0x[0-9a-f]{40}$/);
    expect(other).not.toBe(ADDRESS);
  });

  it('hashes the body with SHA-256 exactly as node:crypto does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        expect(await snapshotBodySha256(bytes)).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
      }),
      { numRuns: 50 },
    );
  });

  it('is the same signature viem\'s signTypedData makes, so any EIP-712 verifier checks it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const typed = snapshotTypedData(await snapshotBodySha256(bytes));
        const signature = await signSnapshotBody({ body: bytes, privateKey: KEY });
        expect(signature).toBe(await privateKeyToAccount(KEY).signTypedData(typed));
        expect((await recoverTypedDataAddress({ ...typed, signature })).toLowerCase()).toBe(ADDRESS);
        expect(await verifyTypedData({ ...typed, address: ADDRESS, signature })).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('signs the fixed domain and type, so a signature made for another domain does not verify', async () => {
    const typed = snapshotTypedData(await snapshotBodySha256(body));
    expect(typed.domain).toEqual({ name: 'Obol Edge Catalog', version: '1' });
    const foreign = await privateKeyToAccount(KEY).signTypedData({ ...typed, domain: { name: 'Obol Edge Catalog', version: '2' } });
    expect(await recoverSnapshotSigner({ body, signature: foreign })).not.toBe(ADDRESS);
  });

  it('reuses a given body hash, and a hash of other bytes recovers another address', async () => {
    const signature = await signSnapshotBody({ body, privateKey: KEY });
    const bodySha256 = await snapshotBodySha256(body);
    expect(await recoverSnapshotSigner({ body, signature, bodySha256: bodySha256.toUpperCase().replace('0X', '0x') })).toBe(ADDRESS);
    const otherHash = await snapshotBodySha256(new Uint8Array([1]));
    expect(await recoverSnapshotSigner({ body, signature, bodySha256: otherHash })).not.toBe(ADDRESS);
    await expect(recoverSnapshotSigner({ body, signature, bodySha256: '0x1234' })).rejects.toBeInstanceOf(InvalidSignatureError);
  });

  it('verifies the way docs/snapshot-signing.md tells a reader to, with viem alone', async () => {
    const signature = await signSnapshotBody({ body, privateKey: KEY });
    const signer = await recoverTypedDataAddress({
      domain: { name: 'Obol Edge Catalog', version: '1' },
      types: { CatalogSnapshot: [{ name: 'bodySha256', type: 'bytes32' }] },
      primaryType: 'CatalogSnapshot',
      message: { bodySha256: sha256(body) },
      signature,
    });
    expect(signer.toLowerCase()).toBe(ADDRESS);
  });

  it('refuses malformed signatures and keys with a named error', async () => {
    for (const signature of ['', '0x', '0x1234', `0x${'zz'.repeat(65)}`, `${'11'.repeat(65)}`, `0x${'11'.repeat(64)}`]) {
      await expect(recoverSnapshotSigner({ body, signature }), signature).rejects.toBeInstanceOf(InvalidSignatureError);
    }
    await expect(signSnapshotBody({ body, privateKey: '0x1234' })).rejects.toMatchObject({ reason: 'invalid_signature' });
  });
});
