import { Miniflare } from 'miniflare';
import { join } from 'node:path';
import { makeCdpKey } from '../test/support/cdp-facilitator.js';
import { ROOT, bundleWorker } from '../test/support/edge-bundle.js';
import { facilitatorAuth, parseFacilitatorAuth } from '../edge/src/gate/facilitator-auth.js';
import { cpuMs, withWorkerdPid } from './workerd-cpu.js';

/**
 * What FACILITATOR_AUTH=cdp costs per facilitator call: one fresh JWT (jose + WebCrypto), the key
 * imported once. Measured in workerd (wall time and the workerd process's CPU over a batch, minus
 * an empty request) and in Node's V8 for comparison. `npx tsx bench/facilitator-jwt.ts`.
 */
const BATCH = 5000;
const ROUNDS = 5;
const ed = makeCdpKey('ed25519');
const ec = makeCdpKey('ec');

async function inWorkerd(): Promise<Record<string, { wallUs: number; cpuUs?: number }>> {
  const scriptPath = await bundleWorker({ entry: join(ROOT, 'bench', 'facilitator-jwt.worker.ts'), outfile: join(ROOT, 'dist', 'bench-jwt', 'index.js') });
  const mf = await withWorkerdPid(async () => {
    const instance = new Miniflare({
      modules: true, scriptPath, compatibilityDate: '2026-04-01',
      bindings: { ED_KEY_ID: ed.keyId, ED_SECRET: ed.secret, EC_KEY_ID: ec.keyId, EC_SECRET: ec.secret },
    });
    await instance.ready;
    return { instance };
  });
  const result: Record<string, { wallUs: number; cpuUs?: number }> = {};
  try {
    for (const key of ['ed', 'ec']) {
      const run = async (n: number): Promise<{ wall: number; cpu?: number }> => {
        const cpu0 = cpuMs(mf.pid);
        const t0 = performance.now();
        await (await mf.instance.dispatchFetch(`http://bench/?key=${key}&n=${n}`)).json();
        const wall = performance.now() - t0;
        const cpu1 = cpuMs(mf.pid);
        return cpu0 === undefined || cpu1 === undefined ? { wall } : { wall, cpu: cpu1 - cpu0 };
      };
      await run(200); // import the key, warm the JIT
      const walls: number[] = [];
      const cpus: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const empty = await run(0);
        const batch = await run(BATCH);
        walls.push(((batch.wall - empty.wall) * 1000) / BATCH);
        if (batch.cpu !== undefined) cpus.push((batch.cpu * 1000) / BATCH);
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
      result[key === 'ed' ? 'Ed25519 (EdDSA)' : 'P-256 (ES256)'] = cpus.length ? { wallUs: median(walls), cpuUs: median(cpus) } : { wallUs: median(walls) };
    }
  } finally {
    await mf.instance.dispose();
  }
  return result;
}

async function inNode(): Promise<Record<string, { wallUs: number }>> {
  const result: Record<string, { wallUs: number }> = {};
  for (const [name, key] of [['Ed25519 (EdDSA)', ed], ['P-256 (ES256)', ec]] as const) {
    const sign = await facilitatorAuth(parseFacilitatorAuth({ FACILITATOR_AUTH: 'cdp', CDP_API_KEY_ID: key.keyId, CDP_API_KEY_SECRET: key.secret } as never));
    const call = { operation: 'verify', method: 'POST', url: 'https://api.cdp.coinbase.com/platform/v2/x402/verify', body: '' } as const;
    for (let i = 0; i < 500; i++) await sign?.(call);
    const t0 = performance.now();
    for (let i = 0; i < BATCH * ROUNDS; i++) await sign?.(call);
    result[name] = { wallUs: ((performance.now() - t0) * 1000) / (BATCH * ROUNDS) };
  }
  return result;
}

const round = (value: Record<string, Record<string, number>>) => Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([m, x]) => [m, Math.round(x)]))]));
console.log(JSON.stringify({ perCallMicroseconds: { workerd: round(await inWorkerd()), node: round(await inNode()) } }, null, 2));
