import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run as sell } from '../../cluster-agent/src/cli/commands/sell.js';
import { formatHttpDate, formatRfc3339, parseRfc3339 } from '../../core/time.js';
import { readReceipt } from '../../stack/buyer.js';
import type { LocalStack } from '../../stack/local-stack.js';
import { recordingBuyer, serviceNamed, services, startE2EStack, until } from './stack-support.js';

/**
 * The drain lifecycle end to end: `sell stop --source dir: --grace 3s` edits the watched manifest,
 * the agent pushes, the edge advertises `drainEndsAt` and sends `Sunset` while draining, and after
 * the deadline — by the edge's own clock, with the agent already stopped — answers 410.
 */

let stack: LocalStack;

beforeAll(async () => {
  ({ stack } = await startE2EStack());
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 20_000);

function captureIo(): { io: { out(s: string): void; err(s: string): void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s) => void out.push(s), err: (s) => void err.push(s) }, out, err };
}

const weatherManifest = () => readFile(join(stack.offersDir, 'weather.yaml'), 'utf8');

it('a bad grace is refused with a usage error and changes neither the manifest nor the catalog', async () => {
  const manifestBefore = await weatherManifest();
  const catalogBefore = await services(stack.edgeUrl);
  const { io, err } = captureIo();
  const code = await sell(['stop', 'weather', '-n', 'apis', '--source', `dir:${stack.offersDir}`, '--grace', 'banana'], io);
  expect(code).toBe(2);
  expect(err.join('')).toMatch(/grace|duration/i);
  expect(await weatherManifest()).toBe(manifestBefore);
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(await services(stack.edgeUrl)).toEqual(catalogBefore);
  expect((await serviceNamed(stack.edgeUrl, 'weather')).drainEndsAt).toBeUndefined();
}, 10_000);

it('sell stop --grace 3s drains the offer: drainEndsAt and Sunset while draining, 410 offer_drained after the deadline', async () => {
  // drainAt is truncated to the second: start at the top of one so the grace is a full ~3 s.
  await new Promise((resolve) => setTimeout(resolve, 1_010 - (Date.now() % 1_000)));
  const { io, out } = captureIo();
  expect(await sell(['stop', 'weather', '-n', 'apis', '--source', `dir:${stack.offersDir}`, '--grace', '3s'], io)).toBe(0);
  expect(out.join('')).toContain('draining');
  const spec = (parse(await weatherManifest()) as { spec: { drainAt: string; drainGracePeriod: string } }).spec;
  expect(spec.drainGracePeriod).toBe('3s');
  const endsAtMs = parseRfc3339(spec.drainAt) + 3_000;
  const drainEndsAt = formatRfc3339(endsAtMs);

  // The agent pushes the change; discovery advertises the deadline.
  await until('services.json to show drainEndsAt', async () => (await serviceNamed(stack.edgeUrl, 'weather')).drainEndsAt === drainEndsAt, 2_000, 50);
  expect(Date.now()).toBeLessThan(endsAtMs);
  const skill = await (await fetch(`${stack.edgeUrl}/skill.md`)).text();
  expect(skill).toContain(`draining · ends \`${drainEndsAt}\``);

  // While draining, a paid request still works and carries the RFC 8594 Sunset header.
  const { pay } = recordingBuyer(2);
  const paid = await pay(`${stack.edgeUrl}/services/weather`);
  expect(paid.status).toBe(200);
  expect(readReceipt(paid)?.success).toBe(true);
  expect(paid.headers.get('Sunset')).toBe(formatHttpDate(endsAtMs));
  expect(Date.now()).toBeLessThan(endsAtMs);

  // The edge applies the deadline by its own clock: no further push is needed.
  await stack.agent.stop();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAtMs - Date.now()) + 50));
  const buyerBefore = await stack.chain.balanceOf(stack.accounts.buyer.address);
  const gone = await pay(`${stack.edgeUrl}/services/weather`);
  expect(gone.status).toBe(410);
  expect(await gone.json()).toEqual({ error: 'offer_drained', drainEndsAt });
  expect(await stack.chain.balanceOf(stack.accounts.buyer.address)).toBe(buyerBefore);
  const names = (await services(stack.edgeUrl)).map((s) => s.name);
  expect(names).not.toContain('weather');
  expect(names).toContain('llama');
  const skillAfter = await (await fetch(`${stack.edgeUrl}/skill.md`)).text();
  expect(skillAfter).not.toContain('/services/weather');
}, 20_000);
