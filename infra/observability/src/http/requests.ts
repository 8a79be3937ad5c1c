/**
 * The request side of every Tidemark HTTP service: an id per request (X-Request-Id, echoed when sane), the route
 * template as a bounded metric label, and one log line when the response is done (status 499 when the client
 * went away first), with the error code the exception filter answered (answeredCodes).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { answeredCodes } from './errors';

/**
 * A request as the observer tags it (express's request, or Fastify's request object, which is what Nest's guards
 * and controllers see); the services' auth adds the principal.
 */
export interface ObservedRequest {
  headers: IncomingMessage['headers'];
  url?: string;
  method?: string;
  requestId?: string;
  principal?: { id: string };
}

/** Path patterns and the route template each stands for. */
export type RouteTable = readonly (readonly [RegExp, string])[];

/** The route template of a path, or "unmatched". */
export function routeOf(routes: RouteTable, url: string | undefined): string {
  const path = (url ?? '/').split('?')[0] ?? '/';
  for (const [pattern, route] of routes) if (pattern.test(path)) return route;
  return 'unmatched';
}

export interface RequestObserverOptions {
  routes: RouteTable;
  logger: Logger;
  /** Called once per request when it is done: the service's request metric. */
  observe(labels: { route: string; method: string; status: string }, seconds: number): void;
  /** Log level of the request line (default debug). */
  level?: (request: ObservedRequest) => 'debug' | 'info';
}

/** Express-style middleware; install it first so that it sees every request, whatever answers it. */
export function requestObserver(options: RequestObserverOptions) {
  return (request: ObservedRequest, response: ServerResponse, next: () => void): void => {
    observe(options, request, response);
    next();
  };
}

/**
 * Fastify answers 414 for a path parameter longer than its maxParamLength (default 100). The services' own
 * checks give a clearer 400 naming the parameter, so Fastify only stops the absurd.
 */
export const MAX_PARAM_LENGTH = 2048;

/** The parts of a Fastify instance the observer hooks into (no fastify import needed here). */
export interface FastifyHooks {
  addHook(
    name: 'onRequest',
    hook: (request: ObservedRequest, reply: { raw: ServerResponse }, done: () => void) => void,
  ): unknown;
}

/** The same observer on a Fastify instance: an onRequest hook, which runs for every request, unmatched ones too. */
export function observeFastifyRequests(instance: FastifyHooks, options: RequestObserverOptions): void {
  instance.addHook('onRequest', (request, reply, done) => {
    observe(options, request, reply.raw);
    done();
  });
}

function observe(options: RequestObserverOptions, request: ObservedRequest, response: ServerResponse): void {
  const started = process.hrtime.bigint();
  const raw = request.headers['x-request-id'];
  const presented = Array.isArray(raw) ? raw[0] : raw;
  const requestId = presented && /^[\w.:-]{1,100}$/.test(presented) ? presented : randomUUID();
  request.requestId = requestId;
  response.setHeader('X-Request-Id', requestId);
  response.once('close', () => {
    const route = routeOf(options.routes, request.url);
    const status = response.writableFinished ? response.statusCode : 499;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const method = request.method ?? 'GET';
    options.observe({ route, method, status: String(status) }, seconds);
    const level = options.level?.(request) ?? 'debug';
    // Skipped when the level is off: building the line costs more than the rest of the observer.
    if (!options.logger.isLevelEnabled(level)) return;
    options.logger[level](
      {
        requestId,
        method,
        route,
        status,
        code: answeredCodes.get(response),
        principal: request.principal?.id,
        durationMs: seconds * 1000,
      },
      'request',
    );
  });
}
