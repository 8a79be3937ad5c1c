/**
 * A context's queries: HTTP routes over its views. The platform's query API serves them with causal reads
 * (Consistency-Token: the read waits, bounded, until the view covers the token; 404 only from a view that covers
 * it), generates their OpenAPI document and validates their parameters from these definitions.
 *
 *   export const orderQueries = defineQueries(ordersContext, {
 *     order: documentQuery(orderDetailProjection, { path: '/v1/<things>/:id', notFound: '<THING>_NOT_FOUND' }),
 *     customerTotals: documentQuery(customerTotalsProjection, { path: '/v1/<owners>/:id/totals', notFound: '<OWNER>_NOT_FOUND' }),
 *     search: searchQuery(orderSearchProjection, { path: '/v1/<things>/search', hit: '<thing>', ... }),
 *   });
 *
 * A document query of an aggregate view reads the one partition of the key; of a gathering view (keyScope 'all')
 * every partition's sub-document, merged with the projection's `merge`. A `fallback` answers, at the same token,
 * when the view does not know a key (a cache that evicted it, or failed).
 */
import type { ContextDefinition } from './context';
import type { ProjectionDefinition, ProjectionDocument } from './projection';
import type { KeywordNormalizer, SearchFieldMapping } from './search-mappings';
import { normalizedField } from './search-mappings';

/** `/v1/...` with lowercase segments; a document query has exactly one `:param` segment. */
const PATH_SEGMENT = /^(?:[a-z0-9][a-z0-9._-]*|:[a-zA-Z][a-zA-Z0-9]*)$/;
/** Stable error codes: capitals, digits and underscores. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{2,63}$/;
/** Query parameter names. */
const PARAMETER = /^[a-zA-Z][a-zA-Z0-9_]{0,39}$/;
/** Read by every route: they cannot be a query's own parameters. */
export const RESERVED_PARAMETERS: readonly string[] = ['stale', 'wait'];

export interface QueryDocs {
  /** One line for the OpenAPI summary. */
  summary?: string;
  description?: string;
}

/** When the view does not know a key: read another view at the same token and map its document. */
export interface QueryFallback<D, F extends ProjectionDocument = ProjectionDocument> {
  view: ProjectionDefinition<F>;
  map(document: F): D;
}

export interface DocumentQuery<D extends ProjectionDocument = ProjectionDocument> extends QueryDocs {
  readonly kind: 'document';
  readonly path: string;
  /** The path parameter naming the key (from the path). */
  readonly param: string;
  readonly view: ProjectionDefinition<D>;
  /** The 404 code of a key the view (covering the token) does not hold. */
  readonly notFound: string;
  readonly fallback?: QueryFallback<D, ProjectionDocument>;
}

/** An exact filter on a keyword field; with a normaliser, case (and the like) does not matter. */
export interface TermFilter {
  kind: 'term';
  field: string;
  normalizer?: KeywordNormalizer;
  description?: string;
}

/** One of a fixed set of values; `any` (when given) is the value that turns the filter off. */
export interface ChoiceFilter {
  kind: 'choice';
  field: string;
  values: readonly string[];
  default?: string;
  any?: string;
  description?: string;
}

/** A bound on a numeric field (whole numbers). */
export interface RangeFilter {
  kind: 'range';
  field: string;
  bound: 'gte' | 'lte';
  min?: number;
  max?: number;
  description?: string;
}

export type SearchFilter = TermFilter | ChoiceFilter | RangeFilter;

export interface SortField {
  field: string;
  order: 'asc' | 'desc';
}

export interface SearchQuery<D extends ProjectionDocument = ProjectionDocument, H extends string = string>
  extends QueryDocs {
  readonly kind: 'search';
  readonly path: string;
  readonly view: ProjectionDefinition<D>;
  /** Full text: the parameter (default `q`) and the text fields it searches, `field^boost` allowed. */
  readonly text?: { readonly param: string; readonly fields: readonly string[]; readonly maxLength: number };
  /** Parameter name -> filter. */
  readonly filters: Readonly<Record<string, SearchFilter>>;
  /** Facet name -> the keyword field counted (top `size` values). */
  readonly facets: Readonly<Record<string, { readonly field: string; readonly size: number }>>;
  /** Sort name -> fields ('relevance': by score). Ties are broken by `tieBreaker`, so pages are stable. */
  readonly sorts: Readonly<Record<string, 'relevance' | readonly SortField[]>>;
  readonly defaultSort: string;
  readonly tieBreaker: string;
  /** The name of the document in each hit (`{id, score, <hit>: document}`). */
  readonly hit: H;
  readonly size: { readonly default: number; readonly max: number };
  /** from + size at most (Elasticsearch's max_result_window). */
  readonly maxWindow: number;
}

