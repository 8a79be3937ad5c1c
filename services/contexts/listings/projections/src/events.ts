/** The listings events as the projections see them: typed envelopes, payloads in their latest schema version. */
import type { ListingEvent, ListingEventType } from '@tidemark/listings';
import type { TypedEvent } from '@tidemark/sdk';

/** An envelope of one of the listings events (the runtime has read its payload through the registry). */
export type ListingEventEnvelope = TypedEvent<ListingEvent>;

export const LISTING_EVENT_TYPES: readonly ListingEventType[] = [
  'ListingPublished',
  'PriceChanged',
  'DetailsUpdated',
  'ListingWithdrawn',
  'ListingSold',
];
