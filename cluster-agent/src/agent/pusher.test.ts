import { describe, expect, it } from 'vitest';
import { parseServiceOffer, planCatalog, rawOfferKey, type SnapshotOffer } from '../../../core/index.js';
import type { EdgeClient } from '../publish/edge-client.js';
import type { CatalogSigner } from '../publish/signer.js';
import { offerManifest, testSigner, waitFor } from '../../test/agent/support.js';
import { silentLogger } from './log.js';
import { createAgentMetrics } from './metrics.js';
import { Pusher } from './pusher.js';

function entries(prices: string[]): SnapshotOffer[] {
  const raws = prices.map((perRequest, i) => offerManifest(`o${i}`, 'http://127.0.0.1:9', { payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest } } }));
  return [...planCatalog({
    offers: raws.map((raw) => ({ key: rawOfferKey(raw, 'x'), parsed: parseServiceOffer(raw) })),
    observe: () => ({ upstreamHealthy: true, routePublished: false }),
    routeManagement: false,
    source: 'dir',
    nowMs: Date.now(),
  }).offers];
}

/** An edge that accepts every push and remembers the bodies. */
function fakeEdge(): EdgeClient & { pushes: string[] } {
  let sequence = 0;
  const pushes: string[] = [];
  return {
    baseUrl: 'http://edge.test',
    pushes,
    status: async () => ({ audience: 'https://edge.test', sequence: sequence || null }),
    push: async (body) => {
      pushes.push(new TextDecoder().decode(body));
      sequence = Math.max(sequence + 1, Date.now());
      return { sequence, unchanged: false };
    },
  };
}

function pusherFor(edge: EdgeClient, signer: CatalogSigner = testSigner(), mayPush?: () => boolean): Pusher {
  const pusher = new Pusher({
    client: edge,
    signer,
    ...(mayPush ? { mayPush } : {}),
    identity: { registrations: [] },
    timing: { debounceMs: 10, heartbeatMs: 60_000, statusPollMs: 60_000, backoffBaseMs: 10, backoffMaxMs: 50 },
    log: silentLogger,
    metrics: createAgentMetrics(),
    onAck: () => undefined,
  });
  pusher.start();
  return pusher;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 80));

describe('Pusher', () => {
  it('pushes a plan once; equal entries (new objects, same content) push nothing', async () => {
    const edge = fakeEdge();
    const pusher = pusherFor(edge);
    try {
      pusher.setOffers(entries(['0.1', '0.2']));
      await waitFor('the first push', () => pusher.inSync);
      pusher.setOffers(entries(['0.1', '0.2']));
      await settle();
      expect(edge.pushes).toHaveLength(1);
      expect(pusher.inSync).toBe(true);
    } finally {
      await pusher.stop();
    }
  });

  it('a changed plan is pushed; a plan back to what the edge acknowledged is in sync without a push', async () => {
    const edge = fakeEdge();
    const pusher = pusherFor(edge);
    try {
      pusher.setOffers(entries(['0.1']));
      await waitFor('the first push', () => pusher.inSync);
      pusher.setOffers(entries(['0.3']));
      expect(pusher.inSync).toBe(false);
      pusher.setOffers(entries(['0.1']));
      expect(pusher.inSync).toBe(true);
      await settle();
      expect(edge.pushes).toHaveLength(1);
      pusher.setOffers(entries(['0.3']));
      await waitFor('the changed plan pushed', () => pusher.inSync);
      expect(edge.pushes).toHaveLength(2);
      expect(edge.pushes[1]).toContain('"raw":"0.3"');
      expect(pusher.lastAck?.offers.get('llm/o0')?.price.raw).toBe('0.3');
    } finally {
      await pusher.stop();
    }
  });

  it('a leader deposed while its push asks the edge for status signs nothing and sends nothing', async () => {
    let leading = true;
    const edge = fakeEdge();
    const status = edge.status;
    edge.status = async () => {
      leading = false;
      return status();
    };
    const signer = testSigner();
    let signed = 0;
    const pusher = pusherFor(edge, { address: signer.address, sign: (body) => {
      signed += 1;
      return signer.sign(body);
    } }, () => leading);
    try {
      pusher.setOffers(entries(['0.1']));
      await settle();
      expect(signed).toBe(0);
      expect(edge.pushes).toEqual([]);
      expect(pusher.lastAck).toBeUndefined();
    } finally {
      await pusher.stop();
    }
  });
});
