/**
 * A strict reader of the Prometheus text exposition format (0.0.4) for the subset the edge writes:
 * HELP and TYPE lines, then samples of that family with escaped label values. Tests and benches
 * read the edge's `/_obol/v1/metrics` with it; the agent re-exports that text verbatim.
 */
export interface ExpositionSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  help?: string;
  type?: string;
  readonly samples: ExpositionSample[];
}

export class ExpositionParseError extends Error {
  readonly reason = 'invalid_exposition';
  constructor(readonly line: number, detail: string) {
    super(`line ${line}: ${detail}`);
    this.name = 'ExpositionParseError';
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const NUMBER = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new ExpositionParseError(line, 'label without "="');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new ExpositionParseError(line, `bad label name "${name}"`);
    if (name in labels) throw new ExpositionParseError(line, `duplicate label "${name}"`);
    if (text[eq + 1] !== '"') throw new ExpositionParseError(line, `label ${name}: value must be quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const next = text[++j];
      if (next === '\\' || next === '"') value += next;
      else if (next === 'n') value += '\n';
      else throw new ExpositionParseError(line, `label ${name}: bad escape "\\${next ?? ''}"`);
    }
    if (j >= text.length) throw new ExpositionParseError(line, `label ${name}: unterminated value`);
    labels[name] = value;
    i = j + 1;
    if (i < text.length) {
      if (text[i] !== ',') throw new ExpositionParseError(line, `expected "," after label ${name}`);
      i++;
    }
  }
  return labels;
}

function parseSample(text: string, line: number): { name: string; sample: ExpositionSample } {
  const brace = text.indexOf('{');
  const close = text.lastIndexOf('}');
  const name = brace < 0 ? text.slice(0, text.indexOf(' ')) : text.slice(0, brace);
  const rest = brace < 0 ? text.slice(name.length) : text.slice(close + 1);
  if (!METRIC_NAME.test(name)) throw new ExpositionParseError(line, `bad metric name "${name}"`);
  if (brace >= 0 && close < brace) throw new ExpositionParseError(line, 'unclosed label set');
  const labels = brace < 0 ? {} : parseLabels(text.slice(brace + 1, close), line);
  const fields = rest.split(' ');
  if (fields[0] !== '' || fields.length < 2 || fields.length > 3) throw new ExpositionParseError(line, 'expected " <value> [timestamp]"');
  const value = fields[1] ?? '';
  if (!NUMBER.test(value)) throw new ExpositionParseError(line, `bad value "${value}"`);
  return { name, sample: { labels, value: Number(value.replace(/Inf$/, 'Infinity')) } };
}

function parseComment(text: string, line: number, families: Map<string, MetricFamily>): void {
  const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(text);
  if (!match) return; // other comments are allowed and ignored
  const [, kind, name = '', rest = ''] = match;
  if (!METRIC_NAME.test(name)) throw new ExpositionParseError(line, `bad metric name "${name}"`);
  const family = families.get(name) ?? { name, samples: [] };
  families.set(name, family);
  if (kind === 'HELP') {
    if (family.help !== undefined) throw new ExpositionParseError(line, `second HELP for ${name}`);
    family.help = rest;
    return;
  }
  if (family.type !== undefined || family.samples.length > 0) throw new ExpositionParseError(line, `TYPE for ${name} must come once, before its samples`);
  if (!TYPES.has(rest)) throw new ExpositionParseError(line, `unknown type "${rest}"`);
  family.type = rest;
}

/** Families by name, in order of appearance. Throws ExpositionParseError on the first bad line. */
export function parseExposition(text: string): Map<string, MetricFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new ExpositionParseError(0, 'the last line must end with a newline');
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) return parseComment(raw, line, families);
    const { name, sample } = parseSample(raw, line);
    const family = families.get(name);
    if (!family?.type) throw new ExpositionParseError(line, `sample of ${name} before its TYPE line`);
    family.samples.push(sample);
  });
  return families;
}
