import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * Flags of `npm run bench:load`. The defaults keep the paid share inside what the local chain
 * absorbs: the facilitator settles one at a time (TOOLCHAIN.md), so paid throughput is bounded by
 * its settle latency, not by the edge.
 */
export const TRAFFIC_KINDS = ['discovery', 'unpaid', 'paid', 'replay', 'garbage'] as const;
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];

export type Mix = Readonly<Record<TrafficKind, number>>;

/** Percent of all requests per kind: 20 paid/s at the default 200 req/s. */
export const DEFAULT_MIX: Mix = { discovery: 40, unpaid: 30, paid: 10, replay: 10, garbage: 10 };

export class LoadOptionsError extends Error {
  readonly reason = 'invalid_load_options';
  constructor(detail: string) {
    super(detail);
    this.name = 'LoadOptionsError';
  }
}

const MixSchema = z
  .object(Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, z.number().int().min(0).max(100)])) as Record<TrafficKind, z.ZodNumber>)
  .refine((mix) => Object.values(mix).reduce((a, b) => a + b, 0) === 100, 'the mix must add up to 100 (percent)');

export const LoadOptions = z.object({
  rate: z.number().int().min(1).max(2_000),
  durationSec: z.number().min(1).max(120),
  payers: z.number().int().min(1).max(64),
  /** Paid requests per second above this are refused up front: the settling key cannot keep up. */
  maxPaidPerSec: z.number().min(1).max(200),
  mix: MixSchema,
  out: z.string().min(1),
});
export type LoadOptions = z.infer<typeof LoadOptions>;

function parseMix(text: string): Mix {
  const mix: Record<string, number> = { discovery: 0, unpaid: 0, paid: 0, replay: 0, garbage: 0 };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [kind, value] = part.split('=');
    if (!kind || value === undefined || !(TRAFFIC_KINDS as readonly string[]).includes(kind)) {
      throw new LoadOptionsError(`--mix: "${part}" is not kind=percent with kind one of ${TRAFFIC_KINDS.join(', ')}`);
    }
    if (!/^\d+$/.test(value)) throw new LoadOptionsError(`--mix: ${kind}=${value} is not a whole percent`);
    mix[kind] = Number(value);
  }
  return mix as Mix;
}

function numberFlag(name: string, value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new LoadOptionsError(`--${name} must be a positive number, got "${value}"`);
  return Number(value);
}

/** Parse argv (without node and script); throws LoadOptionsError with every problem named. */
export function parseLoadOptions(argv: string[], defaultOut: string): LoadOptions {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rate: { type: 'string', default: '200' },
        duration: { type: 'string', default: '15' },
        payers: { type: 'string', default: '16' },
        'max-paid-per-sec': { type: 'string', default: '25' },
        mix: { type: 'string' },
        out: { type: 'string', default: defaultOut },
      },
    }));
  } catch (error) {
    throw new LoadOptionsError((error as Error).message);
  }
  const candidate = {
    rate: numberFlag('rate', values.rate ?? ''),
    durationSec: numberFlag('duration', values.duration ?? ''),
    payers: numberFlag('payers', values.payers ?? ''),
    maxPaidPerSec: numberFlag('max-paid-per-sec', values['max-paid-per-sec'] ?? ''),
    mix: values.mix === undefined ? DEFAULT_MIX : parseMix(values.mix),
    out: values.out,
  };
  const parsed = LoadOptions.safeParse(candidate);
  if (!parsed.success) throw new LoadOptionsError(z.prettifyError(parsed.error));
  if (parsed.data.mix.replay > 0 && parsed.data.mix.paid === 0) throw new LoadOptionsError('--mix: replays reuse paid authorizations, so replay > 0 needs paid > 0');
  const paidPerSec = (parsed.data.rate * parsed.data.mix.paid) / 100;
  if (paidPerSec > parsed.data.maxPaidPerSec) {
    throw new LoadOptionsError(
      `${paidPerSec} paid req/s exceeds --max-paid-per-sec ${parsed.data.maxPaidPerSec}: the facilitator settles one at a time; lower --rate or the paid share`,
    );
  }
  return parsed.data;
}
