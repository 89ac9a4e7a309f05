import { randomUUID } from 'node:crypto';
import { apiVersionOf, findResource, type ResourceDef } from './resources.js';
import { alreadyExists, ApiError, badRequest, conflict, expired, invalid, notFound } from './status.js';
import { clone, isObject, type JsonObject } from './patch.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. */
export interface StoredEvent {
  readonly rv: number;
  readonly def: ResourceDef;
  readonly type: WatchEventType;
  readonly object: JsonObject;
}

type Listener = (event: StoredEvent) => void;

export interface StoreOptions {
  /** Events kept for watch resumption; older resourceVersions answer 410 Expired. */
  readonly historyLimit: number;
  readonly now: () => number;
}

const meta = (obj: JsonObject): JsonObject => (isObject(obj.metadata) ? obj.metadata : {});
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A single in-memory etcd: one global resourceVersion counter and a bounded event history. */
export class ObjectStore {
  private rv = 1000;
  private compactedRv = 1000;
  private readonly objects = new Map<string, JsonObject>();
  private readonly history: StoredEvent[] = [];
  private readonly listeners = new Set<Listener>();
  conflictNextStatusWrite = false;

  constructor(private readonly options: StoreOptions) {}

  currentRv(): number {
    return this.rv;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drop the whole history: any watch resuming from an older resourceVersion gets 410. */
  compact(): void {
    this.history.length = 0;
    this.compactedRv = this.rv;
  }

  /** Events after `rv` (exclusive), or 410 Expired when they were compacted away. */
  eventsSince(rv: number, raw: string): StoredEvent[] {
    if (rv < this.compactedRv) throw expired(raw, this.compactedRv + 1);
    return this.history.filter((e) => e.rv > rv);
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): JsonObject | undefined {
    const found = this.objects.get(this.key(def, namespace, name));
    return found ? clone(found) : undefined;
  }

  mustGet(def: ResourceDef, namespace: string | undefined, name: string): JsonObject {
    const found = this.get(def, namespace, name);
    if (!found) throw notFound(def.plural, def.group, name);
    return found;
  }

  list(def: ResourceDef, namespace?: string): JsonObject[] {
    const prefix = `${def.group}/${def.plural}/`;
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && (namespace === undefined || meta(o).namespace === namespace))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  create(def: ResourceDef, namespace: string | undefined, body: unknown): JsonObject {
    const obj = this.checkBody(def, body);
    const m = meta(obj);
    const name = str(m.name);
    if (!name) throw invalid(def.plural, def.group, '', 'metadata.name: Required value: name is required');
    if (def.namespaced) this.checkNamespace(m, namespace);
    if (m.resourceVersion !== undefined && m.resourceVersion !== '') throw badRequest('resourceVersion should not be set on objects to be created');
    if (this.objects.has(this.key(def, str(m.namespace), name))) throw alreadyExists(def.plural, def.group, name);
    Object.assign(m, { uid: randomUUID(), creationTimestamp: this.timestamp() });
    if (def.custom) m.generation = 1;
    if (def.custom && def.statusSubresource) delete obj.status;
    if (def.plural === 'namespaces') obj.status = { phase: 'Active' };
    return this.commit(def, 'ADDED', obj);
  }

  /** PUT on the main resource or on `/status`; the same rules back every PATCH. */
  update(def: ResourceDef, namespace: string | undefined, name: string, body: unknown, status: boolean): JsonObject {
    const existing = this.mustGet(def, namespace, name);
    const incoming = this.checkBody(def, body);
    const m = meta(incoming);
    if (m.name !== undefined && m.name !== name) throw badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    if (def.namespaced && m.namespace !== undefined && m.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const rv = str(m.resourceVersion);
    if (rv === undefined || rv === '') {
      if (def.custom) throw invalid(def.plural, def.group, name, 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    } else if (rv !== str(meta(existing).resourceVersion)) throw conflict(def.plural, def.group, name);
    if (status && this.conflictNextStatusWrite) {
      this.conflictNextStatusWrite = false;
      throw conflict(def.plural, def.group, name);
    }
    const next = status ? this.statusWrite(existing, incoming) : this.mainWrite(def, existing, incoming);
    if (JSON.stringify(next) === JSON.stringify(existing)) return existing;
    return this.commit(def, 'MODIFIED', next);
  }

  /** Test access: create or overwrite an object without API rules (resourceVersion still advances). */
  put(plural: string, object: JsonObject): JsonObject {
    const def = findResource(plural);
    const obj = clone(object);
    const m = meta(obj);
    obj.metadata = m;
    const existing = this.get(def, str(m.namespace), String(m.name));
    m.uid ??= existing ? (meta(existing).uid ?? randomUUID()) : randomUUID();
    m.creationTimestamp ??= existing ? (meta(existing).creationTimestamp ?? this.timestamp()) : this.timestamp();
    if (def.custom) m.generation ??= existing ? (meta(existing).generation ?? 1) : 1;
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    return this.commit(def, existing ? 'MODIFIED' : 'ADDED', obj);
  }

  /** Test access: remove an object outright, ignoring finalizers. */
  remove(plural: string, namespace: string | undefined, name: string): boolean {
    const def = findResource(plural);
    const existing = this.get(def, namespace, name);
    if (!existing) return false;
    this.commit(def, 'DELETED', existing);
    return true;
  }

  private mainWrite(def: ResourceDef, existing: JsonObject, incoming: JsonObject): JsonObject {
    const old = meta(existing);
    const m = meta(incoming);
    const keep = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace', 'name', 'resourceVersion'];
    for (const k of keep) {
      if (old[k] === undefined) delete m[k];
      else m[k] = clone(old[k]) ?? null;
    }
    if (def.statusSubresource) {
      if (existing.status === undefined) delete incoming.status;
      else incoming.status = clone(existing.status);
    }
    if (def.custom && this.specChanged(existing, incoming)) m.generation = Number(old.generation ?? 0) + 1;
    return incoming;
  }

  /** Status writes change only `.status`, like the real status strategy. */
  private statusWrite(existing: JsonObject, incoming: JsonObject): JsonObject {
    const next = clone(existing);
    if (incoming.status === undefined) delete next.status;
    else next.status = clone(incoming.status);
    return next;
  }

  private specChanged(a: JsonObject, b: JsonObject): boolean {
    const strip = (o: JsonObject) => JSON.stringify(Object.entries(o).filter(([k]) => k !== 'metadata' && k !== 'status').sort(([x], [y]) => (x < y ? -1 : 1)));
    return strip(a) !== strip(b);
  }

  private checkBody(def: ResourceDef, body: unknown): JsonObject {
    if (!isObject(body)) throw badRequest('the request body must be a JSON object');
    const obj = clone(body);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(def)) throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`);
    if (obj.kind !== undefined && obj.kind !== def.kind) throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata = isObject(obj.metadata) ? obj.metadata : {};
    return obj;
  }

  private checkNamespace(m: JsonObject, namespace: string | undefined): void {
    if (m.namespace !== undefined && m.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (!namespace || !this.objects.has(this.key(findResource('namespaces'), undefined, namespace))) throw notFound('namespaces', '', namespace ?? '');
    m.namespace = namespace;
  }

  private commit(def: ResourceDef, type: WatchEventType, obj: JsonObject): JsonObject {
    this.rv += 1;
    const m = meta(obj);
    obj.metadata = m;
    m.resourceVersion = String(this.rv);
    const key = this.key(def, str(m.namespace), String(m.name));
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, clone(obj));
    const event: StoredEvent = { rv: this.rv, def, type, object: clone(obj) };
    this.history.push(event);
    while (this.history.length > this.options.historyLimit) this.compactedRv = this.history.shift()?.rv ?? this.compactedRv;
    for (const listener of [...this.listeners]) listener(event);
    return clone(obj);
  }

  private key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return `${def.group}/${def.plural}/${def.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  private timestamp(): string {
    return new Date(Math.floor(this.options.now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

export { ApiError };
