import { z } from 'zod';

/**
 * `spec.api`: how to call an offer's route and what it answers, for the OpenAPI document and the
 * x402 Bazaar extension of its 402. Optional; every part is bounded so the Bazaar declaration a
 * buyer echoes still fits the 16 KiB payment header. The JSON Schemas are a plain subset of JSON
 * Schema 2020-12 (no `$ref`: a declaration must stand alone), checked here key by key.
 */

export const QUERY_METHODS = ['GET', 'HEAD', 'DELETE'] as const;
export const BODY_METHODS = ['POST', 'PUT', 'PATCH'] as const;
export const API_METHODS = [...QUERY_METHODS, ...BODY_METHODS] as const;
export type ApiMethod = (typeof API_METHODS)[number];
export const BODY_TYPES = ['json', 'form-data', 'text'] as const;

/** Largest schema or example, in bytes of its JSON. */
export const MAX_API_JSON_BYTES = 2048;
/** Largest `spec.api` in all: its Bazaar declaration, echoed with a 4 KiB description, still fits the 16 KiB payment header. */
export const MAX_API_TOTAL_JSON_BYTES = 4096;
/** Bazaar keeps at most 5 tags of 1-32 printable ASCII characters (it drops the rest silently; we refuse them). */
export const MAX_API_TAGS = 5;
export const MAX_API_TAG_LENGTH = 32;

const JSON_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;
const shortText = z.string().max(512);
const count = z.number().int().min(0);

/** A JSON Schema node: keywords to values (`JsonSchemaNode` below says which keywords and values). */
export type JsonSchemaNode = { readonly [keyword: string]: unknown };

/** The JSON Schema keywords a route's schema may use; any other key is refused by name. */
export const JsonSchemaNode: z.ZodType<JsonSchemaNode, JsonSchemaNode> = z.lazy(() =>
  z.strictObject({
    type: z.union([z.enum(JSON_TYPES), z.array(z.enum(JSON_TYPES)).min(1).max(JSON_TYPES.length)]).optional(),
    title: shortText.optional(),
    description: shortText.optional(),
    format: z.string().max(64).optional(),
    pattern: shortText.optional(),
    enum: z.array(z.json()).min(1).max(64).optional(),
    const: z.json().optional(),
    default: z.json().optional(),
    examples: z.array(z.json()).max(8).optional(),
    properties: z.record(z.string().min(1).max(128), JsonSchemaNode).optional(),
    required: z.array(z.string().min(1).max(128)).max(64).optional(),
    additionalProperties: z.union([z.boolean(), JsonSchemaNode]).optional(),
    items: JsonSchemaNode.optional(),
    anyOf: z.array(JsonSchemaNode).min(1).max(16).optional(),
    oneOf: z.array(JsonSchemaNode).min(1).max(16).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    exclusiveMinimum: z.number().optional(),
    exclusiveMaximum: z.number().optional(),
    minLength: count.optional(),
    maxLength: count.optional(),
    minItems: count.optional(),
    maxItems: count.optional(),
  }),
);

function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

/** A JSON object of at most MAX_API_JSON_BYTES; in the CRD an object the API server keeps as written. */
const boundedObject = (what: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((value) => jsonBytes(value) <= MAX_API_JSON_BYTES, {
      error: (issue) => `must be at most ${MAX_API_JSON_BYTES} bytes as JSON (is ${jsonBytes(issue.input)})`,
      abort: true,
    })
    .meta({ 'x-kubernetes-preserve-unknown-fields': true, description: `${what}; at most ${MAX_API_JSON_BYTES} bytes as JSON (checked by the agent)` });

const schemaField = (what: string) => boundedObject(what).pipe(JsonSchemaNode);
const exampleField = (what: string) => boundedObject(what).pipe(z.record(z.string(), z.json()));

/** The query parameters' schema: an object schema whose properties are the parameters. */
const querySchema = schemaField('JSON Schema of the query parameters: type "object", one property per parameter').refine(
  (schema) => schema.type === 'object',
  'must be an object schema (type: "object") whose properties are the query parameters',
);

const tag = z
  .string()
  .min(1)
  .max(MAX_API_TAG_LENGTH)
  .regex(/^[ -~]+$/, 'must be printable ASCII');

export const RouteApi = z.object({
  method: z.enum(API_METHODS).describe('the HTTP method the route is called with'),
  query: z
    .object({
      schema: querySchema,
      example: exampleField('example query parameter values').optional(),
    })
    .describe('GET, HEAD and DELETE only: the query parameters')
    .optional(),
  body: z
    .object({
      type: z.enum(BODY_TYPES).default('json'),
      schema: schemaField('JSON Schema of the request body'),
      example: exampleField('an example request body').optional(),
    })
    .describe('POST, PUT and PATCH only: the request body')
    .optional(),
  output: z
    .object({ example: exampleField('an example response body (a JSON object)') })
    .describe('what a paid request answers')
    .optional(),
  tags: z
    .array(tag)
    .max(MAX_API_TAGS)
    .refine((tags) => new Set(tags.map((t) => t.toLowerCase())).size === tags.length, 'must not repeat a tag (compared ignoring case)')
    .describe(`up to ${MAX_API_TAGS} short topics for discovery, printable ASCII, at most ${MAX_API_TAG_LENGTH} characters each`)
    .optional(),
}).refine((api) => jsonBytes(api) <= MAX_API_TOTAL_JSON_BYTES, {
  error: (issue) => `must be at most ${MAX_API_TOTAL_JSON_BYTES} bytes as JSON in all (is ${jsonBytes(issue.input)})`,
});
export type RouteApi = z.infer<typeof RouteApi>;
export type RouteApiInput = z.input<typeof RouteApi>;

export function isQueryMethod(method: ApiMethod): method is (typeof QUERY_METHODS)[number] {
  return (QUERY_METHODS as readonly string[]).includes(method);
}

/** The schema's required top-level properties that the example leaves out. */
function missingRequired(schema: JsonSchemaNode, example: Record<string, unknown> | undefined): string[] {
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return required.filter((name) => example === undefined || !(name in example));
}

/**
 * The rules across `spec.api`'s fields: input goes where the method carries it, and an example gives
 * every required property (a declaration whose example fails its own schema is dropped by Bazaar).
 */
export function routeApiProblems(api: RouteApi | undefined): { field: string; message: string }[] {
  if (!api) return [];
  const problems: { field: string; message: string }[] = [];
  const query = isQueryMethod(api.method);
  if (api.query && !query) {
    problems.push({ field: 'spec.api.query', message: `applies only to GET, HEAD and DELETE; a ${api.method} request carries its input in spec.api.body` });
  }
  if (api.body && query) {
    problems.push({ field: 'spec.api.body', message: `applies only to POST, PUT and PATCH; a ${api.method} request carries its input in spec.api.query` });
  }
  for (const [field, part] of [['query', api.query], ['body', api.body]] as const) {
    if (!part) continue;
    const missing = missingRequired(part.schema, part.example);
    if (missing.length) problems.push({ field: `spec.api.${field}.example`, message: `must give every property the schema requires (missing: ${missing.join(', ')})` });
  }
  return problems;
}
