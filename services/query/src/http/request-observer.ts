import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { answeredCodes } from '@tidemark/observability';
import type { Logger } from 'pino';
import type { QueryMetrics } from '../metrics';
import type { QueryRequest } from './request';
import { header } from './request';

const ROUTES: [RegExp, string][] = [
  [/^\/v1\/listings\/[^/]+\/?$/, '/v1/listings/:id'],
  [/^\/v1\/listings\/[^/]+\/card\/?$/, '/v1/listings/:id/card'],
  [/^\/v1\/sellers\/[^/]+\/stats\/?$/, '/v1/sellers/:id/stats'],
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

/**
 * Tags the request with an id (X-Request-Id, echoed), then times it and logs one line at debug when the
 * response is finished (or the client went away: status 499), whatever answered it.
 */
export function requestObserver(metrics: QueryMetrics, logger: Logger) {
  return (request: QueryRequest, response: ServerResponse, next: () => void): void => {
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
      logger.debug(
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
