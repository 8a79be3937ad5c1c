/**
 * The embedded Elasticsearch-compatible server: HTTP (routing, content types, errors) → API handlers → engine
 * (indices, documents, versions, aliases, refresh) → storage (operation logs and snapshots).
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@tidemark/observability';
import type { Logger } from 'pino';
import { aliasRoutes } from '../api/aliases';
import { bulkRoutes } from '../api/bulk';
import { clusterRoutes } from '../api/cluster';
import { documentRoutes } from '../api/documents';
import { indexRoutes } from '../api/indices';
import { mgetRoutes } from '../api/mget';
import { searchRoutes } from '../api/search';
import type { SearcherFactory } from '../engine/contracts';
import { SearchEngine } from '../engine/engine';
import type { Route } from '../http/router';
import { createDispatcher } from '../http/router';
import { createSearcher } from '../query';
import { SearchMetrics, serveMetrics } from './metrics';

export interface SearchServerOptions {
  /** Where catalog.json and the indices' logs and snapshots live; created if missing. */
  dataDir: string;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** HTTP port; 0 picks a free one (default 9200). */
  port?: number;
  /** Default periodic refresh of every index, like ES `index.refresh_interval` (default 1000; <= 0 disables). */
  refreshIntervalMs?: number;
  /** Separate Prometheus /metrics + /healthz port; 0 picks one; null/undefined: only /_prometheus/metrics. */
  metricsPort?: number | null;
  logger?: Logger;
  /** Used when no logger is given. */
  logLevel?: string;
  /** Query engine; defaults to src/query's createSearcher. */
  searcherFactory?: SearcherFactory;
  /** Snapshot an index (and truncate its log) once its log holds this many operations (default 100,000). */
  snapshotEveryOps?: number;
  /** Reported by GET / and /_cluster/health (default "tidemark"). */
  clusterName?: string;
}

export interface SearchServer {
  /** Base URL for clients, e.g. http://127.0.0.1:9200 */
  url: string;
  port: number;
  /** Full URL of the separate metrics endpoint, or null. */
  metricsUrl: string | null;
  /** Stops accepting requests, finishes in-flight writes, snapshots indices and closes files. */
  close(): Promise<void>;
}

export async function startSearchServer(options: SearchServerOptions): Promise<SearchServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? createLogger('tidemark.search', { level: options.logLevel, sync: false });
  let engine: SearchEngine | undefined;
  const metrics = new SearchMetrics(() => engine?.listIndices() ?? []);
  engine = await SearchEngine.open({
    dataDir: options.dataDir,
    logger,
    searcherFactory: options.searcherFactory ?? createSearcher,
    refreshIntervalMs: options.refreshIntervalMs ?? 1000,
    snapshotEveryOps: options.snapshotEveryOps ?? 100_000,
    onRefresh: (index, seconds) => metrics.refreshed(index, seconds),
    onFsync: (seconds) => metrics.fsynced(seconds),
  });
  const opened = engine;

  const routes: Route[] = [
    ...clusterRoutes(opened, options.clusterName ?? 'tidemark'),
    ...bulkRoutes(opened),
    ...aliasRoutes(opened),
    ...searchRoutes(opened),
    ...documentRoutes(opened),
    ...mgetRoutes(opened),
    ...indexRoutes(opened),
  ];
  const dispatcher = createDispatcher(routes, logger, (endpoint, method, status, seconds) =>
    metrics.requestHandled(endpoint, method, status, seconds),
  );
  let running = true;
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/_prometheus/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          response.writeHead(200, {
            'content-type': metrics.registry.contentType,
            'x-elastic-product': 'Elasticsearch',
          });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(String(error));
        },
      );
      return;
    }
    dispatcher.dispatch(request, response);
  });
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(options.port ?? 9200, host, () => resolveListen());
    });
  } catch (error) {
    await opened.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  let metricsEndpoint: { url: string; close(): Promise<void> } | null = null;
  if (options.metricsPort !== undefined && options.metricsPort !== null) {
    metricsEndpoint = await serveMetrics(metrics.registry, host, options.metricsPort, () => running);
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info(
    { url, dataDir: options.dataDir, indices: opened.listIndices().length },
    'search server listening',
  );

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    metricsUrl: metricsEndpoint?.url ?? null,
    close() {
      closing ??= (async () => {
        running = false;
        // Stop accepting, let in-flight requests finish (their writes are fsynced before they reply).
        const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        server.closeIdleConnections();
        const forceTimer = setTimeout(() => server.closeAllConnections(), 5000);
        forceTimer.unref();
        await closed;
        clearTimeout(forceTimer);
        await metricsEndpoint?.close();
        await opened.close();
        logger.info({ url }, 'search server stopped');
      })();
      return closing;
    },
  };
}
