export * from './commands';
export * from './context';
export * from './decider';
export * from './events';
