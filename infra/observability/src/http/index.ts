/**
 * `@tidemark/observability/http`: what the HTTP services (gateway, query API, admin API) share on top of the root
 * entry: the error answer, the request observer and Nest's logger. Loads @nestjs/common; the root entry does not.
 */
export * from './errors';
export * from './nest-logger';
export * from './requests';
