export * from './compatibility';
export * from './envelope';
export * from './errors';
export * from './json-schema';
export * from './outcome';
export * from './registry';
export * from './token';
