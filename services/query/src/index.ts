export type { RunningQueryApi } from './app';
export { createQueryApp, startQueryApi } from './app';
export type { Begun, Reached, ReadAnswer, ReadRequest, ReadSource } from './consistent-reads';
export { answerHeaders, ContextReads } from './consistent-reads';
export { QueryEngine } from './engine';
export * from './errors';
export { READ_PARAMETERS } from './http/read-request';
export { createQueryLogger } from './logger';
export { QueryMetrics } from './metrics';
export { buildOpenApiDocument, OpenApiDocument } from './openapi';
export type { ApiKey, QueryContext, QueryOptions, ResolvedContext, ResolvedQueryOptions } from './options';
export { DEFAULT_QUERY_WAIT_TIMEOUT_MS, MAX_QUERY_WAIT_TIMEOUT_MS, resolveOptions } from './options';
export { MAX_ID_LENGTH, readDocument, validateKey } from './queries/document-read';
export { readSearch } from './queries/search-read';
export { QueryModule } from './query.module';
export type { SearchParams } from './search/search-params';
export { MAX_FILTER_LENGTH, parseSearchParams, searchParameterNames } from './search/search-params';
export type { SearchAnswer } from './search/search-request';
export { buildSearchRequest, searchResult } from './search/search-request';
export type { ElasticsearchSearchViewOptions, SearchView } from './search/search-view';
export { createElasticsearchSearchView } from './search/search-view';
export type { ShadowOptions, ShadowOutcome, ShadowProbe, ShadowReadsDeps, ShadowSnapshot } from './shadow';
export { ShadowReads } from './shadow';
export { QUERY_LOGGER, QUERY_OPTIONS_RESOLVED } from './tokens';
export { ContextViews, viewsOf } from './views';
export type {
  TrackedRoute,
  TrackerLogger,
  VersionSwitch,
  WatermarkTrackerOptions,
} from './watermark-tracker';
export { DEFAULT_SWITCH_TIMEOUT_MS, WatermarkTracker } from './watermark-tracker';
