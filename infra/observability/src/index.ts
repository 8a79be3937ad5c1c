/**
 * What every Tidemark process shares: JSON logging and the /metrics + /healthz endpoint. Nothing here loads
 * NestJS (the broker and the search server use this package); the HTTP services' parts (error answers, request
 * observer, Nest's logger) are in `@tidemark/http` (services/http).
 */
export * from './logging';
export * from './metrics-endpoint';
