/**
 * Query engine of @tidemark/search: implements the IndexSearcher contract of ../engine/contracts.ts
 * (matching, BM25 scoring via minisearch, sorting, paging, terms aggregations, counting).
 * What is supported is listed in SUPPORTED.md next to this file.
 */
export { analyze } from './analysis';
export { SUPPORTED_QUERIES } from './dsl';
export type { SearcherOptions } from './searcher';
export { createSearcher, MAX_RESULT_WINDOW, parseQueryString, QuerySearcher } from './searcher';
