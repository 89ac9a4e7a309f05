import { describe, expect, it } from 'vitest';
import { fixtureSnapshot, offerManifest, FIXTURE_PAY_TO } from '../../test/support/catalog-fixture.js';
import { codeSpan, escapeCell, NO_SERVICES_LINE, renderSkillMarkdown } from './skill-md.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';
const draining = { drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' } as const;

type Fixture = Parameters<typeof fixtureSnapshot>[0];
function render(manifests: Fixture['manifests'], identity: Fixture['identity'] = {}, nowMs = NOW): string {
  return renderSkillMarkdown({ snapshot: fixtureSnapshot({ manifests, nowMs: NOW, identity }), baseUrl: BASE, nowMs });
}

const tableRows = (md: string) => md.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Service'));
const cells = (row: string) => row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());

describe('skill.md', () => {
  it('starts with a title, the count line and absolute links to both JSON documents', () => {
    const md = render([offerManifest({ name: 'a' }), offerManifest({ name: 'b' })], { name: 'Acme' });
    const lines = md.split('\n');
    expect(lines[0]).toBe('# Acme — x402 services');
    expect(lines[2]).toBe('2 services available.');
    expect(md).toContain('(https://edge.example.com/.well-known/agent-registration.json)');
    expect(md).toContain('(https://edge.example.com/api/services.json)');
  });

  it('explains paying with x402: 402, EIP-3009 signature, retry with PAYMENT-SIGNATURE or X-PAYMENT', () => {
    const md = render([offerManifest({ name: 'a' })]);
    const section = md.slice(md.indexOf('## How to pay (x402)'), md.indexOf('## Services'));
    for (const term of ['402', 'EIP-3009', 'PAYMENT-SIGNATURE', 'X-PAYMENT', 'v2', 'v1']) expect(section).toContain(term);
  });

  it('has the table header and one row per published offer with Status — when active', () => {
    const md = render([offerManifest({ name: 'llm', spec: { type: 'inference', model: { name: 'qwen3' } } }), offerManifest({ name: 'plain' })], {}, NOW);
    expect(md).toContain('| Service | Type | Model | Price | Status | Endpoint |');
    expect(tableRows(md).map(cells)).toEqual([
      ['llm', 'inference', 'qwen3', '0.001 USDC/request', '—', '`https://edge.example.com/services/llm`'],
      ['plain', 'http', '—', '0.001 USDC/request', '—', '`https://edge.example.com/services/plain`'],
    ]);
    expect(md).not.toMatch(/\| *Available *\||\*\*Available\*\*/);
  });

  it('shows a draining offer as draining with its RFC 3339 deadline in the table and the bullets', () => {
    const md = render([offerManifest({ name: 'old', spec: draining })]);
    expect(cells(tableRows(md)[0]!)[4]).toBe('draining · ends `2026-11-23T10:30:00Z`');
    expect(md).toContain('- **Drain ends at**: `2026-11-23T10:30:00Z`');
  });

  it('writes the detail bullets in order, Model only when set, Drain ends at only while draining', () => {
    const md = render([offerManifest({ name: 'svc', spec: { type: 'inference', model: { name: 'm1' }, ...draining } }), offerManifest({ name: 'web' })]);
    const svc = md.slice(md.indexOf('### svc'), md.indexOf('### web'));
    const labels = (block: string) => [...block.matchAll(/^- \*\*([^*]+)\*\*/gm)].map((m) => m[1]);
    expect(labels(svc)).toEqual(['Endpoint', 'Type', 'Model', 'Price', 'Pay To', 'Network', 'Drain ends at', 'Description']);
    expect(labels(md.slice(md.indexOf('### web')))).toEqual(['Endpoint', 'Type', 'Price', 'Pay To', 'Network', 'Description']);
    expect(svc).toContain(`- **Pay To**: \`${FIXTURE_PAY_TO}\``);
    expect(svc).toContain('- **Network**: base-sepolia (`eip155:84532`)');
  });

  it('says no services are available when nothing is published, and leaves out drained offers', () => {
    const md = render([offerManifest({ name: 'gone', spec: { drainAt: '2026-11-23T08:00:00Z', drainGracePeriod: '0s' } })]);
    expect(md).toContain(NO_SERVICES_LINE);
    expect(md).toContain('0 services available.');
    expect(md).not.toContain('| Service |');
    expect(md).not.toContain('gone');
  });

  it('escapes pipes and newlines of user text in table cells so a row keeps six cells', () => {
    const md = render([offerManifest({ name: 'evil', spec: { model: { name: 'a|b\n| x | y |' } } })]);
    const row = tableRows(md)[0]!;
    expect(row).not.toContain('\n');
    expect(cells(row)).toHaveLength(6);
    expect(cells(row)[2]).toBe('a\\|b \\| x \\| y \\|');
  });

  it('keeps a multi-line description on its bullet line so it cannot open a heading', () => {
    const md = render([offerManifest({ name: 'svc', spec: { registration: { enabled: true, description: 'line one\n# Injected\n`tick`' } } })]);
    expect(md).toContain('- **Description**: line one # Injected \\`tick\\`');
    expect(md).not.toMatch(/^# Injected/m);
  });

  it('escapeCell and codeSpan survive backslashes, pipes and backtick runs', () => {
    expect(escapeCell('a\\|b')).toBe('a\\\\\\|b');
    expect(codeSpan('x``y')).toBe('```x``y```');
    expect(codeSpan('`start')).toBe('`` `start ``');
  });
});
