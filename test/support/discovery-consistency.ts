import { decodePaymentRequiredHeader } from '@x402/core/http';
import { z } from 'zod';
import { resolveNetwork } from '../../core/networks.js';
import { CATALOG_PAGE_PATH, OPENAPI_PATH, REGISTRATION_PATH, SERVICES_PATH, SKILL_PATH } from '../../core/render/document-paths.js';
import { RegistrationDocument } from '../../core/render/registration.js';
import { ServicesDocument, type PaymentOptionEntry, type ServiceEntry } from '../../core/render/services-json.js';

/**
 * What a scorer checks, as a test: reads `/api/services.json`, `/skill.md`, the registration file and
 * `/openapi.json`'s payment terms the way a client does, then calls every listed offer unpaid and reads its 402 (the v1 body and the
 * v2 `PAYMENT-REQUIRED` header, decoded by `@x402/core`). Any disagreement on price, payTo, network,
 * asset, endpoint or drain between them is reported as one line; an empty list means they agree.
 */

export interface DiscoveryProbe {
  /** The edge's public base URL: the documents' endpoints start with it. */
  readonly publicBaseUrl: string;
  /** Fetches an absolute public URL (a test maps it to wherever the edge listens). */
  fetch(url: string): Promise<Response>;
}

export interface ConsistencyReport {
  readonly disagreements: string[];
  /** Every URL fetched, in order: shows what was walked, so an empty catalog cannot pass unnoticed. */
  readonly fetched: string[];
  /** Offers listed in services.json, by endpoint. */
  readonly offers: ReadonlyMap<string, ServiceEntry>;
}

/** The documents that answer 200 to a liveness probe (a registration entry pointing at one must). */
const DOCUMENT_PATHS: ReadonlySet<string> = new Set([CATALOG_PAGE_PATH, SERVICES_PATH, SKILL_PATH, REGISTRATION_PATH, OPENAPI_PATH]);

const V1Challenge = z.object({
  x402Version: z.literal(1),
  accepts: z
    .array(
      z.object({
        scheme: z.string(),
        network: z.string(),
        maxAmountRequired: z.string(),
        resource: z.string(),
        payTo: z.string(),
        asset: z.string(),
        extra: z.object({ name: z.string(), version: z.string() }),
      }),
    )
    .min(1),
});

const OpenApiPaymentInfo = z.object({
  amount: z.string(),
  network: z.string(),
  v1Network: z.string().optional(),
  asset: z.object({ address: z.string(), eip712Domain: z.object({ name: z.string(), version: z.string() }) }),
  payTo: z.string(),
  drainEndsAt: z.string().optional(),
});
const OpenApiDocument = z.object({
  servers: z.array(z.object({ url: z.string() })).min(1),
  paths: z.record(z.string(), z.record(z.string(), z.object({ 'x-payment-info': OpenApiPaymentInfo }))),
});

/** One offer as a skill.md detail block states it. */
interface SkillOffer {
  readonly name: string;
  readonly bullets: ReadonlyMap<string, string>;
}

