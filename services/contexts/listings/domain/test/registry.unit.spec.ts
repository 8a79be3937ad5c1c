/** The listings registries: command validation, event versions and the upcast of a v1 ListingPublished. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TidemarkError } from '@tidemark/schemas';
import {
  LISTING_AGGREGATE_TYPE,
  listingCommands,
  listingEvents,
  listingsContext,
  V1_CURRENCY,
} from '../src/index';

const v1Payload = {
  sellerId: 'seller-1',
  title: 'Oak dining table',
  description: 'Seats six.',
  category: 'furniture',
  priceCents: 25_000,
  location: { country: 'NL', city: 'Utrecht' },
};

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof TidemarkError && error.code === code);
}

describe('the listings context', () => {
  test('is named listings, for listing aggregates, with every command and event', () => {
    assert.equal(listingsContext.name, 'listings');
    assert.equal(listingsContext.aggregateType, LISTING_AGGREGATE_TYPE);
    assert.equal(LISTING_AGGREGATE_TYPE, 'listing');
    assert.deepEqual(listingsContext.commands.types().sort(), [
      'ChangePrice',
      'MarkSold',
      'PublishListing',
      'UpdateDetails',
      'WithdrawListing',
    ]);
    assert.deepEqual(listingsContext.events.types().sort(), [
      'DetailsUpdated',
      'ListingPublished',
      'ListingSold',
      'ListingWithdrawn',
      'PriceChanged',
    ]);
  });
});

describe('events', () => {
  test('ListingPublished has two versions, every other event one', () => {
    assert.equal(listingEvents.latestVersion('ListingPublished'), 2);
    for (const type of ['PriceChanged', 'DetailsUpdated', 'ListingWithdrawn', 'ListingSold']) {
      assert.equal(listingEvents.latestVersion(type), 1, type);
    }
  });

  test('a v1 ListingPublished is read as v2 in euros', () => {
    assert.equal(V1_CURRENCY, 'EUR');
    assert.deepEqual(listingEvents.read('ListingPublished', 1, v1Payload), { ...v1Payload, currency: 'EUR' });
  });

  test('a v2 ListingPublished is read as it is', () => {
    const v2 = { ...v1Payload, currency: 'GBP' };
    assert.deepEqual(listingEvents.read('ListingPublished', 2, v2), v2);
  });

  test('new events must be written at the latest version', () => {
    assertCode(() => listingEvents.validateNew('ListingPublished', v1Payload), 'EVENT_INVALID');
    assertCode(() => listingEvents.read('ListingPublished', 3, v1Payload), 'EVENT_UNREADABLE');
    assertCode(
      () => listingEvents.read('ListingPublished', 1, { ...v1Payload, priceCents: -1 }),
      'EVENT_UNREADABLE',
    );
  });

  test('DetailsUpdated needs at least one field', () => {
    assertCode(() => listingEvents.validateNew('DetailsUpdated', {}), 'EVENT_INVALID');
  });
});

describe('commands', () => {
  const publish = { ...v1Payload, currency: 'EUR' };

  test('valid payloads pass', () => {
    assert.deepEqual(listingCommands.validate('PublishListing', publish), publish);
    assert.deepEqual(listingCommands.validate('ChangePrice', { priceCents: 1 }), { priceCents: 1 });
    assert.deepEqual(listingCommands.validate('UpdateDetails', { description: '' }), { description: '' });
    assert.deepEqual(listingCommands.validate('WithdrawListing', {}), {});
    assert.deepEqual(listingCommands.validate('MarkSold', { priceCents: 5, buyerId: 'b' }), {
      priceCents: 5,
      buyerId: 'b',
    });
  });

  const invalid: [string, string, unknown][] = [
    ['zero price', 'ChangePrice', { priceCents: 0 }],
    ['negative price', 'ChangePrice', { priceCents: -3 }],
    ['fractional price', 'ChangePrice', { priceCents: 9.99 }],
    ['price as a string', 'ChangePrice', { priceCents: '100' }],
    ['price beyond 2^53', 'ChangePrice', { priceCents: 2 ** 53 }],
    ['an unknown key (a typo)', 'ChangePrice', { price: 100 }],
    ['a lowercase currency', 'PublishListing', { ...publish, currency: 'eur' }],
    ['a four-letter currency', 'PublishListing', { ...publish, currency: 'EURO' }],
    ['no currency', 'PublishListing', v1Payload],
    ['an empty title', 'PublishListing', { ...publish, title: '' }],
    [
      'a bad country',
      'PublishListing',
      { ...publish, location: { country: 'Netherlands', city: 'Utrecht' } },
    ],
    ['UpdateDetails with nothing', 'UpdateDetails', {}],
    ['UpdateDetails with only undefined', 'UpdateDetails', { title: undefined }],
    ['MarkSold without a price', 'MarkSold', {}],
    ['MarkSold with a zero price', 'MarkSold', { priceCents: 0 }],
    ['WithdrawListing with an empty reason', 'WithdrawListing', { reason: '' }],
  ];
  for (const [name, type, payload] of invalid) {
    test(`refuses ${name}`, () =>
      assertCode(() => listingCommands.validate(type, payload), 'COMMAND_INVALID'));
  }

  test('refuses an unknown command type', () => {
    assertCode(() => listingCommands.validate('DeleteListing', {}), 'COMMAND_TYPE_UNKNOWN');
  });
});
