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
