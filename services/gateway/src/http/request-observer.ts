/** Request ids, the request metric and one log line per request of the gateway (infra/observability). */
import type { RequestObserverOptions, RouteTable } from '@tidemark/observability/http';
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics';

const ROUTES: RouteTable = [
  [/^\/v1\/contexts\/[^/]+\/commands\/?$/, '/v1/contexts/:context/commands'],
  [/^\/v1\/contexts\/[^/]+\/commands\/[^/]+\/?$/, '/v1/contexts/:context/commands/:commandId'],
  [/^\/healthz\/?$/, '/healthz'],
  [/^\/metrics\/?$/, '/metrics'],
  [/^\/openapi\.json$/, '/openapi.json'],
];

export function requestObserverOptions(metrics: GatewayMetrics, logger: Logger): RequestObserverOptions {
  return {
    routes: ROUTES,
    logger,
    observe: (labels) => metrics.requests.inc(labels),
  };
}
