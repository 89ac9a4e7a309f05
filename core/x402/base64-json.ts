/** Standard (RFC 4648 §4) base64 of UTF-8 JSON, the encoding of every x402 header. */

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function encodeBase64Json(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = '';
  // Chunked so a large document never overflows the argument list of fromCharCode.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
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
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Base64JsonError('not_utf8', 'decoded bytes are not UTF-8');
  }
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    throw new Base64JsonError('not_json', 'decoded text is not JSON');
  }
}
