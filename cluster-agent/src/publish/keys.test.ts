import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recoverSnapshotSigner } from '../../../core/signature.js';
import { IdentityError, loadIdentity } from './identity.js';
import { CatalogKeyError, loadCatalogSigner } from './signer.js';
import { SnapshotBuildError, buildSnapshot, encodeSnapshot } from './snapshot.js';

// Anvil's well-known account #0; a test key, never a real one.
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const dir = mkdtempSync(join(tmpdir(), 'obol-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadCatalogSigner', () => {
  it('loads the key from OBOL_CATALOG_KEY and signs bytes that recover to its address', async () => {
    const signer = await loadCatalogSigner({ env: { OBOL_CATALOG_KEY: KEY } });
    expect(signer.address).toBe(ADDRESS);
    const body = new TextEncoder().encode('{"a":1}');
    expect(await recoverSnapshotSigner({ body, signature: await signer.sign(body) })).toBe(ADDRESS);
  });
  it('a key file wins over the environment; surrounding whitespace is ignored', async () => {
    const file = join(dir, 'key');
    writeFileSync(file, `${KEY}\n`);
    expect((await loadCatalogSigner({ env: { OBOL_CATALOG_KEY: 'garbage' }, keyFile: file })).address).toBe(ADDRESS);
  });
  it('a missing, malformed or unreadable key is a named error that never echoes the key', async () => {
    await expect(loadCatalogSigner({ env: {} })).rejects.toMatchObject({ reason: 'catalog_key_missing', message: expect.stringContaining('OBOL_CATALOG_KEY is not set') });
    const almost = `${KEY.slice(0, -1)}z`;
    const error = await loadCatalogSigner({ env: { OBOL_CATALOG_KEY: almost } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogKeyError);
    expect(error).toMatchObject({ reason: 'catalog_key_invalid' });
    expect(String((error as Error).message)).not.toContain(almost.slice(2, 20));
    await expect(loadCatalogSigner({ env: {}, keyFile: join(dir, 'nope') })).rejects.toMatchObject({ reason: 'catalog_key_unreadable' });
  });
  it('a signer serializes to its address only', async () => {
    const signer = await loadCatalogSigner({ env: { OBOL_CATALOG_KEY: KEY } });
    expect(JSON.stringify(signer)).toBe(`{"address":"${ADDRESS}"}`);
    expect(String(signer)).not.toContain(KEY.slice(2));
  });
});

describe('loadIdentity', () => {
  it('loads and validates the shipped example identity', async () => {
    const identity = await loadIdentity(join(import.meta.dirname, '..', '..', '..', 'examples', 'identity.yaml'));
    expect(identity.name).toBe('Obol demo seller');
    expect(identity.registrations).toEqual([{ agentId: 1, agentRegistry: 'eip155:84532:0xbdEd0D2bf404bdcBa897a74E6657f1f12e5C6fb6' }]);
  });
  it('an invalid registration or an unreadable file is an IdentityError with a reason', async () => {
    const file = join(dir, 'bad-identity.yaml');
    writeFileSync(file, 'name: x\nregistrations:\n  - agentId: 1\n    agentRegistry: "eip155:84532"\n');
    await expect(loadIdentity(file)).rejects.toMatchObject({ reason: 'identity_invalid', message: expect.stringContaining('registrations[0].agentRegistry') });
    await expect(loadIdentity(join(dir, 'missing.yaml'))).rejects.toBeInstanceOf(IdentityError);
  });
});

describe('buildSnapshot / encodeSnapshot', () => {
  const base = { offers: [], identity: { registrations: [] }, audience: 'https://edge.test', sequence: 7, issuedAtMs: Date.UTC(2026, 10, 23, 10, 0, 0, 999) };
  it('builds a schema-valid snapshot with issuedAt to the second and encodes it as its JSON bytes', () => {
    const snapshot = buildSnapshot(base);
    expect(snapshot).toEqual({ schemaVersion: '2', sequence: 7, issuedAt: '2026-11-23T10:00:00Z', audience: 'https://edge.test', identity: { registrations: [] }, offers: [] });
    expect(new TextDecoder().decode(encodeSnapshot(snapshot))).toBe(JSON.stringify(snapshot));
  });
  it('refuses a non-URL audience or a non-positive sequence with a named error', () => {
    expect(() => buildSnapshot({ ...base, audience: 'edge' })).toThrow(SnapshotBuildError);
    expect(() => buildSnapshot({ ...base, sequence: 0 })).toThrow(/sequence/);
  });
});
