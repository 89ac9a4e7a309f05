import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { offerManifest, waitFor } from '../../test/agent/support.js';
import { silentLogger } from '../agent/log.js';
import { createDirSource } from './dir.js';
import type { OfferSource } from './source.js';

let dir: string;
let source: OfferSource | undefined;
let reported: string[];

const write = (file: string, value: unknown) => writeFileSync(join(dir, file), typeof value === 'string' ? value : file.endsWith('.json') ? JSON.stringify(value) : stringify(value));
const price = (perRequest: string) => ({ payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest } } });

async function start(): Promise<OfferSource> {
  source = createDirSource({ dir, log: silentLogger, settleMs: 10, rescanMs: 100 });
  await source.start((key) => reported.push(key));
  reported = [];
  return source;
}

/** Wait for two full rescans to have run, so "nothing reported" means nothing changed. */
const quiet = () => new Promise((resolve) => setTimeout(resolve, 300));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'obol-dir-source-'));
  reported = [];
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('dir: source', () => {
  it('an edited file reports only its offer; the other offers keep their record objects', async () => {
    write('a.json', offerManifest('a', 'http://127.0.0.1:9'));
    write('b.yaml', offerManifest('b', 'http://127.0.0.1:9'));
    const s = await start();
    const before = new Map(s.records().map((r) => [r.key, r]));
    write('a.json', offerManifest('a', 'http://127.0.0.1:9', price('0.5')));
    await waitFor('the edit reported', () => reported.includes('llm/a'));
    await quiet();
    expect(reported).toEqual(['llm/a']);
    expect(s.get('llm/b')).toBe(before.get('llm/b'));
    const a = s.get('llm/a')?.input.parsed;
    expect(a?.ok && a.offer.spec.payment.price.perRequest).toBe('0.5');
  });

  it('a file rewritten with the same offer reports nothing; a removed file reports its offer', async () => {
    write('a.yaml', offerManifest('a', 'http://127.0.0.1:9'));
    write('b.yaml', offerManifest('b', 'http://127.0.0.1:9'));
    const s = await start();
    const a = s.get('llm/a');
    write('a.yaml', `# touched\n${stringify(offerManifest('a', 'http://127.0.0.1:9'))}`);
    await quiet();
    expect(reported).toEqual([]);
    expect(s.get('llm/a')).toBe(a);
    unlinkSync(join(dir, 'b.yaml'));
    await waitFor('the removal reported', () => reported.includes('llm/b'));
    expect(s.records().map((r) => r.key)).toEqual(['llm/a']);
  });

  it('an offer defined twice: removing the first file makes the second copy the definition', async () => {
    write('1.yaml', offerManifest('dup', 'http://127.0.0.1:9'));
    write('2.yaml', offerManifest('dup', 'http://127.0.0.1:9', price('0.7')));
    const s = await start();
    expect(s.records().map((r) => [r.key, r.input.parsed.ok])).toEqual([['llm/dup', true], ['llm/file:2.yaml#0', false]]);
    unlinkSync(join(dir, '1.yaml'));
    await waitFor('the second copy takes over', () => s.records().length === 1);
    const dup = s.get('llm/dup')?.input.parsed;
    expect(dup?.ok && dup.offer.spec.payment.price.perRequest).toBe('0.7');
    expect(reported.sort()).toEqual(['llm/dup', 'llm/file:2.yaml#0']);
  });

  it("a .json file that is not JSON gets the YAML parser's reason, naming the file; the others still load", async () => {
    write('good.json', offerManifest('good', 'http://127.0.0.1:9'));
    write('bad.json', '{"kind": "ServiceOffer", "metadata": [unclosed');
    const s = await start();
    const bad = s.records().find((r) => r.key !== 'llm/good');
    expect(bad?.key).toBe('default/file:bad.json');
    expect(bad?.input.parsed.ok === false && bad.input.parsed.problems[0]?.message).toMatch(/^cannot parse bad\.json: /);
    expect(s.get('llm/good')?.input.parsed.ok).toBe(true);
  });
});
