/** What the deployment module takes from this package: the projections to start with, and an example. */
import type { ContextExample } from '@tidemark/sdk';
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
