import type { ContextDefinition } from '@tidemark/domain';
import { type ListingCommand, listingCommands } from './commands';
import { listingDecider } from './decider';
import { type ListingEvent, listingEvents } from './events';
import type { ListingState } from './state';

export const LISTINGS_CONTEXT_NAME = 'listings';
export const LISTING_AGGREGATE_TYPE = 'listing';

/** The example context: adverts of a marketplace (DESIGN.md, The example context). */
export const listingsContext: ContextDefinition<ListingCommand, ListingEvent, ListingState> = {
  name: LISTINGS_CONTEXT_NAME,
  aggregateType: LISTING_AGGREGATE_TYPE,
  commands: listingCommands,
  events: listingEvents,
  decider: listingDecider,
};
