export * from './deployment-ops';
export * from './diff-core';
export * from './errors';
export * from './progress';
export * from './projection-ops';
export * from './throttled-sink';
