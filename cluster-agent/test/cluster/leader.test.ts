import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { controlPlane } from '../../../test/kube/fixture.js';
import { catalogSigner } from '../../src/publish/signer.js';
import { waitFor } from '../agent/support.js';
import { AGENT_NAMESPACE, GATEWAY, setUpAgentCluster, type AgentCluster } from './support.js';

/**
 * Leader election on a real Lease: two `obol-edge agent` processes, one pushing and one standing
 * by until the leader is killed; a Lease held by someone else; a Lease taken away from the leader.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'cluster-agent', 'bin', 'obol-edge.mjs');
/** The processes' `--lease-duration 3s --renew-deadline 2s --retry-period 500ms`. */
const LEASE_MS = 3000;
/**
 * After SIGKILL the standby pushes within the lease duration plus this margin: up to one retry period
 * (500 ms) before it looks again, then its first probe, the edge's status, signing and the PUT, on
 * two shared cores.
 */
const TAKEOVER_MARGIN_MS = 3000;

const { plane, skip } = controlPlane();
let c: AgentCluster;

interface LogEntry { msg: string; ops?: string; identity?: string }
interface Replica { readonly child: ChildProcess; readonly identity: string; readonly log: LogEntry[]; readonly opsUrl: Promise<string> }
const replicas: Replica[] = [];

function spawnAgent(name: string, args: string[], env: Record<string, string>): Replica {
  const child = spawn(process.execPath, [BIN, 'agent', ...args], { cwd: ROOT, env: { ...process.env, ...env, POD_NAME: name }, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: LogEntry[] = [];
  let buffered = '';
  const opsUrl = new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (buffered + chunk.toString()).split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const entry = (() => { try { return JSON.parse(line) as LogEntry; } catch { return { msg: line }; } })();
        log.push(entry);
        if (entry.msg === 'agent started' && entry.ops) resolve(entry.ops);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it started:\n${log.map((e) => JSON.stringify(e)).join('\n')}`)));
  });
  const replica = { child, identity: `${name}-${child.pid}`, log, opsUrl };
  replicas.push(replica);
  return replica;
}

async function readyz(replica: Replica): Promise<{ status: number; detail: string }> {
  const res = await fetch(`${await replica.opsUrl}/readyz`);
  return { status: res.status, detail: ((await res.json()) as { detail: string }).detail };
}

/** A sample of the replica's own metrics (0 when absent). */
async function metric(replica: Replica, name: string): Promise<number> {
  const text = await (await fetch(`${await replica.opsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

interface Push { readonly sequence: number; readonly at: number; status?: number }

/** In front of the edge: records each pushed snapshot's sequence, in the order the pushes arrive. */
async function startRecordingProxy(target: string): Promise<{ url: string; pushes: Push[]; close(): Promise<void> }> {
  const pushes: Push[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const push: Push | undefined = req.method === 'PUT' && req.url === '/_obol/v1/catalog' ? { sequence: (JSON.parse(body.toString()) as { sequence: number }).sequence, at: Date.now() } : undefined;
      if (push) pushes.push(push);
      const headers = Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) as [string, string][];
      const answer = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body.length ? { body } : {}) });
      if (push) push.status = answer.status;
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    })().catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pushes,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const microTime = (ms = Date.now()) => new Date(ms).toISOString().replace('Z', '000Z');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function leaseSpec(name: string): Promise<{ holderIdentity?: string; leaseTransitions?: number }> {
  const out = await c.plane.mustKubectl(['get', 'lease', name, '-n', AGENT_NAMESPACE, '-o', 'json']);
  return (JSON.parse(out.stdout) as { spec: { holderIdentity?: string; leaseTransitions?: number } }).spec;
}
const patchLease = (name: string, spec: Record<string, unknown>) =>
  c.plane.mustKubectl(['patch', 'lease', name, '-n', AGENT_NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec })]);

