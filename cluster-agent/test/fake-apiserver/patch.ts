/** RFC 7386 JSON merge patch and RFC 6902 JSON patch over plain JSON values. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export class PatchError extends Error {
  readonly reason = 'invalid_patch';
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** RFC 7386: objects merge key by key, `null` deletes, everything else (arrays too) replaces. */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key] ?? null, value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parent(doc: Json, tokens: string[]): { container: Json; key: string } {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined) throw new PatchError(`path "/${tokens.join('/')}" does not exist`);
    node = next;
  }
  const key = tokens[tokens.length - 1];
  if (key === undefined) throw new PatchError('the root cannot be the target of this operation');
  return { container: node, key };
}

function arrayIndex(arr: Json[], key: string, forInsert: boolean): number {
  if (forInsert && key === '-') return arr.length;
  const index = /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : NaN;
  if (Number.isNaN(index) || index > arr.length || (!forInsert && index === arr.length)) {
    throw new PatchError(`array index "${key}" is out of range`);
  }
  return index;
}

function getAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { container, key } = parent(doc, tokens);
  const value = Array.isArray(container) ? container[arrayIndex(container, key, false)] : isObject(container) ? container[key] : undefined;
  if (value === undefined) throw new PatchError(`path "${pointer}" does not exist`);
  return value;
}

function addAt(doc: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { container, key } = parent(doc, tokens);
  if (Array.isArray(container)) container.splice(arrayIndex(container, key, true), 0, value);
  else if (isObject(container)) container[key] = value;
  else throw new PatchError(`cannot add at "${pointer}"`);
  return doc;
}

function removeAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  const { container, key } = parent(doc, tokens);
  if (Array.isArray(container)) container.splice(arrayIndex(container, key, false), 1);
  else if (isObject(container) && key in container) delete container[key];
  else throw new PatchError(`path "${pointer}" does not exist`);
  return doc;
}

function applyOne(doc: Json, op: Operation): Json {
  switch (op.op) {
    case 'add':
      return addAt(doc, op.path, clone(op.value ?? null));
    case 'remove':
      return removeAt(doc, op.path);
    case 'replace':
      getAt(doc, op.path);
      return addAt(op.path === '' ? doc : removeAt(doc, op.path), op.path, clone(op.value ?? null));
    case 'move': {
      const value = getAt(doc, op.from ?? '');
      return addAt(removeAt(doc, op.from ?? ''), op.path, value);
    }
    case 'copy':
      return addAt(doc, op.path, clone(getAt(doc, op.from ?? '')));
    case 'test':
      if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) throw new PatchError(`test at "${op.path}" failed`);
      return doc;
    default:
      throw new PatchError(`unknown JSON patch operation "${op.op}"`);
  }
}

/** RFC 6902, all or nothing: a failing operation leaves the target untouched. */
export function applyJsonPatch(target: Json, patch: unknown): Json {
  if (!Array.isArray(patch)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of patch) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError('each JSON patch operation needs "op" and "path"');
    }
    const op: Operation = { op: raw.op, path: raw.path, ...(typeof raw.from === 'string' ? { from: raw.from } : {}), ...('value' in raw ? { value: raw.value ?? null } : {}) };
    if (['add', 'replace', 'test'].includes(op.op) && !('value' in raw)) throw new PatchError(`"${op.op}" needs a value`);
    doc = applyOne(doc, op);
  }
  return doc;
}
