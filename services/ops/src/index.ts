export * from './admin';
export * from './catalog';
export * from './config/env';
export * from './deployment';
export * from './platform';
export * from './projection-ops';
export * from './read-path';
export { PROJECTOR_GLIBC_TUNABLES, PROJECTOR_NODE_FLAGS, projectorEnv } from './service-child';
