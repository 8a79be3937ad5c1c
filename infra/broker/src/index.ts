export * from './contracts';
export * as kafkaProtocol from './protocol';
export * from './protocol/api-keys';
export * from './protocol/error-codes';
export * from './server/broker';
export { serveMetrics } from './server/metrics';
