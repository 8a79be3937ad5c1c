export * from './events';
export * from './hosted';
export * from './projections';
export * from './queries';
export * from './search';
