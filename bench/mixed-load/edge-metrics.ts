/**
 * The edge's own count of charged requests (SPEC §8), read from `GET /_obol/v1/metrics` after
 * its per-isolate counters were flushed: a fourth, independent view of the paid 2xx count.
 */
const CHARGED = 'obol_x402_verifier_charged_requests_total';

export function sumMetric(exposition: string, name: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

async function readCharged(edgeUrl: string, token: string): Promise<number> {
  const res = await fetch(`${edgeUrl}/_obol/v1/metrics`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`metrics answered ${res.status}`);
  return sumMetric(await res.text(), CHARGED);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The flush runs about once a second, carried by a request; an unpaid probe after each second
 * gives it that request. Returns once two reads a flush apart agree; undefined past the bound.
 */
export async function flushedChargedCount(edgeUrl: string, probePath: string, token: string, timeoutMs = 10_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let previous: number | undefined;
  while (Date.now() < deadline) {
    await sleep(1_100);
    await fetch(`${edgeUrl}${probePath}`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.arrayBuffer());
    await sleep(200);
    const current = await readCharged(edgeUrl, token);
    if (current === previous) return current;
    previous = current;
  }
  return undefined;
}
