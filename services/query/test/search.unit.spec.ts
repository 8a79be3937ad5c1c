import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TidemarkError } from '@tidemark/schemas';
import { buildListingSearchRequest, listingSearchResult, parseSearchParams } from '../src';

function refused(query: Record<string, unknown>, parameter: string): void {
  assert.throws(
    () => parseSearchParams(query),
    (error: unknown) =>
      error instanceof TidemarkError &&
      error.status === 400 &&
      error.code === 'INVALID_QUERY_PARAMETER' &&
      error.details?.parameter === parameter,
    JSON.stringify(query),
  );
}

describe('search parameters', () => {
  test('defaults: active listings, relevance, first 20', () => {
    assert.deepEqual(parseSearchParams({}), { status: 'active', from: 0, size: 20, sort: 'relevance' });
  });

  test('every parameter, trimmed; blank text is no text', () => {
    assert.deepEqual(
      parseSearchParams({
        q: '  blue bike ',
        category: 'bikes',
        minPrice: '100',
        maxPrice: '5000',
        city: 'Utrecht',
        country: 'NL',
        status: 'sold',
        from: '40',
        size: '10',
        sort: 'price_desc',
        stale: 'ok',
      }),
      {
        q: 'blue bike',
        category: 'bikes',
        minPrice: 100,
        maxPrice: 5000,
        city: 'Utrecht',
        country: 'NL',
        status: 'sold',
        from: 40,
        size: 10,
        sort: 'price_desc',
      },
    );
    assert.equal(parseSearchParams({ q: '   ' }).q, undefined);
    assert.equal(parseSearchParams({ status: 'any' }).status, 'any');
  });

  test('bad values are 400 INVALID_QUERY_PARAMETER naming the parameter', () => {
    refused({ q: 'x'.repeat(201) }, 'q');
    refused({ q: ['a', 'b'] }, 'q');
    refused({ category: 'a\u0000b' }, 'category');
    refused({ minPrice: '-1' }, 'minPrice');
    refused({ maxPrice: '1.5' }, 'maxPrice');
    refused({ minPrice: '10', maxPrice: '9' }, 'minPrice');
    refused({ status: 'deleted' }, 'status');
    refused({ sort: 'cheapest' }, 'sort');
    refused({ size: '0' }, 'size');
    refused({ size: '101' }, 'size');
    refused({ from: 'x' }, 'from');
    refused({ from: '9990', size: '20' }, 'from');
  });
});

describe('search request', () => {
  test('text over title (boosted) and description, filters, live documents only, category facet', () => {
    const request = buildListingSearchRequest('tm-listings-listing-search-v1', {
      q: 'bike',
      category: 'bikes',
      minPrice: 1,
      maxPrice: 9,
      city: 'Utrecht',
      country: 'NL',
      status: 'active',
      from: 20,
      size: 10,
      sort: 'price_asc',
    });
    assert.deepEqual(request, {
      index: 'tm-listings-listing-search-v1',
      query: {
        bool: {
          must: [{ multi_match: { query: 'bike', fields: ['title^3', 'description'] } }],
          filter: [
            { term: { '_tm.deleted': false } },
            { term: { status: 'active' } },
            { term: { category: 'bikes' } },
            { term: { city: 'Utrecht' } },
            { term: { country: 'NL' } },
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

  test('no text: match_all; status any: no status filter; relevance: no sort', () => {
    const request = buildListingSearchRequest('i', { status: 'any', from: 0, size: 20, sort: 'relevance' });
    assert.deepEqual(request.query, {
      bool: { must: [{ match_all: {} }], filter: [{ term: { '_tm.deleted': false } }] },
    });
    assert.equal('sort' in request, false);
    const newest = buildListingSearchRequest('i', { status: 'any', from: 0, size: 20, sort: 'newest' });
    assert.deepEqual(newest.sort, [{ publishedAt: { order: 'desc' } }, { id: { order: 'asc' } }]);
  });

  test('the answer: hits without bookkeeping, total, facets', () => {
    const listing = { id: 'l-1', title: 'Blue bike' };
    const result = listingSearchResult({
      hits: {
        total: { value: 7 },
        hits: [
          {
            _id: '0:l-1',
            _score: 1.5,
            _source: { ...listing, _tm: { key: 'l-1', partition: 0, position: 3, deleted: false } },
          },
        ],
      },
      aggregations: { category: { buckets: [{ key: 'bikes', doc_count: 7 }] } },
    });
    assert.deepEqual(result, {
      total: 7,
      hits: [{ id: 'l-1', score: 1.5, listing }],
      facets: { category: [{ key: 'bikes', count: 7 }] },
    });
  });
});
