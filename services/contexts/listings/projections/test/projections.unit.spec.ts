import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventEnvelope } from '@tidemark/schemas';
import type { ProjectionDefinition, ProjectionDocument } from '@tidemark/sdk';
import { referenceFold } from '@tidemark/sdk/testing';
import type { ListingCard, ListingDetail, SellerStats } from '../src';
import {
  cardFromDetail,
  listingCardProjection,
  listingDetailProjection,
  listingProjections,
  mergeSellerStats,
  sellerStatsProjection,
} from '../src';
import { envelope, interleave, published, random, randomHistory } from './support/events';

/** The documents by key of a one-partition log of these events: the SDK's reference fold. */
function fold<D extends ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  events: readonly EventEnvelope[],
): Map<string, D | null> {
  const log = events.map((event, offset) => ({ partition: 0, offset, event }));
  return new Map(
    [...(referenceFold(definition, log).get(0) ?? [])].map(([key, folded]) => [key, folded.doc]),
  );
}

/** Given events, when folded, then the document of `key`. */
const given = <D extends ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  ...events: EventEnvelope[]
) => ({
  thenDocument: (key: string) => fold(definition, events).get(key) ?? null,
});

const L = 'listing-1';

describe('listing detail projection', () => {
  test('definition: postgres, per aggregate, indexed on sellerId, category, status', () => {
    assert.equal(listingDetailProjection.name, 'listing-detail');
    assert.equal(listingDetailProjection.store, 'postgres');
    assert.equal(listingDetailProjection.keyScope, 'aggregate');
    assert.equal(listingDetailProjection.version, 1);
    assert.equal(listingDetailProjection.failurePolicy, 'stop');
    assert.deepEqual(listingDetailProjection.indexes, ['sellerId', 'category', 'status']);
    const custom = listingProjections({ version: 3, failurePolicy: 'dead-letter' });
    assert.equal(custom.detail.version, 3);
    assert.equal(custom.card.failurePolicy, 'dead-letter');
  });

  test('given ListingPublished, then an active listing with every field', () => {
    const event = envelope(L, 1, 'ListingPublished', published());
    const doc = given(listingDetailProjection, event).thenDocument(L);
    assert.deepEqual(doc, {
      id: L,
      sellerId: 'seller-1',
      title: 'Blue bicycle',
      description: 'Barely used',
      category: 'bikes',
      priceCents: 10_000,
      currency: 'EUR',
      location: { country: 'NL', city: 'Utrecht', postalCode: '3511' },
      status: 'active',
      version: 1,
      publishedAt: event.occurredAt,
      updatedAt: event.occurredAt,
    } satisfies ListingDetail);
  });

  test('given a v1 ListingPublished (no currency), then EUR', () => {
    const { currency: _dropped, ...v1 } = published({ currency: 'USD' });
    const doc = given(listingDetailProjection, envelope(L, 1, 'ListingPublished', v1, 1)).thenDocument(L);
    assert.equal(doc?.currency, 'EUR');
  });

  test('given price change, detail update and sale, then the sold listing', () => {
    const events = [
      envelope(L, 1, 'ListingPublished', published()),
      envelope(L, 2, 'PriceChanged', {
        sellerId: 'seller-1',
        priceCents: 9_000,
        previousPriceCents: 10_000,
        currency: 'EUR',
      }),
      envelope(L, 3, 'DetailsUpdated', { title: 'Red bicycle', location: { country: 'BE', city: 'Gent' } }),
      envelope(L, 4, 'ListingSold', {
        sellerId: 'seller-1',
        buyerId: 'buyer-9',
        priceCents: 8_500,
        askingPriceCents: 9_000,
        currency: 'EUR',
      }),
    ];
    const doc = given(listingDetailProjection, ...events).thenDocument(L);
    assert.equal(doc?.priceCents, 9_000);
    assert.equal(doc?.title, 'Red bicycle');
    assert.equal(doc?.description, 'Barely used');
    assert.deepEqual(doc?.location, { country: 'BE', city: 'Gent' });
    assert.equal(doc?.status, 'sold');
    assert.equal(doc?.soldPriceCents, 8_500);
    assert.equal(doc?.buyerId, 'buyer-9');
    assert.equal(doc?.version, 4);
    assert.equal(doc?.updatedAt, events[3]?.occurredAt);
    assert.equal(doc?.publishedAt, events[0]?.occurredAt);
  });

  test('given a withdrawal with a reason, then withdrawn', () => {
    const doc = given(
      listingDetailProjection,
      envelope(L, 1, 'ListingPublished', published()),
      envelope(L, 2, 'ListingWithdrawn', {
        sellerId: 'seller-1',
        reason: 'moved',
        priceCents: 10_000,
        currency: 'EUR',
      }),
    ).thenDocument(L);
    assert.equal(doc?.status, 'withdrawn');
    assert.equal(doc?.withdrawReason, 'moved');
  });

  test('applying an event again, or an older one, changes nothing', () => {
    const e1 = envelope(L, 1, 'ListingPublished', published());
    const e2 = envelope(L, 2, 'DetailsUpdated', { title: 'Second' });
    const once = fold(listingDetailProjection, [e1, e2]).get(L) ?? null;
    let again = once;
    for (const event of [e2, e1]) again = listingDetailProjection.apply(again, event, L);
    assert.deepEqual(again, once);
  });

  test('an event for a listing never published leaves no document', () => {
    assert.equal(
      given(listingDetailProjection, envelope(L, 2, 'DetailsUpdated', { title: 'x' })).thenDocument(L),
      null,
    );
  });

  test('a payload that does not match its schema throws (a poison event for the failure policy)', () => {
    assert.throws(
      () => listingDetailProjection.apply(null, envelope(L, 1, 'ListingPublished', { sellerId: 'x' }), L),
      (error: { code?: string }) => error.code === 'EVENT_UNREADABLE',
    );
  });
});

