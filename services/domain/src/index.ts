export * from './append';
export * from './decider';
export * from './specification';
