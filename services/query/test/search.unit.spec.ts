/**
 * Search queries, pure: the parameters validated from the query's definition (defineQueries' searchQuery), the
 * Elasticsearch `_search` body built from them, and the answer mapped back. Every refusal is a 400
 * INVALID_QUERY_PARAMETER naming the parameter, an unknown or misspelt one included (a misspelt filter must not
 * silently widen the answer). Term filters with a normaliser query the normalised multi-field (`city.lowercase`)
 * with the value normalised, so `city=berlin` finds "Berlin" whatever the store does with query terms.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listingQueries, listingSearchProjection } from '@tidemark/listings-projections';
import { TidemarkError } from '@tidemark/schemas';
import type { SearchQuery } from '@tidemark/sdk';
import { searchQuery } from '@tidemark/sdk';
import { buildSearchRequest, parseSearchParams, searchParameterNames, searchResult } from '../src';

const listings = listingQueries.queries.search as unknown as SearchQuery;

/** Another search over the same view: no full text, an unnormalised term filter, named facets and sorts. */
const custom = searchQuery(listingSearchProjection, {
  path: '/v1/custom/search',
  hit: 'item',
  filters: {
    seller: { kind: 'term', field: 'sellerId' },
    state: { kind: 'choice', field: 'status', values: ['active', 'sold'], any: 'all' },
  },
  facets: { categories: { field: 'category' }, cities: { field: 'city', size: 5 } },
  sorts: {
    newest: [{ field: 'publishedAt', order: 'desc' }],
    cheapest: [{ field: 'priceCents', order: 'asc' }],
  },
  size: { default: 7, max: 30 },
  maxWindow: 100,
}) as unknown as SearchQuery;

const LIVE = { term: { '_tm.deleted': false } };

function refused(query: Record<string, unknown>, parameter: string, definition = listings): TidemarkError {
  let thrown: unknown;
  try {
    parseSearchParams(definition, query);
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof TidemarkError, `${JSON.stringify(query)} was accepted`);
  assert.equal(thrown.status, 400, JSON.stringify(query));
  assert.equal(thrown.code, 'INVALID_QUERY_PARAMETER', JSON.stringify(query));
  assert.equal(thrown.retryable, false);
  assert.deepEqual(thrown.details, { parameter }, JSON.stringify(query));
  return thrown;
}

