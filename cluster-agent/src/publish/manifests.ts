import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { OFFER_KIND, parseServiceOffer, rawOfferKey, type OfferProblem, type PlanInput } from '../../../core/index.js';

/**
 * Read a directory of ServiceOffer manifests (`*.yaml`, `*.yml`, `*.json`; multi-document YAML and
 * `kind: List` allowed) into core `PlanInput`s. A file that does not parse, or an offer that fails
 * validation, becomes an input with problems naming the file: never a crash, never a reason to drop
 * the other offers. Non-ServiceOffer documents are ignored. Used by the publisher and the agent's
 * `dir:` source; `sources` tells the manifest-editing CLI which file holds which offer.
 */

export interface ManifestSet {
  /** One per ServiceOffer document (or per unreadable file), in file then document order. */
  readonly inputs: readonly PlanInput[];
  /** Offer key → file name (relative to the directory) that defines it. */
  readonly sources: ReadonlyMap<string, string>;
}

export class ManifestDirectoryError extends Error {
  readonly reason = 'manifest_directory_unreadable';
  constructor(readonly dir: string, detail: string) {
    super(`cannot read the offers directory ${dir}: ${detail}`);
    this.name = 'ManifestDirectoryError';
  }
}

const MANIFEST_FILE = /^[^.].*\.(ya?ml|json)$/i;

/** A key that cannot collide with a real offer (":" is not allowed in a Kubernetes name). */
function fileKey(namespace: string, file: string, index?: number): string {
  return `${namespace}/file:${file}${index === undefined ? '' : `#${index}`}`;
}

function problemInput(key: string, problems: readonly OfferProblem[]): PlanInput {
  return { key, parsed: { ok: false, problems } };
}

function withFile(problems: readonly OfferProblem[], file: string): OfferProblem[] {
  return problems.map((p) => ({ field: p.field, message: `${p.message} (in ${file})` }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The documents of one file, with `kind: List` items flattened. Throws on a syntax error. */
export function manifestDocuments(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw new Error(error.message.split('\n')[0]);
    const value: unknown = doc.toJS();
    if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items)) values.push(...(value.items as unknown[]));
    else if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

/** Parse one file's text into plan inputs; `seen` (key → file) detects offers defined twice. */
export function manifestInputs(file: string, text: string, seen: Map<string, string>): PlanInput[] {
  let docs: unknown[];
  try {
    docs = manifestDocuments(text);
  } catch (error) {
    return [problemInput(fileKey('default', file), [{ field: '(file)', message: `cannot parse ${file}: ${(error as Error).message}` }])];
  }
  const inputs: PlanInput[] = [];
  docs.forEach((doc, index) => {
    if (!isRecord(doc) || doc.kind !== OFFER_KIND) return;
    const key = rawOfferKey(doc, `file:${file}#${index}`);
    const firstFile = seen.get(key);
    if (firstFile !== undefined) {
      const namespace = key.split('/')[0] ?? 'default';
      const message = `offer ${key} is already defined in ${firstFile}; this copy is ignored (in ${file})`;
      inputs.push(problemInput(fileKey(namespace, file, index), [{ field: 'metadata.name', message }]));
      return;
    }
    seen.set(key, file);
    const parsed = parseServiceOffer(doc);
    inputs.push(parsed.ok ? { key, parsed } : problemInput(key, withFile(parsed.problems, file)));
  });
  return inputs;
}

/** Read every manifest file directly in `dir` (not recursive), in file-name order. */
export async function readOfferManifests(dir: string): Promise<ManifestSet> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((e) => e.isFile() && MANIFEST_FILE.test(e.name)).map((e) => e.name).sort();
  } catch (error) {
    throw new ManifestDirectoryError(dir, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  const seen = new Map<string, string>();
  const inputs: PlanInput[] = [];
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch (error) {
      const message = `cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      inputs.push(problemInput(fileKey('default', name), [{ field: '(file)', message }]));
      continue;
    }
    inputs.push(...manifestInputs(name, text, seen));
  }
  return { inputs, sources: seen };
}
