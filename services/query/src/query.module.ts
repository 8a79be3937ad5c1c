import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { httpServiceProviders } from '@tidemark/http';
import type { Logger } from 'pino';
import { QueryEngine } from './engine';
import { queryRoutesController } from './http/query-routes';
import { SystemController } from './http/system.controller';
import { createQueryLogger } from './logger';
import { QueryMetrics } from './metrics';
import { OpenApiDocument } from './openapi';
import type { QueryOptions } from './options';
import { resolveOptions } from './options';
import { QUERY_LOGGER, QUERY_OPTIONS_RESOLVED } from './tokens';

/**
 * The query API: the contexts' read routes (from their query definitions) with read-your-writes. The routes are
 * known only once the options are, so the module is built from them (forRoot).
 */
@Module({})
export class QueryModule {
  static forRoot(options: QueryOptions): DynamicModule {
    const resolved = resolveOptions(options);
    const queries = resolved.contexts.flatMap((context) => [...context.queries]);
    return {
      module: QueryModule,
      controllers: [queryRoutesController(queries), SystemController],
      providers: [
        { provide: QUERY_OPTIONS_RESOLVED, useValue: resolved },
        { provide: QUERY_LOGGER, useFactory: () => options.logger ?? createQueryLogger() },
        { provide: QueryMetrics, useFactory: () => new QueryMetrics() },
        QueryEngine,
        // API keys, ScopeGuard and the exception filter (@tidemark/http).
        ...httpServiceProviders({
          useFactory: (logger: Logger) => ({ apiKeys: resolved.apiKeys, logger }),
          inject: [QUERY_LOGGER],
        }),
        OpenApiDocument,
      ],
      exports: [QUERY_OPTIONS_RESOLVED, QUERY_LOGGER, QueryMetrics, QueryEngine],
    };
  }
}
