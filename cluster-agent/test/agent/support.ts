import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generatePrivateKey } from 'viem/accounts';
import type { AgentConfig, SourceConfig } from '../../src/agent/config.js';
import { createLogger, type Logger } from '../../src/agent/log.js';
import { catalogSigner, type CatalogSigner } from '../../src/publish/signer.js';

/** Shared pieces of the agent's cross-part tests: fast timings, a key, an upstream, polling. */

export function testSigner(): CatalogSigner {
  return catalogSigner(generatePrivateKey());
}

/** Logs kept in memory (printed by a failing test's own expectation messages when needed). */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level: 'debug', write: (line) => lines.push(line) }), lines };
}

export function testAgentConfig(params: { source: SourceConfig; edgeUrl: string; signer: CatalogSigner; log: Logger } & Partial<AgentConfig>): AgentConfig {
  return {
    identity: { registrations: [] },
    timing: { debounceMs: 30, heartbeatMs: 60_000, statusPollMs: 150, backoffBaseMs: 50, backoffMaxMs: 300 },
    healthIntervalMs: 150,
    probeTimeoutMs: 500,
    resyncMs: 60_000,
    ops: { host: '127.0.0.1', port: 0 },
    onLostLeadership: () => undefined,
    ...params,
  };
}

/** Poll `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

/** An upstream whose /health answers `status()` (mutable per test). */
export async function startUpstream(): Promise<{ url: string; setHealth(status: number): void; close(): Promise<void> }> {
  let health = 200;
  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? health : 404, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setHealth: (status) => {
      health = status;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export function offerManifest(name: string, upstreamUrl: string, spec: Record<string, unknown> = {}, namespace = 'llm'): Record<string, unknown> {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name, namespace, annotations: { 'obol.org/upstream-url': upstreamUrl } },
    spec: {
      type: 'inference',
      model: { name: 'qwen3:8b', runtime: 'ollama' },
      upstream: { service: 'ollama', port: 11434 },
      payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } },
      ...spec,
    },
  };
}
