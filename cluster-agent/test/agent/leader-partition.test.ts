import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { startAgent } from '../../src/agent/agent.js';
import type { JsonObject } from '../fake-apiserver/patch.js';
import { startFakeApiServer, type FakeApiServer } from '../fake-apiserver/server.js';
import { startEdgeProxy, type EdgeProxy } from './edge-proxy.js';
import { memoryLogger, offerManifest, startUpstream, testAgentConfig, testSigner, waitFor } from './support.js';

/**
 * A leader cut off from the API server (its Lease calls hang, as over a partition) must stop
 * pushing before a standby, a lease duration later, takes the Lease and starts pushing: else two
 * agents sign catalogs for one edge and the stale one can win with a higher sequence.
 */

const LEASE = { namespace: 'obol-system', name: 'obol-edge-agent', identity: 'replica-a', leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };
/** Timer lag on two shared cores. */
const SLACK_MS = 300;

let fake: FakeApiServer;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let edge: TestEdge;
let proxy: EdgeProxy;
const signer = testSigner();

beforeAll(async () => {
  fake = await startFakeApiServer();
  upstream = await startUpstream();
  edge = await startEdge({ vars: { CATALOG_SIGNERS: signer.address } });
  proxy = await startEdgeProxy(edge.url);
});

afterAll(async () => {
  await proxy?.close();
  await edge?.dispose();
  await upstream?.close();
  await fake?.stop();
});

describe('a leader partitioned from the API server', () => {
  it('steps down within the renew deadline and pushes nothing after, though its heartbeat and a change would push', async () => {
    fake.store.put('serviceoffers', offerManifest('qwen', upstream.url, {}, 'default') as JsonObject);
    let lostAt: number | undefined;
    const config = testAgentConfig({ source: { kind: 'kube', kubeConfig: fake.kubeConfig, namespaces: [] }, edgeUrl: proxy.url, signer, log: memoryLogger().log });
    const agent = await startAgent({
      ...config,
      // A heartbeat every 200 ms: a leader that kept its pusher would re-sign and push again and again.
      timing: { ...config.timing, heartbeatMs: 200 },
      leaderElection: LEASE,
      onLostLeadership: () => void (lostAt = Date.now()),
    });
    try {
      await waitFor('leadership and a first push', () => agent.isLeader() && agent.lastAck() !== undefined);
      await waitFor('a heartbeat push', () => proxy.pushes().length >= 2);

      fake.faults.stallRequests('leases');
      const stalledAt = Date.now();
      const lost = await waitFor('the step-down', () => lostAt, 3 * LEASE.leaseDurationMs);
      expect(lost - stalledAt).toBeLessThanOrEqual(LEASE.renewDeadlineMs + SLACK_MS);
      expect(agent.isLeader()).toBe(false);

      // Whatever reached the edge was sent before the step-down; nothing after, not even for a change.
      const pushed = proxy.pushes().length;
      fake.store.put('serviceoffers', offerManifest('llama', upstream.url, {}, 'default') as JsonObject);
      await new Promise((resolve) => setTimeout(resolve, LEASE.leaseDurationMs));
      expect(proxy.pushes().length).toBe(pushed);
    } finally {
      await agent.stop();
    }
  });
});
