import type { PaymentRequirement } from '../requirement.js';
import { v2Requirement } from './challenge.js';
import type { AcceptedRequirement, PaymentPayload } from './payment-header.js';
import { GATE_REASONS, X402_REASONS, type LocalRejectReason } from './reasons.js';

/**
 * Does the payment answer the requirement we advertised (SPEC §5 step 3)? v2: `accepted` must
 * equal the advertised v2 requirement (its `extra` may add keys); v1: scheme and network match.
 */
export type MatchResult = { ok: true } | { ok: false; reason: LocalRejectReason };

function matchAccepted(accepted: AcceptedRequirement, requirement: PaymentRequirement): MatchResult {
  const advertised = v2Requirement(requirement);
  if (accepted.scheme !== advertised.scheme) return { ok: false, reason: X402_REASONS.invalidScheme };
  if (accepted.network !== advertised.network) return { ok: false, reason: X402_REASONS.networkMismatch };
  if (accepted.amount !== advertised.amount) return { ok: false, reason: X402_REASONS.valueMismatch };
  if (accepted.payTo !== advertised.payTo) return { ok: false, reason: X402_REASONS.recipientMismatch };
  // the advertised name and version are strings: a deep comparison would come down to this one
  const given = accepted.extra ?? {};
  if (given['name'] !== advertised.extra.name) return { ok: false, reason: X402_REASONS.tokenNameMismatch };
  if (given['version'] !== advertised.extra.version) return { ok: false, reason: X402_REASONS.tokenVersionMismatch };
  if (accepted.asset !== advertised.asset || accepted.maxTimeoutSeconds !== advertised.maxTimeoutSeconds) {
    return { ok: false, reason: GATE_REASONS.requirementsMismatch };
  }
  return { ok: true };
}

export function matchPayment(payment: PaymentPayload, requirement: PaymentRequirement): MatchResult {
  if (payment.x402Version === 2) return matchAccepted(payment.accepted, requirement);
  if (payment.scheme !== requirement.scheme) return { ok: false, reason: X402_REASONS.invalidScheme };
  // A chain without a v1 name has no v1 network a v1 payment could name.
  if (requirement.v1Network === undefined || payment.network !== requirement.v1Network) {
    return { ok: false, reason: X402_REASONS.networkMismatch };
  }
  return { ok: true };
}

export type Selection = { ok: true; requirement: PaymentRequirement } | { ok: false; reason: LocalRejectReason };

/**
 * Which advertised option the payment pays (SPEC §5 step 3), then `matchPayment` against it; O(options),
 * no allocation until the match. v2 picks the option with the payment's network and asset; v1 payloads
 * carry no asset, so v1 picks the first option with its network name. A payment for no listed option is
 * matched against the closest (same network, else the first) so it gets x402's reason for the difference.
 */
export function selectRequirement(payment: PaymentPayload, options: readonly [PaymentRequirement, ...PaymentRequirement[]]): Selection {
  let chosen = options[0];
  if (payment.x402Version === 2) {
    const { network, asset } = payment.accepted;
    for (const option of options) {
      if (option.network !== network) continue;
      if (option.asset.address === asset) {
        chosen = option;
        break;
      }
      if (chosen.network !== network) chosen = option;
    }
  } else {
    for (const option of options) {
      if (option.v1Network !== undefined && option.v1Network === payment.network) {
        chosen = option;
        break;
      }
    }
  }
  const matched = matchPayment(payment, chosen);
  return matched.ok ? { ok: true, requirement: chosen } : matched;
}
