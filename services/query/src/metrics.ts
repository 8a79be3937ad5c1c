import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** The query API's Prometheus metrics, in a registry of its own (several instances can live in one process). */
export class QueryMetrics {
  readonly registry = new Registry();

  readonly requestSeconds = new Histogram({
    name: 'tidemark_query_http_request_duration_seconds',
    help: 'HTTP request durations by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly waitSeconds = new Histogram({
    name: 'tidemark_query_consistency_wait_seconds',
    help: 'Time a read waited for its view to cover the consistency token, by view and outcome (immediate, covered, timeout, aborted, stale)',
    labelNames: ['view', 'outcome'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly timeouts = new Counter({
    name: 'tidemark_query_consistency_timeouts_total',
    help: 'Reads that failed with CONSISTENCY_TIMEOUT, by view',
    labelNames: ['view'] as const,
    registers: [this.registry],
  });

  readonly staleReads = new Counter({
    name: 'tidemark_query_stale_reads_total',
    help: 'Reads answered with stale=ok from a view that did not cover the token, by view',
    labelNames: ['view'] as const,
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: 'tidemark_query_fallbacks_total',
    help: "Reads answered by a query's fallback view because its view did not know the key (unknown: e.g. evicted from memcached) or failed (error), by view",
    labelNames: ['view', 'reason'] as const,
    registers: [this.registry],
  });

  readonly waiting = new Gauge({
    name: 'tidemark_query_waiting_reads',
    help: 'Reads currently waiting for a view to cover their token',
    registers: [this.registry],
  });

  readonly activeVersion = new Gauge({
    name: 'tidemark_query_active_version',
    help: 'The version of each projection that reads go to (after a switch has covered the old watermark)',
    labelNames: ['context', 'projection'] as const,
    registers: [this.registry],
  });

  readonly versionSwitches = new Counter({
    name: 'tidemark_query_version_switches_total',
    help: 'Switches of reads to another version of a projection; covered="false" when the new version did not cover the old one in time (forced cutover)',
    labelNames: ['context', 'projection', 'covered'] as const,
    registers: [this.registry],
  });

  readonly candidateReads = new Counter({
    name: 'tidemark_query_candidate_reads_total',
    help: 'Reads answered by the candidate version of a gradual cutover (split mode), by projection',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly shadowReads = new Counter({
    name: 'tidemark_query_shadow_reads_total',
    help: 'Shadow reads of a candidate version compared with the active one, by projection and outcome (match, mismatch, skipped: the candidate did not cover the token in time)',
    labelNames: ['projection', 'outcome'] as const,
    registers: [this.registry],
  });

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
