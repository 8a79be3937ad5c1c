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
  listingCardProjection,
  listingDetailProjection,
  listingProjections,
  mergeSellerStats,
  SELLER_STATS_PROJECTION,
  sellerStatsProjection,
} from './projections';
