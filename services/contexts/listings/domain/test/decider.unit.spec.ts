/** The listings decider, command by command and rule by rule, in Given/When/Then. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeciderSpecification } from '@tidemark/sdk/testing';
import {
  DETAILS_EMPTY,
  LISTING_ALREADY_EXISTS,
  LISTING_NOT_ACTIVE,
  LISTING_NOT_FOUND,
  type ListingEvent,
  type ListingState,
  listingDecider,
  listingEvents,
  PRICE_INVALID,
  type PublishListing,
} from '../src/index';

// Every emitted event is also checked against the latest schema of its type.
const spec = DeciderSpecification.for(listingDecider, { events: listingEvents });

const publish: PublishListing = {
  sellerId: 'seller-1',
  title: 'Oak dining table',
  description: 'Seats six.',
  category: 'furniture',
  priceCents: 25_000,
  currency: 'EUR',
  location: { country: 'NL', city: 'Utrecht' },
};
const published: ListingEvent = { type: 'ListingPublished', payload: publish };
const withdrawn: ListingEvent = {
  type: 'ListingWithdrawn',
  payload: { sellerId: 'seller-1', priceCents: 25_000, currency: 'EUR' },
};
const sold: ListingEvent = {
  type: 'ListingSold',
  payload: { sellerId: 'seller-1', priceCents: 24_000, askingPriceCents: 25_000, currency: 'EUR' },
};

/** Histories in which the listing exists but can no longer change. */
const closedHistories: [string, ListingEvent[]][] = [
  ['withdrawn', [published, withdrawn]],
  ['sold', [published, sold]],
];

describe('PublishListing', () => {
  test('publishes a new listing with everything it was given', () => {
    spec.given([]).when({ type: 'PublishListing', payload: publish }).then([published]);
  });

  test('cannot publish a listing twice, whatever became of it', () => {
    for (const history of [[published], [published, withdrawn], [published, sold]]) {
      spec
        .given(history)
        .when({ type: 'PublishListing', payload: publish })
        .thenThrows(LISTING_ALREADY_EXISTS);
    }
  });

  test('refuses a price that is not a positive integer', () => {
    for (const priceCents of [0, -5, 12.5]) {
      spec
        .given([])
        .when({ type: 'PublishListing', payload: { ...publish, priceCents } })
        .thenThrows(PRICE_INVALID);
    }
  });

  test('the published listing is active with its details', () => {
    const expected: ListingState = {
      status: 'active',
      sellerId: 'seller-1',
      title: 'Oak dining table',
      category: 'furniture',
      priceCents: 25_000,
      currency: 'EUR',
      location: { country: 'NL', city: 'Utrecht' },
    };
    spec.given([]).when({ type: 'PublishListing', payload: publish }).thenState(expected);
  });
});

describe('ChangePrice', () => {
  test('emits the new and the previous price with seller and currency', () => {
    spec
      .given([published])
      .when({ type: 'ChangePrice', payload: { priceCents: 22_000 } })
      .then([
        {
          type: 'PriceChanged',
          payload: { sellerId: 'seller-1', priceCents: 22_000, previousPriceCents: 25_000, currency: 'EUR' },
        },
      ]);
  });

  test('compares against the latest price, not the published one', () => {
    const changed: ListingEvent = {
      type: 'PriceChanged',
      payload: { sellerId: 'seller-1', priceCents: 22_000, previousPriceCents: 25_000, currency: 'EUR' },
    };
    spec
      .given([published, changed])
      .when({ type: 'ChangePrice', payload: { priceCents: 22_000 } })
      .thenNothingHappened();
    spec
      .given([published, changed])
      .when({ type: 'ChangePrice', payload: { priceCents: 25_000 } })
      .then([
        {
          type: 'PriceChanged',
          payload: { sellerId: 'seller-1', priceCents: 25_000, previousPriceCents: 22_000, currency: 'EUR' },
        },
      ]);
  });

  test('the same price again is a no-op', () => {
    spec
      .given([published])
      .when({ type: 'ChangePrice', payload: { priceCents: 25_000 } })
      .thenNothingHappened();
  });

  test('refuses a price that is not a positive integer', () => {
    for (const priceCents of [0, -1, 0.5, Number.NaN]) {
      spec
        .given([published])
        .when({ type: 'ChangePrice', payload: { priceCents } })
        .thenThrows(PRICE_INVALID);
    }
  });

  test('a listing that was never published is not found', () => {
    spec
      .given([])
      .when({ type: 'ChangePrice', payload: { priceCents: 1 } })
      .thenThrows(LISTING_NOT_FOUND);
  });

  for (const [name, history] of closedHistories) {
    test(`a ${name} listing cannot change price`, () => {
      spec
        .given(history)
        .when({ type: 'ChangePrice', payload: { priceCents: 1 } })
        .thenThrows(LISTING_NOT_ACTIVE);
    });
  }
});

