import { createServer, type AddressInfo, type Server } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApiServer } from '../../../test/fake-apiserver/server.js';
import { run } from './sell.js';

/**
 * `sell` without Kubernetes: usage errors, which never reach a server, and an API server failure,
 * injected with the fake. Everything the CLI does to a cluster is tested against the real API
 * server in cluster-agent/test/cluster/sell.test.ts.
 */

async function sell(kubeConfig: KubeConfig, ...argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => void (out += s), err: (s) => void (err += s) }, { kubeConfig, nowMs: () => Date.parse('2026-11-23T10:00:00.600Z') });
  return { code, out, err };
}

describe('sell usage errors (exit 2, no server contacted)', () => {
  // A listener that only counts connections: any contact with "the cluster" shows up here.
  let listener: Server;
  let connections = 0;
  let kubeConfig: KubeConfig;

  beforeEach(async () => {
    connections = 0;
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'counting', server: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'counting', token: 'unused' }],
      contexts: [{ name: 'counting', cluster: 'counting', user: 'counting' }],
      currentContext: 'counting',
    });
  });
  afterEach(async () => new Promise<void>((resolve) => listener.close(() => resolve())));

  it('a bad --grace is a usage error before the cluster is contacted', async () => {
    const result = await sell(kubeConfig, 'stop', 'llama', '--grace', '10 minutes');
    expect(result.code).toBe(2);
    expect(result.err).toContain('--grace: "10 minutes" is not a duration like "30m", "1h30m" or "0s"');
    expect(connections).toBe(0);
  });

  it('usage errors: unknown command, missing name, --now with --grace, --force on resume, extra name, unknown source', async () => {
    for (const argv of [['drain', 'x'], ['stop'], ['stop', 'llama', '--now', '--grace', '5m'], ['resume', 'llama', '--force'], ['list', 'extra'], ['stop', 'llama', '--source', 'ftp:x']]) {
      const result = await sell(kubeConfig, ...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err).toContain('Usage:');
    }
    expect(connections).toBe(0);
  });
});

describe('sell against a failing API server (fault injection)', () => {
  it('an API server failure is reported with its status and exits 1', async () => {
    const fake = await startFakeApiServer();
    try {
      fake.faults.failNextRequests(1);
      const result = await sell(fake.kubeConfig, 'list');
      expect(result.code).toBe(1);
      expect(result.err).toContain('the API server answered 500');
    } finally {
      await fake.stop();
    }
  });
});
