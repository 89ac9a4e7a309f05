import { html, type SafeHtml } from './html.js';
import type { PaymentTerms } from './payment-terms.js';

/**
 * The `<dt>/<dd>` rows of one way to pay, shared by the paywall and the catalog page. Each value a
 * test compares with the 402 carries a `data-field`.
 */
export function termsRows(terms: PaymentTerms, listedPrice?: string): SafeHtml {
  return html`<dt>Price per request</dt>
<dd><span class="amount" data-field="amount">${terms.amount}</span> <span data-field="symbol">${terms.symbol}</span> <span class="muted">(<span data-field="atomic">${terms.atomicAmount}</span> atomic units, ${terms.decimals} decimals)</span></dd>
${listedPrice === undefined ? undefined : html`<dt>Listed price</dt>
<dd data-field="listed-price">${listedPrice}</dd>
`}<dt>Network</dt>
<dd><span data-field="network-name">${terms.networkName}</span> <code data-field="network">${terms.network}</code></dd>
<dt>Asset</dt>
<dd>${terms.symbol} <code data-field="asset">${terms.assetAddress}</code></dd>
<dt>Pay to</dt>
<dd><code data-field="payTo">${terms.payTo}</code></dd>
`;
}
