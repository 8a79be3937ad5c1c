import { Counter, Histogram, Registry } from 'prom-client';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The admin API's Prometheus metrics, in a registry of its own (several instances can live in one process). */
export class AdminMetrics {
  readonly registry = new Registry();

  readonly requestSeconds = new Histogram({
    name: 'tidemark_admin_http_request_duration_seconds',
    help: 'HTTP request durations by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly actions = new Counter({
    name: 'tidemark_admin_actions_total',
    help: 'Operator actions by action and outcome (ok, or the error code)',
    labelNames: ['action', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly replays = new Counter({
    name: 'tidemark_admin_replay_jobs_total',
    help: 'Replay jobs by final state (live, already-live, failed, stopped)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
