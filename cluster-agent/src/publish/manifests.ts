import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Composer, LineCounter, Parser, isMap, isPair, isScalar, isSeq, type Document } from 'yaml';
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

/**
 * Largest manifest file read: 1.5 MiB, etcd's default request limit (`--max-request-bytes`), which
 * caps every object the API server stores, so no ServiceOffer it would accept is larger. Split a
 * bigger `kind: List` into several files.
 */
export const MAX_MANIFEST_BYTES = 1.5 * 1024 * 1024;
/** Characters of YAML lexed between two yields to the event loop (about 8 ms on the project machine). */
const YAML_SLICE_CHARS = 8 * 1024;
/** Map entries checked for duplicates between two yields. */
const KEYS_PER_SLICE = 20_000;

/** `*.yaml`, `*.yml` or `*.json`, not hidden. */
export function isManifestFileName(name: string): boolean {
  return MANIFEST_FILE.test(name);
}

/** A key that cannot collide with a real offer (":" is not allowed in a Kubernetes name). */
function fileKey(namespace: string, file: string, index?: number): string {
  return `${namespace}/file:${file}${index === undefined ? '' : `#${index}`}`;
}

function problemInput(key: string, problems: readonly OfferProblem[], file: string): PlanInput {
  return { key, parsed: { ok: false, problems }, file };
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

/** `offset` in the text as "line L, column C". */
function where(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `line ${line}, column ${col}`;
}

/**
 * The first key repeated in one of the document's maps, with where it is: one pass over every map
 * entry, keys compared as the yaml package does (scalars by value, so 1 and "1" differ; other keys
 * never equal). Yields every `KEYS_PER_SLICE` entries.
 */
function* duplicateKey(doc: Document.Parsed, lines: LineCounter): Generator<void, string | undefined> {
  const pending: unknown[] = [doc.contents];
  let checked = 0;
  while (pending.length) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (++checked % KEYS_PER_SLICE === 0) yield;
        pending.push(pair.key, pair.value);
        if (!isScalar(pair.key)) continue;
        const key = pair.key.value;
        if (seen.has(key)) {
          const name = typeof key === 'string' ? JSON.stringify(key) : String(key);
          return `duplicate key ${name} at ${where(lines, pair.key.range?.[0] ?? 0)} (map keys must be unique)`;
        }
        seen.add(key);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(item); // not push(...items): 100,000 arguments overflow the stack
    } else if (isPair(node)) {
      pending.push(node.key, node.value);
    }
  }
  return undefined;
}

/** One document's value; throws on its first error or a duplicate key. */
function* documentValue(doc: Document.Parsed, lines: LineCounter): Generator<void, unknown> {
  const error = doc.errors[0];
  if (error) throw new Error(`${error.message.split('\n')[0]} at ${where(lines, error.pos[0])}`);
  const duplicate = yield* duplicateKey(doc, lines);
  if (duplicate) throw new Error(duplicate);
  return doc.toJS();
}

/**
 * The values of every YAML document of `text`. A generator that pauses (yields) between slices of
 * the text, between documents and during the duplicate-key check, so a caller can let the event
 * loop run; `uniqueKeys: false` because `duplicateKey` does that check in linear time.
 */
function* yamlValues(text: string): Generator<void, unknown[]> {
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ uniqueKeys: false });
  const values: unknown[] = [];
  function* take(docs: Iterable<Document.Parsed>): Generator<void> {
    for (const doc of docs) {
      values.push(yield* documentValue(doc, lines));
      yield;
    }
  }
  for (let at = 0; at < text.length; ) {
    // Whole lines (a longer line goes whole): yaml 2.9.1's lexer misreads some lines cut short
    // ("a: 1\nm:\n " then " n: 1\n" fails "Nested mappings are not allowed in compact mappings").
    const cut = text.lastIndexOf('\n', at + YAML_SLICE_CHARS - 1);
    const end = cut >= at ? cut + 1 : text.indexOf('\n', at) + 1 || text.length;
    for (const token of parser.parse(text.slice(at, end), true)) yield* take(composer.next(token));
    at = end;
    yield;
  }
  for (const token of parser.parse('', false)) yield* take(composer.next(token));
  yield* take(composer.end());
  return values;
}

