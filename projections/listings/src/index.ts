export { isListingEventType, LISTING_EVENT_TYPES, readListingEvent } from './events';
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
export type { ListingSearchDocument, ListingSearchProjection } from './search';
export {
  applyListingSearch,
  createListingSearchProjection,
  LISTING_SEARCH_MAPPINGS,
  LISTING_SEARCH_PROJECTION,
  listingSearchProjection,
  searchDocumentFromDetail,
} from './search';
