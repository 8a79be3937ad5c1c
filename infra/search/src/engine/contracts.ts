/**
 * The boundary between the server (http/api/engine/storage, owned by the server side) and the query
 * engine in src/query/ (owned by the query side). The server owns documents, versions, refresh and
 * persistence; the query engine owns matching, scoring, sorting, paging, aggregations and counting
 * over the REFRESHED documents it has been given.
 *
 * Division of work:
 * - The server validates documents against the mappings before they reach a searcher (values that do
 *   not fit a mapped type are rejected with mapper_parsing_exception), so `upsert` only ever sees
 *   sources whose mapped fields fit their types. Unmapped fields (we behave like `dynamic: false`) are
 *   kept in `_source` but must NOT be searchable, sortable or aggregatable.
 * - Mapped values arrive as they were in the JSON source (a `date` is an ISO-8601 string or an
 *   epoch-millis number, a `long` may be a number or a numeric string, a field may hold an array of
 *   values); the query engine normalises them for its own purposes.
 * - Object fields are addressed with dotted paths in `properties` (`"address.city"`) as well as nested
 *   `properties` objects; the server flattens nested `properties` into dotted keys before calling the
 *   factory, so `Mappings.properties` keys are always full dotted paths and the source stays nested.
 * - The server handles `_source` filtering (`_source`, `_source_includes`, `_source_excludes`),
 *   `track_total_hits`, `timeout`, and `_index` in responses. The query engine must accept those body
 *   keys (`_source`, `track_total_hits`, `timeout`) and ignore them.
 * - Any query type, body key or parameter the query engine does not implement must make it throw a
 *   SearchRequestError (never silently return a different result). The server turns it into an
 *   ES-shaped 400: `{error: {root_cause: [{type, reason}], type, reason}, status: 400}`.
 */

export type FieldType = 'text' | 'keyword' | 'long' | 'integer' | 'double' | 'float' | 'date' | 'boolean';

export const FIELD_TYPES: readonly FieldType[] = [
  'text',
  'keyword',
  'long',
  'integer',
  'double',
  'float',
  'date',
  'boolean',
];

/** Token filters a keyword normalizer may chain (ES names); applied in order to the whole value. */
export type NormalizerFilter = 'lowercase' | 'uppercase' | 'asciifolding' | 'trim';

export const NORMALIZER_FILTERS: readonly NormalizerFilter[] = [
  'lowercase',
  'uppercase',
  'asciifolding',
  'trim',
];

/**
 * One mapped field. `fields` are multi-fields, addressed as `<path>.<name>` (e.g. `title.raw`).
 * `normalizer` (keyword only) is the resolved filter chain of the field's ES normalizer: the engine indexes
 * the normalized value (doc values too, so sorts and terms aggregations see it) and normalizes the value of
 * term, terms, range and match queries on the field, as ES does; `_source` keeps the original.
 */
export interface FieldMapping {
  type: FieldType;
  /** Multi-fields indexing the same value differently, e.g. `{ raw: { type: 'keyword' } }`. */
  fields?: Record<string, { type: FieldType; normalizer?: readonly NormalizerFilter[] }>;
  /** Only for `date`; the server accepts `strict_date_optional_time`, `epoch_millis` and their `||` union. */
  format?: string;
  normalizer?: readonly NormalizerFilter[];
}

/** Mappings of one index; `properties` keys are full dotted field paths (see the header comment). */
export interface Mappings {
  properties: Record<string, FieldMapping>;
}

/** URL querystring parameters of `_search`; when a body key says the same thing, these win (as in ES). */
export interface SearchParams {
  from?: number;
  size?: number;
  /** Raw `sort` querystring, e.g. `"price:asc,_score"`. */
  sort?: string;
  /** Raw `q` querystring (Lucene query-string syntax; the engine decides which subset it supports). */
  q?: string;
}

export interface CountParams {
  q?: string;
}

export interface SearchHit {
  id: string;
  /** `null` when the hits are sorted by something other than `_score` (as ES does without track_scores). */
  score: number | null;
  /** The full stored source; the server applies `_source` filtering. */
  source: Record<string, unknown>;
  /** Sort values when the request sorted explicitly (ES `hits.hits[].sort`). */
  sort?: unknown[];
}

export interface SearchResult {
  /** Exact number of matching documents (before from/size). */
  total: number;
  /** Highest score among the matches, `null` when not scored (e.g. explicit sort). */
  maxScore: number | null;
  /** The page of hits after sort and from/size. */
  hits: SearchHit[];
  /** ES-shaped aggregation results keyed by aggregation name, e.g. `{ by_city: { buckets: [...] } }`. */
  aggregations?: Record<string, unknown>;
}

/** ES error types a malformed or unsupported search request is reported as. */
export type SearchRequestErrorType =
  | 'parsing_exception'
  | 'illegal_argument_exception'
  | 'x_content_parse_exception'
  | 'search_phase_execution_exception';

/** Thrown by IndexSearcher.search/count for unsupported or malformed requests; becomes a 400. */
export class SearchRequestError extends Error {
  constructor(
    readonly type: SearchRequestErrorType,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SearchRequestError';
  }
}

/**
 * One per index; holds only the REFRESHED state. The server calls upsert/remove when it publishes a
 * refresh (and when it rebuilds the index on start-up); search/count never see pending writes.
 * Calls are synchronous and never concurrent (single-threaded server).
 */
export interface IndexSearcher {
  /** Adds the document or replaces the one with the same id. */
  upsert(id: string, source: Record<string, unknown>): void;
  /** Removes the document; a no-op when the id is unknown. */
  remove(id: string): void;
  /**
   * `body` is the parsed JSON request body of `_search` (`{}` when none): `query`, `from`, `size`,
   * `sort`, `aggs`/`aggregations`, plus the keys the server handles (ignore those).
   */
  search(body: Record<string, unknown>, params: SearchParams): SearchResult;
  /** `body` is the parsed `_count` body (`{}` or `{ query }`). */
  count(body: Record<string, unknown>, params: CountParams): number;
  /** Number of documents currently held. */
  readonly size: number;
}

export type SearcherFactory = (indexName: string, mappings: Mappings) => IndexSearcher;
