import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Composer, Parser, parseAllDocuments } from 'yaml';
import { MAX_MANIFEST_BYTES, ManifestDirectoryError, manifestDocuments, readManifestFile, readOfferManifests } from './manifests.js';

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

/** A ServiceOffer whose metadata.annotations hold `keys` generated keys (0.7 MB at 40,000). */
function manyKeys(keys: number, first = 0): string {
  const lines: string[] = [];
  for (let i = first; i < first + keys; i++) lines.push(`    note-${i}: v`);
  return offer('many').replace('  namespace: default\n', `  namespace: default\n  annotations:\n${lines.join('\n')}\n`);
}

/** The longest the event loop went without a turn while `work` ran (a 1 ms interval's largest gap). */
async function longestStall<T>(work: () => Promise<T>): Promise<{ value: T; stallMs: number; totalMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  try {
    const value = await work();
    const totalMs = performance.now() - started;
    stallMs = Math.max(stallMs, performance.now() - last);
    return { value, stallMs, totalMs };
  } finally {
    clearInterval(tick);
  }
}

describe('large and hostile manifests', () => {
  it('refuses a file over the 1.5 MiB limit without parsing it, naming the file and the limit; the others still load', async () => {
    write('a-good.yaml', offer('good'));
    write('b-huge.yaml', `${offer('huge')}# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`);
    const set = await readOfferManifests(dir);
    expect(set.inputs.map((i) => [i.key, i.parsed.ok])).toEqual([['default/good', true], ['default/file:b-huge.yaml', false]]);
    const huge = set.inputs[1]?.parsed;
    expect(huge?.ok === false && huge.problems).toEqual([
      { field: '(file)', message: `cannot read b-huge.yaml: ${MAX_MANIFEST_BYTES + offer('huge').length + 3} bytes is over the manifest limit of 1572864 bytes (1.5 MiB, the API server's own object limit)` },
    ]);
  });

  it('a 40,000-key manifest (0.7 MB) is parsed within 10 s: the duplicate-key check is linear', async () => {
    const text = manyKeys(40_000);
    expect(text.length).toBeGreaterThan(700_000);
    write('many.yaml', text);
    const { value, totalMs } = await longestStall(() => readManifestFile(dir, 'many.yaml'));
    expect(value && 'offers' in value && value.offers.map((o) => [o.key, o.input.parsed.ok])).toEqual([['default/many', true]]);
    // Before: 11 s alone, 78 s in the loaded test run: the yaml package compared every key with every earlier key of its map.
    expect(totalMs).toBeLessThan(10_000);
  });

  it('still refuses a duplicate key, naming it and where it is, in a big map and a small one', async () => {
    write('dup-big.yaml', manyKeys(20_000).replace('    note-19999: v', '    note-7: again'));
    write('dup-small.yaml', offer('dup').replace('spec:\n', 'spec:\n  path: /services/a\n  path: /services/b\n'));
    const set = await readOfferManifests(dir);
    expect(set.inputs.map((i) => (i.parsed.ok ? i.key : i.parsed.problems.map((p) => p.message)))).toEqual([
      [expect.stringMatching(/^cannot parse dup-big\.yaml: duplicate key "note-7" at line 20006, column 5 \(map keys must be unique\)$/)],
      [expect.stringMatching(/^cannot parse dup-small\.yaml: duplicate key "path" at line 8, column 3 \(map keys must be unique\)$/)],
    ]);
    expect(() => manifestDocuments('a: 1\nb: 2\na: 3\n')).toThrow('duplicate key "a" at line 3, column 1 (map keys must be unique)');
    // keys of different types are different keys, as for the yaml package: 1 and "1"
    expect(manifestDocuments('1: a\n"1": b\n')).toEqual([{ 1: 'b' }]);
  });

  it('a 1.5 MiB file of many documents is read in slices: the event loop keeps turning', async () => {
    const docs: string[] = [];
    let size = 0;
    for (let i = 0; size < MAX_MANIFEST_BYTES - 1000; i++) {
      const doc = `${offer(`o-${i}`)}---\n`;
      docs.push(doc);
      size += doc.length;
    }
    write('many-docs.yaml', docs.join(''));
    const { value, stallMs, totalMs } = await longestStall(() => readManifestFile(dir, 'many-docs.yaml'));
    expect(value && 'offers' in value && value.offers.every((o) => o.input.parsed.ok) && value.offers.length).toBe(docs.length);
    // Parsed at once this is one stall as long as the whole parse (1.4 s on the loaded test machine).
    expect(stallMs).toBeLessThan(totalMs / 4);
  });

  it('reads YAML fed in whole lines exactly as in one piece (the slices end at line ends)', () => {
    const text = [
      'a: 1\nmetadata:\n  name: o1\n  labels: { x: "1", y: [1, 2,\n    3] }\n',
      'text: |\n  line one\n  line two\n\nfolded: >-\n  folded\n  words\n',
      'quoted: "spans\n  two lines"\nsingle: \'it\'\'s\n  here\'\n',
      'anchors:\n  base: &b { k: v }\n  copy: *b\n# a comment\nlist:\n- a\n-   - nested\n    - seq\n',
      '---\nsecond: doc\n...\n---\n- third\n',
    ].join('');
    const whole = JSON.stringify(parseAllDocuments(text).map((d) => d.toJS()));
    const lineEnds = [...text.matchAll(/\n/g)].map((m) => (m.index ?? 0) + 1);
    for (const cut of lineEnds) {
      const parser = new Parser();
      const composer = new Composer();
      const docs = [];
      for (const part of [text.slice(0, cut), text.slice(cut)]) for (const token of parser.parse(part, true)) docs.push(...composer.next(token));
      for (const token of parser.parse('', false)) docs.push(...composer.next(token));
      docs.push(...composer.end());
      expect(docs.flatMap((d) => d.errors.map((e) => e.message)), `cut at ${cut}`).toEqual([]);
      expect(JSON.stringify(docs.map((d) => d.toJS())), `cut at ${cut}`).toBe(whole);
    }
    expect(JSON.stringify(manifestDocuments(text))).toBe(JSON.stringify(parseAllDocuments(text).map((d) => d.toJS()).flatMap((v) => (v === null ? [] : [v]))));
  });
});
