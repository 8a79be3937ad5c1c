export * from './http-errors';
export * from './http-requests';
export * from './logging';
export * from './metrics-endpoint';
