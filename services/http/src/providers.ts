/** The providers every Tidemark HTTP service module lists for the shared plumbing. */
import type { FactoryProvider, Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiKeyAuthenticator, ScopeGuard } from './auth';
import type { HttpServiceConfig } from './config';
import { HTTP_SERVICE_CONFIG } from './config';
import { HttpExceptionFilter } from './exception-filter';

/** How a module builds its HttpServiceConfig (from its own options providers). */
export interface HttpServiceConfigProvider {
  useFactory: FactoryProvider<HttpServiceConfig>['useFactory'];
  inject?: FactoryProvider<HttpServiceConfig>['inject'];
}

/**
 * The config, the authenticator, ScopeGuard (for `@UseGuards(ScopeGuard)` with `@RequireScope`) and
 * HttpExceptionFilter as the application's exception filter.
 */
export function httpServiceProviders(config: HttpServiceConfigProvider): Provider[] {
  return [
    { provide: HTTP_SERVICE_CONFIG, useFactory: config.useFactory, inject: config.inject ?? [] },
    ApiKeyAuthenticator,
    ScopeGuard,
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
  ];
}
