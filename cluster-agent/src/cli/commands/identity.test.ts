import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, createTestClient, createWalletClient, http, parseEventLogs, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCOUNTS, LOCAL_POLLING_MS, localChain, MULTICALL3_ADDRESS, startChain, TOKEN_ADDRESS, type LocalChain } from '../../../../stack/chain.js';
import { deployIdentityRegistry, LOCAL_AGENT_REGISTRY, LOCAL_IDENTITY_REGISTRY } from '../../../../stack/identity.js';
import { loadIdentity } from '../../publish/identity.js';
import { identityRegistryAbi } from '../../identity/registry-abi.js';
import { run } from './identity.js';

/** `obol-edge identity` against a real local chain with our IdentityRegistry deployed. */

const { seller, buyer } = LOCAL_ACCOUNTS;
const dir = mkdtempSync(join(tmpdir(), 'obol-identity-cli-'));
let chain: LocalChain;
let edge: Server;
let edgeUrl: string;
/** What the stand-in edge serves as its registration file. */
let served: unknown = { registrations: [] };

interface Result { code: number; out: string; err: string }

/** Run the command in-process; `key` null runs it with no OBOL_IDENTITY_KEY. */
async function identity(args: string[], key: Hex | null = seller.privateKey): Promise<Result> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (s) => void (out += s), err: (s) => void (err += s) }, { env: key ? { OBOL_IDENTITY_KEY: key } : {}, pollingMs: LOCAL_POLLING_MS });
  for (const secret of [seller.privateKey, buyer.privateKey, key ?? '0x']) if (secret.length > 2) expect(out + err).not.toContain(secret.slice(2));
  return { code, out, err };
}

const chainArgs = () => ['--rpc', chain.rpcUrl, '--registry', LOCAL_IDENTITY_REGISTRY];
const client = () => createPublicClient({ chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl) });

function identityFile(name: string, text = 'name: Test seller\n'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The registry's Registered events so far: a refused command must not add one. */
async function registeredCount(): Promise<number> {
  const logs = await client().getLogs({ address: LOCAL_IDENTITY_REGISTRY, fromBlock: 0n });
  return parseEventLogs({ abi: identityRegistryAbi, eventName: 'Registered', logs }).length;
}

beforeAll(async () => {
  chain = await startChain();
  await deployIdentityRegistry(chain.rpcUrl);
  edge = createServer((req, res) => {
    res.writeHead(req.url === '/.well-known/agent-registration.json' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(served));
  });
  await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve));
  edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await chain?.stop();
  await new Promise((resolve) => edge?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('identity register, show, update', () => {
  it('register stores the chain\'s {agentId, agentRegistry} in the identity file; show confirms it points back and is served', async () => {
    const file = identityFile('register.yaml');
    const registered = await identity(['register', ...chainArgs(), '--public-url', edgeUrl, '--identity', file]);
    expect(registered.code, registered.err).toBe(0);
    const line = /^(\{"agentId".*\})$/m.exec(registered.out)?.[1] ?? '';
    const registration = JSON.parse(line) as { agentId: number; agentRegistry: string };
    expect(registration.agentRegistry).toBe(LOCAL_AGENT_REGISTRY);
    expect((await loadIdentity(file)).registrations).toEqual([registration]);
    expect(await client().readContract({ address: LOCAL_IDENTITY_REGISTRY, abi: identityRegistryAbi, functionName: 'tokenURI', args: [BigInt(registration.agentId)] }))
      .toBe(`${edgeUrl}/.well-known/agent-registration.json`);

    served = { registrations: [] };
    const notServed = await identity(['show', ...chainArgs(), '--public-url', edgeUrl, '--identity', file]);
    expect(notServed.code).toBe(1);
    expect(notServed.out).toContain('agentURI points back at this edge');
    expect(notServed.out).toContain('does NOT list this agent');

    served = { registrations: [registration] };
    const shown = await identity(['show', ...chainArgs(), '--public-url', edgeUrl, '--identity', file, '--json'], null);
    expect(shown.code, shown.out).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ ...registration, owner: seller.address, pointsBack: true, registrationFile: { state: 'lists_agent' } });

    // A second register with the same file would mint a second agent: refused, nothing sent.
    const before = await registeredCount();
    const again = await identity(['register', ...chainArgs(), '--public-url', edgeUrl, '--identity', file]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already names agent .* use "obol-edge identity update".*\[already_registered\]/);
    expect(await registeredCount()).toBe(before);
  });

  it('show says plainly when agentURI points elsewhere; update (by the owner only) points it back and stores it', async () => {
    const wallet = createWalletClient({ chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl), account: privateKeyToAccount(seller.privateKey) });
    const hash = await wallet.writeContract({ address: LOCAL_IDENTITY_REGISTRY, abi: identityRegistryAbi, functionName: 'register', args: ['https://elsewhere.example/.well-known/agent-registration.json'] });
    const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: LOCAL_POLLING_MS });
    const agentId = Number(parseEventLogs({ abi: identityRegistryAbi, eventName: 'Registered', logs: receipt.logs })[0]?.args.agentId);

    const elsewhere = await identity(['show', ...chainArgs(), '--agent-id', String(agentId), '--public-url', edgeUrl]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.out).toContain(`agentURI points ELSEWHERE: it is "https://elsewhere.example/.well-known/agent-registration.json", this edge's would be ${edgeUrl}/.well-known/agent-registration.json`);

    const file = identityFile('update.yaml');
    const notOwner = await identity(['update', ...chainArgs(), '--agent-id', String(agentId), '--public-url', edgeUrl, '--identity', file], buyer.privateKey);
    expect(notOwner.code).toBe(1);
    expect(notOwner.err).toContain(`${buyer.address} may not change agent ${agentId}`);
    expect(readFileSync(file, 'utf8')).toBe('name: Test seller\n');

    const updated = await identity(['update', ...chainArgs(), '--agent-id', String(agentId), '--public-url', edgeUrl, '--identity', file]);
    expect(updated.code, updated.err).toBe(0);
    expect(updated.out).toMatch(/transaction 0x[0-9a-f]{64}/);
    expect((await loadIdentity(file)).registrations).toEqual([{ agentId, agentRegistry: LOCAL_AGENT_REGISTRY }]);
    // Already pointing here: nothing is sent, the agentId now comes from the identity file.
    const again = await identity(['update', ...chainArgs(), '--public-url', edgeUrl, '--identity', file]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('nothing sent: it already pointed there');
    expect((await identity(['show', ...chainArgs(), '--agent-id', String(agentId), '--public-url', edgeUrl])).out).toContain('agentURI points back at this edge');
  });
});

