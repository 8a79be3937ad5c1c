export * from './engine/contracts';
export type { SearchServer, SearchServerOptions } from './server/search-server';
export { startSearchServer } from './server/search-server';