const BULLET = /^- \*\*([^*]+)\*\*: (.*)$/;
const CODE_SPAN = /(`+)(.+?)\1/;

function codeSpan(text: string | undefined): string | undefined {
  return text === undefined ? undefined : CODE_SPAN.exec(text)?.[2]?.trim();
}

function unescapeMarkdown(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

/** skill.md's detail blocks, keyed by their Endpoint; and the endpoints of its table rows. */
function readSkill(markdown: string): { details: Map<string, SkillOffer>; tableEndpoints: string[] } {
  const details = new Map<string, SkillOffer>();
  for (const block of markdown.split(/^### /m).slice(1)) {
    const [heading = '', ...lines] = block.split('\n');
    const bullets = new Map<string, string>();
    for (const line of lines) {
      const match = BULLET.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) bullets.set(match[1], match[2]);
    }
    details.set(codeSpan(bullets.get('Endpoint')) ?? '', { name: unescapeMarkdown(heading.trim()), bullets });
  }
  const tableEndpoints = markdown
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| Service |'))
    .map((line) => codeSpan(line.split(' | ').at(-1)) ?? '');
  return { details, tableEndpoints };
}

class Findings {
  readonly disagreements: string[] = [];
  readonly fetched: string[] = [];

  constructor(private readonly probe: DiscoveryProbe) {}

  same(subject: string, field: string, a: [string, unknown], b: [string, unknown]): void {
    if (a[1] !== b[1]) this.disagreements.push(`${subject}: ${field}: ${a[0]} says ${JSON.stringify(a[1])}, ${b[0]} says ${JSON.stringify(b[1])}`);
  }

  add(line: string): void {
    this.disagreements.push(line);
  }

  async get(url: string): Promise<Response> {
    this.fetched.push(url);
    return this.probe.fetch(url);
  }
}

/** Compares an offer's unpaid answer at `url` (the offer's endpoint or a page under it) with its services.json entry. */
async function checkChallenge(f: Findings, offer: ServiceEntry, url: string, via: string): Promise<void> {
  const subject = `${offer.namespace}/${offer.name} at ${url} (${via})`;
  const res = await f.get(url);
  if (res.status !== 402) {
    f.add(`${subject}: answers ${res.status}, not 402`);
    await res.body?.cancel();
    return;
  }
  const v1 = V1Challenge.safeParse(await res.json());
  const header = res.headers.get('PAYMENT-REQUIRED');
  if (!v1.success || header === null) {
    f.add(`${subject}: the 402 lacks a readable v1 body or PAYMENT-REQUIRED header`);
    return;
  }
  const v2 = decodePaymentRequiredHeader(header);
  const listed = 'services.json';
  // Every way to pay in the 402's order: services.json's paymentOptions, else its one option (the flat keys).
  const first: PaymentOptionEntry = {
    caip2Network: offer.caip2Network, chainId: offer.chainId, priceAtomicUnits: offer.priceAtomicUnits, pricePerRequest: offer.pricePerRequest ?? '',
    payTo: offer.payTo, asset: offer.asset, ...(resolveNetwork(offer.network)?.v1Name !== undefined ? { v1Network: resolveNetwork(offer.network)?.v1Name } : {}),
  };
  const options = offer.paymentOptions ?? [first];
  const head = options[0];
  if (offer.paymentOptions && head) {
    // The flat keys are the first option's: what a reader of one option only sees.
    f.same(subject, 'first option network', [listed, first.caip2Network], [`${listed} paymentOptions`, head.caip2Network]);
    f.same(subject, 'first option asset', [listed, first.asset.address], [`${listed} paymentOptions`, head.asset.address]);
    f.same(subject, 'first option payTo', [listed, first.payTo], [`${listed} paymentOptions`, head.payTo]);
    f.same(subject, 'first option price', [listed, first.priceAtomicUnits], [`${listed} paymentOptions`, head.priceAtomicUnits]);
  }
  const v1Options = options.filter((o) => o.v1Network !== undefined);
  if (v2.accepts.length !== options.length || v1.data.accepts.length !== v1Options.length) {
    f.add(`${subject}: the 402 offers ${v2.accepts.length} requirement(s) in v2 and ${v1.data.accepts.length} in v1, ${listed} lists ${options.length} (${v1Options.length} with a v1 name)`);
    return;
  }
  const resource = url.split('?')[0];
  options.forEach((o, i) => {
    const two = v2.accepts[i];
    if (two === undefined) return;
    const at = (field: string) => (options.length > 1 ? `${field} (option ${i + 1})` : field);
    f.same(subject, at('price (atomic units)'), [listed, o.priceAtomicUnits], ['402 v2', two.amount]);
    f.same(subject, at('payTo'), [listed, o.payTo], ['402 v2', two.payTo]);
    f.same(subject, at('network'), [listed, o.caip2Network], ['402 v2', two.network]);
    f.same(subject, at('chainId'), [listed, o.chainId], ['402 v2 network', Number(two.network.split(':')[1])]);
    f.same(subject, at('asset'), [listed, o.asset.address], ['402 v2', two.asset]);
    f.same(subject, at('asset EIP-712 name'), [listed, o.asset.eip712Domain.name], ['402 v2', two.extra['name']]);
    f.same(subject, at('asset EIP-712 version'), [listed, o.asset.eip712Domain.version], ['402 v2', two.extra['version']]);
  });
  v1Options.forEach((o, i) => {
    const one = v1.data.accepts[i];
    if (one === undefined) return;
    const at = (field: string) => (options.length > 1 ? `${field} (option ${options.indexOf(o) + 1})` : field);
    f.same(subject, at('price (atomic units)'), [listed, o.priceAtomicUnits], ['402 v1', one.maxAmountRequired]);
    f.same(subject, at('payTo'), [listed, o.payTo], ['402 v1', one.payTo]);
    f.same(subject, at('network'), [`${listed} network ${options.length > 1 ? o.caip2Network : offer.network}`, o.v1Network], ['402 v1', one.network]);
    f.same(subject, at('asset'), [listed, o.asset.address], ['402 v1', one.asset]);
    f.same(subject, at('asset EIP-712 name'), [listed, o.asset.eip712Domain.name], ['402 v1', one.extra.name]);
    f.same(subject, 'endpoint', ['the document', resource], ['402 v1 resource', one.resource]);
  });
  f.same(subject, 'endpoint', ['the document', resource], ['402 v2 resource', v2.resource?.url]);
  const sunset = res.headers.get('Sunset');
  const sunsetAt = sunset === null ? undefined : new Date(sunset).toISOString().replace('.000Z', 'Z');
  f.same(subject, 'drain deadline', [listed, offer.drainEndsAt], ['402 Sunset header', sunsetAt]);
}

function checkSkill(f: Findings, offers: ReadonlyMap<string, ServiceEntry>, markdown: string): void {
  const { details, tableEndpoints } = readSkill(markdown);
  f.same('skill.md', 'table rows', ['services.json', [...offers.keys()].join(' ')], ['skill.md table', tableEndpoints.join(' ')]);
  for (const endpoint of details.keys()) if (!offers.has(endpoint)) f.add(`skill.md lists ${endpoint}, services.json does not`);
  for (const [endpoint, offer] of offers) {
    const skill = details.get(endpoint);
    const subject = `${offer.namespace}/${offer.name} in skill.md`;
    if (skill === undefined) {
      f.add(`services.json lists ${endpoint}, skill.md has no detail block for it`);
      continue;
    }
    const price = skill.bullets.get('Price') ?? '';
    f.same(subject, 'name', ['services.json', offer.name], ['skill.md', skill.name]);
    f.same(subject, 'price per request', ['services.json', `${offer.pricePerRequest} `], ['skill.md', price.slice(0, `${offer.pricePerRequest} `.length)]);
    f.same(subject, 'price (atomic units)', ['services.json', offer.priceAtomicUnits], ['skill.md', /`(\d+)` atomic units per request/.exec(price)?.[1]]);
    f.same(subject, 'payTo', ['services.json', offer.payTo], ['skill.md', codeSpan(skill.bullets.get('Pay To'))]);
    f.same(subject, 'network', ['services.json', `${offer.network} (\`${offer.caip2Network}\`)`], ['skill.md', skill.bullets.get('Network')]);
    f.same(subject, 'drain deadline', ['services.json', offer.drainEndsAt], ['skill.md', codeSpan(skill.bullets.get('Drain ends at'))]);
  }
}

