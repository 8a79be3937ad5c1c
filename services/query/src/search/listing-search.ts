/**
 * The listing search view: what GET /v1/listings/search asks of it (ListingSearchView), and its Elasticsearch
 * implementation over @elastic/elasticsearch, reading the index of one projection version.
 */
import type { estypes } from '@elastic/elasticsearch';
import { Client } from '@elastic/elasticsearch';
import type { ListingSearchDocument, ListingViewStatus } from '@tidemark/listings-projections';
import { createListingSearchProjection } from '@tidemark/listings-projections';
import { createElasticsearchSink, decodeSource, LIVE_DOCUMENTS } from '@tidemark/projection-elasticsearch';

export const LISTING_SEARCH_SORTS = ['relevance', 'price_asc', 'price_desc', 'newest'] as const;
export type ListingSearchSort = (typeof LISTING_SEARCH_SORTS)[number];

/** `any`: every status. */
export type ListingSearchStatus = ListingViewStatus | 'any';

export interface ListingSearchParams {
  /** Full text over title (boosted) and description; none: every listing (filters only). */
  q?: string;
  category?: string;
  /** Inclusive bounds on priceCents. */
  minPrice?: number;
  maxPrice?: number;
  city?: string;
  country?: string;
  status: ListingSearchStatus;
  from: number;
  size: number;
  sort: ListingSearchSort;
}

export interface ListingSearchHit {
  id: string;
  /** null when sorted by something other than relevance. */
  score: number | null;
  listing: ListingSearchDocument;
}

export interface ListingSearchResult {
  total: number;
  hits: ListingSearchHit[];
  facets: { category: { key: string; count: number }[] };
}

/** One version of the search view, as the query API uses it. */
export interface ListingSearchView {
  /** partition -> checkpoint (the version's watermark authority). */
  checkpoints(): Promise<Map<number, number>>;
  search(params: ListingSearchParams): Promise<ListingSearchResult>;
  close(): Promise<void>;
}

/** Category buckets answered at most. */
export const CATEGORY_FACET_SIZE = 50;

/** The `_search` request of a listing search (pure; the index is the projection version's). */
export function buildListingSearchRequest(index: string, params: ListingSearchParams) {
  const filter: Record<string, unknown>[] = [LIVE_DOCUMENTS];
  if (params.status !== 'any') filter.push({ term: { status: params.status } });
  if (params.category !== undefined) filter.push({ term: { category: params.category } });
  if (params.city !== undefined) filter.push({ term: { city: params.city } });
  if (params.country !== undefined) filter.push({ term: { country: params.country } });
  if (params.minPrice !== undefined || params.maxPrice !== undefined) {
    filter.push({
      range: {
        priceCents: {
          ...(params.minPrice !== undefined ? { gte: params.minPrice } : {}),
          ...(params.maxPrice !== undefined ? { lte: params.maxPrice } : {}),
        },
      },
    });
  }
  const must =
    params.q !== undefined
      ? [{ multi_match: { query: params.q, fields: ['title^3', 'description'] } }]
      : [{ match_all: {} }];
  // Ties broken by id: pages are stable.
  const sorts: Record<ListingSearchSort, unknown[] | undefined> = {
    relevance: undefined,
    price_asc: [{ priceCents: { order: 'asc' } }, { id: { order: 'asc' } }],
    price_desc: [{ priceCents: { order: 'desc' } }, { id: { order: 'asc' } }],
    newest: [{ publishedAt: { order: 'desc' } }, { id: { order: 'asc' } }],
  };
  const sort = sorts[params.sort];
  return {
    index,
    query: { bool: { must, filter } },
    from: params.from,
    size: params.size,
    track_total_hits: true,
    ...(sort ? { sort } : {}),
    aggs: { category: { terms: { field: 'category', size: CATEGORY_FACET_SIZE } } },
  };
}

interface SearchAnswer {
  hits: {
    total?: number | { value: number };
    hits: { _id?: string | null; _score?: number | null; _source?: unknown }[];
  };
  aggregations?: Record<string, unknown>;
}

/** Maps an Elasticsearch `_search` answer to the API's result. */
export function listingSearchResult(answer: SearchAnswer): ListingSearchResult {
  const total = answer.hits.total;
  const hits = answer.hits.hits.map((hit) => {
    const { meta, doc } = decodeSource<ListingSearchDocument>(hit._source, hit._id ?? '?');
    // Tombstones are filtered out by the query; a tombstone here would be a store bug.
    if (!doc) throw new Error(`search answered a deleted document (${hit._id ?? '?'})`);
    return {
      id: typeof doc.id === 'string' ? doc.id : meta.key,
      score: typeof hit._score === 'number' ? hit._score : null,
      listing: doc,
    };
  });
  const category = answer.aggregations?.category as
    | { buckets?: { key: unknown; doc_count: unknown }[] }
    | undefined;
  return {
    total: typeof total === 'number' ? total : (total?.value ?? hits.length),
    hits,
    facets: {
      category: (category?.buckets ?? []).map((b) => ({ key: String(b.key), count: Number(b.doc_count) })),
    },
  };
}

export interface ElasticsearchListingSearchOptions {
  /** The projection version whose index is read. */
  version: number;
  /** http://host:port: a client the view owns (closed on close()). One of node and client is required. */
  node?: string;
  /** A shared client: never closed here. */
  client?: Client;
  /** P: checkpoints are then read by id (real-time) rather than by a search of the checkpoints index. */
  partitions?: number;
}

/** The search view of one projection version over Elasticsearch (the index the Elasticsearch sink writes). */
export function createElasticsearchListingSearch(
  options: ElasticsearchListingSearchOptions,
): ListingSearchView {
  if (!options.client && !options.node)
    throw new Error('createElasticsearchListingSearch needs a node or a client');
  const owned = options.client ? undefined : new Client({ node: options.node });
  const client = options.client ?? (owned as Client);
  const sink = createElasticsearchSink(createListingSearchProjection({ version: options.version }), {
    client,
    ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
  });
  return {
    checkpoints: () => sink.checkpoints(),
    async search(params) {
      // The builder's plain JSON is what the typed request describes; the cast only bridges the literal types.
      const request = buildListingSearchRequest(sink.names.index, params) as unknown as estypes.SearchRequest;
      const answer = await client.search(request);
      return listingSearchResult(answer as SearchAnswer);
    },
    async close() {
      await owned?.close();
    },
  };
}
