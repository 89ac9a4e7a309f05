/**
 * The paywall page's one inline script (allowed by its hash). It pays with the buyer's browser
 * wallet (EIP-1193 `window.ethereum`): it signs, with `eth_signTypedData_v4`, the EIP-3009
 * `TransferWithAuthorization` for the option the buyer picked, exactly as the 402 advertised it (the
 * page's JSON block is the `PAYMENT-REQUIRED` challenge), and repeats the page's own request with the
 * x402 v2 payment in `PAYMENT-SIGNATURE`. The answer is shown as text, never as markup.
 * Plain ES2020 in a string: it runs in the browser, not in the worker.
 */
export const PAYWALL_DATA_ID = 'x402-payment-required';

export const PAYWALL_SCRIPT = `
(() => {
  'use strict';
  const challenge = JSON.parse(document.getElementById('${PAYWALL_DATA_ID}').textContent);
  const status = document.getElementById('pay-status');
  const buttons = Array.from(document.querySelectorAll('button[data-pay]'));
  const NO_WALLET = 'No browser wallet found. Install an EIP-1193 wallet (MetaMask, Coinbase Wallet, Rabby…) and reload, or pay from a program with an x402 client.';
  const TYPES = {
    EIP712Domain: [
      { name: 'name', type: 'string' }, { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' },
    ],
    TransferWithAuthorization: [
      { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
      { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
    ],
  };

  const say = (text, kind) => { status.textContent = text; status.className = kind || ''; };
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const base64 = (text) => {
    let binary = '';
    for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
    return btoa(binary);
  };
  const decode = (value) => {
    try { return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)))); } catch (e) { return undefined; }
  };

  if (!window.ethereum) say(NO_WALLET, 'warn');

  async function show(response) {
    const receipt = decode(response.headers.get('PAYMENT-RESPONSE') || '');
    if (response.ok) {
      say(receipt && receipt.transaction ? 'Paid. Transaction ' + receipt.transaction + ' on ' + receipt.network + '.' : 'Paid.', 'ok');
    } else if (response.status === 402) {
      const again = decode(response.headers.get('PAYMENT-REQUIRED') || '');
      say('The payment was refused: ' + ((again && again.error) || 'payment required') + '.', 'error');
    } else {
      say('The service answered ' + response.status + ' ' + response.statusText + '.', 'error');
    }
    const type = response.headers.get('Content-Type') || '';
    document.getElementById('result-meta').textContent = response.status + ' ' + response.statusText + (type ? ' · ' + type : '');
    const body = document.getElementById('result-body');
    const link = document.getElementById('result-download');
    if (type === '' || /^(text\\/|application\\/([\\w.+-]*json|[\\w.+-]*xml|javascript|x-ndjson))/i.test(type)) {
      body.textContent = await response.text();
      link.hidden = true;
    } else {
      const blob = await response.blob();
      body.textContent = blob.size + ' bytes of ' + type;
      link.href = URL.createObjectURL(blob);
      link.hidden = false;
    }
    document.getElementById('result').hidden = false;
  }

  async function pay(accepted) {
    const wallet = window.ethereum;
    if (!wallet) { say(NO_WALLET, 'error'); return; }
    const chainId = Number(accepted.network.split(':')[1]);
    say('Connecting to your wallet…');
    const accounts = await wallet.request({ method: 'eth_requestAccounts' });
    const from = accounts && accounts[0];
    if (!from) throw new Error('the wallet shared no account');
    if (Number(await wallet.request({ method: 'eth_chainId' })) !== chainId) {
      say('Switching your wallet to chain ' + chainId + '…');
      await wallet.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x' + chainId.toString(16) }] });
    }
    const now = Math.floor(Date.now() / 1000);
    const authorization = {
      from, to: accepted.payTo, value: accepted.amount,
      validAfter: String(now - 600), validBefore: String(now + accepted.maxTimeoutSeconds),
      nonce: '0x' + hex(crypto.getRandomValues(new Uint8Array(32))),
    };
    const typedData = {
      types: TYPES, primaryType: 'TransferWithAuthorization',
      domain: { name: accepted.extra.name, version: accepted.extra.version, chainId, verifyingContract: accepted.asset },
      message: authorization,
    };
    say('Sign the payment in your wallet…');
    const signature = await wallet.request({ method: 'eth_signTypedData_v4', params: [from, JSON.stringify(typedData)] });
    const payment = { x402Version: 2, resource: challenge.resource, accepted, payload: { signature, authorization } };
    say('Paying…');
    const response = await fetch(location.href, { headers: { 'PAYMENT-SIGNATURE': base64(JSON.stringify(payment)) }, cache: 'no-store', credentials: 'omit' });
    await show(response);
  }

  for (const button of buttons) {
    button.addEventListener('click', async () => {
      const accepted = challenge.accepts[Number(button.dataset.pay)];
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await pay(accepted);
      } catch (error) {
        const code = error && error.code;
        if (code === 4001) say('You declined in your wallet. Nothing was paid.', 'warn');
        else if (code === 4902) say('Your wallet does not know chain ' + accepted.network + '. Add it to the wallet and try again.', 'error');
        else say('The payment did not go through: ' + ((error && error.message) || String(error)), 'error');
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  }
})();
`.trim();
