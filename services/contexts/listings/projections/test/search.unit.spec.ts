import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventEnvelope } from '@tidemark/schemas';
import type { ProjectionDefinition, ProjectionDocument, SearchFieldMapping } from '@tidemark/sdk';
import { referenceFold } from '@tidemark/sdk/testing';
import type { ListingSearchDocument } from '../src';
import {
  createListingSearchProjection,
  LISTING_EVENT_TYPES,
  listingDetailProjection,
  listingSearchProjection,
  searchDocumentFromDetail,
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

/** Given events, when folded, then the search document of `key`. */
const given = (...events: EventEnvelope[]) => ({
  thenDocument: (key: string) => fold(listingSearchProjection, events).get(key) ?? null,
});

const L = 'listing-1';

describe('listing search projection', () => {
  test('definition: elasticsearch, per aggregate, every listing event, with index mappings', () => {
    assert.equal(listingSearchProjection.name, 'listing-search');
    assert.equal(listingSearchProjection.context, 'listings');
    assert.equal(listingSearchProjection.store, 'elasticsearch');
    assert.equal(listingSearchProjection.keyScope, 'aggregate');
    assert.equal(listingSearchProjection.version, 1);
    assert.equal(listingSearchProjection.failurePolicy, 'stop');
    assert.deepEqual(listingSearchProjection.eventTypes, LISTING_EVENT_TYPES);
    const mappings: Record<string, SearchFieldMapping | undefined> =
      listingSearchProjection.search?.mappings ?? {};
    assert.deepEqual(mappings.title, {
      type: 'text',
      analyzer: 'standard',
      fields: { raw: { type: 'keyword' } },
    });
    // Filters match whatever the case: the filtered keyword fields carry a lowercase multi-field.
    for (const field of ['category', 'city', 'country'])
      assert.deepEqual(
        mappings[field]?.fields,
        { lowercase: { type: 'keyword', normalizer: 'lowercase' } },
        field,
      );
    assert.equal(mappings.description?.type, 'text');
    for (const field of ['category', 'status', 'currency', 'city', 'country', 'sellerId'])
      assert.equal(mappings[field]?.type, 'keyword', field);
    assert.equal(mappings.priceCents?.type, 'long');
    assert.equal(mappings.publishedAt?.type, 'date');
    assert.equal(mappings.updatedAt?.type, 'date');
    assert.equal(mappings.version?.type, 'integer');
    assert.equal(createListingSearchProjection({ version: 2 }).version, 2);
  });

  test('given ListingPublished, then an active flat document', () => {
    const event = envelope(L, 1, 'ListingPublished', published());
    assert.deepEqual(given(event).thenDocument(L), {
      id: L,
      sellerId: 'seller-1',
      title: 'Blue bicycle',
      description: 'Barely used',
      category: 'bikes',
      priceCents: 10_000,
      currency: 'EUR',
      city: 'Utrecht',
      country: 'NL',
      postalCode: '3511',
      status: 'active',
      publishedAt: event.occurredAt,
      updatedAt: event.occurredAt,
      version: 1,
    } satisfies ListingSearchDocument);
  });

  test('given no postal code, then none in the document', () => {
    const event = envelope(
      L,
      1,
      'ListingPublished',
      published({ location: { country: 'DE', city: 'Berlin' } }),
    );
    const doc = given(event).thenDocument(L);
    assert.equal(doc?.city, 'Berlin');
    assert.ok(doc && !('postalCode' in doc));
  });

  test('given a price change and a detail update, then the new price, title and place', () => {
    const doc = given(
      envelope(L, 1, 'ListingPublished', published()),
      envelope(L, 2, 'PriceChanged', {
        sellerId: 'seller-1',
        priceCents: 8_000,
        previousPriceCents: 10_000,
        currency: 'EUR',
      }),
      envelope(L, 3, 'DetailsUpdated', {
        title: 'Red bicycle',
        location: { country: 'NL', city: 'Amsterdam' },
      }),
    ).thenDocument(L);
    assert.equal(doc?.priceCents, 8_000);
    assert.equal(doc?.title, 'Red bicycle');
    assert.equal(doc?.description, 'Barely used');
    assert.equal(doc?.city, 'Amsterdam');
    assert.ok(doc && !('postalCode' in doc));
    assert.equal(doc?.version, 3);
  });

  test('given withdrawn or sold, then the status says so (the document stays, searches filter on status)', () => {
    const withdrawn = given(
      envelope(L, 1, 'ListingPublished', published()),
      envelope(L, 2, 'ListingWithdrawn', { sellerId: 'seller-1', priceCents: 10_000, currency: 'EUR' }),
    ).thenDocument(L);
    assert.equal(withdrawn?.status, 'withdrawn');
    const sold = given(
      envelope(L, 1, 'ListingPublished', published()),
      envelope(L, 2, 'ListingSold', {
        sellerId: 'seller-1',
        priceCents: 9_000,
        askingPriceCents: 10_000,
        currency: 'EUR',
      }),
    ).thenDocument(L);
    assert.equal(sold?.status, 'sold');
    assert.equal(sold?.priceCents, 10_000);
  });

  test('applying an event again, or an older one, changes nothing', () => {
    const first = envelope(L, 1, 'ListingPublished', published());
    const second = envelope(L, 2, 'PriceChanged', {
      sellerId: 'seller-1',
      priceCents: 5,
      previousPriceCents: 10_000,
      currency: 'EUR',
    });
    const doc = given(first, second).thenDocument(L);
    assert.deepEqual(given(first, second, second, first).thenDocument(L), doc);
  });

  test('an event for a listing never published leaves no document', () => {
    const event = envelope(L, 2, 'PriceChanged', {
      sellerId: 'seller-1',
      priceCents: 5,
      previousPriceCents: 10_000,
      currency: 'EUR',
    });
    assert.equal(given(event).thenDocument(L), null);
  });

  test('property: for random valid histories, the search fold equals the detail fold, flattened', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = random(seed);
      const ids = Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, i) => `l-${seed}-${i}`);
      const log = interleave(
        rnd,
        ids.map((id) => randomHistory(rnd, id, 'seller-x')),
      );
      const cut = Math.floor(rnd() * (log.length + 1));
      for (const events of [log, log.slice(0, cut)]) {
        const details = fold(listingDetailProjection, events);
        const docs = fold(listingSearchProjection, events);
        for (const id of ids) {
          assert.deepEqual(
            searchDocumentFromDetail(details.get(id) ?? null),
            docs.get(id) ?? null,
            `seed ${seed}, ${id}`,
          );
        }
      }
    }
  });
});
