import type { CatalogSnapshot } from '../snapshot.js';
import { formatAtomicAmount } from '../token-amount.js';
import { absoluteUrl, listedOffers, type ListedOffer } from './listed-offers.js';
import { listedPriceBasis, networkName } from './payment-terms.js';
import { agentCard } from './registration.js';
import { REGISTRATION_PATH, SERVICES_PATH } from './document-paths.js';
import { OPENAPI_PATH } from './openapi.js';

/**
 * `/skill.md` (SPEC §4.2): the catalog as markdown an LLM agent can read. User text is escaped so it
 * can neither break a table row nor start a new block.
 */

export { REGISTRATION_PATH, SERVICES_PATH };
export const NO_SERVICES_LINE = '**No services currently available.**';

const NEEDS_INLINE_ESCAPE = /[\r\n\\`*_[\]<>]/;

/** Inline text: one line, markdown escapes for backslash and the characters that open spans. */
export function escapeInline(text: string): string {
  if (!NEEDS_INLINE_ESCAPE.test(text)) return text;
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]<>]/g, (char) => `\\${char}`);
}

/** A table cell: inline text whose `|` cannot split the row. */
export function escapeCell(text: string): string {
  return escapeInline(text).replace(/\|/g, '\\|');
}

/** A code span that survives backticks in its content (CommonMark: fence longer than any run inside). */
export function codeSpan(text: string): string {
  if (!/[`\r\n]/.test(text)) return `\`${text}\``;
  const oneLine = text.replace(/\r\n|\r|\n/g, ' ');
  const longestRun = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

function statusCell(listed: ListedOffer): string {
  return listed.drainEndsAt !== undefined ? `draining · ends \`${listed.drainEndsAt}\`` : '—';
}

/** Token units one request costs, with the symbol, e.g. "0.008 USDC". */
function perRequestCharge(listed: ListedOffer): string {
  const { asset, amount } = listed.requirement;
  return `${formatAtomicAmount({ amount, decimals: asset.decimals })} ${asset.symbol ?? 'units'}`;
}

/** The table's price: the listed price, and for perMTok/perHour what one request costs. */
function priceCell(listed: ListedOffer): string {
  const { display, unit } = listed.offer.price;
  return unit === 'perRequest' ? display : `${display} = ${perRequestCharge(listed)}/request`;
}

/** The details' price: for perMTok/perHour, the charge per request and the assumption behind it. */
function priceBullet(listed: ListedOffer): string {
  const { offer, requirement } = listed;
  const atomic = `${codeSpan(requirement.amount)} atomic units per request`;
  const basis = listedPriceBasis(offer.price, requirement);
  if (basis === undefined) return `- **Price**: ${escapeInline(offer.price.display)} (${atomic})`;
  return `- **Price**: ${escapeInline(perRequestCharge(listed))} per request (${escapeInline(basis)}; ${atomic})`;
}

function tableRow(listed: ListedOffer, baseUrl: string): string {
  const { offer } = listed;
  const cells = [
    escapeCell(offer.name),
    escapeCell(offer.type),
    offer.model !== undefined ? escapeCell(offer.model) : '—',
    escapeCell(priceCell(listed)),
    statusCell(listed),
    // GFM splits rows on `|` before parsing code spans, so it is escaped inside the span too.
    codeSpan(absoluteUrl(baseUrl, offer.path)).replace(/\|/g, '\\|'),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The offer's other ways to pay (after the Pay To / Network above), in the 402's order; none for a single-option offer. */
function alsoAccepts(listed: ListedOffer): string[] {
  const others = listed.offer.alternatives ?? [];
  if (others.length === 0) return [];
  return [
    '- **Also accepts** (the same price; the 402 lists each):',
    ...others.map((option) => {
      const units = `${formatAtomicAmount({ amount: option.amount, decimals: option.asset.decimals })} ${option.asset.symbol ?? 'units'}`;
      return `  - ${escapeInline(networkName(option))} (${codeSpan(option.network)}): ${escapeInline(units)} (${codeSpan(option.amount)} atomic units) of ${codeSpan(option.asset.address)} to ${codeSpan(option.payTo)}`;
    }),
  ];
}

function detailBlock(listed: ListedOffer, baseUrl: string): string {
  const { offer, requirement } = listed;
  const bullets = [
    `- **Endpoint**: ${codeSpan(absoluteUrl(baseUrl, offer.path))}`,
    `- **Type**: ${escapeInline(offer.type)}`,
    ...(offer.model !== undefined ? [`- **Model**: ${escapeInline(offer.model)}`] : []),
    priceBullet(listed),
    `- **Pay To**: ${codeSpan(requirement.payTo)}`,
    `- **Network**: ${escapeInline(offer.network)} (${codeSpan(requirement.network)})`,
    ...alsoAccepts(listed),
    ...(listed.drainEndsAt !== undefined ? [`- **Drain ends at**: \`${listed.drainEndsAt}\``] : []),
    `- **Description**: ${escapeInline(offer.description)}`,
  ];
  return [`### ${escapeInline(offer.name)}`, '', ...bullets].join('\n');
}

function howToPay(): string {
  return [
    '## How to pay (x402)',
    '',
    '1. Call the endpoint. Without a payment it answers `402 Payment Required` with the payment requirements:',
    '   the `PAYMENT-REQUIRED` header (base64 JSON, x402 v2) and the JSON body (x402 v1) offer the same deal.',
    '2. Sign an EIP-3009 `transferWithAuthorization` for exactly the required amount of the asset to `payTo`',
    '   on the named network, valid for at least the next few seconds.',
    '3. Retry the same request with the payment in the `PAYMENT-SIGNATURE` header (x402 v2) or the `X-PAYMENT`',
    '   header (x402 v1). On success the response carries a settlement receipt in `PAYMENT-RESPONSE` /',
    '   `X-PAYMENT-RESPONSE`. Each signed authorization pays for one request; sign a new one per request.',
  ].join('\n');
}

export function renderSkillMarkdown(params: { snapshot: Pick<CatalogSnapshot, 'identity' | 'offers'>; baseUrl: string; nowMs: number }): string {
  const { baseUrl, nowMs } = params;
  const listed = listedOffers(params.snapshot, nowMs);
  const card = agentCard(params);
  const count = listed.length === 1 ? '1 service available.' : `${listed.length} services available.`;
  const head = [
    `# ${escapeInline(card.name)} — x402 services`,
    '',
    count,
    '',
    `- Agent registration (ERC-8004): [${REGISTRATION_PATH}](${absoluteUrl(baseUrl, REGISTRATION_PATH)})`,
    `- Service catalog (JSON): [${SERVICES_PATH}](${absoluteUrl(baseUrl, SERVICES_PATH)})`,
    `- OpenAPI 3.1 description of the paid routes: [${OPENAPI_PATH}](${absoluteUrl(baseUrl, OPENAPI_PATH)})`,
    '',
    howToPay(),
    '',
    '## Services',
    '',
  ];
  if (listed.length === 0) return `${[...head, NO_SERVICES_LINE].join('\n')}\n`;
  const table = [
    '| Service | Type | Model | Price | Status | Endpoint |',
    '|---|---|---|---|---|---|',
    ...listed.map((entry) => tableRow(entry, baseUrl)),
  ];
  const details = listed.map((entry) => detailBlock(entry, baseUrl));
  return `${[...head, ...table, '', details.join('\n\n')].join('\n')}\n`;
}
