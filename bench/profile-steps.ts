import { createHash } from 'node:crypto';
import { privateKeyToAccount } from 'viem/accounts';
import { CatalogSnapshot } from '../core/index.js';
import { snapshotDigest } from '../core/signature.js';
import { concat, keccak256, stringToBytes } from 'viem';
import { benchOffers, benchSnapshot } from './catalog.js';
import { snapshotBody } from '../test/support/snapshots.js';
import { verifyTypedData, recoverTypedDataAddress } from 'viem';
import { checkAuthorization } from '../core/x402/eip3009.js';
import { authorizationTypedData } from '../core/x402/eip3009.js';

/** Step-by-step CPU profile of the accept path and the gate's local checks, in V8 (same engine as workerd). */
function time(name: string, fn: () => unknown, n = 3): unknown {
  let out: unknown;
  const t: number[] = [];
  for (let i = 0; i < n; i++) { const s = performance.now(); out = fn(); t.push(performance.now() - s); }
  console.log(JSON.stringify({ step: name, ms: t.map((x) => Math.round(x * 10) / 10) }));
  return out;
}
async function atime(name: string, fn: () => Promise<unknown>, n = 3): Promise<void> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) { const s = performance.now(); await fn(); t.push(performance.now() - s); }
  console.log(JSON.stringify({ step: name, ms: t.map((x) => Math.round(x * 100) / 100) }));
}
const body = new TextEncoder().encode(snapshotBody(benchSnapshot(benchOffers(10_000), 1)));
console.log(JSON.stringify({ bytes: body.byteLength }));
time('former EIP-191 digest: keccak over the body (JS)', () => keccak256(concat([stringToBytes(`\x19Ethereum Signed Message:\n${body.byteLength}`), body])));
await atime('EIP-712 digest: native SHA-256 + typed-data hash', () => snapshotDigest(body));
await atime('sha-256 crypto.subtle', () => crypto.subtle.digest('SHA-256', body));
time('sha-256 node:crypto', () => createHash('sha256').update(body).digest());
const text = time('utf-8 decode', () => new TextDecoder('utf-8').decode(body)) as string;
const json = time('JSON.parse', () => JSON.parse(text));
time('zod CatalogSnapshot.safeParse', () => CatalogSnapshot.safeParse(json));
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const account = privateKeyToAccount(KEY);
const requirement = benchSnapshot(benchOffers(1), 1).offers[0]!.requirement!;
const now = Math.floor(Date.now() / 1000);
const authorization = { from: account.address, to: requirement.payTo, value: requirement.amount, validAfter: String(now - 10), validBefore: String(now + 300), nonce: `0x${'ab'.repeat(32)}` };
const payload = { authorization, signature: '0x' };
const typed = authorizationTypedData(payload as never, requirement);
const signature = await account.signTypedData(typed);
await atime('verifyTypedData (EIP-3009)', () => verifyTypedData({ address: account.address, signature, ...typed }), 20);
await atime('recoverTypedDataAddress', () => recoverTypedDataAddress({ signature, ...typed }), 20);
const check = { payload: { authorization, signature }, requirement, x402Version: 2 as const, nowSeconds: now, acceptUnverifiedContractSignatures: false };
await atime('checkAuthorization (cached domain separator + recovery)', async () => { if (!(await checkAuthorization(check)).ok) throw new Error('check failed'); }, 20);
