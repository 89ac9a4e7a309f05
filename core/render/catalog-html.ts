import type { CatalogSnapshot } from '../snapshot.js';
import { CATALOG_PAGE_PATH, SKILL_PATH } from './document-paths.js';
import { html, htmlPage, type HtmlPage } from './html.js';
import { absoluteUrl, listedOffers, type ListedOffer } from './listed-offers.js';
import { PAGE_STYLE } from './page-style.js';
import { listedPriceBasis, paymentTerms } from './payment-terms.js';
import { agentCard } from './registration.js';
import { NO_SERVICES_LINE, REGISTRATION_PATH, SERVICES_PATH } from './skill-md.js';
import { termsRows } from './terms-html.js';

/**
 * `/` for people: the offers the other documents list (the same `listedOffers`, so the same
 * publication verdict and order), each with its per-request price in token units, network, asset,
 * recipient and, while it drains, when it closes — counted down by a small script, written as an
 * absolute time without it. Every value is escaped: names and descriptions come from sellers.
 */

export { CATALOG_PAGE_PATH, SKILL_PATH };

/** Counts each `data-countdown` deadline down once a second; the page reads the same without it. */
export const COUNTDOWN_SCRIPT = `
(() => {
  'use strict';
  const fields = Array.from(document.querySelectorAll('[data-countdown]'));
  if (fields.length === 0) return;
  const span = (s) => {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + (s % 60) + 's';
  };
  const tick = () => {
    const now = Date.now();
    for (const field of fields) {
      const left = Math.floor((Date.parse(field.dataset.countdown) - now) / 1000);
      field.textContent = left > 0 ? '(in ' + span(left) + ')' : '(closed)';
    }
  };
  tick();
  setInterval(tick, 1000);
})();
`.trim();

function offerCard(listed: ListedOffer, baseUrl: string) {
  const { offer, requirement, drainEndsAt } = listed;
  const listedPrice = listedPriceBasis(offer.price, requirement);
  return html`<article class="card" data-offer="${offer.namespace}/${offer.name}">
<h3><a href="${offer.path}">${offer.name}</a> <span class="muted">${offer.namespace}</span>${drainEndsAt === undefined ? undefined : html` <span class="badge draining">draining</span>`}</h3>
<p class="muted">${offer.description}</p>
<dl>
<dt>Endpoint</dt>
<dd><code data-field="endpoint">${absoluteUrl(baseUrl, offer.path)}</code></dd>
<dt>Service</dt>
<dd>${offer.type}${offer.model === undefined ? undefined : html` · <code>${offer.model}</code>`}</dd>
${termsRows(paymentTerms(requirement), listedPrice)}${drainEndsAt === undefined ? undefined : html`<dt>Closes</dt>
<dd><time datetime="${drainEndsAt}" data-field="drain-ends">${drainEndsAt}</time> <span data-countdown="${drainEndsAt}"></span></dd>
`}</dl>
${(offer.alternatives ?? []).map((option, index) => html`<p class="muted">Or pay this way:</p>
<dl data-option="${index + 1}">
${termsRows(paymentTerms(option), listedPriceBasis(offer.price, option))}</dl>
`)}</article>
`;
}

export function renderCatalogPage(params: { snapshot: Pick<CatalogSnapshot, 'identity' | 'offers'>; baseUrl: string; nowMs: number }): HtmlPage {
  const { baseUrl, nowMs } = params;
  const listed = listedOffers(params.snapshot, nowMs);
  const card = agentCard(params);
  const count = listed.length === 1 ? '1 service available' : `${listed.length} services available`;
  const draining = listed.some((entry) => entry.drainEndsAt !== undefined);
  const main = html`<main>
<p class="eyebrow">x402 services</p>
<h1>${card.name}</h1>
<p class="lead">${card.description}</p>
<p>${count}, each paid per request with <a href="https://www.x402.org/">x402</a>. Open an endpoint in a browser to pay with a wallet, or call it from an x402 client.</p>
<ul class="links">
<li><a href="${SKILL_PATH}">${SKILL_PATH}</a> — the catalog for LLM agents</li>
<li><a href="${SERVICES_PATH}">${SERVICES_PATH}</a> — the catalog as JSON</li>
<li><a href="${REGISTRATION_PATH}">${REGISTRATION_PATH}</a> — the ERC-8004 agent registration</li>
</ul>
<h2>Services</h2>
${listed.length === 0 ? html`<p><strong>${NO_SERVICES_LINE.replace(/\*/g, '')}</strong></p>` : listed.map((entry) => offerCard(entry, baseUrl))}<footer>Prices are per request, in token units; the atomic amount is what a payment must authorize exactly.</footer>
</main>`;
  return htmlPage({
    title: `${card.name} — x402 services`,
    main,
    style: PAGE_STYLE,
    ...(draining ? { script: COUNTDOWN_SCRIPT } : {}),
  });
}
