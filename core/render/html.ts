import { sha256 } from 'viem';

/**
 * HTML for the pages people read (the paywall and the catalog page): a tagged template that escapes
 * every interpolated value unless it is already `SafeHtml`, and a document shell whose one inline
 * style and one inline script are allowed by hash in a Content-Security-Policy with no other source.
 */

/** Markup that is already safe to emit as is (built by `html` or `rawHtml`). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Trusted markup (constants of this module's callers), emitted unescaped. */
export function rawHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

type Interpolation = SafeHtml | string | number | bigint | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/** `html\`<p>${text}</p>\``: every value escaped; arrays joined; `undefined`, `null`, `false` print nothing. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** JSON for a `<script type="application/json">` block: nothing in it can close the element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** CSP source for an inline element's exact text: 'sha256-<base64>'. */
export function cspHash(text: string): string {
  const digest = sha256(new TextEncoder().encode(text), 'bytes');
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

const hashes = new Map<string, string>();
function memoHash(text: string): string {
  let hash = hashes.get(text);
  if (hash === undefined) {
    hash = cspHash(text);
    hashes.set(text, hash);
  }
  return hash;
}

export interface HtmlPage {
  readonly html: string;
  /** Allows exactly this page's inline style and script; no other source of anything. */
  readonly contentSecurityPolicy: string;
}

export interface HtmlPageParams {
  readonly title: string;
  readonly main: SafeHtml;
  /** CSS of the page's one `<style>` element (a constant: it is allowed by hash). */
  readonly style: string;
  /** JS of the page's one inline `<script>` (a constant: it is allowed by hash). */
  readonly script?: string;
  /** Data for the script, as a non-executable JSON block with this id. */
  readonly data?: { readonly id: string; readonly value: unknown };
  /** Let the script fetch from the page's own origin (the paywall retries its request). */
  readonly connectSelf?: boolean;
}

export function htmlPage(params: HtmlPageParams): HtmlPage {
  const { title, main, style, script, data } = params;
  const policy = [
    "default-src 'none'",
    `style-src ${memoHash(style)}`,
    `script-src ${script === undefined ? "'none'" : memoHash(script)}`,
    `connect-src ${params.connectSelf ? "'self'" : "'none'"}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const dataBlock = data ? `<script type="application/json" id="${escapeHtml(data.id)}">${jsonForScript(data.value)}</script>\n` : '';
  const scriptBlock = script === undefined ? '' : `<script>${script}</script>\n`;
  const document = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${rawHtml(style)}</style>
</head>
<body>
${main}
${rawHtml(dataBlock)}${rawHtml(scriptBlock)}</body>
</html>
`;
  return { html: document.value, contentSecurityPolicy: policy };
}
