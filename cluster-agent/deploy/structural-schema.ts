/**
 * Convert zod 4's JSON Schema (draft 2020-12) into a Kubernetes *structural* OpenAPI v3 schema for a
 * CRD. Rules (apiextensions.k8s.io/v1): every node has a `type`; `properties` and
 * `additionalProperties` are mutually exclusive; no `$ref`, `propertyNames`, `const` or unions of
 * different types. Anything this converter does not know is an error, so the CRD can never silently
 * lose a rule when the zod schema grows.
 */

export type Schema = { [key: string]: unknown };

export class SchemaConversionError extends Error {
  readonly reason = 'schema_not_convertible';
  constructor(readonly path: string, detail: string) {
    super(`cannot convert the schema at ${path || '(root)'}: ${detail}`);
    this.name = 'SchemaConversionError';
  }
}

/** Keywords copied as they are (structural and meaningful to the API server). */
const KEPT = ['type', 'description', 'default', 'enum', 'pattern', 'format', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'required'] as const;
/** Keywords dropped on purpose, with why. */
const DROPPED: Record<string, string> = {
  $schema: 'not part of OpenAPI v3',
  propertyNames: 'not supported by CRDs; key rules stay in the zod validator',
};

const PRESERVE = 'x-kubernetes-preserve-unknown-fields';

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

function child(value: unknown, path: string): Schema {
  if (!isSchema(value)) throw new SchemaConversionError(path, 'expected a schema object');
  return convertNode(value, path);
}

/** A union of unlike types (e.g. string | string[]) cannot be structural: keep the value, let zod judge it. */
function convertUnion(node: Schema, path: string): Schema {
  const options = node.anyOf;
  if (!Array.isArray(options) || !options.every(isSchema)) throw new SchemaConversionError(path, 'anyOf must list schemas');
  const types = new Set(options.map((o) => o.type));
  if (types.size === 1 && options.length === 1) return child(options[0], path);
  return { 'x-kubernetes-preserve-unknown-fields': true };
}

function convertObject(node: Schema, out: Schema, path: string): void {
  const props = node.properties;
  const extra = node.additionalProperties;
  if (isSchema(props)) {
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, child(v, `${path}.${k}`)]));
    // `properties` + `additionalProperties` is illegal in a CRD: known keys stay typed, extra keys are kept.
    if (isSchema(extra)) out['x-kubernetes-preserve-unknown-fields'] = true;
    return;
  }
  if (isSchema(extra)) out.additionalProperties = child(extra, `${path}.*`);
}

function convertNode(node: Schema, path: string): Schema {
  if ('anyOf' in node && !('type' in node)) return convertUnion(node, path);
  // Free-form JSON (a JSON Schema, an example) marked so in zod: kept as written, judged by zod.
  if (node[PRESERVE] === true && node.type === 'object') {
    return { type: 'object', ...(typeof node.description === 'string' ? { description: node.description } : {}), [PRESERVE]: true };
  }
  const out: Schema = {};
  for (const key of Object.keys(node)) {
    if (key in DROPPED || key === 'properties' || key === 'additionalProperties' || key === 'items') continue;
    if (key === 'const') out.enum = [node.const];
    else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = node[key];
      out[key] = true;
    } else if ((KEPT as readonly string[]).includes(key)) out[key] = structuredClone(node[key]);
    else throw new SchemaConversionError(path, `unsupported keyword "${key}"`);
  }
  if (typeof out.type !== 'string') throw new SchemaConversionError(path, 'every node needs a single type');
  if (out.type === 'integer') {
    // zod marks safe integers with ±(2^53-1) bounds; in Kubernetes that is just an int64.
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
    out.format ??= 'int64';
  }
  if (out.type === 'object') convertObject(node, out, path);
  if (out.type === 'array') out.items = child(node.items, `${path}[]`);
  if (node.additionalProperties === false) delete out.additionalProperties;
  return out;
}

/** Convert a whole zod-generated JSON Schema; throws `SchemaConversionError` on anything non-structural. */
export function toStructuralSchema(jsonSchema: Schema): Schema {
  if ('$defs' in jsonSchema || '$ref' in jsonSchema) throw new SchemaConversionError('', 'references are not allowed in a CRD schema');
  return convertNode(jsonSchema, '');
}
