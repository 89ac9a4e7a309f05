import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { OFFER_KIND, parseServiceOffer, rawOfferKey, type OfferProblem, type PlanInput } from '../../../core/index.js';

/**
 * Read a directory of ServiceOffer manifests (`*.yaml`, `*.yml`, `*.json`; multi-document YAML and
 * `kind: List` allowed) into core `PlanInput`s. A file that does not parse, or an offer that fails
 * validation, becomes an input with problems naming the file: never a crash, never a reason to drop
 * the other offers. Non-ServiceOffer documents are ignored. `.json` files are read with `JSON.parse`
 * (the YAML parser only words the error when that fails). Used by the publisher and the agent's
 * `dir:` source (which parses file by file and caches); `sources` tells the manifest-editing CLI
 * which file holds which offer.
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

/** `*.yaml`, `*.yml` or `*.json`, not hidden. */
export function isManifestFileName(name: string): boolean {
  return MANIFEST_FILE.test(name);
}

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

/** Flatten `kind: List` items; null/empty documents are dropped. */
function flattenDocuments(values: readonly unknown[]): unknown[] {
  const docs: unknown[] = [];
  for (const value of values) {
    if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items)) docs.push(...(value.items as unknown[]));
    else if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

/** The documents of one file, with `kind: List` items flattened. Throws on a syntax error. */
export function manifestDocuments(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw new Error(error.message.split('\n')[0]);
    values.push(doc.toJS());
  }
  return flattenDocuments(values);
}

/** `.json` files go through `JSON.parse` (far cheaper than the YAML parser); the YAML parser words the error when it fails. */
function fileDocuments(file: string, text: string): unknown[] {
  if (/\.json$/i.test(file)) {
    try {
      return flattenDocuments([JSON.parse(text) as unknown]);
    } catch {
      // not plain JSON: the YAML parser (a JSON superset) reads it or says why not
    }
  }
  return manifestDocuments(text);
}

/** One ServiceOffer document of a file, parsed and checked once. */
export interface ManifestOffer {
  /** The offer's key, or a file-derived one when the document has no name. */
  readonly key: string;
  /** The document's index in the file (after `kind: List` flattening). */
  readonly index: number;
  /** The input as published when this document is the offer's first definition. */
  readonly input: PlanInput;
}

/** What one manifest file holds: its ServiceOffers, or why it could not be read. */
export type ManifestFile = { readonly offers: readonly ManifestOffer[] } | { readonly problem: PlanInput };

/** Parse one file's text; never throws (a broken file becomes a problem naming it). */
export function parseManifestFile(file: string, text: string): ManifestFile {
  let docs: unknown[];
  try {
    docs = fileDocuments(file, text);
  } catch (error) {
    return { problem: problemInput(fileKey('default', file), [{ field: '(file)', message: `cannot parse ${file}: ${(error as Error).message}` }]) };
  }
  const offers: ManifestOffer[] = [];
  docs.forEach((doc, index) => {
    if (!isRecord(doc) || doc.kind !== OFFER_KIND) return;
    const key = rawOfferKey(doc, `file:${file}#${index}`);
    const parsed = parseServiceOffer(doc);
    offers.push({ key, index, input: parsed.ok ? { key, parsed } : problemInput(key, withFile(parsed.problems, file)) });
  });
  return { offers };
}

/** A file that could not be read at all. */
export function unreadableManifestFile(file: string, error: unknown): ManifestFile {
  const message = `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  return { problem: problemInput(fileKey('default', file), [{ field: '(file)', message }]) };
}

/**
 * The plan inputs of parsed files taken in file-name order: an offer defined again in a later file
 * (or document) becomes a problem input and the first definition wins.
 */
export function assembleManifests(files: Iterable<readonly [string, ManifestFile]>): ManifestSet {
  const seen = new Map<string, string>();
  const inputs: PlanInput[] = [];
  for (const [file, parsed] of files) {
    if ('problem' in parsed) {
      inputs.push(parsed.problem);
      continue;
    }
    for (const { key, index, input } of parsed.offers) {
      const firstFile = seen.get(key);
      if (firstFile === undefined) {
        seen.set(key, file);
        inputs.push(input);
        continue;
      }
      const namespace = key.split('/')[0] ?? 'default';
      const message = `offer ${key} is already defined in ${firstFile}; this copy is ignored (in ${file})`;
      inputs.push(problemInput(fileKey(namespace, file, index), [{ field: 'metadata.name', message }]));
    }
  }
  return { inputs, sources: seen };
}

/** The manifest file names directly in `dir` (not recursive), sorted. */
export async function manifestFileNames(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && MANIFEST_FILE.test(e.name)).map((e) => e.name).sort();
  } catch (error) {
    throw new ManifestDirectoryError(dir, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
}

/** Read every manifest file directly in `dir` (not recursive), in file-name order. */
/**
 * Read and parse one manifest file; a read error becomes an invalid offer naming the file.
 * Undefined when the file vanished meanwhile (a directory being edited).
 */
export async function readManifestFile(dir: string, name: string): Promise<ManifestFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, name), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return unreadableManifestFile(name, error);
  }
  return parseManifestFile(name, text);
}

export async function readOfferManifests(dir: string): Promise<ManifestSet> {
  const files: Array<[string, ManifestFile]> = [];
  for (const name of await manifestFileNames(dir)) {
    const file = await readManifestFile(dir, name);
    if (file) files.push([name, file]);
  }
  return assembleManifests(files);
}
