import { clockTransitions, snapshotFacts, type CatalogSnapshot } from '../../../core/index.js';
import { sha256Hex } from '../../../core/sha256.js';
import { CATALOG_PAGE_PATH, renderCatalogPage } from '../../../core/render/catalog-html.js';
import { REGISTRATION_SCHEMA_PATH, SERVICES_SCHEMA_PATH } from '../../../core/render/document-paths.js';
import { registrationJsonSchema, renderRegistrationDocument, serializeRegistrationDocument } from '../../../core/render/registration.js';
import { OPENAPI_PATH, renderOpenApiDocument, serializeOpenApiDocument } from '../../../core/render/openapi.js';
import { renderServicesDocument, serializeServicesDocument, servicesJsonSchema } from '../../../core/render/services-json.js';
import { renderSkillMarkdown, SERVICES_PATH } from '../../../core/render/skill-md.js';
import type { CatalogView } from '../catalog/view.js';

/**
 * The discovery documents as this isolate serves them: each rendered once per (snapshot, clock
 * epoch) into the view's memo, with its strong ETag computed once from the exact bytes. An epoch
 * runs between two instants at which some offer's publication verdict changes by the clock alone.
 */

export const JSON_TYPE = 'application/json';
export const MARKDOWN_TYPE = 'text/markdown; charset=utf-8';
export const HTML_PAGE_TYPE = 'text/html; charset=utf-8';

export interface RenderedDocument {
  readonly body: string;
  readonly contentType: string;
  /** Quoted strong entity tag of `body`. */
  readonly etag: string;
  /** Headers that belong to this render (the page's Content-Security-Policy). */
  readonly headers?: Readonly<Record<string, string>>;
}

type RenderParams = { snapshot: CatalogSnapshot; baseUrl: string; nowMs: number };
type Rendered = string | { readonly body: string; readonly headers: Readonly<Record<string, string>> };

/** `/` for people: the catalog page allows only its own inline style and script; JSON clients are sent on (routes.ts). */
function catalogPage(p: RenderParams): Rendered {
  const page = renderCatalogPage(p);
  return {
    body: page.html,
    headers: { 'Content-Security-Policy': page.contentSecurityPolicy, Vary: 'Accept', Link: `<${SERVICES_PATH}>; rel="alternate"; type="application/json"` },
  };
}

/** The registration file names its JSON Schema by a header: ERC-8004 defines no key for it in the file. */
function registrationFile(p: RenderParams): Rendered {
  return { body: serializeRegistrationDocument(renderRegistrationDocument(p)), headers: { Link: `<${REGISTRATION_SCHEMA_PATH}>; rel="describedby"` } };
}

export const CATALOG_DOCUMENTS = {
  '/api/services.json': { contentType: JSON_TYPE, render: (p: RenderParams) => serializeServicesDocument(renderServicesDocument(p)) },
  '/skill.md': { contentType: MARKDOWN_TYPE, render: (p: RenderParams) => renderSkillMarkdown(p) },
  '/.well-known/agent-registration.json': { contentType: JSON_TYPE, render: registrationFile },
  [CATALOG_PAGE_PATH]: { contentType: HTML_PAGE_TYPE, render: catalogPage },
  [OPENAPI_PATH]: { contentType: JSON_TYPE, render: (p: RenderParams) => serializeOpenApiDocument(renderOpenApiDocument(p)) },
} as const;
export type CatalogDocumentPath = keyof typeof CATALOG_DOCUMENTS;

/** JSON Schemas served beside their documents; they do not depend on the catalog. */
export const SCHEMA_DOCUMENTS = {
  [SERVICES_SCHEMA_PATH]: servicesJsonSchema,
  [REGISTRATION_SCHEMA_PATH]: registrationJsonSchema,
} as const;
export type SchemaDocumentPath = keyof typeof SCHEMA_DOCUMENTS;

async function strongEtag(body: string): Promise<string> {
  return `"${(await sha256Hex(body)).slice(2)}"`;
}

async function withEtag(rendered: Rendered, contentType: string): Promise<RenderedDocument> {
  if (typeof rendered === 'string') return { body: rendered, contentType, etag: await strongEtag(rendered) };
  return { body: rendered.body, contentType, etag: await strongEtag(rendered.body), headers: rendered.headers };
}

/** Distinct instants at which any offer's verdict changes by the clock (core `clockTransitions`), ascending; once per view. */
function catalogTransitions(view: CatalogView): readonly number[] {
  return view.memo('discovery:transitions', () => {
    const transitions = new Set<number>();
    for (const offer of view.snapshot.offers) for (const at of clockTransitions(snapshotFacts(offer))) transitions.add(at);
    return [...transitions].sort((a, b) => a - b);
  });
}

/** Index of the first transition after `nowMs` (binary search): it names the clock epoch. */
function epochAt(transitions: readonly number[], nowMs: number): number {
  let low = 0;
  let high = transitions.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((transitions[mid] ?? Infinity) <= nowMs) low = mid + 1;
    else high = mid;
  }
  return low;
}

export interface ServedDocument {
  readonly document: RenderedDocument;
  /** The next instant after now at which any offer's verdict changes, when any: responses must not stay fresh past it. */
  readonly nextTransitionMs: number | undefined;
}

/** One slot per document and view: it holds only the current epoch's render, so memory stays bounded. */
interface DocumentSlot {
  key: string;
  document: Promise<RenderedDocument> | undefined;
}

/** The document for `path` at `nowMs`; a passing transition starts a new epoch, hence a fresh render. */
export async function catalogDocument(params: { view: CatalogView; path: CatalogDocumentPath; baseUrl: string; nowMs: number }): Promise<ServedDocument> {
  const { view, path, baseUrl, nowMs } = params;
  const transitions = catalogTransitions(view);
  const epoch = epochAt(transitions, nowMs);
  const slot = view.memo<DocumentSlot>(`discovery:${path}`, () => ({ key: '', document: undefined }));
  const key = `${baseUrl} ${epoch}`;
  if (slot.key !== key || slot.document === undefined) {
    const spec = CATALOG_DOCUMENTS[path];
    slot.document = withEtag(spec.render({ snapshot: view.snapshot, baseUrl, nowMs }), spec.contentType);
    slot.key = key;
  }
  return { document: await slot.document, nextTransitionMs: transitions[epoch] };
}

const schemaDocuments = new Map<SchemaDocumentPath, Promise<RenderedDocument>>();

/** A JSON Schema document: static, so built once per isolate. */
export function schemaDocument(path: SchemaDocumentPath): Promise<RenderedDocument> {
  let document = schemaDocuments.get(path);
  if (document === undefined) {
    document = withEtag(SCHEMA_DOCUMENTS[path](), JSON_TYPE);
    schemaDocuments.set(path, document);
  }
  return document;
}
