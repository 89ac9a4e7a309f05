import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readOfferManifests } from '../publish/manifests.js';
import { run } from '../cli/commands/sell.js';

const NOW = Date.parse('2026-11-23T10:00:00.900Z');
let dir: string;

const OFFER_A = `# Llama on the GPU box
apiVersion: obol.org/v1alpha1
kind: ServiceOffer
metadata:
  name: llama   # public name
spec:
  type: inference
  upstream: {service: ollama}
  payment:
    network: base-sepolia
    payTo: "0x1111111111111111111111111111111111111111"
    price: {perRequest: "0.001"}
`;
const OFFER_B = `---
# a second offer, untouched by edits to the first
apiVersion: obol.org/v1alpha1
kind: ServiceOffer
metadata: {name: other, namespace: shop}
spec:
  upstream: {service: web}
  payment: {network: base, payTo: "0x2222222222222222222222222222222222222222", price: {perHour: "1.2"}}
  drainAt: "2026-11-23T09:00:00Z"
  drainGracePeriod: 2h
`;
const JSON_OFFER = { apiVersion: 'obol.org/v1alpha1', kind: 'ServiceOffer', metadata: { name: 'js' }, spec: { upstream: { service: 'x' }, payment: { network: 'base', payTo: '0x3333333333333333333333333333333333333333', price: { perRequest: '1' } } } };
const LIST = `apiVersion: v1
kind: List
items:
  - apiVersion: obol.org/v1alpha1
    kind: ServiceOffer
    metadata: {name: listed}
    spec: {upstream: {service: y}, payment: {network: base, payTo: "0x4444444444444444444444444444444444444444", price: {perRequest: "2"}}}
`;

async function sell(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await run([...argv, '--source', `dir:${dir}`], { out: (s) => void (out += s), err: (s) => void (err += s) }, { nowMs: () => NOW });
  return { code, out, err };
}
const read = (file: string) => readFileSync(join(dir, file), 'utf8');
async function specOf(key: string) {
  const input = (await readOfferManifests(dir)).inputs.find((i) => i.key === key);
  if (!input?.parsed.ok) throw new Error(`${key} does not parse`);
  return input.parsed.offer.spec;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sell-dir-'));
  writeFileSync(join(dir, 'offers.yaml'), OFFER_A + OFFER_B);
  writeFileSync(join(dir, 'js.json'), JSON.stringify(JSON_OFFER, null, 2) + '\n');
  writeFileSync(join(dir, 'list.yaml'), LIST);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('sell with --source dir:', () => {
  it('lists every offer of the directory with its phase', async () => {
    const { code, out } = await sell('list');
    expect(code).toBe(0);
    expect(out).toMatch(/default\s+js\s+\/services\/js\s+1 USDC\/request\s+active/);
    expect(out).toMatch(/default\s+listed\s+\/services\/listed/);
    expect(out).toMatch(/shop\s+other\s+\/services\/other\s+1\.2 USDC\/hour\s+draining \(ends 2026-11-23T11:00:00Z\)/);
  });

  it('stop edits only that offer: comments kept, the other document byte-for-byte, drainAt quoted', async () => {
    expect((await sell('stop', 'llama', '--grace', '45m')).code).toBe(0);
    const text = read('offers.yaml');
    expect(text).toContain('# Llama on the GPU box');
    expect(text).toContain('# public name');
    expect(text).toContain('drainAt: "2026-11-23T10:00:00Z"');
    expect(text.endsWith(OFFER_B)).toBe(true);
    expect(await specOf('default/llama')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '45m', type: 'inference' });
  });

  it('resume removes both fields from the file; the offer is active again', async () => {
    expect((await sell('resume', 'other', '-n', 'shop')).code).toBe(0);
    const spec = await specOf('shop/other');
    expect(spec.drainAt).toBeUndefined();
    expect(spec.drainGracePeriod).toBeUndefined();
    expect(read('offers.yaml').startsWith(OFFER_A)).toBe(true);
    expect(read('offers.yaml')).toContain('# a second offer, untouched by edits to the first');
  });

  it('edits JSON manifests and offers inside a kind: List', async () => {
    expect((await sell('stop', 'js', '--now')).code).toBe(0);
    expect(JSON.parse(read('js.json')).spec).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s' });
    expect((await sell('stop', 'listed', '--grace', '1h30m')).code).toBe(0);
    expect(await specOf('default/listed')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '1h30m' });
  });

  it('refuses an already draining offer, an unknown offer and a bad duration without touching any file', async () => {
    const before = ['offers.yaml', 'js.json', 'list.yaml'].map(read);
    const draining = await sell('stop', 'other', '-n', 'shop');
    expect(draining.code).toBe(1);
    expect(draining.err).toContain('already draining (ends 2026-11-23T11:00:00Z)');
    const unknown = await sell('stop', 'ghost');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain(`no ServiceOffer default/ghost in ${dir}`);
    expect((await sell('stop', 'llama', '--grace', '1d')).code).toBe(2);
    expect(['offers.yaml', 'js.json', 'list.yaml'].map(read)).toEqual(before);
  });

  it('refuses, with exit 2 and the problem named, an edit that would make the offer invalid, touching no file', async () => {
    const before = ['offers.yaml', 'js.json', 'list.yaml'].map(read);
    // Over core's MAX_DRAIN_GRACE: the agent would drop the offer at once (InvalidSpec), not drain it.
    const overBound = await sell('stop', 'llama', '--grace', '9000h');
    expect(overBound.code).toBe(2);
    expect(overBound.err).toContain('offer default/llama not changed');
    expect(overBound.err).toContain('spec.drainGracePeriod: must be at most 8760h (365 days)');
    expect(overBound.out).toBe('');
    // A duration by the pattern, but longer than the schema's 32 characters.
    const overLength = await sell('stop', 'js', '--grace', `${'0'.repeat(40)}1h`);
    expect(overLength.code).toBe(2);
    expect(overLength.err).toMatch(/offer default\/js not changed: .*spec\.drainGracePeriod: /);
    expect(['offers.yaml', 'js.json', 'list.yaml'].map(read)).toEqual(before);
  });

  it('a missing directory is a clear error', async () => {
    rmSync(dir, { recursive: true, force: true });
    const result = await sell('list');
    expect(result.code).toBe(1);
    expect(result.err).toContain('cannot read the offers directory');
  });
});
