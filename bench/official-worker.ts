import { HTTPFacilitatorClient } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { paymentMiddleware, x402ResourceServer } from '@x402/hono';
import { Hono } from 'hono';

/**
 * The official `@x402/hono` seller middleware protecting the same local origin as our gate, for
 * the gate comparison in bench/run.ts. Bundled with esbuild and run in workerd via Miniflare.
 */
interface Bindings {
  FACILITATOR_URL: string;
  ORIGIN_URL: string;
  PAY_TO: string;
  PRICE: string;
}

type App = Hono<{ Bindings: Bindings }>;

function build(env: Bindings): App {
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: env.FACILITATOR_URL })).register('eip155:84532', new ExactEvmScheme());
  const app: App = new Hono();
  app.use(
    paymentMiddleware(
      { 'GET /services/*': { accepts: { scheme: 'exact', price: env.PRICE, network: 'eip155:84532', payTo: env.PAY_TO }, description: 'bench service' } },
      server,
    ),
  );
  app.get('/services/*', async (c) => {
    const url = new URL(c.req.url);
    const upstream = await fetch(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`);
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  });
  return app;
}

// Built on the first request: a worker has no bindings (and may do no I/O) at module scope.
let app: App | undefined;

export default {
  fetch(request: Request, env: Bindings, ctx: ExecutionContext): Response | Promise<Response> {
    app ??= build(env);
    return app.fetch(request, env, ctx);
  },
};
