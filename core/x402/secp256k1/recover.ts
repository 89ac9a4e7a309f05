import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { secp256k1Module } from '#secp256k1-module';

/**
 * ECDSA public-key recovery on secp256k1 through libsecp256k1 compiled to WebAssembly (the
 * `tiny-secp256k1` package's binary, driven here through its exported buffers). About 0.3 ms per
 * recovery against 1.5–2 ms for the pure-JS curve viem uses, on the gate's hot path for every paid
 * request. The results equal viem's `recoverAddress` (tested side by side).
 */
interface SecpExports {
  readonly memory: WebAssembly.Memory;
  readonly HASH_INPUT: WebAssembly.Global;
  readonly SIGNATURE_INPUT: WebAssembly.Global;
  readonly PUBLIC_KEY_INPUT: WebAssembly.Global;
  initializeContext(): void;
  /** Writes the recovered key to PUBLIC_KEY_INPUT; 1 on success. */
  recover(outputLength: number, recoveryId: number): number;
}

const HASH_BYTES = 32;
const COMPACT_SIGNATURE_BYTES = 64;
const UNCOMPRESSED_KEY_BYTES = 65;
/** The order of the curve's group: r and s must lie in [1, N - 1]. */
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const HALF_CURVE_ORDER = CURVE_ORDER / 2n;

class RejectedInput extends Error {}

let exports: SecpExports | undefined;

function instance(): SecpExports {
  if (!exports) {
    const created = new WebAssembly.Instance(secp256k1Module(), {
      // Seeds the context's blinding (used by signing, which the gate never does).
      './rand.js': { generateInt32: () => crypto.getRandomValues(new Int32Array(1))[0] ?? 0 },
      './validate_error.js': {
        throwError: (code: number) => {
          throw new RejectedInput(`secp256k1 rejected its input (code ${code})`);
        },
      },
    });
    const candidate = created.exports as unknown as SecpExports;
    candidate.initializeContext();
    exports = candidate;
  }
  return exports;
}

function buffer(wasm: SecpExports, at: WebAssembly.Global, length: number): Uint8Array {
  // A fresh view each time: a grown memory detaches older ones.
  return new Uint8Array(wasm.memory.buffer, at.value as number, length);
}

function scalarInRange(bytes: Uint8Array): boolean {
  const value = BigInt(bytesToHex(bytes));
  return value > 0n && value < CURVE_ORDER;
}

/** The recovery id of a 65-byte signature's last byte: 0/1 or 27/28, as viem accepts. */
function recoveryId(v: number): 0 | 1 | undefined {
  if (v === 0 || v === 27) return 0;
  if (v === 1 || v === 28) return 1;
  return undefined;
}

/** The uncompressed public key that signed `hash`, or undefined when the signature cannot recover one. */
export function recoverPublicKey(hash: Uint8Array, signature: Uint8Array): Uint8Array | undefined {
  if (hash.length !== HASH_BYTES || signature.length !== COMPACT_SIGNATURE_BYTES + 1) return undefined;
  const id = recoveryId(signature[COMPACT_SIGNATURE_BYTES] ?? -1);
  const compact = signature.subarray(0, COMPACT_SIGNATURE_BYTES);
  if (id === undefined || !scalarInRange(compact.subarray(0, 32)) || !scalarInRange(compact.subarray(32))) return undefined;
  const wasm = instance();
  const hashInput = buffer(wasm, wasm.HASH_INPUT, HASH_BYTES);
  const signatureInput = buffer(wasm, wasm.SIGNATURE_INPUT, COMPACT_SIGNATURE_BYTES);
  const keyOutput = buffer(wasm, wasm.PUBLIC_KEY_INPUT, UNCOMPRESSED_KEY_BYTES);
  try {
    hashInput.set(hash);
    signatureInput.set(compact);
    return wasm.recover(UNCOMPRESSED_KEY_BYTES, id) === 1 ? keyOutput.slice() : undefined;
  } catch (error) {
    // A refused input or a trap inside the module: no signer, never a crash of the request.
    if (error instanceof RejectedInput || error instanceof WebAssembly.RuntimeError) return undefined;
    throw error;
  } finally {
    hashInput.fill(0);
    signatureInput.fill(0);
    keyOutput.fill(0);
  }
}

/**
 * Whether a 65-byte (r, s, v) signature has s <= n/2 (EIP-2). `(r, n - s, v ^ 1)` recovers the same
 * signer, but USDC's `ecrecover` wrapper (OpenZeppelin ECDSA) refuses the high-s twin on chain.
 */
export function hasLowS(signature: Hex): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false;
  return BigInt(`0x${signature.slice(66, 130)}`) <= HALF_CURVE_ORDER;
}

/** The address that signed `hash` with a 65-byte (r, s, v) signature; undefined when none can be recovered. */
export function recoverSignerAddress(hash: Hex, signature: Hex): Address | undefined {
  let hashBytes: Uint8Array;
  let signatureBytes: Uint8Array;
  try {
    hashBytes = hexToBytes(hash);
    signatureBytes = hexToBytes(signature);
  } catch {
    return undefined;
  }
  const key = recoverPublicKey(hashBytes, signatureBytes);
  return key === undefined ? undefined : publicKeyToAddress(bytesToHex(key));
}
