import { describe, expect, it } from 'vitest';
import { finalAnswer, type FinalAnswer } from './final-answer.js';

/** What workerd's fetch() hands the worker after an interim answer: a 1xx whose body is the raw rest of the connection. */
function interim(...parts: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
      controller.close();
    },
  });
  // A Response cannot carry a 1xx status outside workerd; the status is not read by finalAnswer.
  return new Response(body, { status: 200 });
}

const noDeadline = <T>(promise: Promise<T>): Promise<T> => promise;

async function answer(method: string, ...parts: string[]): Promise<FinalAnswer> {
  return finalAnswer(interim(...parts), method, noDeadline);
}

async function response(method: string, ...parts: string[]): Promise<Response> {
  const got = await answer(method, ...parts);
  if (got.kind !== 'response') throw new Error(`expected a response, got ${got.detail}`);
  return got.response;
}

describe('finalAnswer', () => {
  it('reads a final answer of known length and ignores what follows it', async () => {
    const res = await response('GET', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n', '\r\n{"ok":true}HTTP/1.1 200 OK\r\n\r\nsmuggled');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"ok":true}');
  });

  it('skips further interim answers and decodes a chunked body split anywhere, dropping trailers and connection headers', async () => {
    const res = await response('POST',
      'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n',
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n5;ext=1\r\nhel',
      'lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n');
    expect(res.status).toBe(201);
    expect(res.headers.get('link')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(res.headers.get('keep-alive')).toBeNull();
    expect(await res.text()).toBe('hello world');
  });

  it('reads a body without framing until the connection closes', async () => {
    expect(await (await response('GET', 'HTTP/1.0 200 OK\r\n\r\nuntil ', 'close')).text()).toBe('until close');
  });

  it('has no body for HEAD, 204 and 304', async () => {
    expect((await response('HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n')).body).toBeNull();
    expect((await response('GET', 'HTTP/1.1 204 No Content\r\n\r\n')).status).toBe(204);
    expect((await response('GET', 'HTTP/1.1 304 Not Modified\r\n\r\n')).body).toBeNull();
  });

  it.each([
    ['nothing after the interim answer', []],
    ['no status line', ['garbage\r\n\r\n']],
    ['a status outside 200–599', ['HTTP/1.1 600 Odd\r\n\r\n']],
    ['a switch of protocols', ['HTTP/1.1 101 Switching Protocols\r\n\r\n']],
    ['a folded header line', ['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n']],
    ['a coding other than chunked', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n']],
    ['Content-Length beside chunked', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n']],
    ['a list as Content-Length', ['HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n']],
    ['a head that never ends', ['HTTP/1.1 200 OK\r\n', `X-Big: ${'a'.repeat(70_000)}`]],
  ])('finds no answer in %s', async (_name, parts) => {
    expect(await answer('GET', ...parts)).toMatchObject({ kind: 'invalid' });
  });

  it.each([
    ['a body cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'],
    ['a malformed chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
    ['a chunked body without its last chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'],
  ])('errors the body stream on %s', async (_name, raw) => {
    const res = await response('GET', raw);
    await expect(res.text()).rejects.toThrow();
  });

  it('gives up on the head when the deadline passes', async () => {
    const stalled = new Response(new ReadableStream<Uint8Array>({ pull: () => new Promise(() => undefined) }));
    const expired = <T>(_promise: Promise<T>): Promise<T> => Promise.reject(new Error('deadline'));
    await expect(finalAnswer(stalled, 'GET', expired)).rejects.toThrow('deadline');
  });
});
