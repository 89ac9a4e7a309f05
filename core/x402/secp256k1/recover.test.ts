import fc from 'fast-check';
import { bytesToHex, recoverAddress, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { recoverSignerAddress } from './recover.js';

/** viem's answer for the same input, or undefined where viem refuses to recover. */
async function viemRecovers(hash: Hex, signature: Hex): Promise<string | undefined> {
  try {
    return await recoverAddress({ hash, signature });
  } catch {
    return undefined;
  }
}

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b));
const privateKey = bytes32.filter((k) => BigInt(k) > 0n && BigInt(k) < 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n);
const N_HEX = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';

describe('recoverSignerAddress (libsecp256k1 in WebAssembly)', () => {
  it('recovers the signer of any hash, as viem does', async () => {
    await fc.assert(
      fc.asyncProperty(privateKey, bytes32, async (key, hash) => {
        const account = privateKeyToAccount(key as Hex);
        const signature = await account.sign({ hash: hash as Hex });
        expect(recoverSignerAddress(hash as Hex, signature)).toBe(account.address);
      }),
      { numRuns: 100 },
    );
  });

  it('gives viem\'s answer for arbitrary 65-byte signatures, valid or not', async () => {
    const v = fc.constantFrom(0, 1, 2, 26, 27, 28, 29, 37);
    await fc.assert(
      fc.asyncProperty(bytes32, bytes32, bytes32, v, async (hash, r, s, vByte) => {
        const signature = `${r}${s.slice(2)}${vByte.toString(16).padStart(2, '0')}` as Hex;
        expect(recoverSignerAddress(hash as Hex, signature)).toBe(await viemRecovers(hash as Hex, signature));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['r = 0', `0x${'00'.repeat(32)}${'11'.repeat(32)}1b`],
    ['s = 0', `0x${'11'.repeat(32)}${'00'.repeat(32)}1b`],
    ['r = n', `0x${N_HEX}${'11'.repeat(32)}1b`],
    ['s = n', `0x${'11'.repeat(32)}${N_HEX}1c`],
    ['r = 2^256 - 1', `0x${'ff'.repeat(32)}${'11'.repeat(32)}1b`],
    ['v = 29', `0x${'11'.repeat(32)}${'22'.repeat(32)}1d`],
    ['64 bytes', `0x${'11'.repeat(32)}${'22'.repeat(32)}`],
    ['66 bytes', `0x${'11'.repeat(32)}${'22'.repeat(32)}1b1b`],
    ['not hex', `0x${'zz'.repeat(65)}`],
  ])('recovers nothing from a signature with %s', (_name, signature) => {
    expect(recoverSignerAddress(`0x${'ab'.repeat(32)}`, signature as Hex)).toBeUndefined();
  });

  it('recovers nothing for a hash that is not 32 bytes', async () => {
    const account = privateKeyToAccount(`0x${'01'.padStart(64, '0')}`);
    const signature = await account.sign({ hash: `0x${'ab'.repeat(32)}` });
    expect(recoverSignerAddress(`0x${'ab'.repeat(31)}`, signature)).toBeUndefined();
  });
});
