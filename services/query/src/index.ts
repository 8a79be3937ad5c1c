export type { RunningQueryApi } from './app';
export { createQueryApp, startQueryApi } from './app';
export {
  CONSISTENCY_TIMEOUT,
  INVALID_ID,
  INVALID_QUERY_PARAMETER,
  LISTING_NOT_FOUND,
  QUERY_SHUTTING_DOWN,
  QueryError,
  REQUEST_ABORTED,
  SELLER_NOT_FOUND,
  TOKEN_AHEAD_OF_LOG,
  TOPIC_IDENTITY_UNAVAILABLE,
  VIEW_UNAVAILABLE,
} from './errors';
export { ApiKeyAuthenticator, ReadScopeGuard } from './http/auth';
export { mapKnownError, QueryExceptionFilter } from './http/exception-filter';
export type { ReadBody } from './http/listings.controller';
export { ListingsController } from './http/listings.controller';
export {
  DEFAULT_SEARCH_SIZE,
  MAX_SEARCH_SIZE,
  MAX_SEARCH_WINDOW,
  parseSearchParams,
} from './http/search-params';
export { createQueryLogger } from './logger';
export { QueryMetrics } from './metrics';
export { buildOpenApiDocument, OpenApiDocument } from './openapi';
export type {
  ApiKey,
  QueryModuleAsyncOptions,
  QueryOptions,
  QueryViews,
  ResolvedQueryOptions,
} from './options';
export { DEFAULT_QUERY_WAIT_TIMEOUT_MS, MAX_QUERY_WAIT_TIMEOUT_MS, resolveOptions } from './options';
export { QueryModule } from './query.module';
export type { ReadAnswer, ReadRequest, ReadSource } from './read.service';
export { answerHeaders, ListingsReader, MAX_ID_LENGTH } from './read.service';
export type {
  ElasticsearchListingSearchOptions,
  ListingSearchHit,
  ListingSearchParams,
  ListingSearchResult,
  ListingSearchSort,
  ListingSearchStatus,
  ListingSearchView,
} from './search/listing-search';
export {
  buildListingSearchRequest,
  CATEGORY_FACET_SIZE,
  createElasticsearchListingSearch,
  LISTING_SEARCH_SORTS,
  listingSearchResult,
} from './search/listing-search';
export type {
  ShadowOptions,
  ShadowOutcome,
  ShadowProbe,
  ShadowReadsDeps,
  ShadowSnapshot,
} from './shadow';
export { ShadowReads } from './shadow';
export { QUERY_LOGGER, QUERY_OPTIONS, QUERY_OPTIONS_RESOLVED, WATERMARK_TRACKER } from './tokens';
export type { ReadView, ViewKind } from './views';
export { projectionOf, SEARCH_PROJECTION, trackedProjections, VIEW_PROJECTIONS, ViewSinks } from './views';
export type {
  TrackedRoute,
  TrackerLogger,
  VersionSwitch,
  WatermarkTrackerOptions,
} from './watermark-tracker';
export { DEFAULT_SWITCH_TIMEOUT_MS, WatermarkTracker } from './watermark-tracker';
