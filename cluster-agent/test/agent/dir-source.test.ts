import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatRfc3339 } from '../../../core/index.js';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import type { CatalogSigner } from '../../src/publish/signer.js';
import { startEdgeProxy, type EdgeProxy } from './edge-proxy.js';
import { memoryLogger, offerManifest, startUpstream, testAgentConfig, testSigner, waitFor } from './support.js';

/**
 * The agent with `--source dir:` against the REAL edge in workerd, through a loopback proxy so the
 * edge can go down, come back over the same state, or come back empty.
 */

let signer: CatalogSigner;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let edge: TestEdge;
let proxy: EdgeProxy;
let dir: string;
let persistDir: string;
let agent: RunningAgent;
const METRICS_TOKEN = 'edge-metrics-test-token';
// The gate needs an origin and a facilitator configured to answer; an unpaid request never reaches them.
const GATE_VARS = { ORIGIN_URL: 'http://127.0.0.1:9', FACILITATOR_URL: 'http://127.0.0.1:9' };

const write = (file: string, value: unknown) => writeFileSync(join(dir, file), typeof value === 'string' ? value : stringify(value));

interface StoredOffer { key: string; drainEndsAt?: string }
interface Status { sequence: number; offers: number }

async function status(target: TestEdge = edge): Promise<Status> {
  return (await (await target.fetch('/_obol/v1/catalog/status')).json()) as Status;
}

async function storedOffers(target: TestEdge = edge): Promise<StoredOffer[]> {
  const res = await target.fetch('/_obol/v1/catalog');
  if (res.status !== 200) return [];
  return ((await res.json()) as { offers: StoredOffer[] }).offers;
}

function startTestAgent(extra: Partial<Parameters<typeof testAgentConfig>[0]> = {}): Promise<RunningAgent> {
  return startAgent(testAgentConfig({ source: { kind: 'dir', dir }, edgeUrl: proxy.url, signer, log: memoryLogger().log, edgeMetricsToken: METRICS_TOKEN, ...extra }));
}

beforeAll(async () => {
  signer = testSigner();
  upstream = await startUpstream();
  persistDir = mkdtempSync(join(tmpdir(), 'obol-agent-edge-'));
  edge = await startEdge({ vars: { CATALOG_SIGNERS: signer.address, METRICS_TOKEN, ...GATE_VARS }, persistDir });
  proxy = await startEdgeProxy(edge.url);
  dir = mkdtempSync(join(tmpdir(), 'obol-agent-offers-'));
  write('qwen.yaml', offerManifest('qwen', upstream.url));
  write('llama.yaml', offerManifest('llama', upstream.url, { path: '/services/llama-3' }));
  write('broken.yaml', offerManifest('broken', upstream.url, { payment: { network: 'base-sepolia', payTo: 'not-an-address', price: { perRequest: '1' } } }));
  write('garbage.yaml', 'kind: ServiceOffer\nmetadata: [unclosed\n');
  agent = await startTestAgent();
  await agent.ready;
});

afterAll(async () => {
  await agent?.stop();
  await proxy?.close();
  await edge?.dispose().catch(() => undefined);
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(persistDir, { recursive: true, force: true });
});