describe('listing card projection', () => {
  test('definition: memcached, per aggregate', () => {
    assert.equal(listingCardProjection.store, 'memcached');
    assert.equal(listingCardProjection.keyScope, 'aggregate');
  });

  test('given publish and price change, then the small card', () => {
    const card = given(
      listingCardProjection,
      envelope(L, 1, 'ListingPublished', published()),
      envelope(L, 2, 'PriceChanged', {
        sellerId: 'seller-1',
        priceCents: 5,
        previousPriceCents: 10_000,
        currency: 'EUR',
      }),
    ).thenDocument(L);
    assert.deepEqual(card, {
      id: L,
      title: 'Blue bicycle',
      priceCents: 5,
      currency: 'EUR',
      city: 'Utrecht',
      country: 'NL',
      status: 'active',
      category: 'bikes',
      version: 2,
    } satisfies ListingCard);
  });

  test('property: for random valid histories, cardFromDetail(fold detail) equals fold card', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = random(seed);
      const ids = Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, i) => `l-${seed}-${i}`);
      const log = interleave(
        rnd,
        ids.map((id) => randomHistory(rnd, id, 'seller-x')),
      );
      // Every prefix of the log, not only the end: the two views must agree at any watermark.
      const cut = Math.floor(rnd() * (log.length + 1));
      for (const events of [log, log.slice(0, cut)]) {
        const details = fold(listingDetailProjection, events);
        const cards = fold(listingCardProjection, events);
        for (const id of ids) {
          assert.deepEqual(
            cardFromDetail(details.get(id) ?? null),
            cards.get(id) ?? null,
            `seed ${seed}, ${id}`,
          );
        }
      }
    }
  });
});

