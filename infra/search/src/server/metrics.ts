import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** Serves GET /metrics (Prometheus text format) and GET /healthz on a separate port, like the broker. */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
  healthy: () => boolean,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(String(error));
        },
      );
    } else if (request.method === 'GET' && request.url === '/healthz') {
      const ok = healthy();
      response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: ok ? 'ok' : 'stopping' }));
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
