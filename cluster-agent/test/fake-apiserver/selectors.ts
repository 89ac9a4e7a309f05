import { badRequest } from './status.js';
import type { JsonObject } from './patch.js';

/** Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), comma = AND; set-based are refused. */
export type Requirement = { key: string; op: 'eq' | 'neq' | 'exists' | 'notexists'; value?: string };

export function parseLabelSelector(selector: string | null): Requirement[] {
  if (!selector) return [];
  return selector.split(',').map((raw) => {
    const term = raw.trim();
    if (/\s(in|notin)\s/.test(term)) throw badRequest(`set-based label selectors are not supported by the fake: "${term}"`);
    let m = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(term);
    if (m) return { key: m[1] ?? '', op: 'neq' as const, value: m[2] ?? '' };
    m = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(term);
    if (m) return { key: m[1] ?? '', op: 'eq' as const, value: m[2] ?? '' };
    m = /^!([^=!\s]+)$/.exec(term);
    if (m) return { key: m[1] ?? '', op: 'notexists' as const };
    if (/^[^=!\s]+$/.test(term)) return { key: term, op: 'exists' as const };
    throw badRequest(`unable to parse label selector requirement "${term}"`);
  });
}

export function matchesLabels(requirements: Requirement[], labels: Record<string, string>): boolean {
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case 'eq':
        return has && labels[r.key] === r.value;
      case 'neq':
        return !has || labels[r.key] !== r.value;
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

/** Field selectors on `metadata.name` and `metadata.namespace` only (what controllers use). */
export function parseFieldSelector(selector: string | null): Array<{ field: 'name' | 'namespace'; neq: boolean; value: string }> {
  if (!selector) return [];
  return selector.split(',').map((term) => {
    const m = /^metadata\.(name|namespace)\s*(!=|==|=)\s*(\S*)$/.exec(term.trim());
    if (!m) throw badRequest(`field selector "${term}" is not supported by the fake (only metadata.name / metadata.namespace)`);
    return { field: m[1] as 'name' | 'namespace', neq: m[2] === '!=', value: m[3] ?? '' };
  });
}

export function makeFilter(labelSelector: string | null, fieldSelector: string | null): (obj: JsonObject) => boolean {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector);
  return (obj) => {
    const meta = (obj.metadata ?? {}) as JsonObject;
    const objLabels = (meta.labels ?? {}) as Record<string, string>;
    if (!matchesLabels(labels, objLabels)) return false;
    return fields.every((f) => (String(meta[f.field] ?? '') === f.value) !== f.neq);
  };
}