describe('bad input: clear errors, nothing sent, nothing written', () => {
  const untouched = async (args: string[], key: Hex | null, reason: RegExp): Promise<Result> => {
    const file = identityFile(`untouched-${Math.random().toString(36).slice(2)}.yaml`);
    const before = await registeredCount();
    const result = await identity([...args, '--public-url', edgeUrl, '--identity', file], key);
    expect(result.code, result.out).toBe(1);
    expect(result.err).toMatch(reason);
    expect(readFileSync(file, 'utf8')).toBe('name: Test seller\n');
    expect(await registeredCount()).toBe(before);
    return result;
  };

  it('an address without code, or the official address on a chain that has no registry there', async () => {
    await untouched(['register', '--rpc', chain.rpcUrl, '--registry', '0x000000000000000000000000000000000000dEaD'], seller.privateKey, /0x000000000000000000000000000000000000dEaD on chain 84532 has no code: it is not an ERC-8004 Identity Registry.*\[not_a_contract\]/);
    // Without --registry the RPC's chain id (84532) picks Base Sepolia's official registry, absent from a local chain.
    await untouched(['register', '--rpc', chain.rpcUrl], seller.privateKey, /0x8004A818BFB912233c491871b3d84c89A494BD9e on chain 84532 has no code/);
  });

  it('a contract that is not a registry: the test USDC token, Multicall3, an "ERC-721" without register(string)', async () => {
    for (const address of [TOKEN_ADDRESS, MULTICALL3_ADDRESS]) {
      await untouched(['register', '--rpc', chain.rpcUrl, '--registry', address], seller.privateKey, /is a contract but not an ERC-721 .*not an ERC-8004 Identity Registry.*\[not_a_registry\]/);
    }
    // Answers true to supportsInterface(bytes4) (36 bytes of calldata) and reverts every other call.
    const impostor = '0x00000000000000000000000000000000000e7c21' as const;
    await createTestClient({ chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl), mode: 'anvil' })
      .setCode({ address: impostor, bytecode: '0x60243614600b57600080fd5b600160005260206000f3' });
    await untouched(['register', '--rpc', chain.rpcUrl, '--registry', impostor], seller.privateKey, /register\(agentURI\) would fail at eip155:84532:0x00000000000000000000000000000000000e7c21: execution reverted.*; nothing was sent \[not_a_registry\]/i);
  });

  it('a key with no gas on the chain is refused before sending: its nonce stays 0', async () => {
    const broke = toHex(0xb40e3n, { size: 32 });
    const result = await untouched(['register', ...chainArgs()], broke, /cannot pay for gas on chain 84532: it holds 0, the transaction needs up to .* nothing was sent.*\[insufficient_gas\]/);
    expect(result.err).toContain(privateKeyToAccount(broke).address);
    expect(await client().getTransactionCount({ address: privateKeyToAccount(broke).address })).toBe(0);
  });

  it('an RPC on another chain, an unknown agent, a missing key', async () => {
    await untouched(['register', ...chainArgs(), '--chain-id', '8453'], seller.privateKey, /is chain 84532, not 8453 \[chain_mismatch\]/);
    await untouched(['update', ...chainArgs(), '--agent-id', '999999'], seller.privateKey, /agent 999999 does not exist in eip155:84532:0xbdEd0D2bf404bdcBa897a74E6657f1f12e5C6fb6 .*\[agent_not_found\]/);
    await untouched(['update', ...chainArgs()], seller.privateKey, /names no agent in .*pass --agent-id.*\[agent_id_unknown\]/);
    await untouched(['register', ...chainArgs()], null, /OBOL_IDENTITY_KEY is not set.*\[identity_key_missing\]/);
    await untouched(['register', ...chainArgs()], '0x1234' as Hex, /OBOL_IDENTITY_KEY must be 0x followed by 64 hex digits .*\[identity_key_invalid\]/);
  });

  it('usage errors exit 2 with the usage text', async () => {
    for (const args of [[], ['frobnicate'], ['register', '--public-url', edgeUrl, '--identity', 'x'], ['register', ...chainArgs(), '--identity', 'x'],
      ['register', ...chainArgs(), '--public-url', edgeUrl], ['register', ...chainArgs(), '--public-url', edgeUrl, '--identity', 'x', '--agent-id', '1'],
      ['show', ...chainArgs(), '--agent-id', 'one'], ['show', '--rpc', chain.rpcUrl, '--registry', '0x12']]) {
      const result = await identity(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toContain('Usage:');
    }
    const help = await identity(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('obol-edge identity register');
  });
});
