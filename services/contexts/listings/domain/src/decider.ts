/**
 * The listings decider. Rules (DESIGN.md): a listing is published once; only a published, unsold, not withdrawn
 * listing can change; prices are positive integers in minor units. Payloads arrive validated by the command
 * registry; the price rule is checked again here because it is a business rule, not only a format.
 */
import { BusinessRuleViolation, type Decider, unhandled } from '@tidemark/sdk';
import type { ListingCommand } from './commands';
import type { ListingEvent } from './events';
import { ABSENT_LISTING, type ListingState } from './state';

export const LISTING_NOT_FOUND = 'LISTING_NOT_FOUND';
export const LISTING_ALREADY_EXISTS = 'LISTING_ALREADY_EXISTS';
export const LISTING_NOT_ACTIVE = 'LISTING_NOT_ACTIVE';
export const PRICE_INVALID = 'PRICE_INVALID';
export const DETAILS_EMPTY = 'DETAILS_EMPTY';

type ExistingListing = Exclude<ListingState, { status: 'absent' }>;

function requireActive(state: ListingState): ExistingListing {
  if (state.status === 'absent') throw new BusinessRuleViolation(LISTING_NOT_FOUND, 'no such listing');
  if (state.status !== 'active') {
    throw new BusinessRuleViolation(LISTING_NOT_ACTIVE, `the listing is ${state.status} and cannot change`);
  }
  return state;
}

function requirePrice(priceCents: number): number {
  if (!Number.isSafeInteger(priceCents) || priceCents <= 0) {
    throw new BusinessRuleViolation(PRICE_INVALID, 'a price is a positive integer in minor units');
  }
  return priceCents;
}

function decide(command: ListingCommand, state: ListingState): ListingEvent[] {
  switch (command.type) {
    case 'PublishListing': {
      if (state.status !== 'absent') {
        throw new BusinessRuleViolation(LISTING_ALREADY_EXISTS, 'this listing has already been published');
      }
      const { sellerId, title, description, category, priceCents, currency, location } = command.payload;
      requirePrice(priceCents);
      return [
        {
          type: 'ListingPublished',
          payload: { sellerId, title, description, category, priceCents, currency, location },
        },
      ];
    }
    case 'ChangePrice': {
      const listing = requireActive(state);
      const priceCents = requirePrice(command.payload.priceCents);
      // The same price again is accepted and changes nothing: a retried or duplicated intent, not an error, and
      // no event so that views and counters do not churn.
      if (priceCents === listing.priceCents) return [];
      return [
        {
          type: 'PriceChanged',
          payload: {
            sellerId: listing.sellerId,
            priceCents,
            previousPriceCents: listing.priceCents,
            currency: listing.currency,
          },
        },
      ];
    }
    case 'UpdateDetails': {
      requireActive(state);
      const { title, description, location } = command.payload;
      if (title === undefined && description === undefined && location === undefined) {
        throw new BusinessRuleViolation(DETAILS_EMPTY, 'give at least one of title, description, location');
      }
      return [
        {
          type: 'DetailsUpdated',
          payload: {
            ...(title !== undefined ? { title } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(location !== undefined ? { location } : {}),
          },
        },
      ];
    }
    case 'WithdrawListing': {
      const listing = requireActive(state);
      const { reason } = command.payload;
      return [
        {
          type: 'ListingWithdrawn',
          payload: {
            sellerId: listing.sellerId,
            ...(reason !== undefined ? { reason } : {}),
            priceCents: listing.priceCents,
            currency: listing.currency,
          },
        },
      ];
    }
    case 'MarkSold': {
      const listing = requireActive(state);
      const priceCents = requirePrice(command.payload.priceCents);
      const { buyerId } = command.payload;
      return [
        {
          type: 'ListingSold',
          payload: {
            sellerId: listing.sellerId,
            ...(buyerId !== undefined ? { buyerId } : {}),
            priceCents,
            askingPriceCents: listing.priceCents,
            currency: listing.currency,
          },
        },
      ];
    }
    default:
      return unhandled(command);
  }
}

/**
 * Events are facts: evolve never refuses one. An event that makes no sense in the current state (which the
 * decider never emits) leaves the state as it is rather than stopping the partition's rebuild.
 */
function evolve(state: ListingState, event: ListingEvent): ListingState {
  switch (event.type) {
    case 'ListingPublished': {
      const { sellerId, title, category, priceCents, currency, location } = event.payload;
      return { status: 'active', sellerId, title, category, priceCents, currency, location };
    }
    case 'PriceChanged':
      return state.status === 'absent' ? state : { ...state, priceCents: event.payload.priceCents };
    case 'DetailsUpdated': {
      if (state.status === 'absent') return state;
      const { title, location } = event.payload;
      return {
        ...state,
        ...(title !== undefined ? { title } : {}),
        ...(location !== undefined ? { location } : {}),
      };
    }
    case 'ListingWithdrawn':
      return state.status === 'absent' ? state : { ...state, status: 'withdrawn' };
    case 'ListingSold':
      return state.status === 'absent' ? state : { ...state, status: 'sold' };
    default:
      return unhandled(event);
  }
}

export const listingDecider: Decider<ListingCommand, ListingEvent, ListingState> = {
  initialState: () => ABSENT_LISTING,
  decide,
  evolve,
};
