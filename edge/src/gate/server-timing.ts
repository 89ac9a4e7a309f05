/**
 * Opt-in step timings for profiling (`GATE_SERVER_TIMING=1`, bench and local use only): each mark
 * closes a span, sent back as a `Server-Timing` header. Workers' clocks advance only across I/O,
 * so a span holds the CPU work before an I/O step plus the step itself.
 */
export interface Spans {
  mark(name: string): void;
  /** Adds the header to a response the gate built itself (mutable headers). */
  apply(response: Response): Response;
}

const NO_SPANS: Spans = { mark: () => undefined, apply: (response) => response };

export function startSpans(enabled: boolean): Spans {
  if (!enabled) return NO_SPANS;
  const spans: string[] = [];
  const started = performance.now();
  let last = started;
  return {
    mark(name) {
      const now = performance.now();
      spans.push(`${name};dur=${(now - last).toFixed(1)}`);
      last = now;
    },
    apply(response) {
      spans.push(`total;dur=${(performance.now() - started).toFixed(1)}`);
      try {
        response.headers.set('Server-Timing', spans.join(', '));
      } catch {
        // Immutable headers (never for the gate's own responses): skip the timings, keep the answer.
      }
      return response;
    },
  };
}
