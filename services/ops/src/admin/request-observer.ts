/** Request ids, the request metric and one log line per request of the admin API (infra/observability). */
import type { RouteTable } from '@tidemark/observability/http';
import { requestObserver as observeRequests } from '@tidemark/observability/http';
import type { Logger } from 'pino';
import type { AdminMetrics } from './metrics';

const ROUTES: RouteTable = [
  [/^\/v1\/admin\/projections\/?$/, '/v1/admin/projections'],
  [/^\/v1\/admin\/projections\/[^/]+\/replays\/?$/, '/v1/admin/projections/:name/replays'],
  [/^\/v1\/admin\/projections\/[^/]+\/diff\/?$/, '/v1/admin/projections/:name/diff'],
  [/^\/v1\/admin\/projections\/[^/]+\/cutover\/?$/, '/v1/admin/projections/:name/cutover'],
  [/^\/v1\/admin\/projections\/[^/]+\/rollback\/?$/, '/v1/admin/projections/:name/rollback'],
  [/^\/v1\/admin\/projections\/[^/]+\/retire\/?$/, '/v1/admin/projections/:name/retire'],
  [/^\/v1\/admin\/replays\/?$/, '/v1/admin/replays'],
  [/^\/v1\/admin\/replays\/[^/]+\/?$/, '/v1/admin/replays/:job'],
  [/^\/v1\/admin\/audit\/?$/, '/v1/admin/audit'],
  [/^\/healthz\/?$/, '/healthz'],
  [/^\/metrics\/?$/, '/metrics'],
  [/^\/openapi\.json$/, '/openapi.json'],
];

export function requestObserver(metrics: AdminMetrics, logger: Logger) {
  return observeRequests({
    routes: ROUTES,
    logger,
    observe: (labels, seconds) => metrics.requestSeconds.observe(labels, seconds),
    level: (request) => (request.method === 'GET' ? 'debug' : 'info'),
  });
}