describe('search parameters', () => {
  test('defaults: active listings (the choice default), relevance, first 20', () => {
    assert.deepEqual(parseSearchParams(listings, {}), {
      filters: { status: 'active' },
      sort: 'relevance',
      from: 0,
      size: 20,
    });
    // Another definition, other defaults: its first sort, its size, no choice default.
    assert.deepEqual(parseSearchParams(custom, {}), { filters: {}, sort: 'newest', from: 0, size: 7 });
  });

  test('every parameter, trimmed; blank text is no text; stale and wait are every read’s', () => {
    assert.deepEqual(
      parseSearchParams(listings, {
        q: '  blue bike ',
        category: 'bikes',
        minPrice: '100',
        maxPrice: '5000',
        city: ' Utrecht',
        country: 'NL',
        status: 'sold',
        from: '40',
        size: '10',
        sort: 'price_desc',
        stale: 'ok',
        wait: '100',
      }),
      {
        text: 'blue bike',
        filters: {
          category: 'bikes',
          city: 'Utrecht',
          country: 'NL',
          minPrice: 100,
          maxPrice: 5000,
          status: 'sold',
        },
        from: 40,
        size: 10,
        sort: 'price_desc',
      },
    );
    assert.equal(parseSearchParams(listings, { q: '   ' }).text, undefined);
    assert.equal(parseSearchParams(listings, { city: '  ' }).filters.city, undefined);
    assert.equal(parseSearchParams(listings, { status: 'any' }).filters.status, 'any');
    assert.equal(parseSearchParams(listings, { status: '' }).filters.status, 'active');
  });

  test('bad values are 400 INVALID_QUERY_PARAMETER naming the parameter', () => {
    refused({ q: 'x'.repeat(201) }, 'q');
    refused({ q: ['a', 'b'] }, 'q');
    refused({ q: 'a\u0007b' }, 'q');
    refused({ category: 'a\u0000b' }, 'category');
    refused({ city: 'c'.repeat(201) }, 'city');
    refused({ country: ['NL', 'DE'] }, 'country');
    refused({ minPrice: '-1' }, 'minPrice');
    refused({ maxPrice: '1.5' }, 'maxPrice');
    refused({ minPrice: '10', maxPrice: '9' }, 'minPrice');
    refused({ status: 'deleted' }, 'status');
    refused({ sort: 'cheapest' }, 'sort');
    refused({ size: '0' }, 'size');
    refused({ size: '101' }, 'size');
    refused({ from: 'x' }, 'from');
    refused({ from: '9990', size: '20' }, 'from');
    // The bounds are the definition's.
    refused({ size: '31' }, 'size', custom);
    refused({ from: '95', size: '7' }, 'from', custom);
    refused({ state: 'withdrawn' }, 'state', custom);
    refused({ sort: 'relevance' }, 'sort', custom);
  });

  test('unknown and misspelt parameters are refused by name, listing what the search takes', () => {
    const misspelt = refused({ categroy: 'bikes' }, 'categroy');
    assert.match(misspelt.message, /unknown parameter 'categroy'/);
    assert.match(
      misspelt.message,
      /q, category, city, country, minPrice, maxPrice, status, sort, from, size/,
    );
    refused({ qq: 'bike' }, 'qq');
    refused({ q: 'bike', Category: 'bikes' }, 'Category');
    refused({ price: '10' }, 'price');
    refused({ index: 'tm-listings-listing-search-v1' }, 'index');
    // Another definition's parameters are not this one's: no full text here, and no listings filters.
    refused({ q: 'bike' }, 'q', custom);
    refused({ category: 'bikes' }, 'category', custom);
    assert.deepEqual(searchParameterNames(custom), ['seller', 'state', 'sort', 'from', 'size']);
  });
});

describe('search request', () => {
  test('text over title (boosted) and description, normalised filters, live documents only, category facet', () => {
    const params = parseSearchParams(listings, {
      q: 'bike',
      category: 'bikes',
      minPrice: '1',
      maxPrice: '9',
      city: 'Utrecht',
      country: 'NL',
      from: '20',
      size: '10',
      sort: 'price_asc',
    });
    assert.deepEqual(buildSearchRequest(listings, params), {
      query: {
        bool: {
          must: [{ multi_match: { query: 'bike', fields: ['title^3', 'description'] } }],
          filter: [
            LIVE,
            { term: { 'category.lowercase': 'bikes' } },
            { term: { 'city.lowercase': 'utrecht' } },
            { term: { 'country.lowercase': 'nl' } },
            { term: { status: 'active' } },
            { range: { priceCents: { gte: 1, lte: 9 } } },
          ],
        },
      },
      from: 20,
      size: 10,
      track_total_hits: true,
      sort: [{ priceCents: { order: 'asc' } }, { id: { order: 'asc' } }],
      aggs: { category: { terms: { field: 'category', size: 50 } } },
    });
  });

  test('a normalised keyword filter queries <field>.lowercase with the value lowercased', () => {
    const filters = (query: Record<string, string>) =>
      (
        buildSearchRequest(listings, parseSearchParams(listings, { ...query, status: 'any' })) as {
          query: { bool: { filter: unknown[] } };
        }
      ).query.bool.filter.slice(1);
    assert.deepEqual(filters({ city: 'berlin' }), [{ term: { 'city.lowercase': 'berlin' } }]);
    assert.deepEqual(filters({ city: 'BERLIN' }), [{ term: { 'city.lowercase': 'berlin' } }]);
    assert.deepEqual(filters({ country: 'de' }), [{ term: { 'country.lowercase': 'de' } }]);
    assert.deepEqual(filters({ category: 'Home' }), [{ term: { 'category.lowercase': 'home' } }]);
    assert.deepEqual(filters({ city: 'MÜNCHEN' }), [{ term: { 'city.lowercase': 'münchen' } }]);
    // Facets still count the original values (the keyword field itself, not its normalised multi-field).
    const { aggs } = buildSearchRequest(listings, parseSearchParams(listings, { category: 'Home' })) as {
      aggs: unknown;
    };
    assert.deepEqual(aggs, { category: { terms: { field: 'category', size: 50 } } });
  });

  test('a term filter without a normaliser queries the field with the value as given', () => {
    const request = buildSearchRequest(custom, parseSearchParams(custom, { seller: 'Seller-1' }));
    assert.deepEqual(request.query, {
      bool: { must: [{ match_all: {} }], filter: [LIVE, { term: { sellerId: 'Seller-1' } }] },
    });
  });

  test('no text: match_all; the choice filter’s `any`: no filter; relevance: no sort', () => {
    const request = buildSearchRequest(listings, parseSearchParams(listings, { status: 'any' }));
    assert.deepEqual(request.query, { bool: { must: [{ match_all: {} }], filter: [LIVE] } });
    assert.equal('sort' in request, false);
    const newest = buildSearchRequest(listings, parseSearchParams(listings, { sort: 'newest' }));
    assert.deepEqual(newest.sort, [{ publishedAt: { order: 'desc' } }, { id: { order: 'asc' } }]);
    const all = buildSearchRequest(custom, parseSearchParams(custom, { state: 'all' }));
    assert.deepEqual(all.query, { bool: { must: [{ match_all: {} }], filter: [LIVE] } });
    assert.deepEqual(all.sort, [{ publishedAt: { order: 'desc' } }, { id: { order: 'asc' } }]);
  });

  test('facets are aggregations by facet name, with each facet’s field and size', () => {
    const request = buildSearchRequest(custom, parseSearchParams(custom, { sort: 'cheapest' }));
    assert.deepEqual(request.aggs, {
      categories: { terms: { field: 'category', size: 50 } },
      cities: { terms: { field: 'city', size: 5 } },
    });
    assert.deepEqual(request.sort, [{ priceCents: { order: 'asc' } }, { id: { order: 'asc' } }]);
    assert.equal(request.size, 7);
  });
});