export type QueryDefinition = DocumentQuery | SearchQuery;

/** A query with its name and context, as the query API serves it. */
export type NamedQuery = QueryDefinition & { readonly name: string; readonly context: string };

export interface QuerySet<Q extends Record<string, QueryDefinition> = Record<string, QueryDefinition>> {
  readonly context: string;
  /** The queries by name (typed for clients). */
  readonly queries: Q;
  /** The same, named, in definition order. */
  readonly list: readonly NamedQuery[];
}

/** A document of a view by its key: GET <path> with one `:param`. */
export function documentQuery<D extends ProjectionDocument, F extends ProjectionDocument = D>(
  view: ProjectionDefinition<D>,
  spec: QueryDocs & { path: string; notFound: string; fallback?: QueryFallback<D, F> },
): DocumentQuery<D> {
  const params = pathParams(spec.path);
  if (params.length !== 1) {
    throw new Error(`query ${spec.path}: a document query has exactly one :parameter in its path`);
  }
  if (!ERROR_CODE.test(spec.notFound)) {
    throw new Error(`query ${spec.path}: notFound must be an error code such as ITEM_NOT_FOUND`);
  }
  if (view.keyScope === 'all' && !view.merge) {
    throw new Error(
      `query ${spec.path}: view ${view.name} gathers partitions (keyScope 'all') but has no merge`,
    );
  }
  if (spec.fallback && spec.fallback.view.keyScope !== view.keyScope) {
    throw new Error(`query ${spec.path}: the fallback view must be keyed like ${view.name}`);
  }
  return {
    kind: 'document',
    path: spec.path,
    param: params[0] as string,
    view,
    notFound: spec.notFound,
    ...(spec.fallback ? { fallback: spec.fallback } : {}),
    ...docs(spec),
  };
}

export interface SearchQuerySpec<D extends ProjectionDocument, H extends string> extends QueryDocs {
  path: string;
  hit: H;
  text?: { param?: string; fields: readonly string[]; maxLength?: number };
  filters?: Record<string, SearchFilter>;
  facets?: Record<string, { field: keyof D & string; size?: number }>;
  sorts?: Record<string, 'relevance' | readonly SortField[]>;
  defaultSort?: string;
  tieBreaker?: keyof D & string;
  size?: { default?: number; max?: number };
  maxWindow?: number;
}

/** Full text, filters, facets, sorts and paging over a search view (store 'elasticsearch'). */
export function searchQuery<D extends ProjectionDocument, const H extends string>(
  view: ProjectionDefinition<D>,
  spec: SearchQuerySpec<D, H>,
): SearchQuery<D, H> {
  const where = `query ${spec.path}`;
  if (pathParams(spec.path).length !== 0) throw new Error(`${where}: a search query has no path parameters`);
  const mappings = view.search?.mappings;
  if (view.store !== 'elasticsearch' || !mappings) {
    throw new Error(`${where}: view ${view.name} is not a search view (store elasticsearch with mappings)`);
  }
  const mapped = (field: string): SearchFieldMapping | undefined =>
    (mappings as Record<string, SearchFieldMapping | undefined>)[field.split('.')[0] ?? field];
  const text = spec.text
    ? { param: spec.text.param ?? 'q', fields: spec.text.fields, maxLength: spec.text.maxLength ?? 200 }
    : undefined;
  for (const entry of text?.fields ?? []) {
    const field = entry.replace(/\^\d+(\.\d+)?$/, '');
    if (mapped(field)?.type !== 'text')
      throw new Error(`${where}: text field ${field} is not mapped as text`);
  }
  const filters = spec.filters ?? {};
  const names = new Set<string>(text ? [text.param] : []);
  for (const [name, filter] of Object.entries(filters)) {
    if (!PARAMETER.test(name) || RESERVED_PARAMETERS.includes(name) || names.has(name)) {
      throw new Error(`${where}: '${name}' cannot be a filter parameter`);
    }
    names.add(name);
    const mapping = mapped(filter.field);
    if (!mapping)
      throw new Error(`${where}: filter ${name} reads field ${filter.field}, which is not mapped`);
    if (
      filter.kind === 'term' &&
      filter.normalizer &&
      !normalizedField(mappings, filter.field, filter.normalizer)
    ) {
      throw new Error(
        `${where}: filter ${name} is ${filter.normalizer}-normalised, so ${filter.field} needs a keyword multi-field with that normalizer (keyword({ normalizer: '${filter.normalizer}' }))`,
      );
    }
    if (filter.kind === 'range' && !['long', 'integer', 'double', 'float'].includes(mapping.type)) {
      throw new Error(`${where}: range filter ${name} needs a numeric field, not ${filter.field}`);
    }
    if (filter.kind === 'choice') {
      const allowed = [...filter.values, ...(filter.any ? [filter.any] : [])];
      if (filter.default !== undefined && !allowed.includes(filter.default)) {
        throw new Error(`${where}: filter ${name}'s default is not one of its values`);
      }
    }
  }
  for (const reserved of ['sort', 'from', 'size']) {
    if (names.has(reserved)) throw new Error(`${where}: '${reserved}' is reserved for paging and sorting`);
  }
  const facets: Record<string, { field: string; size: number }> = {};
  for (const [name, facet] of Object.entries(spec.facets ?? {})) {
    if (mapped(facet.field)?.type !== 'keyword') {
      throw new Error(`${where}: facet ${name} needs a keyword field, not ${facet.field}`);
    }
    facets[name] = { field: facet.field, size: facet.size ?? 50 };
  }
  const sorts = spec.sorts ?? { relevance: 'relevance' };
  for (const [name, sort] of Object.entries(sorts)) {
    if (sort === 'relevance') continue;
    for (const { field } of sort) {
      if (!mapped(field)) throw new Error(`${where}: sort ${name} uses unmapped field ${field}`);
    }
  }
  const defaultSort = spec.defaultSort ?? Object.keys(sorts)[0];
  if (defaultSort === undefined || !(defaultSort in sorts)) {
    throw new Error(`${where}: defaultSort must name one of the sorts`);
  }
  const tieBreaker = spec.tieBreaker ?? 'id';
  if (mapped(tieBreaker)?.type !== 'keyword') {
    throw new Error(`${where}: the tie breaker ${tieBreaker} must be a mapped keyword field`);
  }
  const size = { default: spec.size?.default ?? 20, max: spec.size?.max ?? 100 };
  if (size.default < 1 || size.default > size.max)
    throw new Error(`${where}: size.default must be 1..size.max`);
  if (!PARAMETER.test(spec.hit)) throw new Error(`${where}: hit must be a plain name such as 'item'`);
  return {
    kind: 'search',
    path: spec.path,
    view,
    ...(text ? { text } : {}),
    filters,
    facets,
    sorts,
    defaultSort,
    tieBreaker,
    hit: spec.hit,
    size,
    maxWindow: spec.maxWindow ?? 10_000,
    ...docs(spec),
  };
}

