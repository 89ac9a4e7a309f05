import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../publish/identity.js';
import { agentUriFor, pointsAtEdge, publicOrigin } from './agent-uri.js';
import { openIdentityFile, registrationFor, storeRegistration } from './identity-file.js';

const dir = mkdtempSync(join(tmpdir(), 'obol-identity-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOCAL = 'eip155:84532:0xbdEd0D2bf404bdcBa897a74E6657f1f12e5C6fb6';
const SEPOLIA = 'eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e';

describe('storeRegistration', () => {
  it('replaces the entry of the same registry in a YAML file and keeps comments, order and other entries', async () => {
    const file = join(dir, 'identity.yaml');
    writeFileSync(file, [
      '# the seller', 'name: Demo', 'description: A description long enough that a YAML writer with a line width would fold it somewhere in the middle.',
      'registrations:', '  # local stack', '  - agentId: 1', `    agentRegistry: ${LOCAL.toLowerCase()}`, 'supportedTrust: [reputation]', '',
    ].join('\n'), { mode: 0o600 });
    expect(await storeRegistration(file, { agentId: 7, agentRegistry: LOCAL })).toEqual({ changed: true });
    expect(await storeRegistration(file, { agentId: 3, agentRegistry: SEPOLIA })).toEqual({ changed: true });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# the seller');
    expect(text).toContain('# local stack');
    expect(text).toContain('description: A description long enough that a YAML writer with a line width would fold it somewhere in the middle.\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const identity = await loadIdentity(file);
    expect(identity.registrations).toEqual([{ agentId: 7, agentRegistry: LOCAL }, { agentId: 3, agentRegistry: SEPOLIA }]);
    expect(identity.supportedTrust).toEqual(['reputation']);
  });

  it('writes nothing when the file already says it', async () => {
    const file = join(dir, 'same.yaml');
    writeFileSync(file, `registrations:\n  - agentId: 2\n    agentRegistry: "${LOCAL}"\n`);
    const before = statSync(file).mtimeMs;
    expect(await storeRegistration(file, { agentId: 2, agentRegistry: LOCAL })).toEqual({ changed: false });
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it('creates a missing file, and keeps a .json file JSON', async () => {
    const yamlFile = join(dir, 'new.yaml');
    await storeRegistration(yamlFile, { agentId: 4, agentRegistry: SEPOLIA });
    expect(readFileSync(yamlFile, 'utf8')).toBe(`registrations:\n  - agentId: 4\n    agentRegistry: ${SEPOLIA}\n`);
    const jsonFile = join(dir, 'identity.json');
    writeFileSync(jsonFile, JSON.stringify({ name: 'J', registrations: [{ agentId: 1, agentRegistry: SEPOLIA }] }));
    await storeRegistration(jsonFile, { agentId: 9, agentRegistry: LOCAL });
    expect(JSON.parse(readFileSync(jsonFile, 'utf8'))).toEqual({ name: 'J', registrations: [{ agentId: 1, agentRegistry: SEPOLIA }, { agentId: 9, agentRegistry: LOCAL }] });
  });

  it('an invalid or unwritable file is refused by openIdentityFile, before any transaction would be sent', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'registrations:\n  - agentId: -1\n    agentRegistry: x\n');
    await expect(openIdentityFile(bad)).rejects.toMatchObject({ reason: 'identity_invalid' });
    const locked = join(dir, 'locked.yaml');
    writeFileSync(locked, 'name: x\n');
    chmodSync(locked, 0o444);
    // root may write anyway; then the check has nothing to refuse
    if (process.getuid?.() !== 0) await expect(openIdentityFile(locked)).rejects.toMatchObject({ reason: 'identity_unreadable' });
    await expect(openIdentityFile(join(dir, 'no-such-dir', 'x.yaml'))).rejects.toMatchObject({ reason: 'identity_unreadable' });
    const fresh = await openIdentityFile(join(dir, 'absent.yaml'));
    expect(fresh).toMatchObject({ exists: false, identity: { registrations: [] } });
    expect(registrationFor(fresh.identity, LOCAL)).toBeUndefined();
  });
});

describe('agentURI', () => {
  it('is the public origin plus /.well-known/agent-registration.json; a path, query or credentials are refused', () => {
    expect(agentUriFor('https://Edge.Example.com/')).toBe('https://edge.example.com/.well-known/agent-registration.json');
    expect(agentUriFor('http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787/.well-known/agent-registration.json');
    for (const bad of ['edge.example.com', 'ftp://edge.example.com', 'https://edge.example.com/base', 'https://edge.example.com/?a=1', 'https://u:p@edge.example.com']) {
      expect(() => publicOrigin(bad), bad).toThrow(expect.objectContaining({ reason: 'invalid_public_url' }));
    }
  });

  it('pointsAtEdge compares parsed URLs: host case and default ports do not matter, anything else does', () => {
    expect(pointsAtEdge('https://EDGE.example.com:443/.well-known/agent-registration.json', 'https://edge.example.com')).toBe(true);
    expect(pointsAtEdge('https://edge.example.com/.well-known/agent-registration.json?x', 'https://edge.example.com')).toBe(false);
    expect(pointsAtEdge('https://other.example/.well-known/agent-registration.json', 'https://edge.example.com')).toBe(false);
    expect(pointsAtEdge('ipfs://cid', 'https://edge.example.com')).toBe(false);
  });
});
