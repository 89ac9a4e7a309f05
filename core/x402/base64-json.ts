/** Standard (RFC 4648 §4) base64 of UTF-8 JSON, the encoding of every x402 header. */

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const ASCII = /^[\x00-\x7f]*$/;

/** A byte string (one char per byte) of UTF-8 bytes, for btoa. */
function byteString(bytes: Uint8Array): string {
  let binary = '';
  // Chunked so a large document never overflows the argument list of fromCharCode.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  return binary;
}

export function encodeBase64Json(value: unknown): string {
  const json = JSON.stringify(value);
  // ASCII JSON (nearly every header) is its own UTF-8 byte string.
  return btoa(ASCII.test(json) ? json : byteString(new TextEncoder().encode(json)));
}

export class Base64JsonError extends Error {
  constructor(readonly reason: 'not_base64' | 'not_utf8' | 'not_json', message: string) {
    super(message);
    this.name = 'Base64JsonError';
  }
}

/** Strict decode: standard alphabet with padding only (no URL-safe, whitespace or missing pad). */
export function decodeBase64Json(text: string): unknown {
  if (text.length === 0 || !STANDARD_BASE64.test(text)) throw new Base64JsonError('not_base64', 'not standard base64');
  const binary = atob(text);
  let decoded = binary;
  // Bytes below 0x80 are ASCII, which UTF-8 decodes to themselves.
  if (!ASCII.test(binary)) {
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    try {
      decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      throw new Base64JsonError('not_utf8', 'decoded bytes are not UTF-8');
    }
  }
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    throw new Base64JsonError('not_json', 'decoded text is not JSON');
  }
}
