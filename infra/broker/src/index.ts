export * from './contracts';
export * from './protocol/error-codes';
export * from './protocol/api-keys';
