import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../../test/fake-apiserver/server.js';
import { waitFor } from '../../test/agent/support.js';
import { LeaderElector } from './leader.js';
import { silentLogger } from './log.js';

/** The elector against the fake API server, which can stop answering Lease requests at will. */

const TIMING = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };
/** Timer lag on two shared cores. */
const SLACK_MS = 300;

let fake: FakeApiServer;
const electors: LeaderElector[] = [];

function elector(identity: string, events: { started?: number; stopped?: number }, now?: () => number): LeaderElector {
  const e = new LeaderElector({
    ...(now ? { now } : {}),
    kubeConfig: fake.kubeConfig,
    namespace: 'obol-system',
    name: 'agent',
    identity,
    ...TIMING,
    log: silentLogger,
    onStartedLeading: () => void (events.started = Date.now()),
    onStoppedLeading: () => void (events.stopped = Date.now()),
  });
  electors.push(e);
  e.start();
  return e;
}

beforeEach(async () => {
  fake = await startFakeApiServer();
});

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
  await fake.stop();
});

describe('LeaderElector', () => {
  it('a leader whose Lease calls hang steps down by the renew deadline, before a standby could take over', async () => {
    const events: { started?: number; stopped?: number } = {};
    const leader = elector('replica-a', events);
    await waitFor('leadership', () => leader.isLeader);
    await new Promise((resolve) => setTimeout(resolve, 3 * TIMING.retryPeriodMs));

    fake.faults.stallRequests('leases');
    const stalledAt = Date.now();
    const stopped = await waitFor('the step-down', () => events.stopped, 3 * TIMING.leaseDurationMs);
    expect(leader.isLeader).toBe(false);
    // The last renewal started before the stall: leadership ends within a renew deadline of it.
    expect(stopped - stalledAt).toBeLessThanOrEqual(TIMING.renewDeadlineMs + SLACK_MS);
    expect(stopped - stalledAt).toBeLessThan(TIMING.leaseDurationMs);
    // Its hung call was abandoned: stopping does not wait for an answer that never comes.
    const stopping = Date.now();
    await leader.stop();
    expect(Date.now() - stopping).toBeLessThanOrEqual(TIMING.retryPeriodMs + SLACK_MS);
  });

  it('says it no longer leads once the renew deadline passed, even before its step-down timer ran', async () => {
    let clockOffset = 0;
    const leader = elector('replica-a', {}, () => Date.now() + clockOffset);
    await waitFor('leadership', () => leader.isLeader);
    clockOffset = TIMING.renewDeadlineMs;
    expect(leader.isLeader).toBe(false);
  });
});