describe('search answer', () => {
  const meta = (key: string) => ({ _tm: { key, partition: 0, position: 3, deleted: false } });

  test('hits {id, score, <hit>} without bookkeeping, the total, facets by name', () => {
    const listing = { id: 'l-1', title: 'Blue bike' };
    const result = searchResult(listings, {
      hits: {
        total: { value: 7 },
        hits: [{ _id: '0:l-1', _score: 1.5, _source: { ...listing, ...meta('l-1') } }],
      },
      aggregations: { category: { buckets: [{ key: 'bikes', doc_count: 7 }] } },
    });
    assert.deepEqual(result, {
      total: 7,
      hits: [{ id: 'l-1', score: 1.5, listing }],
      facets: { category: [{ key: 'bikes', count: 7 }] },
    });
  });

  test('another definition: its hit name and facet names; a sorted hit has no score; missing buckets are []', () => {
    const doc = { id: 'l-2', title: 'Red bike' };
    const result = searchResult(custom, {
      hits: { total: 1, hits: [{ _id: '1:l-2', _score: null, _source: { ...doc, ...meta('l-2') } }] },
      aggregations: { categories: { buckets: [{ key: 'bikes', doc_count: 1 }] } },
    });
    assert.deepEqual(result, {
      total: 1,
      hits: [{ id: 'l-2', score: null, item: doc }],
      facets: { categories: [{ key: 'bikes', count: 1 }], cities: [] },
    });
  });

  test('a document without its tie breaker is identified by its key; a tombstone in the answer is a bug', () => {
    const result = searchResult(listings, {
      hits: { hits: [{ _id: '2:l-3', _score: 1, _source: { title: 'No id field', ...meta('l-3') } }] },
    });
    assert.equal(result.hits[0]?.id, 'l-3');
    assert.equal(result.total, 1, 'no total: the hits counted');
    assert.throws(
      () =>
        searchResult(listings, {
          hits: {
            hits: [
              { _id: '0:gone', _source: { _tm: { key: 'gone', partition: 0, position: 4, deleted: true } } },
            ],
          },
        }),
      /deleted document/,
    );
  });
});