/** Run a parse to the end at once. */
function runNow<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Run a parse, letting the event loop turn (timers, I/O, `/healthz`) at each of its pauses. */
async function runYielding<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

/** The documents of one file, with `kind: List` items flattened. Throws on a syntax error or a duplicate key. */
export function manifestDocuments(text: string): unknown[] {
  return flattenDocuments(runNow(yamlValues(text)));
}

/** `.json` files go through `JSON.parse` (far cheaper than the YAML parser); the YAML parser words the error when it fails. */
function* fileDocuments(file: string, text: string): Generator<void, unknown[]> {
  if (/\.json$/i.test(file)) {
    try {
      return flattenDocuments([JSON.parse(text) as unknown]);
    } catch {
      // not plain JSON: the YAML parser (a JSON superset) reads it or says why not
    }
  }
  return flattenDocuments(yield* yamlValues(text));
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

/** The file's ServiceOffers, each parsed and checked; pauses as `yamlValues` does. */
function* manifestFileSteps(file: string, text: string): Generator<void, ManifestFile> {
  let docs: unknown[];
  try {
    docs = yield* fileDocuments(file, text);
  } catch (error) {
    return { problem: problemInput(fileKey('default', file), [{ field: '(file)', message: `cannot parse ${file}: ${(error as Error).message}` }], file) };
  }
  const offers: ManifestOffer[] = [];
  for (const [index, doc] of docs.entries()) {
    if (!isRecord(doc) || doc.kind !== OFFER_KIND) continue;
    const key = rawOfferKey(doc, `file:${file}#${index}`);
    const parsed = parseServiceOffer(doc);
    offers.push({ key, index, input: parsed.ok ? { key, parsed, file } : problemInput(key, withFile(parsed.problems, file), file) });
    yield;
  }
  return { offers };
}

/** Parse one file's text; never throws (a broken file becomes a problem naming it). */
export function parseManifestFile(file: string, text: string): ManifestFile {
  return runNow(manifestFileSteps(file, text));
}

/** A file that could not be read at all. */
export function unreadableManifestFile(file: string, error: unknown): ManifestFile {
  const message = `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  return { problem: problemInput(fileKey('default', file), [{ field: '(file)', message }], file) };
}

function oversizedManifestFile(file: string, bytes: number): ManifestFile {
  const message = `cannot read ${file}: ${bytes} bytes is over the manifest limit of ${MAX_MANIFEST_BYTES} bytes (1.5 MiB, the API server's own object limit)`;
  return { problem: problemInput(fileKey('default', file), [{ field: '(file)', message }], file) };
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
      inputs.push(problemInput(fileKey(namespace, file, index), [{ field: 'metadata.name', message }], file));
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

/** The file's text, or its size when over the limit (read no further); undefined when it vanished. */
async function readBounded(path: string): Promise<string | { tooLarge: number } | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_MANIFEST_BYTES) return { tooLarge: size };
    const bytes = await handle.readFile();
    // it may have grown since the stat
    return bytes.byteLength > MAX_MANIFEST_BYTES ? { tooLarge: bytes.byteLength } : bytes.toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Read and parse one manifest file, yielding to the event loop as it goes; a read error or a file
 * over the size limit becomes an invalid offer naming the file. Undefined when the file vanished
 * meanwhile (a directory being edited).
 */
export async function readManifestFile(dir: string, name: string): Promise<ManifestFile | undefined> {
  let text: string | { tooLarge: number } | undefined;
  try {
    text = await readBounded(join(dir, name));
  } catch (error) {
    return unreadableManifestFile(name, error);
  }
  if (text === undefined) return undefined;
  if (typeof text !== 'string') return oversizedManifestFile(name, text.tooLarge);
  return runYielding(manifestFileSteps(name, text));
}

/** Read every manifest file directly in `dir` (not recursive), in file-name order. */
export async function readOfferManifests(dir: string): Promise<ManifestSet> {
  const files: Array<[string, ManifestFile]> = [];
  for (const name of await manifestFileNames(dir)) {
    const file = await readManifestFile(dir, name);
    if (file) files.push([name, file]);
  }
  return assembleManifests(files);
}
