export * from './command-handler';
export * from './partition-owner';
export * from './partition-state';
export * from './processor';