/** A context's queries: checks that every view is the context's and names each query. */
export function defineQueries<const Q extends Record<string, QueryDefinition>>(
  context: ContextDefinition,
  queries: Q,
): QuerySet<Q> {
  const list: NamedQuery[] = [];
  const paths = new Set<string>();
  for (const [name, query] of Object.entries(queries)) {
    if (!PARAMETER.test(name)) throw new Error(`query name '${name}' must be a plain identifier`);
    const views = [query.view, ...(query.kind === 'document' && query.fallback ? [query.fallback.view] : [])];
    for (const view of views) {
      if (view.context !== context.name) {
        throw new Error(
          `query ${name}: view ${view.name} belongs to context ${view.context}, not ${context.name}`,
        );
      }
    }
    const shape = routeShape(query.path);
    if (paths.has(shape))
      throw new Error(`query ${name}: another query of ${context.name} has the path ${query.path}`);
    paths.add(shape);
    list.push({ ...query, name, context: context.name });
  }
  return { context: context.name, queries, list };
}

/** The `:param` names of a path; throws for a path that is not `/v1/...` of plain segments. */
export function pathParams(path: string): string[] {
  const segments = path.split('/');
  if (segments[0] !== '' || segments.length < 3 || segments[1] !== 'v1') {
    throw new Error(`query path ${path} must start with /v1/`);
  }
  const params: string[] = [];
  for (const segment of segments.slice(1)) {
    if (!PATH_SEGMENT.test(segment)) throw new Error(`query path ${path}: bad segment '${segment}'`);
    if (segment.startsWith(':')) params.push(segment.slice(1));
  }
  return params;
}

/** Paths that route alike (parameter names do not matter): `/v1/a/:id` and `/v1/a/:key` collide. */
export function routeShape(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? ':' : segment))
    .join('/');
}

function docs(spec: QueryDocs): QueryDocs {
  return {
    ...(spec.summary !== undefined ? { summary: spec.summary } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
  };
}

/** What a search query answers. */
export interface SearchResult<D, H extends string> {
  total: number;
  hits: ({ id: string; score: number | null } & { [K in H]: D })[];
  facets: Record<string, { key: string; count: number }[]>;
}

/** The answer type of any query. */
export type QueryResult<Q> =
  Q extends SearchQuery<infer D, infer H> ? SearchResult<D, H> : Q extends DocumentQuery<infer D> ? D : never;
