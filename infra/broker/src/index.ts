export * from './contracts';
export * from './protocol/api-keys';
export * from './protocol/error-codes';
export * from './server/broker';
export * as kafkaProtocol from './protocol';
