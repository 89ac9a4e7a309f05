import { existsSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { getAddress, type Hex, type PrivateKeyAccount } from 'viem';

/**
 * Debian's Chromium driven by playwright-core, never a browser Playwright downloads. `.ci/run`
 * installs the `chromium` package when it is missing; a machine without it skips the browser tests
 * with the reason `chromiumMissing` gives.
 */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  return `${CHROMIUM_PATH} is not installed (Debian package "chromium"; .ci/run installs it with apt-get when it runs as root)`;
}

/**
 * Headless, and quiet on a closed network: without the background-networking flags Chromium keeps
 * dialing Google's hosts. Playwright gives every launch a fresh, empty --user-data-dir.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The EIP-712 request a page hands to `eth_signTypedData_v4`, as JSON. */
interface TypedDataV4 {
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: 'TransferWithAuthorization';
  domain: { name: string; version: string; chainId: number; verifyingContract: Hex };
  message: { from: Hex; to: Hex; value: string; validAfter: string; validBefore: string; nonce: Hex };
}

/**
 * A test EIP-1193 wallet in every page of `page`'s context, starting on `chainId`: it shares
 * `account`, switches chains when asked and answers `eth_signTypedData_v4` with `account`'s key in
 * Node, refusing, as a wallet does, another account or a domain on another chain. The page records
 * the methods it was asked in `window.__walletCalls`.
 */
export async function installTestWallet(page: Page, account: PrivateKeyAccount, chainId = 1): Promise<void> {
  await page.exposeFunction('__walletSign', async (from: string, json: string, activeChainId: string): Promise<Hex> => {
    const typed = JSON.parse(json) as TypedDataV4;
    if (getAddress(from) !== account.address) throw new Error(`asked to sign for ${from}`);
    if (Number(activeChainId) !== typed.domain.chainId) throw new Error(`domain chain ${typed.domain.chainId} is not the active chain ${activeChainId}`);
    const { EIP712Domain: _domain, ...types } = typed.types;
    const m = typed.message;
    return account.signTypedData({
      domain: typed.domain,
      types,
      primaryType: typed.primaryType,
      message: { ...m, value: BigInt(m.value), validAfter: BigInt(m.validAfter), validBefore: BigInt(m.validBefore) },
    });
  });
  await page.addInitScript(`
window.__walletCalls = [];
window.ethereum = {
  chainId: '0x${chainId.toString(16)}',
  async request({ method, params }) {
    window.__walletCalls.push(method);
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') return ['${account.address.toLowerCase()}'];
    if (method === 'eth_chainId') return this.chainId;
    if (method === 'wallet_switchEthereumChain') { this.chainId = params[0].chainId; return null; }
    if (method === 'eth_signTypedData_v4') return window.__walletSign(params[0], params[1], this.chainId);
    throw Object.assign(new Error('unsupported method ' + method), { code: 4200 });
  },
};`);
}

/** Console errors of `page`, except Chromium's own line for a document served with the expected 402. */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const documentStatus = message.location().url === page.url() && /^Failed to load resource: the server responded with a status of 402\b/.test(message.text());
    if (!documentStatus) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}
