export * from './http-errors';
export * from './logging';
export * from './metrics-endpoint';
