/** Offer path rules shared by the agent (uniqueness) and the gate (matching), SPEC §2 and §5. */

export interface PathClaim {
  readonly key: string;
  readonly path: string;
  /** creationTimestamp as epoch ms; the oldest claim keeps a contested path. */
  readonly createdMs: number;
}

/**
 * Decide which offer owns each path: the oldest claim wins; ties go to the smaller key so the
 * outcome never depends on input order. Returns the losers mapped to the owner's key.
 */
export function resolvePathConflicts(claims: readonly PathClaim[]): Map<string, string> {
  const owners = new Map<string, PathClaim>();
  const ordered = [...claims].sort((a, b) => a.createdMs - b.createdMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const losers = new Map<string, string>();
  for (const claim of ordered) {
    const owner = owners.get(claim.path);
    if (owner) losers.set(claim.key, owner.key);
    else owners.set(claim.path, claim);
  }
  return losers;
}

/**
 * Longest-prefix lookup over a path → value map: `/services/foo` matches `/services/foo` and
 * `/services/foo/...`, never `/services/foobar`. Walks the request's own prefixes, so the cost is
 * the path's depth, not the catalog's size.
 */
export function matchLongestPrefix<T>(routes: ReadonlyMap<string, T>, pathname: string): { path: string; value: T } | undefined {
  let candidate = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  for (;;) {
    const value = routes.get(candidate);
    if (value !== undefined) return { path: candidate, value };
    const cut = candidate.lastIndexOf('/');
    if (cut <= 0) return undefined;
    candidate = candidate.slice(0, cut);
  }
}
