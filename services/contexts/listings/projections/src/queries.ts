/**
 * The listings read routes (README, Reads): a listing, its card, a seller's counters and the listing search.
 * The query API serves them with causal reads; this file only says which view answers which route.
 */
import { listingsContext } from '@tidemark/listings';
import { defineQueries, documentQuery, searchQuery } from '@tidemark/sdk';
import {
  cardFromDetail,
  listingCardProjection,
  listingDetailProjection,
  sellerStatsProjection,
} from './projections';
import { listingSearchProjection } from './search';

export const listingQueries = defineQueries(listingsContext, {
  listing: documentQuery(listingDetailProjection, {
    path: '/v1/listings/:id',
    notFound: 'LISTING_NOT_FOUND',
    summary: 'A listing (Postgres detail view)',
  }),
  card: documentQuery(listingCardProjection, {
    path: '/v1/listings/:id/card',
    notFound: 'LISTING_NOT_FOUND',
    summary: 'The card of a listing (memcached; a card the cache lost is derived from the detail view)',
    fallback: { view: listingDetailProjection, map: cardFromDetail },
  }),
  sellerStats: documentQuery(sellerStatsProjection, {
    path: '/v1/sellers/:id/stats',
    notFound: 'SELLER_NOT_FOUND',
    summary: "A seller's counters (Redis, one sub-document per partition, merged)",
  }),
  search: searchQuery(listingSearchProjection, {
    path: '/v1/listings/search',
    summary: 'Full-text search of listings with filters, facets, sort and paging (Elasticsearch)',
    hit: 'listing',
    text: { param: 'q', fields: ['title^3', 'description'] },
    filters: {
      category: { kind: 'term', field: 'category', normalizer: 'lowercase' },
      city: { kind: 'term', field: 'city', normalizer: 'lowercase' },
      country: { kind: 'term', field: 'country', normalizer: 'lowercase' },
      minPrice: { kind: 'range', field: 'priceCents', bound: 'gte', min: 0 },
      maxPrice: { kind: 'range', field: 'priceCents', bound: 'lte', min: 0 },
      status: {
        kind: 'choice',
        field: 'status',
        values: ['active', 'withdrawn', 'sold'],
        any: 'any',
        default: 'active',
      },
    },
    facets: { category: { field: 'category', size: 50 } },
    sorts: {
      relevance: 'relevance',
      price_asc: [{ field: 'priceCents', order: 'asc' }],
      price_desc: [{ field: 'priceCents', order: 'desc' }],
      newest: [{ field: 'publishedAt', order: 'desc' }],
    },
    defaultSort: 'relevance',
    tieBreaker: 'id',
  }),
});
