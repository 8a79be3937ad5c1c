import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { answeredCodes } from '@tidemark/observability';
import type { Logger } from 'pino';
import type { AdminMetrics } from './metrics';
import type { AdminRequest } from './request';
import { header } from './request';

const ROUTES: [RegExp, string][] = [
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

/** The route template of a path (bounded label values), or "unmatched". */
export function routeOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0] ?? '/';
  for (const [pattern, route] of ROUTES) if (pattern.test(path)) return route;
  return 'unmatched';
}

/** Tags the request with an id (X-Request-Id, echoed), times it, and logs one line when it is answered. */
export function requestObserver(metrics: AdminMetrics, logger: Logger) {
  return (request: AdminRequest, response: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    const presented = header(request, 'x-request-id');
    const requestId = presented && /^[\w.:-]{1,100}$/.test(presented) ? presented : randomUUID();
    request.requestId = requestId;
    response.setHeader('X-Request-Id', requestId);
    response.once('close', () => {
      const route = routeOf(request.url);
      const status = response.writableFinished ? response.statusCode : 499;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requestSeconds.observe(
        { route, method: request.method ?? 'GET', status: String(status) },
        seconds,
      );
      // Operator actions are rare and worth a line each; reads of state only at debug.
      const level = request.method === 'GET' ? 'debug' : 'info';
      logger[level](
        {
          requestId,
          method: request.method,
          route,
          status,
          code: answeredCodes.get(response),
          principal: request.principal?.id,
          durationMs: seconds * 1000,
        },
        'request',
      );
    });
    next();
  };
}