describe('seller stats projection', () => {
  test('definition: redis, keyScope all, key = sellerId, with a merge', () => {
    assert.equal(sellerStatsProjection.store, 'redis');
    assert.equal(sellerStatsProjection.keyScope, 'all');
    assert.equal(typeof sellerStatsProjection.merge, 'function');
    assert.deepEqual(sellerStatsProjection.keys(envelope(L, 1, 'ListingPublished', published())), [
      'seller-1',
    ]);
    assert.deepEqual(sellerStatsProjection.keys(envelope(L, 2, 'DetailsUpdated', { title: 't' })), []);
  });

  test('given publishes, a price change, a withdrawal and a sale, then the counters', () => {
    const events = [
      envelope('a', 1, 'ListingPublished', published({ priceCents: 100 })),
      envelope('b', 1, 'ListingPublished', published({ priceCents: 200 })),
      envelope('c', 1, 'ListingPublished', published({ priceCents: 300, currency: 'USD' })),
      envelope('a', 2, 'PriceChanged', {
        sellerId: 'seller-1',
        priceCents: 150,
        previousPriceCents: 100,
        currency: 'EUR',
      }),
      envelope('b', 2, 'ListingWithdrawn', { sellerId: 'seller-1', priceCents: 200, currency: 'EUR' }),
      envelope('c', 2, 'ListingSold', {
        sellerId: 'seller-1',
        priceCents: 250,
        askingPriceCents: 300,
        currency: 'USD',
      }),
    ];
    assert.deepEqual(given(sellerStatsProjection, ...events).thenDocument('seller-1'), {
      sellerId: 'seller-1',
      activeListings: 1,
      askingValueCents: { EUR: 150 },
      soldListings: 1,
      withdrawnListings: 1,
    } satisfies SellerStats);
  });

  test('merge sums the partitions’ sub-documents and drops currencies at zero', () => {
    const merged = mergeSellerStats([
      {
        sellerId: 's',
        activeListings: 2,
        askingValueCents: { EUR: 10, USD: 5 },
        soldListings: 1,
        withdrawnListings: 0,
      },
      {
        sellerId: 's',
        activeListings: 1,
        askingValueCents: { EUR: 7 },
        soldListings: 0,
        withdrawnListings: 2,
      },
      { sellerId: 's', activeListings: 0, askingValueCents: {}, soldListings: 0, withdrawnListings: 0 },
    ]);
    assert.deepEqual(merged, {
      sellerId: 's',
      activeListings: 3,
      askingValueCents: { EUR: 17, USD: 5 },
      soldListings: 1,
      withdrawnListings: 2,
    });
  });

  test('property: per-partition folds merged equal the counters computed from the detail view', () => {
    const P = 4;
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = random(seed * 7919);
      const sellers = ['s1', 's2', 's3'];
      const histories = Array.from({ length: 2 + Math.floor(rnd() * 8) }, (_, i) =>
        randomHistory(rnd, `l-${seed}-${i}`, sellers[Math.floor(rnd() * sellers.length)] as string),
      );
      // Each listing lives in one partition; every partition has its own sub-documents.
      const partitions = Array.from({ length: P }, () => [] as EventEnvelope[][]);
      for (const [i, history] of histories.entries()) partitions[i % P]?.push(history);
      const subDocs = partitions.map((hs) => fold(sellerStatsProjection, interleave(rnd, hs)));
      const details = fold(listingDetailProjection, histories.flat());
      for (const seller of sellers) {
        const parts = subDocs.map((docs) => docs.get(seller)).filter((d): d is SellerStats => !!d);
        const mine = [...details.values()].filter((d): d is ListingDetail => d?.sellerId === seller);
        if (mine.length === 0) {
          assert.equal(parts.length, 0);
          continue;
        }
        const active = mine.filter((d) => d.status === 'active');
        const value: Record<string, number> = {};
        for (const d of active) value[d.currency] = (value[d.currency] ?? 0) + d.priceCents;
        assert.deepEqual(
          sellerStatsProjection.merge?.(parts),
          {
            sellerId: seller,
            activeListings: active.length,
            askingValueCents: value,
            soldListings: mine.filter((d) => d.status === 'sold').length,
            withdrawnListings: mine.filter((d) => d.status === 'withdrawn').length,
          },
          `seed ${seed}, ${seller}`,
        );
      }
    }
  });
});
