/**
 * `@tidemark/http`: the plumbing every Tidemark HTTP service (the gateway, the query API, the admin API) shares:
 * API-key authentication with one scope grammar, the one exception filter and error answer, the request observer
 * and Nest's logger. Names no context.
 */
export * from './auth';
export * from './config';
export * from './errors';
export * from './exception-filter';
export * from './nest-logger';
export * from './openapi';
export * from './providers';
export * from './requests';
export * from './scopes';