describe('UpdateDetails', () => {
  test('emits only the fields given', () => {
    spec
      .given([published])
      .when({ type: 'UpdateDetails', payload: { title: 'Oak table' } })
      .then([{ type: 'DetailsUpdated', payload: { title: 'Oak table' } }]);
    const everything = { title: 'T', description: '', location: { country: 'BE', city: 'Gent' } };
    spec
      .given([published])
      .when({ type: 'UpdateDetails', payload: everything })
      .then([{ type: 'DetailsUpdated', payload: everything }]);
  });

  test('the new title and location are the state; the rest stays', () => {
    const state = spec
      .given([published])
      .when({ type: 'UpdateDetails', payload: { location: { country: 'BE', city: 'Gent' } } })
      .thenState({
        status: 'active',
        sellerId: 'seller-1',
        title: 'Oak dining table',
        category: 'furniture',
        priceCents: 25_000,
        currency: 'EUR',
        location: { country: 'BE', city: 'Gent' },
      });
    assert.equal(state.length, 1);
  });

  test('nothing to update is refused', () => {
    spec.given([published]).when({ type: 'UpdateDetails', payload: {} }).thenThrows(DETAILS_EMPTY);
  });

  test('a listing that was never published is not found', () => {
    spec
      .given([])
      .when({ type: 'UpdateDetails', payload: { title: 'x' } })
      .thenThrows(LISTING_NOT_FOUND);
  });

  for (const [name, history] of closedHistories) {
    test(`a ${name} listing cannot be updated`, () => {
      spec
        .given(history)
        .when({ type: 'UpdateDetails', payload: { title: 'x' } })
        .thenThrows(LISTING_NOT_ACTIVE);
    });
  }
});

describe('WithdrawListing', () => {
  test('withdraws with the asking price, with or without a reason', () => {
    spec.given([published]).when({ type: 'WithdrawListing', payload: {} }).then([withdrawn]);
    spec
      .given([published])
      .when({ type: 'WithdrawListing', payload: { reason: 'changed my mind' } })
      .then([
        {
          type: 'ListingWithdrawn',
          payload: { sellerId: 'seller-1', reason: 'changed my mind', priceCents: 25_000, currency: 'EUR' },
        },
      ]);
  });

  test('the withdrawn listing has status withdrawn', () => {
    spec
      .given([published])
      .when({ type: 'WithdrawListing', payload: {} })
      .thenState({
        status: 'withdrawn',
        sellerId: 'seller-1',
        title: 'Oak dining table',
        category: 'furniture',
        priceCents: 25_000,
        currency: 'EUR',
        location: { country: 'NL', city: 'Utrecht' },
      });
  });

  test('a listing that was never published is not found', () => {
    spec.given([]).when({ type: 'WithdrawListing', payload: {} }).thenThrows(LISTING_NOT_FOUND);
  });

  for (const [name, history] of closedHistories) {
    test(`a ${name} listing cannot be withdrawn`, () => {
      spec.given(history).when({ type: 'WithdrawListing', payload: {} }).thenThrows(LISTING_NOT_ACTIVE);
    });
  }
});

describe('MarkSold', () => {
  test('records the sale price beside the asking price, with or without a buyer', () => {
    spec
      .given([published])
      .when({ type: 'MarkSold', payload: { priceCents: 24_000 } })
      .then([sold]);
    spec
      .given([published])
      .when({ type: 'MarkSold', payload: { priceCents: 25_000, buyerId: 'buyer-9' } })
      .then([
        {
          type: 'ListingSold',
          payload: {
            sellerId: 'seller-1',
            buyerId: 'buyer-9',
            priceCents: 25_000,
            askingPriceCents: 25_000,
            currency: 'EUR',
          },
        },
      ]);
  });

  test('the sold listing has status sold', () => {
    const events = spec
      .given([published])
      .when({ type: 'MarkSold', payload: { priceCents: 24_000 } })
      .thenState({
        status: 'sold',
        sellerId: 'seller-1',
        title: 'Oak dining table',
        category: 'furniture',
        priceCents: 25_000,
        currency: 'EUR',
        location: { country: 'NL', city: 'Utrecht' },
      });
    assert.equal(events.length, 1);
  });

  test('refuses a price that is not a positive integer', () => {
    for (const priceCents of [0, -100, 1.25]) {
      spec.given([published]).when({ type: 'MarkSold', payload: { priceCents } }).thenThrows(PRICE_INVALID);
    }
  });

  test('a listing that was never published is not found', () => {
    spec
      .given([])
      .when({ type: 'MarkSold', payload: { priceCents: 1 } })
      .thenThrows(LISTING_NOT_FOUND);
  });

  for (const [name, history] of closedHistories) {
    test(`a ${name} listing cannot be sold`, () => {
      spec
        .given(history)
        .when({ type: 'MarkSold', payload: { priceCents: 1 } })
        .thenThrows(LISTING_NOT_ACTIVE);
    });
  }
});

describe('evolve', () => {
  test('never refuses an event, even one that makes no sense in the state', () => {
    for (const event of [withdrawn, sold]) {
      assert.deepEqual(listingDecider.evolve(listingDecider.initialState(), event), { status: 'absent' });
    }
  });

  test('an unknown command type (nobody registered it) fails loudly', () => {
    const command = {
      type: 'Nope',
      payload: {},
      context: { commandId: 'c', aggregateId: 'a', receivedAt: '' },
    };
    assert.throws(
      () =>
        listingDecider.decide(command as unknown as Parameters<typeof listingDecider.decide>[0], {
          status: 'absent',
        }),
      /unhandled message type 'Nope'/,
    );
  });
});
