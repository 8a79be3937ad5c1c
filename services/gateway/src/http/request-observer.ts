import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { answeredCodes } from '@tidemark/observability';
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics';
import type { GatewayRequest } from './request';
import { header } from './request';

const ROUTES: [RegExp, string][] = [
  [/^\/v1\/contexts\/[^/]+\/commands\/?$/, '/v1/contexts/:context/commands'],
  [/^\/v1\/contexts\/[^/]+\/commands\/[^/]+\/?$/, '/v1/contexts/:context/commands/:commandId'],
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
 * Runs before body parsing: tags the request with an id (X-Request-Id, echoed), then counts it and logs one line
 * at debug when the response is finished, whatever answered it.
 */
export function requestObserver(metrics: GatewayMetrics, logger: Logger) {
  return (request: GatewayRequest, response: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    const presented = header(request, 'x-request-id');
    const requestId = presented && /^[\w.:-]{1,100}$/.test(presented) ? presented : randomUUID();
    request.requestId = requestId;
    response.setHeader('X-Request-Id', requestId);
    response.once('finish', () => {
      const route = routeOf(request.url);
      const status = response.statusCode;
      metrics.requests.inc({ route, method: request.method ?? 'GET', status: String(status) });
      logger.debug(
        {
          requestId,
          method: request.method,
          route,
          status,
          code: answeredCodes.get(response),
          principal: request.principal?.id,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  };
}
