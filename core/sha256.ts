import { bytesToHex, type Hex } from 'viem';

/**
 * SHA-256 of bytes, or of a string's UTF-8, as lower-case 0x-hex. WebCrypto, so it runs natively
 * and alike in workerd and Node: the one hash behind snapshot signatures, the stored body's ETag,
 * the discovery documents' ETags and the metrics token comparison.
 */
export async function sha256Hex(data: Uint8Array | string): Promise<Hex> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}
