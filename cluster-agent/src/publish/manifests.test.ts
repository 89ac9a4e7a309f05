import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestDirectoryError, readOfferManifests } from './manifests.js';

const offer = (name: string, namespace = 'default', extra = '') => `apiVersion: obol.org/v1alpha1
kind: ServiceOffer
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  upstream: { service: svc }
  payment:
    network: base-sepolia
    payTo: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    price: { perRequest: "0.01" }
${extra}`;

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'obol-manifests-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const write = (name: string, text: string) => writeFileSync(join(dir, name), text);

describe('readOfferManifests', () => {
  it('reads every ServiceOffer of a multi-document YAML file and ignores other kinds', async () => {
    write('all.yaml', [offer('a'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n', offer('b', 'ns2'), ''].join('---\n'));
    const set = await readOfferManifests(dir);
    expect(set.inputs.map((i) => [i.key, i.parsed.ok])).toEqual([['default/a', true], ['ns2/b', true]]);
    expect(set.sources.get('ns2/b')).toBe('all.yaml');
  });

  it('reads .yml and .json files and kind: List, skipping other extensions and hidden files', async () => {
    write('one.yml', offer('one'));
    const json = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'obol.org/v1alpha1', kind: 'ServiceOffer', metadata: { name: 'two' }, spec: { upstream: { service: 's' }, payment: { network: 'base', payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', price: { perMTok: '1' } } } }] };
    write('two.json', JSON.stringify(json));
    write('notes.txt', offer('ignored-txt'));
    write('.hidden.yaml', offer('ignored-hidden'));
    const set = await readOfferManifests(dir);
    expect(set.inputs.map((i) => i.key).sort()).toEqual(['default/one', 'default/two']);
    expect(set.inputs.every((i) => i.parsed.ok)).toBe(true);
  });

  it('turns an unparsable file into an input with a problem naming the file, and keeps the other offers', async () => {
    write('a-good.yaml', offer('good'));
    write('b-broken.yaml', 'apiVersion: obol.org/v1alpha1\nkind: ServiceOffer\nmetadata: { name: [unclosed\n');
    const set = await readOfferManifests(dir);
    expect(set.inputs).toHaveLength(2);
    const good = set.inputs.find((i) => i.key === 'default/good');
    expect(good?.parsed.ok).toBe(true);
    const broken = set.inputs.find((i) => i.key !== 'default/good');
    expect(broken?.key).toBe('default/file:b-broken.yaml');
    expect(broken?.parsed.ok).toBe(false);
    if (broken && !broken.parsed.ok) expect(broken.parsed.problems[0]?.message).toMatch(/^cannot parse b-broken\.yaml: /);
  });

  it('keeps an invalid offer as an input whose problems name the field and the file', async () => {
    write('bad.yaml', offer('bad').replace('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 'nope'));
    const set = await readOfferManifests(dir);
    const [bad] = set.inputs;
    expect(bad?.key).toBe('default/bad');
    expect(bad?.parsed.ok).toBe(false);
    if (bad && !bad.parsed.ok) {
      expect(bad.parsed.problems).toContainEqual({ field: 'spec.payment.payTo', message: 'must be a 0x-prefixed 20-byte hex address (in bad.yaml)' });
    }
    expect(set.sources.get('default/bad')).toBe('bad.yaml');
  });

  it('reports an offer defined twice and keeps the first definition', async () => {
    write('a.yaml', offer('dup'));
    write('b.yaml', offer('dup'));
    const set = await readOfferManifests(dir);
    expect(set.inputs.map((i) => i.key)).toEqual(['default/dup', 'default/file:b.yaml#0']);
    const second = set.inputs[1];
    if (second && !second.parsed.ok) expect(second.parsed.problems[0]?.message).toContain('already defined in a.yaml');
    else expect.fail('the duplicate should be an input with problems');
    expect(set.sources.get('default/dup')).toBe('a.yaml');
  });

  it('gives an unnamed ServiceOffer a file-derived key instead of crashing', async () => {
    write('anon.yaml', 'apiVersion: obol.org/v1alpha1\nkind: ServiceOffer\nspec: {}\n');
    const set = await readOfferManifests(dir);
    expect(set.inputs.map((i) => [i.key, i.parsed.ok])).toEqual([['default/file:anon.yaml#0', false]]);
  });

  it('an empty directory yields no inputs; a missing directory is a named error', async () => {
    expect((await readOfferManifests(dir)).inputs).toEqual([]);
    await expect(readOfferManifests(join(dir, 'missing'))).rejects.toThrow(ManifestDirectoryError);
    await expect(readOfferManifests(join(dir, 'missing'))).rejects.toMatchObject({ reason: 'manifest_directory_unreadable' });
  });

  it('reads the shipped examples: three valid offers, one draining', async () => {
    const set = await readOfferManifests(join(import.meta.dirname, '..', '..', '..', 'examples', 'offers'));
    expect(set.inputs.map((i) => i.key).sort()).toEqual(['apis/legacy-summarize', 'apis/weather', 'llm/llama']);
    for (const input of set.inputs) expect(input.parsed).toMatchObject({ ok: true });
  });
});
