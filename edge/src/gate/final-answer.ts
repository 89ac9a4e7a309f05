/**
 * The origin's final answer behind an interim one. workerd's fetch() hands an interim 1xx answer
 * (100 Continue, 102 Processing, 103 Early Hints) back as THE response, with the rest of the
 * connection — the final answer as raw HTTP/1.1 — as its body. Only a final status can be settled
 * (SPEC §5), so the final answer is read from those bytes, strictly: anything that is not a
 * well-formed HTTP/1.1 response is no answer at all (502, never settled).
 */
export type FinalAnswer = { kind: 'response'; response: Response } | { kind: 'invalid'; detail: string };

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = [13, 10] as const;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
/** Framing of the connection, not of the answer: the runtime frames what the gate sends. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding'];

export function isInterimStatus(status: number): boolean {
  return status >= 100 && status < 200;
}

class MalformedAnswer extends Error {}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/** Bytes of the raw connection, read on demand. */
class RawConnection {
  private buffered = new Uint8Array(0);
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>, private readonly race: <T>(p: Promise<T>) => Promise<T>) {}

  /** Reads more bytes; false at the end of the connection. */
  async fill(): Promise<boolean> {
    const { done, value } = await this.race(this.reader.read());
    if (done) return false;
    const joined = new Uint8Array(this.buffered.length + value.length);
    joined.set(this.buffered);
    joined.set(value, this.buffered.length);
    this.buffered = joined;
    return true;
  }

  /** The bytes up to the next CRLF (excluded), as Latin-1 text. */
  async line(max = MAX_HEAD_BYTES): Promise<string> {
    for (;;) {
      const end = this.buffered.findIndex((byte, i) => byte === CRLF[0] && this.buffered[i + 1] === CRLF[1]);
      if (end >= 0) return latin1(this.take(end + 2).subarray(0, end));
      if (this.buffered.length > max) throw new MalformedAnswer('line too long');
      if (!(await this.fill())) throw new MalformedAnswer('connection closed mid-line');
    }
  }

  /** Up to `max` bytes (at least one); undefined at the end of the connection. */
  async some(max: number): Promise<Uint8Array | undefined> {
    if (this.buffered.length === 0 && !(await this.fill())) return undefined;
    return this.take(Math.min(max, this.buffered.length));
  }

  private take(count: number): Uint8Array {
    const taken = this.buffered.slice(0, count);
    this.buffered = this.buffered.slice(count);
    return taken;
  }

  cancel(): void {
    this.reader.cancel().catch(() => undefined);
  }
}

interface Head {
  status: number;
  headers: Headers;
}

async function readHead(raw: RawConnection): Promise<Head> {
  let budget = MAX_HEAD_BYTES;
  const status = STATUS_LINE.exec(await raw.line())?.[1];
  if (status === undefined) throw new MalformedAnswer('no HTTP/1.1 status line');
  const headers = new Headers();
  for (;;) {
    const line = await raw.line(budget);
    budget -= line.length + 2;
    if (budget < 0) throw new MalformedAnswer('header block too large');
    if (line === '') return { status: Number(status), headers };
    const field = HEADER_LINE.exec(line);
    if (!field?.[1]) throw new MalformedAnswer('malformed header line');
    headers.append(field[1], field[2] ?? '');
  }
}

type Framing = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' };

/** RFC 9112 §6.3, refusing what a smuggler would use: other codings, length beside chunked, lists. */
function framing(head: Head, method: string): Framing {
  if (method === 'HEAD' || head.status === 204 || head.status === 304) return { kind: 'none' };
  const coding = head.headers.get('Transfer-Encoding');
  const length = head.headers.get('Content-Length');
  if (coding !== null) {
    if (coding.toLowerCase() !== 'chunked' || length !== null) throw new MalformedAnswer(`unsupported framing: ${coding}`);
    return { kind: 'chunked' };
  }
  if (length === null) return { kind: 'close' };
  if (!/^\d{1,15}$/.test(length)) throw new MalformedAnswer('malformed Content-Length');
  return { kind: 'length', bytes: Number(length) };
}

/** The final answer's body, decoded from its framing; errors when the connection ends too soon. */
function bodyStream(raw: RawConnection, frame: Framing): ReadableStream<Uint8Array> {
  let remaining = frame.kind === 'length' ? frame.bytes : 0;
  let inChunk = false;
  const chunkSize = async (): Promise<number> => {
    const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(await raw.line())?.[1];
    if (size === undefined) throw new MalformedAnswer('malformed chunk size');
    return Number.parseInt(size, 16);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (frame.kind === 'chunked' && !inChunk) {
          remaining = await chunkSize();
          if (remaining === 0) {
            while ((await raw.line()) !== '') { /* trailers are dropped */ }
            raw.cancel();
            controller.close();
            return;
          }
          inChunk = true;
        }
        if (frame.kind !== 'close' && remaining === 0) {
          raw.cancel();
          controller.close();
          return;
        }
        const bytes = await raw.some(frame.kind === 'close' ? Number.MAX_SAFE_INTEGER : remaining);
        if (bytes === undefined) {
          if (frame.kind !== 'close') throw new MalformedAnswer('connection closed mid-body');
          controller.close();
          return;
        }
        remaining -= bytes.length;
        controller.enqueue(bytes);
        if (frame.kind === 'chunked' && remaining === 0) {
          if ((await raw.line()) !== '') throw new MalformedAnswer('chunk longer than its size');
          inChunk = false;
        }
      } catch (error) {
        raw.cancel();
        controller.error(error);
      }
    },
    cancel: () => raw.cancel(),
  });
}

/**
 * The final answer that follows `interim`. `race` bounds every read of the head by the origin's
 * deadline (it rejects once the deadline passes); the body is read later, under the same rules as
 * any origin body.
 */
export async function finalAnswer(interim: Response, method: string, race: <T>(p: Promise<T>) => Promise<T>): Promise<FinalAnswer> {
  if (interim.body === null) return { kind: 'invalid', detail: `interim ${interim.status} with nothing after it` };
  const raw = new RawConnection(interim.body.getReader(), race);
  try {
    let head = await readHead(raw);
    while (isInterimStatus(head.status) && head.status !== 101) head = await readHead(raw);
    if (head.status < 200 || head.status > 599) throw new MalformedAnswer(`status ${head.status} is not a final answer`);
    const frame = framing(head, method);
    for (const name of HOP_BY_HOP) head.headers.delete(name);
    const body = frame.kind === 'none' ? null : bodyStream(raw, frame);
    if (body === null) raw.cancel();
    return { kind: 'response', response: new Response(body, { status: head.status, headers: head.headers }) };
  } catch (error) {
    raw.cancel();
    if (error instanceof MalformedAnswer || error instanceof TypeError || error instanceof RangeError) return { kind: 'invalid', detail: String(error) };
    throw error;
  }
}
