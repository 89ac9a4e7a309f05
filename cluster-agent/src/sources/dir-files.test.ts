import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { offerManifest, waitFor } from '../../test/agent/support.js';
import { silentLogger } from '../agent/log.js';
import { MAX_MANIFEST_BYTES } from '../publish/manifests.js';
import { createDirSource } from './dir.js';
import type { OfferSource } from './source.js';

/** The dir: source names each offer's file (the agent's log and status say where to look). */

let dir: string;
let source: OfferSource | undefined;
let reported: string[];

const write = (file: string, text: string) => writeFileSync(join(dir, file), text);

async function start(): Promise<OfferSource> {
  source = createDirSource({ dir, log: silentLogger, settleMs: 10, rescanMs: 100 });
  await source.start((key) => reported.push(key));
  reported = [];
  return source;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'obol-dir-files-'));
  reported = [];
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('dir: source files', () => {
  it('each record names its file; an offer moved unchanged to another file is reported with the new file', async () => {
    write('a.yaml', stringify(offerManifest('a', 'http://127.0.0.1:9')));
    write('broken.yaml', 'kind: ServiceOffer\nmetadata: [unclosed\n');
    const s = await start();
    expect(s.records().map((r) => [r.key, r.input.file])).toEqual([['llm/a', 'a.yaml'], ['default/file:broken.yaml', 'broken.yaml']]);
    write('b.yaml', stringify(offerManifest('a', 'http://127.0.0.1:9')));
    unlinkSync(join(dir, 'a.yaml'));
    await waitFor('the move reported', () => s.get('llm/a')?.input.file === 'b.yaml');
    expect(reported).toContain('llm/a');
  });

  it('a file over the size limit is an invalid offer naming the file and the limit; the others load', async () => {
    write('a.yaml', stringify(offerManifest('a', 'http://127.0.0.1:9')));
    write('huge.yaml', `# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`);
    const s = await start();
    const huge = s.get('default/file:huge.yaml')?.input;
    expect(huge?.parsed.ok === false && huge.parsed.problems[0]?.message).toMatch(/^cannot read huge\.yaml: 1572867 bytes is over the manifest limit of 1572864 bytes/);
    expect(s.get('llm/a')?.input.parsed.ok).toBe(true);
  });
});
