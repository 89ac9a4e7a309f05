import type { PaymentRequirement } from '../requirement.js';
import { encodeBase64Json } from './base64-json.js';
import { PAYMENT_IDENTIFIER, PAYMENT_IDENTIFIER_DECLARATION } from './payment-identifier.js';

/**
 * The two 402 challenges of SPEC §5 step 1, built from ONE requirement list so both generations are
 * offered the same deal: the v1 JSON body and the v2 `PAYMENT-REQUIRED` header.
 */
export interface V1Requirement {
  scheme: 'exact';
  network: string;
  maxAmountRequired: string;
  resource: string;
  description: string;
  mimeType: string;
  payTo: string;
  maxTimeoutSeconds: number;
  asset: string;
  extra: { name: string; version: string };
}

export interface V2Requirement {
  scheme: 'exact';
  network: string;
  amount: string;
  asset: string;
  payTo: string;
  maxTimeoutSeconds: number;
  extra: { name: string; version: string };
}

export interface V1Challenge {
  x402Version: 1;
  error: string;
  accepts: V1Requirement[];
}

export interface V2Challenge {
  x402Version: 2;
  error: string;
  /** `tags`: the offer's `spec.api.tags`, the topics a Bazaar catalog files the resource under. */
  resource: { url: string; description: string; mimeType: string; tags?: string[] };
  accepts: V2Requirement[];
  /** x402 extensions the gate supports, by name (v2 only: a v1 client has no place for them). */
  extensions: Record<string, unknown>;
}

export const PAYMENT_REQUIRED_HEADER = 'PAYMENT-REQUIRED';

function extra(requirement: PaymentRequirement): { name: string; version: string } {
  return { name: requirement.asset.eip712Domain.name, version: requirement.asset.eip712Domain.version };
}

/** The v1 requirement, or undefined for a chain without a v1 network name (v2 clients only). */
export function v1Requirement(requirement: PaymentRequirement, resourceUrl: string): V1Requirement | undefined {
  if (requirement.v1Network === undefined) return undefined;
  return {
    scheme: requirement.scheme,
    network: requirement.v1Network,
    maxAmountRequired: requirement.amount,
    resource: resourceUrl,
    description: requirement.description,
    mimeType: requirement.mimeType,
    payTo: requirement.payTo,
    maxTimeoutSeconds: requirement.maxTimeoutSeconds,
    asset: requirement.asset.address,
    extra: extra(requirement),
  };
}

export function v2Requirement(requirement: PaymentRequirement): V2Requirement {
  return {
    scheme: requirement.scheme,
    network: requirement.network,
    amount: requirement.amount,
    asset: requirement.asset.address,
    payTo: requirement.payTo,
    maxTimeoutSeconds: requirement.maxTimeoutSeconds,
    extra: extra(requirement),
  };
}

export interface Challenges {
  v1: V1Challenge;
  v2: V2Challenge;
  /** Value of the `PAYMENT-REQUIRED` header: base64 of `v2`. */
  header: string;
}

/** What an offer itself declares in its v2 challenge: extensions such as `bazaar` (core `x402/bazaar.ts`) and resource tags. */
export interface OfferDeclarations {
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly tags?: readonly string[];
}

/**
 * `requirement` is the offer's first option, `alternatives` its others (snapshot `alternatives`):
 * both challenges list every option in the seller's order, v1 those with a v1 network name.
 */
export function buildChallenges(params: { requirement: PaymentRequirement; alternatives?: readonly PaymentRequirement[] | undefined; resourceUrl: string; error: string; offer?: OfferDeclarations }): Challenges {
  const { requirement, resourceUrl, error, offer } = params;
  const options = [requirement, ...(params.alternatives ?? [])];
  const v1 = options.flatMap((option) => v1Requirement(option, resourceUrl) ?? []);
  const v2: V2Challenge = {
    x402Version: 2,
    error,
    resource: { url: resourceUrl, description: requirement.description, mimeType: requirement.mimeType, ...(offer?.tags?.length ? { tags: [...offer.tags] } : {}) },
    accepts: options.map(v2Requirement),
    extensions: { [PAYMENT_IDENTIFIER]: PAYMENT_IDENTIFIER_DECLARATION, ...offer?.extensions },
  };
  return { v1: { x402Version: 1, error, accepts: v1 }, v2, header: encodeBase64Json(v2) };
}
