import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { httpServiceProviders } from '@tidemark/http';
import { createLogger } from '@tidemark/observability';
import type { Logger } from 'pino';
import { AdminController } from './admin.controller';
import { translateAdminError } from './errors';
import { ReplayJobs } from './jobs';
import { AdminMetrics } from './metrics';
import type { AdminModuleAsyncOptions, AdminOptions, ResolvedAdminOptions } from './options';
import { resolveAdminOptions } from './options';
import { AdminSystemController } from './system.controller';
import { ADMIN_LOGGER, ADMIN_OPTIONS, ADMIN_OPTIONS_RESOLVED } from './tokens';

/** The admin API: operator actions on projection versions over HTTP. Options are injected through forRootAsync. */
@Module({})
export class AdminModule {
  static forRootAsync(options: AdminModuleAsyncOptions): DynamicModule {
    return {
      module: AdminModule,
      imports: options.imports ?? [],
      controllers: [AdminController, AdminSystemController],
      providers: [
        { provide: ADMIN_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        {
          provide: ADMIN_OPTIONS_RESOLVED,
          useFactory: (o: AdminOptions) => resolveAdminOptions(o),
          inject: [ADMIN_OPTIONS],
        },
        {
          provide: ADMIN_LOGGER,
          useFactory: (o: AdminOptions) => o.logger ?? createLogger('tidemark.admin'),
          inject: [ADMIN_OPTIONS],
        },
        { provide: AdminMetrics, useFactory: () => new AdminMetrics() },
        // API keys, ScopeGuard and the exception filter (@tidemark/http), with the admin's own errors translated.
        ...httpServiceProviders({
          useFactory: (o: ResolvedAdminOptions, logger: Logger) => ({
            apiKeys: o.apiKeys,
            logger,
            translateError: translateAdminError,
          }),
          inject: [ADMIN_OPTIONS_RESOLVED, ADMIN_LOGGER],
        }),
        ReplayJobs,
      ],
      exports: [ADMIN_OPTIONS_RESOLVED, ADMIN_LOGGER, AdminMetrics, ReplayJobs],
    };
  }
}
