export * from './client';
export * from './identity';
export * from './partition-reader';
export * from './partitioner';
export * from './topics';
