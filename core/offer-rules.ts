import { isAddress } from 'viem';
import { z } from 'zod';
import { drainSchedule } from './drain.js';
import { ServiceOffer } from './offer.js';
import { routeApiProblems } from './offer-api.js';
import { chargeablePrice } from './price.js';
import { alternativeOptions, resolvePaymentOption, sameOption, type PaymentRequirement } from './requirement.js';
import { parseDuration } from './time.js';

/**
 * Parsing and the rules the CRD's schema cannot express: cross-field rules and checks no OpenAPI
 * pattern or CEL rule can compute. Every failure is a readable message naming the field, so the
 * agent can put it in a condition (`InvalidSpec`) and the publisher can print it.
 */

export interface OfferProblem {
  readonly field: string;
  readonly message: string;
}

export type OfferParseResult =
  | { readonly ok: true; readonly offer: ServiceOffer }
  | { readonly ok: false; readonly problems: readonly OfferProblem[] };

/**
 * Longest `drainGracePeriod`: 365 days. With `drainAt` before year 9000 (the schema's pattern),
 * `drainEndsAt` stays a time the snapshot can carry.
 */
export const MAX_DRAIN_GRACE = '8760h';
const MAX_DRAIN_GRACE_MS = parseDuration(MAX_DRAIN_GRACE);

/** A problem a field, not `z.prettifyError`'s one text: `sell list` and the API server's causes name fields. */
function zodProblems(error: z.ZodError): OfferProblem[] {
  return error.issues.map((issue) => ({ field: z.core.toDotPath(issue.path) || '(root)', message: issue.message }));
}

/**
 * EIP-55: the case of a mixed-case address's letters is a checksum, there to catch a mistyped
 * address; all-lowercase or all-uppercase hex carries none. The API server cannot check it: the
 * checksum needs keccak-256, which CEL does not have.
 */
function checksumProblem(field: string, address: string): OfferProblem | undefined {
  const hex = address.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase() || isAddress(address, { strict: true })) return undefined;
  return { field, message: 'mixed-case address whose EIP-55 checksum does not match: likely mistyped (check every character)' };
}

function drainProblems(spec: ServiceOffer['spec']): OfferProblem[] {
  const grace = spec.drainGracePeriod;
  if (grace !== undefined) {
    let ms = Number.POSITIVE_INFINITY;
    try {
      ms = parseDuration(grace);
    } catch {
      // too many digits to be a safe number of milliseconds: over the bound too
    }
    if (ms > MAX_DRAIN_GRACE_MS) return [{ field: 'spec.drainGracePeriod', message: `must be at most ${MAX_DRAIN_GRACE} (365 days)` }];
  }
  try {
    // parses drainAt as a calendar date: Feb 30 (which the schema's pattern lets through) is refused
    drainSchedule(spec);
  } catch (error) {
    return [{ field: 'spec.drainAt', message: (error as Error).message }];
  }
  return [];
}

/**
 * Each `spec.payment.alternatives[i]` must resolve (a known network or a complete asset, a price
 * that is not free at its decimals) and name a chain and token no earlier option names: an option
 * the gate could not tell apart from another, or could not charge, is refused here, never dropped.
 */
function alternativeProblems(spec: ServiceOffer['spec']): OfferProblem[] {
  const { payment } = spec;
  const problems: OfferProblem[] = [];
  const price = chargeablePrice(payment.price);
  const primary = price && resolvePaymentOption(spec, payment, price);
  const seen: { field: string; requirement: PaymentRequirement }[] = primary?.ok ? [{ field: 'spec.payment', requirement: primary.requirement }] : [];
  for (const [index, option] of alternativeOptions(payment).entries()) {
    const field = `spec.payment.alternatives[${index}]`;
    const written = payment.alternatives?.[index];
    const payTo = written?.payTo && checksumProblem(`${field}.payTo`, written.payTo);
    if (payTo) problems.push(payTo);
    const asset = written?.asset && checksumProblem(`${field}.asset.address`, written.asset.address);
    if (asset) problems.push(asset);
    if (!price) continue;
    const resolved = resolvePaymentOption(spec, option, price);
    if (!resolved.ok) {
      problems.push({ field: `${field}.${resolved.field}`, message: resolved.message });
      continue;
    }
    const twin = seen.find((earlier) => sameOption(earlier.requirement, resolved.requirement));
    if (twin) problems.push({ field, message: `duplicate option: ${twin.field} already accepts ${resolved.requirement.asset.address} on ${resolved.requirement.network}` });
    seen.push({ field, requirement: resolved.requirement });
  }
  return problems;
}

/**
 * The rules JSON Schema cannot express. Assumes the schema already passed. The path rules are all
 * in the schema's pattern (so the API server enforces them), and the default path
 * `/services/<metadata.name>` always satisfies it.
 */
export function crossFieldProblems(offer: ServiceOffer): OfferProblem[] {
  const { payment } = offer.spec;
  const problems: OfferProblem[] = [];
  if (!chargeablePrice(payment.price)) {
    problems.push({
      field: 'spec.payment.price',
      message: 'needs perRequest, perMTok or perHour (perEpoch alone is not chargeable)',
    });
  }
  const charged = chargeablePrice(payment.price)?.unit;
  if (payment.price.tokensPerRequest !== undefined && charged !== 'perMTok') {
    problems.push({ field: 'spec.payment.price.tokensPerRequest', message: 'applies only when perMTok is the charged price (set perMTok, and no perRequest)' });
  }
  if (payment.price.minutesPerRequest !== undefined && charged !== 'perHour') {
    problems.push({ field: 'spec.payment.price.minutesPerRequest', message: 'applies only when perHour is the charged price (set perHour, and no perRequest or perMTok)' });
  }
  const payTo = checksumProblem('spec.payment.payTo', payment.payTo);
  if (payTo) problems.push(payTo);
  const asset = payment.asset && checksumProblem('spec.payment.asset.address', payment.asset.address);
  if (asset) problems.push(asset);
  problems.push(...alternativeProblems(offer.spec));
  problems.push(...drainProblems(offer.spec));
  problems.push(...routeApiProblems(offer.spec.api));
  return problems;
}

/** Parse an unknown value as a ServiceOffer and apply the cross-field rules. */
export function parseServiceOffer(value: unknown): OfferParseResult {
  const parsed = ServiceOffer.safeParse(value);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const problems = crossFieldProblems(parsed.data);
  return problems.length ? { ok: false, problems } : { ok: true, offer: parsed.data };
}

export function describeProblems(problems: readonly OfferProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
