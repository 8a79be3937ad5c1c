import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { ApiKeyAuthenticator, ReadScopeGuard } from './http/auth';
import { QueryExceptionFilter } from './http/exception-filter';
import { ListingsController } from './http/listings.controller';
import { SystemController } from './http/system.controller';
import { QueryLifecycle } from './lifecycle';
import { createQueryLogger } from './logger';
import { QueryMetrics } from './metrics';
import { OpenApiDocument } from './openapi';
import type { QueryModuleAsyncOptions, QueryOptions, ResolvedQueryOptions } from './options';
import { resolveOptions } from './options';
import { ListingsReader } from './read.service';
import { ShadowReads } from './shadow';
import { QUERY_LOGGER, QUERY_OPTIONS, QUERY_OPTIONS_RESOLVED, WATERMARK_TRACKER } from './tokens';
import { trackedProjections, ViewSinks } from './views';
import { WatermarkTracker } from './watermark-tracker';

/** The query API: reads of the listings views with read-your-writes. Options are injected through forRootAsync. */
@Module({})
export class QueryModule {
  static forRootAsync(options: QueryModuleAsyncOptions): DynamicModule {
    return {
      module: QueryModule,
      imports: options.imports ?? [],
      controllers: [ListingsController, SystemController],
      providers: [
        { provide: QUERY_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        {
          provide: QUERY_OPTIONS_RESOLVED,
          useFactory: (o: QueryOptions) => resolveOptions(o),
          inject: [QUERY_OPTIONS],
        },
        {
          provide: QUERY_LOGGER,
          useFactory: (o: QueryOptions) => o.logger ?? createQueryLogger(),
          inject: [QUERY_OPTIONS],
        },
        {
          provide: ViewSinks,
          useFactory: (o: ResolvedQueryOptions) => new ViewSinks(o.views),
          inject: [QUERY_OPTIONS_RESOLVED],
        },
        {
          provide: WATERMARK_TRACKER,
          useFactory: (o: ResolvedQueryOptions, sinks: ViewSinks, logger: Logger, metrics: QueryMetrics) =>
            new WatermarkTracker({
              context: o.context,
              projections: trackedProjections(o.views),
              bus: o.bus,
              control: o.control,
              checkpoints: (projection, version) => sinks.checkpoints(projection, version),
              switchTimeoutMs: o.switchTimeoutMs,
              onSwitch: (change) => {
                if (change.to === null) metrics.activeVersion.remove({ projection: change.projection });
                else metrics.activeVersion.set({ projection: change.projection }, change.to);
                if (change.from !== null && change.to !== null) {
                  metrics.versionSwitches.inc({
                    projection: change.projection,
                    covered: String(change.covered),
                  });
                }
              },
              logger,
            }),
          inject: [QUERY_OPTIONS_RESOLVED, ViewSinks, QUERY_LOGGER, QueryMetrics],
        },
        { provide: QueryMetrics, useFactory: () => new QueryMetrics() },
        {
          provide: ShadowReads,
          useFactory: (
            o: ResolvedQueryOptions,
            tracker: WatermarkTracker,
            metrics: QueryMetrics,
            logger: Logger,
          ) =>
            new ShadowReads({
              context: o.context,
              tracker,
              control: o.control,
              metrics,
              logger,
              options: o.shadow,
            }),
          inject: [QUERY_OPTIONS_RESOLVED, WATERMARK_TRACKER, QueryMetrics, QUERY_LOGGER],
        },
        QueryLifecycle,
        ApiKeyAuthenticator,
        ReadScopeGuard,
        ListingsReader,
        OpenApiDocument,
        { provide: APP_FILTER, useClass: QueryExceptionFilter },
      ],
      exports: [
        QUERY_OPTIONS_RESOLVED,
        QUERY_LOGGER,
        WATERMARK_TRACKER,
        QueryMetrics,
        ListingsReader,
        ShadowReads,
      ],
    };
  }
}
