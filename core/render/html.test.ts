import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cspHash, escapeHtml, html, htmlPage, jsonForScript, rawHtml } from './html.js';

describe('html', () => {
  it('escapes every interpolated value for element content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    const hostile = '"><script>alert(1)</script>';
    expect(html`<p title="${hostile}">${hostile}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
  });

  it('keeps nested templates and raw markup, joins arrays and prints nothing for undefined, null and false', () => {
    const items = ['a<b', 'c'].map((text) => html`<li>${text}</li>`);
    expect(html`<ul>${items}</ul>${undefined}${null}${false}${rawHtml('<hr>')}${0}`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul><hr>0');
  });

  it('writes JSON that cannot close its script element and parses back to the same value', () => {
    const value = { description: '</script><script>alert(1)</script> & \u2028\u2029 <!--' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('hashes an inline element as CSP does (SHA-256 of its exact text, base64)', () => {
    const text = "console.log('x')";
    expect(cspHash(text)).toBe(`'sha256-${createHash('sha256').update(text).digest('base64')}'`);
  });

  it('allows by hash exactly the page\'s inline style and script, and no other source', () => {
    const page = htmlPage({ title: 'T<', main: html`<main></main>`, style: 'body{}', script: 'void 0', data: { id: 'd', value: { a: '</script>' } } });
    expect(page.contentSecurityPolicy).toBe(
      `default-src 'none'; style-src ${cspHash('body{}')}; script-src ${cspHash('void 0')}; connect-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    expect(page.html).toContain('<title>T&lt;</title>');
    expect(page.html).toContain('<style>body{}</style>');
    expect(page.html).toContain('<script>void 0</script>');
    expect(page.html).toContain('<script type="application/json" id="d">{"a":"\\u003c/script\\u003e"}</script>');
    expect(htmlPage({ title: 't', main: html``, style: 's', connectSelf: true }).contentSecurityPolicy).toContain("script-src 'none'; connect-src 'self'");
  });
});
