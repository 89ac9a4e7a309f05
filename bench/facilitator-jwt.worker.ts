import { facilitatorAuth, parseFacilitatorAuth } from '../edge/src/gate/facilitator-auth.js';
import type { FacilitatorHeaderProvider } from '../edge/src/gate/facilitator-client.js';

/** Makes `n` CDP JWTs the way the gate does per facilitator call (the key imported once). */
type BenchEnv = { ED_KEY_ID: string; ED_SECRET: string; EC_KEY_ID: string; EC_SECRET: string };
const providers = new Map<string, Promise<FacilitatorHeaderProvider | undefined>>();

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const which = url.searchParams.get('key') === 'ec' ? 'ec' : 'ed';
    const n = Number(url.searchParams.get('n') ?? '1');
    let provider = providers.get(which);
    if (!provider) {
      const vars = which === 'ec' ? { CDP_API_KEY_ID: env.EC_KEY_ID, CDP_API_KEY_SECRET: env.EC_SECRET } : { CDP_API_KEY_ID: env.ED_KEY_ID, CDP_API_KEY_SECRET: env.ED_SECRET };
      provider = facilitatorAuth(parseFacilitatorAuth({ FACILITATOR_AUTH: 'cdp', ...vars } as never));
      providers.set(which, provider);
    }
    const sign = await provider;
    let length = 0;
    for (let i = 0; i < n; i++) {
      const headers = await sign?.({ operation: 'verify', method: 'POST', url: 'https://api.cdp.coinbase.com/platform/v2/x402/verify', body: '' });
      length += headers?.['authorization']?.length ?? 0;
    }
    return Response.json({ n, length });
  },
};
