import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { ListingCard, ListingDetail, SellerStats } from '@tidemark/listings-projections';
import type { ProjectionControl, Sink, WatermarkBus } from '@tidemark/projection-runtime';
import { isTopicIdentity } from '@tidemark/schemas';
import type { Logger } from 'pino';
import type { ListingSearchView } from './search/listing-search';
import type { ShadowOptions } from './shadow';

/** An API key: presented as `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`. */
export interface ApiKey {
  id: string;
  secret: string;
  /** `queries:read:<ctx>` (reads of a context's views), `queries:read:*` or `*` (everything). */
  scopes: string[];
}

/**
 * The sink of each view, per projection version. Reads go to the version the control table marks active; the
 * query API creates a version's sink on first use, reuses it, and closes every sink it created when it closes.
 */
export interface QueryViews {
  detail: (version: number) => Sink<ListingDetail>;
  sellerStats: (version: number) => Sink<SellerStats>;
  cards: (version: number) => Sink<ListingCard>;
  /**
   * The listing search view of a version (e.g. createElasticsearchListingSearch). Optional: without it the
   * search endpoint answers 503 VIEW_UNAVAILABLE and the search projection is not tracked.
   */
  search?: (version: number) => ListingSearchView;
}

export interface QueryOptions {
  apiKeys: ApiKey[];
  /** P of the listings context (every projection shares it). */
  partitions: number;
  /** The events topic identity, or how to get it (called until it succeeds; e.g. awaitTopicIdentity). */
  topicIdentity: string | (() => Promise<string>);
  /** The log end offset of an events partition: a token past it is refused (400 TOKEN_AHEAD_OF_LOG). */
  logEnd: (partition: number) => Promise<number>;
  /** The control table: which version of each projection reads go to. The caller's: not closed here. */
  control: ProjectionControl;
  /** Where projectors announce watermarks. The caller's: not closed here. */
  bus: WatermarkBus;
  views: QueryViews;
  /** The longest a read waits for its view to cover the token (default 2000); `?wait=` can only lower it. */
  waitTimeoutMs?: number;
  /** Context of the views (default 'listings'): the scope is `queries:read:<context>`. */
  context?: string;
  /**
   * The longest reads stay on the old version after an activation, waiting for the new one to cover its
   * watermark (default: waitTimeoutMs); past it they switch anyway, with a warning.
   */
  switchTimeoutMs?: number;
  /** Shadow reads of a gradual cutover: bounds and reporting period. */
  shadow?: ShadowOptions;
  /** Draws the share of split reads, in [0, 1) (default Math.random; tests make it deterministic). */
  random?: () => number;
  logger?: Logger;
}

/** nestjs/cqrs-style async configuration: the options are injected, never reached for. */
export interface QueryModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: FactoryProvider<QueryOptions>['inject'];
  useFactory: FactoryProvider<QueryOptions>['useFactory'];
}

export const DEFAULT_QUERY_WAIT_TIMEOUT_MS = 2_000;
/** Above this a client holds a connection too long; the bound is for quick read-your-writes, not long polling. */
export const MAX_QUERY_WAIT_TIMEOUT_MS = 60_000;

export interface ResolvedQueryOptions {
  apiKeys: readonly ApiKey[];
  partitions: number;
  topicIdentity: () => Promise<string>;
  logEnd: (partition: number) => Promise<number>;
  control: ProjectionControl;
  bus: WatermarkBus;
  views: QueryViews;
  waitTimeoutMs: number;
  switchTimeoutMs: number;
  shadow: ShadowOptions;
  random: () => number;
  context: string;
  /** The scope every read needs. */
  readScope: string;
}

export function resolveOptions(options: QueryOptions): ResolvedQueryOptions {
  const ids = new Set<string>();
  for (const key of options.apiKeys) {
    if (!key.id || !key.secret) throw new Error('an API key needs an id and a secret');
    if (ids.has(key.id)) throw new Error(`API key id '${key.id}' is defined twice`);
    ids.add(key.id);
  }
  if (!Number.isInteger(options.partitions) || options.partitions <= 0) {
    throw new Error('partitions must be a positive integer');
  }
  const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_QUERY_WAIT_TIMEOUT_MS;
  if (!Number.isFinite(waitTimeoutMs) || waitTimeoutMs < 0 || waitTimeoutMs > MAX_QUERY_WAIT_TIMEOUT_MS) {
    throw new Error(`waitTimeoutMs must be between 0 and ${MAX_QUERY_WAIT_TIMEOUT_MS}`);
  }
  const switchTimeoutMs = options.switchTimeoutMs ?? waitTimeoutMs;
  if (
    !Number.isFinite(switchTimeoutMs) ||
    switchTimeoutMs < 0 ||
    switchTimeoutMs > MAX_QUERY_WAIT_TIMEOUT_MS
  ) {
    throw new Error(`switchTimeoutMs must be between 0 and ${MAX_QUERY_WAIT_TIMEOUT_MS}`);
  }
  const { topicIdentity } = options;
  if (typeof topicIdentity === 'string' && !isTopicIdentity(topicIdentity)) {
    throw new Error(`topicIdentity must be 16 lowercase hex characters (got '${topicIdentity}')`);
  }
  const context = options.context ?? 'listings';
  return {
    apiKeys: options.apiKeys,
    partitions: options.partitions,
    topicIdentity: typeof topicIdentity === 'string' ? async () => topicIdentity : topicIdentity,
    logEnd: options.logEnd,
    control: options.control,
    bus: options.bus,
    views: options.views,
    waitTimeoutMs: Math.floor(waitTimeoutMs),
    switchTimeoutMs: Math.floor(switchTimeoutMs),
    shadow: options.shadow ?? {},
    random: options.random ?? Math.random,
    context,
    readScope: `queries:read:${context}`,
  };
}
