import type { ContextExample } from '@tidemark/sdk';

export type { ListingEventEnvelope } from './events';
export { LISTING_EVENT_TYPES } from './events';
export type {
  ListingCard,
  ListingDetail,
  ListingLocation,
  ListingProjectionOptions,
  ListingProjections,
  ListingViewStatus,
  SellerStats,
} from './projections';
export {
  applyListingCard,
  applyListingDetail,
  applySellerStats,
  cardFromDetail,
  createListingCardProjection,
  createListingDetailProjection,
  createSellerStatsProjection,
  emptySellerStats,
  LISTING_CARD_PROJECTION,
  LISTING_DETAIL_PROJECTION,
  LISTING_SOLD_NOTIFICATION,
  listingCardProjection,
  listingDetailEffects,
  listingDetailProjection,
  listingProjections,
  mergeSellerStats,
  SELLER_STATS_PROJECTION,
  sellerStatsProjection,
} from './projections';
export { listingQueries } from './queries';
export type { ListingSearchDocument } from './search';
export {
  applyListingSearch,
  createListingSearchProjection,
  LISTING_SEARCH_MAPPINGS,
  LISTING_SEARCH_PROJECTION,
  listingSearchProjection,
  searchDocumentFromDetail,
} from './search';

import { listingCardProjection, listingDetailProjection, sellerStatsProjection } from './projections';
import { listingSearchProjection } from './search';

/** The listings projections at the versions a fresh deployment starts with. */
export const listingProjectionSet = [
  listingDetailProjection,
  sellerStatsProjection,
  listingCardProjection,
  listingSearchProjection,
] as const;

/** The copy-paste example `tidemark up` prints: publish a listing, then read every view of it. */
export const listingsExample: ContextExample = {
  command: {
    type: 'PublishListing',
    aggregateId: 'listing-1',
    expectedVersion: 'new',
    payload: {
      sellerId: 'seller-1',
      title: 'Road bike',
      description: 'Carbon frame, 56 cm',
      category: 'bikes',
      priceCents: 85000,
      currency: 'EUR',
      location: { country: 'NL', city: 'Utrecht' },
    },
  },
  reads: [
    '/v1/listings/listing-1',
    '/v1/listings/listing-1/card',
    '/v1/sellers/seller-1/stats',
    '/v1/listings/search?q=road+bike&category=bikes',
  ],
};