describe.skipIf(!plane)(`leader election on a real Lease${skip ? ` (${skip})` : ''}`, () => {
  beforeAll(async () => {
    c = await setUpAgentCluster('leader');
    await c.createOffer('qwen');
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await c.stopAgents();
  });
  afterAll(async () => {
    await c?.close();
  });

  it('two agent processes: one leads and pushes, the standby is ready; SIGKILL the leader and the standby pushes within the lease duration', async () => {
    const key = generatePrivateKey();
    const edge: TestEdge = await startEdge({ vars: { CATALOG_SIGNERS: catalogSigner(key).address } });
    const proxy = await startRecordingProxy(edge.url);
    try {
      const leaseName = `obol-edge-agent-procs-${c.namespace}`;
      const args = ['--source', 'kube', '--namespaces', c.namespace, '--edge', proxy.url, '--gateway', `${GATEWAY.namespace}/${GATEWAY.name}`,
        '--lease-namespace', AGENT_NAMESPACE, '--lease-name', leaseName, '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '500ms',
        '--ops-addr', '127.0.0.1:0', '--health-interval', '1s'];
      const env = { KUBECONFIG: c.agentKubeconfigPath, OBOL_CATALOG_KEY: key };
      const pair = [spawnAgent('replica-a', args, env), spawnAgent('replica-b', args, env)];
      const states = await waitFor('both replicas ready', async () => {
        const s = await Promise.all(pair.map(readyz));
        return s.every((x) => x.status === 200) ? s : undefined;
      }, 90_000);
      expect(states.map((s) => s.detail).sort()).toEqual(['leader: first push acknowledged', 'standby: informers synced']);
      const leaderIndex = states.findIndex((s) => s.detail.startsWith('leader'));
      const leader = pair[leaderIndex] as Replica;
      const standby = pair[1 - leaderIndex] as Replica;
      expect((await leaseSpec(leaseName)).holderIdentity).toBe(leader.identity);

      // Over more than a lease duration: the leader keeps the Lease, only it pushes, the standby stays ready.
      await sleep(LEASE_MS * 1.5);
      expect([await metric(leader, 'obol_agent_leader'), await metric(standby, 'obol_agent_leader')]).toEqual([1, 0]);
      expect(await metric(standby, 'obol_agent_push_duration_seconds_count')).toBe(0);
      expect(await metric(standby, 'obol_agent_snapshot_sequence')).toBe(0);
      await waitFor('every push arrived acknowledged by the leader', async () => proxy.pushes.length > 0 && proxy.pushes.length === (await metric(leader, 'obol_agent_push_duration_seconds_count')));
      expect(await readyz(standby)).toEqual({ status: 200, detail: 'standby: informers synced' });
      expect(standby.log.some((e) => e.msg === 'became leader')).toBe(false);
      const before = await leaseSpec(leaseName);
      expect(before.holderIdentity).toBe(leader.identity);

      const exited = new Promise((resolve) => leader.child.once('exit', (_code, signal) => resolve(signal)));
      const killedAt = Date.now();
      leader.child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const push = await waitFor('a push after the kill', () => proxy.pushes.find((p) => p.at > killedAt && p.status === 200), LEASE_MS + TAKEOVER_MARGIN_MS + 5000);
      expect(push.at - killedAt).toBeLessThanOrEqual(LEASE_MS + TAKEOVER_MARGIN_MS);
      await waitFor('the former standby leads and is ready', async () => (await readyz(standby)).detail === 'leader: first push acknowledged', 10_000);
      const after = await leaseSpec(leaseName);
      expect(after.holderIdentity).toBe(standby.identity);
      expect(after.leaseTransitions).toBe((before.leaseTransitions ?? 0) + 1);
      expect(await metric(standby, 'obol_agent_leader')).toBe(1);

      // Never two snapshots with one sequence, and never a step back.
      const sequences = proxy.pushes.map((p) => p.sequence);
      expect(new Set(sequences).size).toBe(sequences.length);
      for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1] as number);
      expect(proxy.pushes.every((p) => p.status === 200)).toBe(true);
      expect(await metric(standby, 'obol_agent_snapshot_sequence')).toBe(sequences.at(-1));

      standby.child.kill('SIGTERM');
      expect(await new Promise((resolve) => standby.child.once('exit', (code) => resolve(code)))).toBe(0);
    } finally {
      await proxy.close();
      await edge.dispose();
    }
  }, 150_000);

  it('a Lease held and renewed by someone else: the agent stands by, ready, and takes over once the holder stops renewing', async () => {
    const name = `obol-edge-agent-intruder-${c.namespace}`;
    const HELD_MS = 6000;
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: AGENT_NAMESPACE }, spec: { holderIdentity: 'intruder', leaseDurationSeconds: HELD_MS / 1000, acquireTime: microTime(), renewTime: microTime(), leaseTransitions: 0 } };
    await c.plane.mustKubectl(['apply', '-f', '-'], { input: JSON.stringify(lease) });
    let renewing = true;
    let lastRenewStart = Date.now();
    const renewer = (async () => {
      while (renewing) {
        lastRenewStart = Date.now();
        await patchLease(name, { renewTime: microTime() });
        await sleep(1000);
      }
    })();
    const pushesBefore = c.proxy.pushes().length;
    const agent = await c.startAgent({ leaderElection: c.lease('replica-a', { name }) });
    try {
      await agent.ready;
      expect(await (await fetch(`${agent.opsUrl}/readyz`)).json()).toEqual({ ready: true, detail: 'standby: informers synced' });
      // Longer than the Lease's duration and than the agent's own (2 s): a renewed Lease is never taken.
      await sleep(HELD_MS + 2000);
      expect(agent.isLeader()).toBe(false);
      expect(agent.isReady()).toBe(true);
      expect(c.proxy.pushes().length).toBe(pushesBefore);
      expect((await leaseSpec(name)).holderIdentity).toBe('intruder');
    } finally {
      renewing = false;
      await renewer;
    }
    await waitFor('leadership', () => agent.isLeader(), HELD_MS + 10_000);
    const leaderAt = Date.now();
    // Not before the holder's own lease duration ran out on the agent's clock; soon after it.
    expect(leaderAt - lastRenewStart).toBeGreaterThanOrEqual(HELD_MS);
    expect(leaderAt - lastRenewStart).toBeLessThanOrEqual(HELD_MS + 5000);
    expect((await leaseSpec(name)).holderIdentity).toBe('replica-a');
    await waitFor('a push', () => c.proxy.pushes().length > pushesBefore, 15_000);
    await waitFor('ready as the leader', async () => ((await (await fetch(`${agent.opsUrl}/readyz`)).json()) as { detail: string }).detail === 'leader: first push acknowledged', 15_000);
  }, 60_000);

  it('a leader whose Lease is taken over stops leading and calls the exit hook', async () => {
    const name = `obol-edge-agent-takeover-${c.namespace}`;
    let exited = 0;
    const agent = await c.startAgent({ leaderElection: c.lease('replica-b', { name }), onLostLeadership: () => exited++ });
    await waitFor('leadership', () => agent.isLeader(), 15_000);
    expect(await agent.metrics.leader.get()).toMatchObject({ values: [expect.objectContaining({ value: 1 })] });
    await patchLease(name, { holderIdentity: 'usurper', renewTime: microTime() });
    await waitFor('the exit hook', () => exited === 1, 5000);
    expect(agent.isLeader()).toBe(false);
    expect(await agent.metrics.leader.get()).toMatchObject({ values: [expect.objectContaining({ value: 0 })] });
    await sleep(1000);
    // It gave up: no write took the Lease back.
    expect((await leaseSpec(name)).holderIdentity).toBe('usurper');
    expect(exited).toBe(1);
  }, 30_000);
});
