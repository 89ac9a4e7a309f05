import { PATH_PATTERN, pathProblems, type SnapshotOffer } from '../../../core/index.js';

/**
 * The agent's path rules (SPEC §2), applied again to a pushed snapshot: a signature says who sent
 * the catalog, not that its paths are ones the agent would publish. Same rule (core's
 * `PATH_PATTERN`), and one offer per path, since the gate can charge only one price on a path.
 */

const VALID_PATH = new RegExp(PATH_PATTERN);

export type OfferPathProblem =
  | { readonly reason: 'invalid_offer_path'; readonly message: string }
  | { readonly reason: 'duplicate_offer_path'; readonly message: string };

/** The first offer whose path breaks the rules or is already taken, or undefined. */
export function checkOfferPaths(offers: readonly SnapshotOffer[]): OfferPathProblem | undefined {
  const owners = new Map<string, string>();
  for (const offer of offers) {
    if (!VALID_PATH.test(offer.path)) {
      const why = pathProblems(offer.path).join(', ') || `must match ${PATH_PATTERN}`;
      return { reason: 'invalid_offer_path', message: `offer "${offer.key}" has path "${offer.path}", which ${why}` };
    }
    const owner = owners.get(offer.path);
    if (owner !== undefined) {
      return { reason: 'duplicate_offer_path', message: `offers "${owner}" and "${offer.key}" both claim path "${offer.path}"; a path belongs to one offer` };
    }
    owners.set(offer.path, offer.key);
  }
  return undefined;
}
