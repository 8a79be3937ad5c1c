/**
 * The read routes of the contexts, as one Nest controller built from their query definitions (nestjs/cqrs
 * style: a context adds queries, never a controller). Each route is a GET handler with the context's read scope
 * `queries:read:<context>` as its required scope (checked by ScopeGuard, @tidemark/http, before anything else)
 * that hands the read to the engine.
 */
import type { Type } from '@nestjs/common';
import { Controller, Get, Inject, Req, Res, UseGuards } from '@nestjs/common';
import { RequireScope, ScopeGuard } from '@tidemark/http';
import type { NamedQuery } from '@tidemark/sdk';
import { QueryEngine } from '../engine';
import type { ReadBody } from './read-request';
import { readRequest, send } from './read-request';
import type { QueryRequest, QueryResponse } from './request';

type RouteHandler = (request: QueryRequest, response: QueryResponse) => Promise<ReadBody<unknown>>;

/** A controller class with one GET handler per query. */
export function queryRoutesController(queries: readonly NamedQuery[]): Type<unknown> {
  @Controller()
  @UseGuards(ScopeGuard)
  class QueryRoutesController {
    constructor(@Inject(QueryEngine) readonly engine: QueryEngine) {}
  }
  const prototype = QueryRoutesController.prototype as unknown as Record<string, RouteHandler>;
  queries.forEach((query, index) => {
    const method = `${query.context}_${query.name}_${index}`.replace(/[^A-Za-z0-9_]/g, '_');
    const param = query.kind === 'document' ? query.param : undefined;
    prototype[method] = async function (this: QueryRoutesController, request, response) {
      const value = param === undefined ? undefined : request.params[param];
      return send(
        response,
        await this.engine.read(query, value, request.query, readRequest(request, response)),
      );
    };
    const descriptor = Object.getOwnPropertyDescriptor(prototype, method) as PropertyDescriptor;
    Get(query.path)(prototype, method, descriptor);
    RequireScope(`queries:read:${query.context}`)(prototype, method, descriptor);
    Req()(prototype, method, 0);
    Res({ passthrough: true })(prototype, method, 1);
  });
  return QueryRoutesController;
}
