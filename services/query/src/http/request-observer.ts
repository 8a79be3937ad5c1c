/** Request ids, the request metric and one log line per request of the query API (infra/observability). */
import type { RequestObserverOptions, RouteTable } from '@tidemark/observability/http';
import type { Logger } from 'pino';
import type { QueryMetrics } from '../metrics';

const ROUTES: RouteTable = [
  [/^\/v1\/listings\/[^/]+\/?$/, '/v1/listings/:id'],
  [/^\/v1\/listings\/[^/]+\/card\/?$/, '/v1/listings/:id/card'],
  [/^\/v1\/sellers\/[^/]+\/stats\/?$/, '/v1/sellers/:id/stats'],
  [/^\/healthz\/?$/, '/healthz'],
  [/^\/metrics\/?$/, '/metrics'],
  [/^\/openapi\.json$/, '/openapi.json'],
];

export function requestObserverOptions(metrics: QueryMetrics, logger: Logger): RequestObserverOptions {
  return {
    routes: ROUTES,
    logger,
    observe: (labels, seconds) => metrics.requestSeconds.observe(labels, seconds),
  };
}