function checkOpenApi(f: Findings, offers: ReadonlyMap<string, ServiceEntry>, document: z.infer<typeof OpenApiDocument>): void {
  const server = document.servers[0]?.url ?? '';
  const described = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths)) {
    const endpoint = `${server}${path}`;
    described.add(endpoint);
    const offer = offers.get(endpoint);
    if (offer === undefined) {
      f.add(`openapi.json lists ${endpoint}, services.json does not`);
      continue;
    }
    for (const [method, { 'x-payment-info': info }] of Object.entries(operations)) {
      const subject = `${offer.namespace}/${offer.name} in openapi.json (${method})`;
      f.same(subject, 'price (atomic units)', ['services.json', offer.priceAtomicUnits], ['openapi.json', info.amount]);
      f.same(subject, 'payTo', ['services.json', offer.payTo], ['openapi.json', info.payTo]);
      f.same(subject, 'network', ['services.json', offer.caip2Network], ['openapi.json', info.network]);
      f.same(subject, 'network', ['services.json', resolveNetwork(offer.network)?.v1Name], ['openapi.json v1Network', info.v1Network]);
      f.same(subject, 'asset', ['services.json', offer.asset.address], ['openapi.json', info.asset.address]);
      f.same(subject, 'asset EIP-712 name', ['services.json', offer.asset.eip712Domain.name], ['openapi.json', info.asset.eip712Domain.name]);
      f.same(subject, 'drain deadline', ['services.json', offer.drainEndsAt], ['openapi.json', info.drainEndsAt]);
    }
  }
  for (const endpoint of offers.keys()) if (!described.has(endpoint)) f.add(`services.json lists ${endpoint}, openapi.json does not`);
}

