import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, Scalar, type Document } from 'yaml';
import { OFFER_KIND, rawOfferKey } from '../../../core/index.js';
import { manifestDocuments, readOfferManifests } from '../publish/manifests.js';
import { SellError, type DrainFields } from './drain-edit.js';
import { byNamespaceThenName, drainFieldsOf, type OfferRecord, type SellTarget } from './target.js';

/**
 * `sell --source dir:<path>`: offers are the ServiceOffer documents of the manifest directory (the
 * same reader as the publisher). Edits change only the offer's document: YAML through the `yaml`
 * Document API (comments kept, other documents byte-for-byte), JSON re-serialised with 2 spaces.
 */

type Path = Array<string | number>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isOffer = (v: unknown, key: string) => isRecord(v) && v.kind === OFFER_KIND && rawOfferKey(v, '') === key;

/** Where the offer sits inside one parsed document: the document itself or an item of a `kind: List`. */
function locate(value: unknown, key: string): Path | undefined {
  if (isOffer(value, key)) return [];
  if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items)) {
    const index = value.items.findIndex((item) => isOffer(item, key));
    return index >= 0 ? ['items', index] : undefined;
  }
  return undefined;
}

function editYamlDocument(doc: Document, at: Path, fields: Required<DrainFields> | null): void {
  if (fields === null) {
    doc.deleteIn([...at, 'spec', 'drainAt']);
    doc.deleteIn([...at, 'spec', 'drainGracePeriod']);
    return;
  }
  // Quoted, so YAML 1.1 readers (kubectl) keep the time a string.
  const drainAt = new Scalar(fields.drainAt);
  drainAt.type = Scalar.QUOTE_DOUBLE;
  doc.setIn([...at, 'spec', 'drainAt'], drainAt);
  doc.setIn([...at, 'spec', 'drainGracePeriod'], fields.drainGracePeriod);
}

function editYaml(text: string, key: string, fields: Required<DrainFields> | null): string {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const [i, doc] of list.entries()) {
    const at = locate(doc.toJS(), key);
    if (!at) continue;
    editYamlDocument(doc, at, fields);
    const start = i === 0 ? 0 : (list[i - 1]?.range[2] ?? 0);
    return text.slice(0, start) + doc.toString() + text.slice(doc.range[2]);
  }
  throw new SellError('offer_not_found', `offer ${key} is no longer in the file`);
}

function editJson(text: string, key: string, fields: Required<DrainFields> | null): string {
  const value: unknown = JSON.parse(text);
  const at = locate(value, key);
  if (!at) throw new SellError('offer_not_found', `offer ${key} is no longer in the file`);
  const offer = at.length === 0 ? value : (value as { items: unknown[] }).items[at[1] as number];
  const spec = (offer as { spec?: Record<string, unknown> }).spec ?? {};
  (offer as { spec: Record<string, unknown> }).spec = spec;
  delete spec.drainAt;
  delete spec.drainGracePeriod;
  if (fields) Object.assign(spec, fields);
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function createDirTarget(dir: string): SellTarget {
  const file = (r: OfferRecord) => (r as OfferRecord & { file: string }).file;
  async function records(): Promise<Array<OfferRecord & { file: string }>> {
    const { sources } = await readOfferManifests(dir);
    const out: Array<OfferRecord & { file: string }> = [];
    for (const name of new Set(sources.values())) {
      let docs: unknown[];
      try {
        docs = manifestDocuments(await readFile(join(dir, name), 'utf8'));
      } catch {
        continue; // unreadable files are reported by the publisher; they hold no editable offer
      }
      for (const doc of docs) {
        if (!isRecord(doc) || doc.kind !== OFFER_KIND) continue;
        const key = rawOfferKey(doc, '');
        const [namespace = 'default', offerName = ''] = key.split('/');
        if (sources.get(key) === name && !out.some((r) => r.namespace === namespace && r.name === offerName)) {
          out.push({ namespace, name: offerName, object: doc, drain: drainFieldsOf(doc), file: name });
        }
      }
    }
    return out.sort(byNamespaceThenName);
  }
  return {
    defaultNamespace: 'default',
    where: (r) => `${join(dir, file(r))}`,
    async list(namespace) {
      return (await records()).filter((r) => namespace === undefined || r.namespace === namespace);
    },
    async get(namespace, name) {
      const found = (await records()).find((r) => r.namespace === namespace && r.name === name);
      if (!found) throw new SellError('offer_not_found', `no ServiceOffer ${namespace}/${name} in ${dir}`);
      return found;
    },
    async setDrain(r, fields) {
      const path = join(dir, file(r));
      const text = await readFile(path, 'utf8');
      const key = `${r.namespace}/${r.name}`;
      const edited = /\.json$/i.test(path) ? editJson(text, key, fields) : editYaml(text, key, fields);
      // Write then rename: a watcher (the dir: source) never sees a half-written file.
      const temp = join(dir, `.${file(r)}.sell-${process.pid}.tmp`);
      await writeFile(temp, edited);
      await rename(temp, path);
    },
  };
}
