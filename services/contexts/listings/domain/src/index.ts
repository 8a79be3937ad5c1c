export * from './commands';
export * from './context';
export * from './decider';
export * from './events';
export * from './state';
export * from './values';