/** The listed offer a URL belongs to: the longest endpoint it equals or lies under (the gate's rule). */
function offerAt(offers: ReadonlyMap<string, ServiceEntry>, url: string): ServiceEntry | undefined {
  let best: ServiceEntry | undefined;
  for (const [endpoint, offer] of offers) {
    if ((url === endpoint || url.startsWith(`${endpoint}/`)) && endpoint.length > (best?.endpoint.length ?? -1)) best = offer;
  }
  return best;
}

async function checkRegistration(f: Findings, probe: DiscoveryProbe, offers: ReadonlyMap<string, ServiceEntry>, file: RegistrationDocument): Promise<void> {
  const base = probe.publicBaseUrl.replace(/\/+$/, '');
  let offerEntries = 0;
  let liveDocuments = 0;
  for (const entry of file.services) {
    const { endpoint } = entry;
    const subject = `registration entry ${entry.name} ${endpoint}`;
    if (endpoint !== base && !endpoint.startsWith(`${base}/`)) continue; // another host's endpoint, the seller's own
    const path = new URL(endpoint).pathname;
    if (DOCUMENT_PATHS.has(path)) {
      if (entry['available'] !== undefined || entry['drainEndsAt'] !== undefined) f.add(`${subject}: a catalog document carries drain keys`);
      const res = await f.get(endpoint);
      if (res.status !== 200) f.add(`${subject}: answers ${res.status}, not 200`);
      else liveDocuments += 1;
      await res.body?.cancel();
      continue;
    }
    const offer = offerAt(offers, endpoint);
    if (offer === undefined) {
      f.add(`${subject}: no listed offer serves it`);
      continue;
    }
    offerEntries += 1;
    if (entry.name === 'web') f.same(subject, 'endpoint', ['services.json', offer.endpoint], ['registration', endpoint]);
    f.same(subject, 'drain deadline', ['services.json', offer.drainEndsAt], ['registration', entry['drainEndsAt']]);
    f.same(subject, 'available', ['services.json', offer.drainEndsAt === undefined ? undefined : false], ['registration', entry['available']]);
    await checkChallenge(f, offer, endpoint, 'listed in the registration file');
  }
  f.same('registration', 'active', ['its offer entries', offerEntries > 0], ['registration', file.active]);
  // A liveness probe of a live file must find an entry that answers 200, not only paid routes' 402.
  if (file.active && liveDocuments === 0) f.add('registration: lists no catalog document that answers 200');
  f.same('registration', 'x402Support', ['its offer entries', offerEntries > 0], ['registration', file.x402Support]);
}

async function readDocument<T>(f: Findings, url: string, read: (res: Response) => Promise<T>): Promise<T | undefined> {
  const res = await f.get(url);
  if (res.status === 200) return read(res);
  f.add(`${url} answers ${res.status}, not 200`);
  await res.body?.cancel();
  return undefined;
}

export async function discoveryConsistency(probe: DiscoveryProbe): Promise<ConsistencyReport> {
  const f = new Findings(probe);
  const base = probe.publicBaseUrl.replace(/\/+$/, '');
  const services = await readDocument(f, `${base}${SERVICES_PATH}`, async (res) => ServicesDocument.safeParse(await res.json()));
  const skill = await readDocument(f, `${base}${SKILL_PATH}`, (res) => res.text());
  const registration = await readDocument(f, `${base}${REGISTRATION_PATH}`, async (res) => RegistrationDocument.safeParse(await res.json()));
  const openApi = await readDocument(f, `${base}${OPENAPI_PATH}`, async (res) => OpenApiDocument.safeParse(await res.json()));
  if (openApi && !openApi.success) f.add(`openapi.json lacks the payment terms read here: ${z.prettifyError(openApi.error)}`);
  if (services && !services.success) f.add(`services.json does not fit its schema: ${z.prettifyError(services.error)}`);
  if (registration && !registration.success) f.add(`the registration file does not fit its schema: ${z.prettifyError(registration.error)}`);
  const offers = new Map((services?.success ? services.data.services : []).map((offer) => [offer.endpoint, offer]));
  for (const offer of offers.values()) await checkChallenge(f, offer, offer.endpoint, 'listed in services.json');
  if (skill !== undefined) checkSkill(f, offers, skill);
  if (openApi?.success) checkOpenApi(f, offers, openApi.data);
  if (registration?.success) await checkRegistration(f, probe, offers, registration.data);
  return { disagreements: f.disagreements, fetched: f.fetched, offers };
}
