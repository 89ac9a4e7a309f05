import fc from 'fast-check';
import { hashMessage, recoverMessageAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { InvalidSignatureError, recoverSnapshotSigner, signerAddress, signSnapshotBody, snapshotDigest } from './signature.js';

const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const body = new TextEncoder().encode('{"schemaVersion":"1","sequence":1}');

describe('snapshot signatures (EIP-191 personal_sign over the exact body bytes)', () => {
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

  it('is the same signature viem\'s personal_sign makes, so cast and viem verify it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        expect(snapshotDigest(bytes)).toBe(hashMessage({ raw: bytes }));
        const signature = await signSnapshotBody({ body: bytes, privateKey: KEY });
        expect(signature).toBe(await privateKeyToAccount(KEY).signMessage({ message: { raw: bytes } }));
        expect((await recoverMessageAddress({ message: { raw: bytes }, signature })).toLowerCase()).toBe(ADDRESS);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses malformed signatures and keys with a named error', async () => {
    for (const signature of ['', '0x', '0x1234', `0x${'zz'.repeat(65)}`, `${'11'.repeat(65)}`, `0x${'11'.repeat(64)}`]) {
      await expect(recoverSnapshotSigner({ body, signature }), signature).rejects.toBeInstanceOf(InvalidSignatureError);
    }
    await expect(signSnapshotBody({ body, privateKey: '0x1234' })).rejects.toMatchObject({ reason: 'invalid_signature' });
  });
});
