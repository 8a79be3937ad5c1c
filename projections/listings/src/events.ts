/**
 * Reading listings events inside a projection. Payloads are read through the context's event registry, which
 * validates them at their schema version and upcasts old versions (ListingPublished v1 has no currency), so the
 * folds only ever see the latest shape. A payload that does not read throws: a poison event, which the
 * projection's failure policy deals with.
 */
import type { ListingEvent, ListingEventType } from '@tidemark/listings';
import { listingEvents } from '@tidemark/listings';
import type { EventEnvelope } from '@tidemark/schemas';

export const LISTING_EVENT_TYPES: readonly ListingEventType[] = [
  'ListingPublished',
  'PriceChanged',
  'DetailsUpdated',
  'ListingWithdrawn',
  'ListingSold',
];

export function isListingEventType(type: string): type is ListingEventType {
  return (LISTING_EVENT_TYPES as readonly string[]).includes(type);
}

/** The event's payload in its latest schema version, or undefined for a type this context does not have. */
export function readListingEvent(event: EventEnvelope): ListingEvent | undefined {
  if (!isListingEventType(event.type)) return undefined;
  const payload = listingEvents.read(event.type, event.schemaVersion, event.payload);
  return { type: event.type, payload } as ListingEvent;
}
