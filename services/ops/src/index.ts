export * from './config/env';
export * from './contexts';
export * from './platform';
export * from './read-path';
