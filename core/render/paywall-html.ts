import type { PaymentRequirement } from '../requirement.js';
import type { SnapshotOffer } from '../snapshot.js';
import type { V2Challenge } from '../x402/challenge.js';
import { html, htmlPage, type HtmlPage } from './html.js';
import { PAGE_STYLE } from './page-style.js';
import { listedPriceBasis, paymentTerms } from './payment-terms.js';
import { PAYWALL_DATA_ID, PAYWALL_SCRIPT } from './paywall-script.js';
import { CATALOG_PAGE_PATH, SKILL_PATH } from './catalog-html.js';
import { REGISTRATION_PATH, SERVICES_PATH } from './skill-md.js';
import { termsRows } from './terms-html.js';

/**
 * The 402 as a page for a person (SPEC §5 "People and retries"): what the resource is, what one
 * request costs in each way to pay, who is paid, links to the catalog, and a button per way to pay
 * from a browser wallet. Its script pays exactly the `PAYMENT-REQUIRED` challenge, embedded as data.
 * Every value is escaped: descriptions come from sellers.
 */
export interface PaywallPageParams {
  /** The 402's v2 challenge, exactly as its `PAYMENT-REQUIRED` header carries it: what the script pays. */
  readonly challenge: V2Challenge;
  /** The requirements the challenge was built from, in its `accepts` order (they hold decimals and symbols). */
  readonly requirements: readonly PaymentRequirement[];
  readonly offer: Pick<SnapshotOffer, 'name' | 'type' | 'model' | 'price'>;
  /** Present while the offer drains: when its route closes. */
  readonly drainEndsAt?: string;
}

function option(requirement: PaymentRequirement, index: number, price: PaywallPageParams['offer']['price']) {
  const terms = paymentTerms(requirement);
  return html`<section class="card" data-option="${index}">
<dl>
${termsRows(terms, listedPriceBasis(price, requirement))}</dl>
<button type="button" data-pay="${index}">Pay ${terms.amount} ${terms.symbol} on ${terms.networkName} with a browser wallet</button>
</section>
`;
}

export function renderPaywallPage(params: PaywallPageParams): HtmlPage {
  const { challenge, offer, requirements, drainEndsAt } = params;
  if (requirements.length === 0 || requirements.length !== challenge.accepts.length) {
    throw new RangeError(`a paywall page needs one requirement per option of the challenge (${requirements.length} for ${challenge.accepts.length})`);
  }
  const resourceUrl = challenge.resource.url;
  const main = html`<main>
<p class="eyebrow">402 · Payment required</p>
<h1>${offer.name}</h1>
<p class="lead" data-field="description">${challenge.resource.description}</p>
<dl>
<dt>Resource</dt>
<dd><code data-field="resource">${resourceUrl}</code></dd>
<dt>Service</dt>
<dd>${offer.type}${offer.model === undefined ? undefined : html` · <code>${offer.model}</code>`}</dd>
${drainEndsAt === undefined ? undefined : html`<dt>Closes</dt>
<dd><span class="badge draining">draining</span> <time datetime="${drainEndsAt}" data-field="drain-ends">${drainEndsAt}</time></dd>
`}</dl>
<h2>${requirements.length === 1 ? 'Pay for one request' : 'Pay for one request, in any of these ways'}</h2>
${requirements.map((requirement, index) => option(requirement, index, offer.price))}<p id="pay-status" role="status" aria-live="polite"></p>
<section class="card" id="result" hidden>
<h3>Answer</h3>
<p class="muted" id="result-meta"></p>
<pre id="result-body"></pre>
<p><a id="result-download" download hidden>Download the answer</a></p>
</section>
<h2>Paying from a program</h2>
<p>This URL speaks <a href="https://www.x402.org/">x402</a>. An x402 client reads the <code>PAYMENT-REQUIRED</code> header of this 402 (or its JSON body, for x402 v1), signs an EIP-3009 authorization for the amount above and repeats the request with the payment in <code>PAYMENT-SIGNATURE</code>. Each signed authorization pays for one request.</p>
<footer>
<a href="${CATALOG_PAGE_PATH}">All services</a> · <a href="${SERVICES_PATH}">${SERVICES_PATH}</a> · <a href="${SKILL_PATH}">${SKILL_PATH}</a> · <a href="${REGISTRATION_PATH}">agent registration</a>
</footer>
</main>`;
  return htmlPage({
    title: `Payment required · ${offer.name}`,
    main,
    style: PAGE_STYLE,
    script: PAYWALL_SCRIPT,
    data: { id: PAYWALL_DATA_ID, value: challenge },
    connectSelf: true,
  });
}
