export * from './client';
export * from './identity';
export * from './partition-reader';
export * from './partitioner';
export * from './supervision';
export * from './topics';
