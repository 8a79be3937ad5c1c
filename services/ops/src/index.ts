export * from './contexts';
export * from './platform';
