/**
 * The request side of every Tidemark HTTP service: an id per request (X-Request-Id, echoed when sane), the route
 * template the framework's router matched as a bounded metric label ('unmatched' when none did), and one log line
 * when the response is done (status 499 when the client went away first), with the error code the exception
 * filter answered (answeredCodes). No route tables: the label is the template the route was registered with.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { answeredCodes } from './errors';

/** The route label of a request no route matched (a 404 of the not-found handler). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * A request as the observer tags it (express's request, or Fastify's request object, which is what Nest's guards
 * and controllers see); the auth guard adds the principal.
 */
export interface ObservedRequest {
  headers: IncomingMessage['headers'];
  url?: string;
  method?: string;
  requestId?: string;
  principal?: { id: string };
}

export interface RequestLabels {
  route: string;
  method: string;
  status: string;
}

export interface RequestObserverOptions {
  logger: Logger;
  /** Called once per request when it is done: the service's request metric. */
  observe(labels: RequestLabels, seconds: number): void;
  /** Log level of the request line (default debug). */
  level?: (request: ObservedRequest) => 'debug' | 'info';
}

/**
 * Fastify answers 414 for a path parameter longer than its maxParamLength (default 100). The services' own
 * checks give a clearer 400 naming the parameter, so Fastify only stops the absurd.
 */
export const MAX_PARAM_LENGTH = 2048;

/** Fastify's request as the observer reads it: the route options of the route it matched (Fastify 5). */
interface FastifyRequestLike extends ObservedRequest {
  routeOptions?: { url?: string };
}

/** The parts of a Fastify instance the observer hooks into (no fastify import needed here). */
interface FastifyHooks {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: { raw: ServerResponse }, done: () => void) => void,
  ): unknown;
}

/** express's request as the observer reads it: the route its router dispatched to, if any. */
interface ExpressRequestLike extends ObservedRequest {
  route?: { path?: unknown };
  originalUrl?: string;
}

/** The parts of express's router (express 5) the observer reads, for requests refused before routing. */
interface ExpressLayerLike {
  route?: { path?: unknown; _handlesMethod?(method: string): boolean };
  match?(path: string): unknown;
}
interface ExpressAppLike {
  router?: { stack?: readonly ExpressLayerLike[] };
}

/**
 * Installs the observer on a Nest application, before anything else sees a request: an onRequest hook on Fastify
 * (it runs for every request, unmatched ones too, before the body is parsed), a first middleware on express
 * (install it before the body parser). Call it once the app is created, before it is initialised.
 */
export function observeRequests(app: INestApplication, options: RequestObserverOptions): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    // Fastify routes before onRequest; a route that answers through the not-found handler has no url.
    const routeOf = (request: FastifyRequestLike) => request.routeOptions?.url ?? UNMATCHED_ROUTE;
    (adapter.getInstance() as FastifyHooks).addHook('onRequest', (request, reply, done) => {
      observe(options, request, reply.raw, routeOf);
      done();
    });
    return;
  }
  const express = adapter.getInstance() as ExpressAppLike;
  const routeOf = (request: ExpressRequestLike) =>
    typeof request.route?.path === 'string'
      ? request.route.path
      : (routeMatchedBy(express, request) ?? UNMATCHED_ROUTE);
  app.use((request: ExpressRequestLike, response: ServerResponse, next: () => void) => {
    observe(options, request, response, routeOf);
    next();
  });
}

/**
 * The route express's router would dispatch the request to: for requests refused before routing (by the body
 * parser, which runs first on express), so that they are labelled like the ones that got to their route.
 */
function routeMatchedBy(express: ExpressAppLike, request: ExpressRequestLike): string | undefined {
  const path = (request.originalUrl ?? request.url ?? '/').split('?')[0] ?? '/';
  const method = request.method ?? 'GET';
  for (const layer of express.router?.stack ?? []) {
    const route = layer.route;
    if (typeof route?.path !== 'string') continue;
    try {
      if (route._handlesMethod?.(method) && layer.match?.(path)) return route.path;
    } catch {
      // A path the router cannot decode matches no route.
    }
  }
  return undefined;
}

function observe<R extends ObservedRequest>(
  options: RequestObserverOptions,
  request: R,
  response: ServerResponse,
  routeOf: (request: R) => string,
): void {
  const started = process.hrtime.bigint();
  const raw = request.headers['x-request-id'];
  const presented = Array.isArray(raw) ? raw[0] : raw;
  const requestId = presented && /^[\w.:-]{1,100}$/.test(presented) ? presented : randomUUID();
  request.requestId = requestId;
  response.setHeader('X-Request-Id', requestId);
  response.once('close', () => {
    const route = routeOf(request);
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
