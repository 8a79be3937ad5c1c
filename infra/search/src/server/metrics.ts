import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry, Summary } from 'prom-client';
import type { SearchIndex } from '../engine/search-index';

/** Prometheus metrics of one search server; per-index gauges are read from the live state at scrape time. */
export class SearchMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'tidemark_search_requests_total',
    help: 'HTTP requests handled, by endpoint, method and status',
    labelNames: ['endpoint', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: 'tidemark_search_request_duration_seconds',
    help: 'Request handling time (including waiting for fsync and refresh=wait_for), by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly refreshSeconds = new Summary({
    name: 'tidemark_search_refresh_duration_seconds',
    help: 'Time to publish pending writes to the searcher, per index',
    labelNames: ['index'] as const,
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 60,
    ageBuckets: 5,
    registers: [this.registry],
  });
  private readonly fsync = new Summary({
    name: 'tidemark_search_fsync_duration_seconds',
    help: 'Duration of each group-commit fdatasync of an operation log',
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 60,
    ageBuckets: 5,
    registers: [this.registry],
  });

  constructor(indices: () => SearchIndex[]) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tidemark_search_process_' });
    new Gauge({
      name: 'tidemark_search_index_docs',
      help: 'Live documents per index (real-time view, including unrefreshed writes)',
      labelNames: ['index'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const index of indices()) this.set({ index: index.name }, index.docs.size);
      },
    });
    new Gauge({
      name: 'tidemark_search_index_searchable_docs',
      help: 'Documents visible to search per index (as of the last refresh)',
      labelNames: ['index'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const index of indices()) this.set({ index: index.name }, index.searcher.size);
      },
    });
  }

  requestHandled(endpoint: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ endpoint, method, status: String(status) });
    this.requestSeconds.observe({ endpoint }, seconds);
  }
  refreshed(index: string, seconds: number): void {
    this.refreshSeconds.observe({ index }, seconds);
  }
  fsynced(seconds: number): void {
    this.fsync.observe(seconds);
  }
}

// The endpoint itself is shared by every long-running process.
export { serveMetrics } from '@tidemark/observability';
