import type { ApiKey } from '@tidemark/http';
import type { ProjectionControl, Sink, WatermarkBus } from '@tidemark/projection-runtime';
import { isTopicIdentity } from '@tidemark/schemas';
import type { NamedQuery, ProjectionDefinition } from '@tidemark/sdk';
import { routeShape } from '@tidemark/sdk';
import type { Logger } from 'pino';
import type { SearchView } from './search/search-view';
import type { ShadowOptions } from './shadow';

/**
 * An API key (@tidemark/http); its scopes are `queries:read:<ctx>` (reads of a context's views), `queries:read:*`
 * (every context's), `queries:*` or `*` (everything).
 */
export type { ApiKey };

/**
 * One context the query API serves: its queries (defineQueries, from the deployment module) and how to reach
 * the views they read. Reads go to the version the control table marks active; the API creates a version's sink
 * (or search view) on first use, reuses it, and closes every one it created when it closes.
 */
export interface QueryContext {
  name: string;
  /** P of the context (every projection of it shares it). */
  partitions: number;
  /** The events topic identity, or how to get it (called until it succeeds; e.g. awaitTopicIdentity). */
  topicIdentity: string | (() => Promise<string>);
  /** The log end offset of an events partition: a token past it is refused (400 TOKEN_AHEAD_OF_LOG). */
  logEnd: (partition: number) => Promise<number>;
  queries: readonly NamedQuery[];
  /**
   * A projection version as this deployment's code defines it (the merge of a gathering view); default: the
   * query's own view definition.
   */
  definition?: (projection: string, version: number) => ProjectionDefinition;
  /** The sink of a projection version (the views of document queries). */
  sink: (projection: string, version: number) => Sink;
  /** The search view of a projection version. Without it, search queries answer 503 VIEW_UNAVAILABLE. */
  search?: (projection: string, version: number) => SearchView;
}

export interface QueryOptions {
  apiKeys: ApiKey[];
  contexts: QueryContext[];
  /** The control table: which version of each projection reads go to. The caller's: not closed here. */
  control: ProjectionControl;
  /** Where projectors announce watermarks. The caller's: not closed here. */
  bus: WatermarkBus;
  /** The longest a read waits for its view to cover the token (default 2000); `?wait=` can only lower it. */
  waitTimeoutMs?: number;
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

export const DEFAULT_QUERY_WAIT_TIMEOUT_MS = 2_000;
/** Above this a client holds a connection too long; the bound is for quick read-your-writes, not long polling. */
export const MAX_QUERY_WAIT_TIMEOUT_MS = 60_000;

export interface ResolvedContext extends Omit<QueryContext, 'topicIdentity'> {
  topicIdentity: () => Promise<string>;
  /** The scope every read of the context needs. */
  readScope: string;
}

export interface ResolvedQueryOptions {
  apiKeys: readonly ApiKey[];
  contexts: readonly ResolvedContext[];
  control: ProjectionControl;
  bus: WatermarkBus;
  waitTimeoutMs: number;
  switchTimeoutMs: number;
  shadow: ShadowOptions;
  random: () => number;
}

export function resolveOptions(options: QueryOptions): ResolvedQueryOptions {
  const ids = new Set<string>();
  for (const key of options.apiKeys) {
    if (!key.id || !key.secret) throw new Error('an API key needs an id and a secret');
    if (ids.has(key.id)) throw new Error(`API key id '${key.id}' is defined twice`);
    ids.add(key.id);
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
  const names = new Set<string>();
  const routes = new Map<string, string>();
  const contexts = options.contexts.map((context): ResolvedContext => {
    if (names.has(context.name)) throw new Error(`context '${context.name}' is served twice`);
    names.add(context.name);
    if (!Number.isInteger(context.partitions) || context.partitions <= 0) {
      throw new Error(`context ${context.name}: partitions must be a positive integer`);
    }
    const { topicIdentity } = context;
    if (typeof topicIdentity === 'string' && !isTopicIdentity(topicIdentity)) {
      throw new Error(`context ${context.name}: topicIdentity must be 16 lowercase hex characters`);
    }
    for (const query of context.queries) {
      if (query.context !== context.name) {
        throw new Error(`query ${query.name} of ${query.context} is given to context ${context.name}`);
      }
      const shape = routeShape(query.path);
      const taken = routes.get(shape);
      if (taken) throw new Error(`query path ${query.path} of ${context.name} collides with ${taken}`);
      routes.set(shape, `${context.name}.${query.name}`);
    }
    return {
      ...context,
      topicIdentity: typeof topicIdentity === 'string' ? async () => topicIdentity : topicIdentity,
      readScope: `queries:read:${context.name}`,
    };
  });
  return {
    apiKeys: options.apiKeys,
    contexts,
    control: options.control,
    bus: options.bus,
    waitTimeoutMs: Math.floor(waitTimeoutMs),
    switchTimeoutMs: Math.floor(switchTimeoutMs),
    shadow: options.shadow ?? {},
    random: options.random ?? Math.random,
  };
}
