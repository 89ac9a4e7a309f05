import { chargeablePrice, formatPrice, offerPath, parseServiceOffer, resolvePayment } from '../../../core/index.js';
import { describeDrain } from './drain-edit.js';
import type { OfferRecord } from './target.js';

/** `sell list`: one aligned row per offer — namespace, name, path, price, phase. */

export interface OfferRow {
  readonly namespace: string;
  readonly name: string;
  readonly path: string;
  readonly price: string;
  readonly phase: string;
}

export function offerRow(record: OfferRecord, nowMs: number): OfferRow {
  const parsed = parseServiceOffer(record.object);
  const base = { namespace: record.namespace, name: record.name };
  if (!parsed.ok) {
    const first = parsed.problems[0];
    return { ...base, path: '-', price: '-', phase: `invalid (${first ? `${first.field}: ${first.message}` : 'unknown problem'})` };
  }
  const { spec } = parsed.offer;
  const payment = resolvePayment(spec);
  const chargeable = chargeablePrice(spec.payment.price);
  const price = payment.ok ? payment.display : chargeable ? formatPrice(chargeable, spec.payment.asset?.symbol ?? '?') : '-';
  return { ...base, path: offerPath(parsed.offer), price, phase: describeDrain(spec, nowMs) };
}

export function formatOfferTable(rows: readonly OfferRow[]): string {
  if (rows.length === 0) return 'No ServiceOffers found.\n';
  const header: OfferRow = { namespace: 'NAMESPACE', name: 'NAME', path: 'PATH', price: 'PRICE', phase: 'PHASE' };
  const all = [header, ...rows];
  const columns = ['namespace', 'name', 'path', 'price'] as const;
  const widths = columns.map((c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => [...columns.map((c, i) => r[c].padEnd(widths[i] ?? 0)), r.phase].join('  ')).join('\n') + '\n';
}
