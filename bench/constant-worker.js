// A worker that answers each configured path with fixed bytes, status and headers: the ceiling a
// worker serving the same response can reach, to compare ours against. RESPONSES is a JSON array
// of {path, status, headers, body, bodyEncoding?}; it is decoded once per isolate. Bodies that are
// already content-encoded (base64 on the way in) are sent as is (`encodeBody: 'manual'`), exactly
// like an edge that serves pre-compressed documents.
let table;

function decode(entry) {
  if (entry.bodyEncoding !== 'base64') return { ...entry, init: { status: entry.status, headers: entry.headers } };
  const bytes = Uint8Array.from(atob(entry.body), (c) => c.charCodeAt(0));
  return { ...entry, body: bytes, init: { status: entry.status, headers: entry.headers, encodeBody: 'manual' } };
}

function load(env) {
  return new Map(JSON.parse(env.RESPONSES).map((r) => [r.path, decode(r)]));
}

export default {
  fetch(request, env) {
    table ??= load(env);
    const hit = table.get(new URL(request.url).pathname);
    if (!hit) return new Response('not found', { status: 404 });
    return new Response(hit.body, hit.init);
  },
};
