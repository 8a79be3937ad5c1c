/**
 * What every Tidemark process shares: JSON logging and the /metrics + /healthz endpoint. Nothing here loads
 * NestJS (the broker and the search server use this entry); the HTTP services' parts are in
 * `@tidemark/observability/http`.
 */
export * from './logging';
export * from './metrics-endpoint';
