export * from './fixtures';
export * from './fold';
export * from './harness';
export * from './memory-sink';
export * from './projection-contract';
export * from './suite';
