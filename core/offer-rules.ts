import type { z } from 'zod';
import { drainSchedule } from './drain.js';
import { ServiceOffer } from './offer.js';
import { chargeablePrice } from './price.js';

/**
 * Parsing and cross-field rules for ServiceOffers. Every failure is a readable message naming the
 * field, so the agent can put it in a condition and the publisher can print it.
 */

export interface OfferProblem {
  readonly field: string;
  readonly message: string;
}

export type OfferParseResult =
  | { readonly ok: true; readonly offer: ServiceOffer }
  | { readonly ok: false; readonly problems: readonly OfferProblem[] };

function zodProblems(error: z.ZodError): OfferProblem[] {
  return error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/**
 * Cross-field rules that JSON Schema cannot express. Assumes the schema already passed. The path
 * rules are all in the schema's pattern (so the API server enforces them), and the default path
 * `/services/<metadata.name>` always satisfies it.
 */
export function crossFieldProblems(offer: ServiceOffer): OfferProblem[] {
  const problems: OfferProblem[] = [];
  if (!chargeablePrice(offer.spec.payment.price)) {
    problems.push({
      field: 'spec.payment.price',
      message: 'needs perRequest, perMTok or perHour (perEpoch alone is not chargeable)',
    });
  }
  try {
    drainSchedule(offer.spec);
  } catch (error) {
    problems.push({ field: 'spec.drainAt', message: (error as Error).message });
  }
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