describe('agent with a dir: source and the real edge', () => {
  it('publishes the valid manifests; invalid ones do not stop the others', async () => {
    const offers = await waitFor('both offers at the edge', async () => {
      const stored = await storedOffers();
      return stored.length === 2 ? stored : undefined;
    });
    expect(offers.map((o) => [o.key, o.drainEndsAt])).toEqual([['llm/llama', undefined], ['llm/qwen', undefined]]);
    const services = await waitFor('both offers in services.json', async () => {
      const doc = (await (await edge.fetch('/api/services.json')).json()) as { services: { name: string; endpoint: string }[] };
      return doc.services.length === 2 ? doc : undefined;
    });
    expect(services.services.map((s) => s.endpoint)).toEqual(['https://edge.test/services/llama-3', 'https://edge.test/services/qwen']);
    expect(agent.lastAck()?.sequence).toBe((await status()).sequence);
  });

  it('serves /healthz, /readyz after the first acknowledged push, and /metrics with the sequence', async () => {
    const base = agent.opsUrl ?? '';
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`obol_agent_snapshot_sequence ${agent.lastAck()?.sequence}`);
    expect(metrics).toMatch(/obol_agent_push_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/obol_agent_reconciles_total\{result="ok"\} [1-9]/);
  });

  it('re-exports the edge payment metrics verbatim under their SPEC names', async () => {
    expect((await edge.fetch('/services/llama-3/v1/chat')).status).toBe(402);
    const line = await waitFor('the 402 counted in the agent /metrics', async () => {
      const text = await (await fetch(`${agent.opsUrl ?? ''}/metrics`)).text();
      return text.split('\n').find((l) => l.startsWith('obol_x402_verifier_payment_required_total{') && l.includes('offer_name="llama"'));
    });
    expect(line).toContain('chain="eip155:84532"');
    expect(line).toMatch(/ 1$/);
  });

  it('a drain edited into a manifest reaches the edge, which drops the offer by its own clock at the deadline and keeps it in the snapshot', async () => {
    const before = (await status()).sequence;
    const drainAt = formatRfc3339(Date.now());
    const drainEndsAt = formatRfc3339(Date.parse(drainAt) + 2000);
    write('qwen.yaml', offerManifest('qwen', upstream.url, { drainAt, drainGracePeriod: '2s' }));
    type Services = { services: { name: string; drainEndsAt?: string }[] };
    const services = async () => (await (await edge.fetch('/api/services.json')).json()) as Services;
    const draining = await waitFor('drainEndsAt in services.json', async () => (await services()).services.find((s) => s.name === 'qwen' && s.drainEndsAt));
    expect(draining.drainEndsAt).toBe(drainEndsAt);
    expect((await status()).sequence).toBeGreaterThan(before);
    await waitFor('qwen gone from services.json after its deadline', async () => ((await services()).services.some((s) => s.name === 'qwen') ? undefined : true), 8000);
    // Kept (with its deadline) so its path answers 410, not 404.
    expect((await storedOffers()).find((o) => o.key === 'llm/qwen')?.drainEndsAt).toBe(drainEndsAt);
  });

  it('catches up after the edge was down for a while (restarted over the same state)', async () => {
    const before = await status();
    proxy.setTarget(undefined);
    await edge.dispose();
    write('mistral.yaml', offerManifest('mistral', upstream.url));
    const errorsBefore = (await agent.metrics.pushErrors.get()).values[0]?.value ?? 0;
    await waitFor('retried pushes while the edge is down', async () => ((await agent.metrics.pushErrors.get()).values[0]?.value ?? 0) >= errorsBefore + 2);
    edge = await startEdge({ vars: { CATALOG_SIGNERS: signer.address }, persistDir });
    expect((await status()).sequence).toBe(before.sequence);
    proxy.setTarget(edge.url);
    const caughtUp = await waitFor('mistral at the restarted edge', async () => (await storedOffers()).find((o) => o.key === 'llm/mistral'));
    expect(caughtUp.drainEndsAt).toBeUndefined();
    expect((await status()).sequence).toBeGreaterThan(before.sequence);
  });

  it('re-pushes to an edge that lost its state', async () => {
    const acked = agent.lastAck()?.sequence ?? 0;
    const empty = await startEdge({ vars: { CATALOG_SIGNERS: signer.address } });
    try {
      expect((await status(empty)).sequence).toBe(0);
      proxy.setTarget(empty.url);
      const restored = await waitFor('the catalog re-pushed', async () => {
        const s = await status(empty);
        return s.sequence > acked ? s : undefined;
      });
      expect(restored.offers).toBe(3);
    } finally {
      proxy.setTarget(edge.url);
      await empty.dispose();
    }
  });

  it('a restarted agent keeps sequences increasing and heartbeats without changes', async () => {
    await waitFor('the restored edge in sync', async () => (await status()).offers === 3);
    const before = (await status()).sequence;
    await agent.stop();
    const pushesBefore = proxy.pushes().length;
    agent = await startTestAgent({ timing: { debounceMs: 30, heartbeatMs: 400, statusPollMs: 150, backoffBaseMs: 50, backoffMaxMs: 300 } });
    await agent.ready;
    const first = agent.lastAck()?.sequence ?? 0;
    expect(first).toBeGreaterThan(before);
    const later = await waitFor('a heartbeat push', () => {
      const seq = agent.lastAck()?.sequence ?? 0;
      return seq > first ? seq : undefined;
    }, 3000);
    expect((await status()).sequence).toBe(later);
    expect(proxy.pushes().length).toBeGreaterThanOrEqual(pushesBefore + 2);
  });
});
