/** `_search` and `_count`, delegated to the query engine's searcher of the one index the target resolves to. */
import type { SearchParams } from '../engine/contracts';
import type { SearchEngine } from '../engine/engine';
import type { SearchIndex } from '../engine/search-index';
import { illegalArgument, parsingError } from '../http/errors';
import type { RequestContext, Route } from '../http/router';
import { filterSource, intParam, isPlainObject, SEARCH_SHARDS, sourceFilterFrom } from './common';

const SEARCH_PARAMS = [
  'from',
  'size',
  'sort',
  'q',
  '_source',
  '_source_includes',
  '_source_excludes',
  'track_total_hits',
  'rest_total_hits_as_int',
  'typed_keys',
  'request_cache',
  'preference',
  'routing',
  'search_type',
  'allow_partial_search_results',
  'ignore_unavailable',
  'allow_no_indices',
  'expand_wildcards',
  'ccs_minimize_roundtrips',
  'batched_reduce_size',
  'max_concurrent_shard_requests',
  'pre_filter_shard_size',
];
const COUNT_PARAMS = [
  'q',
  'ignore_unavailable',
  'allow_no_indices',
  'expand_wildcards',
  'preference',
  'routing',
  'min_score',
  'terminate_after',
];

/** ES index.max_result_window. */
const MAX_RESULT_WINDOW = 10_000;
/** ES default of track_total_hits: exact up to 10,000, then a lower bound. */
const DEFAULT_TRACK_TOTAL_HITS = 10_000;

function targetIndex(engine: SearchEngine, ctx: RequestContext): SearchIndex | null {
  const expression = ctx.params.index ?? '_all';
  const indices = engine.resolveMany(expression, {
    ignoreUnavailable: ctx.query.get('ignore_unavailable') === 'true',
  });
  if (indices.length > 1)
    throw illegalArgument(
      `searching more than one index at once is not supported by this server ([${expression}] resolves to [${indices.map((i) => i.name).join(', ')}])`,
    );
  return indices[0] ?? null;
}

function body(ctx: RequestContext): Record<string, unknown> {
  const parsed = ctx.json();
  if (parsed === undefined) return {};
  if (!isPlainObject(parsed)) throw parsingError('request body must be a JSON object');
  return parsed;
}

function trackTotalHits(value: unknown): number | boolean {
  if (value === undefined || value === null) return DEFAULT_TRACK_TOTAL_HITS;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1)
    throw illegalArgument(`[track_total_hits] must be a boolean or a non-negative integer`);
  return n === -1 ? true : n;
}

export function searchRoutes(engine: SearchEngine): Route[] {
  const search = (ctx: RequestContext) => {
    const started = Date.now();
    const request = body(ctx);
    const searchType = ctx.query.get('search_type');
    if (searchType !== null && searchType !== 'query_then_fetch')
      throw illegalArgument(`search_type [${searchType}] is not supported`);
    // Each of these changes results or response shapes we do not produce: refuse rather than ignore.
    for (const key of [
      'scroll',
      'pit',
      'collapse',
      'highlight',
      'suggest',
      'rescore',
      'knn',
      'runtime_mappings',
      'script_fields',
      'stored_fields',
      'docvalue_fields',
      'fields',
      'min_score',
      'post_filter',
      'explain',
      'profile',
      'indices_boost',
      'slice',
      'terminate_after',
    ])
      if (key in request)
        throw parsingError(`unsupported search option [${key}] (not supported by this server)`);
    const params: SearchParams = {};
    const from = intParam(ctx.query, 'from');
    if (from !== undefined) params.from = from;
    const size = intParam(ctx.query, 'size');
    if (size !== undefined) params.size = size;
    const sort = ctx.query.get('sort');
    if (sort !== null) params.sort = sort;
    const q = ctx.query.get('q');
    if (q !== null) params.q = q;
    const effFrom = params.from ?? (typeof request.from === 'number' ? request.from : 0);
    const effSize = params.size ?? (typeof request.size === 'number' ? request.size : 10);
    if (effFrom + effSize > MAX_RESULT_WINDOW)
      throw illegalArgument(
        `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${effFrom + effSize}]. See the scroll api for a more efficient way to request large data sets.`,
      );
    const track = trackTotalHits(ctx.query.get('track_total_hits') ?? request.track_total_hits);
    const filter = sourceFilterFrom(request._source, ctx.query);
    const index = targetIndex(engine, ctx);
    const result = index?.searcher.search(request, params) ?? { total: 0, maxScore: null, hits: [] };
    let total: { value: number; relation: 'eq' | 'gte' } | undefined = {
      value: result.total,
      relation: 'eq',
    };
    if (track === false) total = undefined;
    else if (typeof track === 'number' && result.total > track) total = { value: track, relation: 'gte' };
    const asInt = ctx.query.get('rest_total_hits_as_int') === 'true';
    return {
      status: 200,
      body: {
        took: Date.now() - started,
        timed_out: false,
        _shards: { ...SEARCH_SHARDS, total: index === null ? 0 : 1, successful: index === null ? 0 : 1 },
        hits: {
          ...(total === undefined ? {} : { total: asInt ? total.value : total }),
          max_score: result.maxScore,
          hits: result.hits.map((hit) => {
            const source = filterSource(hit.source, filter);
            return {
              _index: index?.name,
              _id: hit.id,
              _score: hit.score,
              ...(source === undefined ? {} : { _source: source }),
              ...(hit.sort === undefined ? {} : { sort: hit.sort }),
            };
          }),
        },
        ...(result.aggregations === undefined ? {} : { aggregations: result.aggregations }),
      },
    };
  };
  const count = (ctx: RequestContext) => {
    const request = body(ctx);
    for (const key of Object.keys(request))
      if (key !== 'query') throw parsingError(`request does not support [${key}]`);
    if (ctx.query.has('min_score') || ctx.query.has('terminate_after'))
      throw illegalArgument('min_score and terminate_after are not supported by this server');
    const index = targetIndex(engine, ctx);
    const q = ctx.query.get('q');
    const n = index?.searcher.count(request, q === null ? {} : { q }) ?? 0;
    return {
      status: 200,
      body: {
        count: n,
        _shards: { ...SEARCH_SHARDS, total: index === null ? 0 : 1, successful: index === null ? 0 : 1 },
      },
    };
  };
  return [
    {
      methods: ['GET', 'POST'],
      pattern: '/_search',
      endpoint: 'search',
      queryParams: SEARCH_PARAMS,
      handler: search,
    },
    {
      methods: ['GET', 'POST'],
      pattern: '/{index}/_search',
      endpoint: 'search',
      queryParams: SEARCH_PARAMS,
      handler: search,
    },
    {
      methods: ['GET', 'POST'],
      pattern: '/_count',
      endpoint: 'count',
      queryParams: COUNT_PARAMS,
      handler: count,
    },
    {
      methods: ['GET', 'POST'],
      pattern: '/{index}/_count',
      endpoint: 'count',
      queryParams: COUNT_PARAMS,
      handler: count,
    },
  ];
}
