import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The agent's own Prometheus metrics, on a private registry (no global state between agents). */
export interface AgentMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'result'>;
  readonly reconcileErrors: Counter;
  readonly pushErrors: Counter;
  readonly pushDuration: Histogram;
  readonly sequence: Gauge;
  readonly edgeLag: Gauge;
  readonly leader: Gauge;
}

export function createAgentMetrics(): AgentMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({ name: 'obol_agent_reconciles_total', help: 'Offer reconciliations, by result.', labelNames: ['result'], registers }),
    reconcileErrors: new Counter({ name: 'obol_agent_reconcile_errors_total', help: 'Reconciliations that failed and were requeued.', registers }),
    pushErrors: new Counter({ name: 'obol_agent_push_errors_total', help: 'Snapshot pushes the edge refused or did not answer.', registers }),
    pushDuration: new Histogram({
      name: 'obol_agent_push_duration_seconds',
      help: 'Latency of acknowledged snapshot pushes (status, sign, PUT).',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    sequence: new Gauge({ name: 'obol_agent_snapshot_sequence', help: 'Sequence of the last snapshot the edge acknowledged.', registers }),
    edgeLag: new Gauge({ name: 'obol_agent_edge_lag_seconds', help: 'Seconds since the edge last acknowledged a snapshot.', registers }),
    leader: new Gauge({ name: 'obol_agent_leader', help: '1 while this replica holds the leader lease (or runs without election).', registers }),
  };
}
