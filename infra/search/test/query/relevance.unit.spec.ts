/** Relevance sanity: expected top hits on a fixed 20-listing corpus, and BM25 numbers checked by hand. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QuerySearcher } from '../../src/query';
import { ids, listingSearcher } from './fixtures';

const s = listingSearcher();
const both = (query: string) => ({ multi_match: { query, fields: ['title^2', 'description'] } });

describe('relevance on the listing corpus', () => {
  test('"red road bike": the listing with all three terms in its title wins', () => {
    const r = s.search({ query: both('red road bike') }, {});
    assert.equal(ids(r)[0], 'l1'); // Red road bike: every term, title boosted x2
    // Next: other 3-token titles holding two of the terms (road+bike or red+bike), in index order on ties.
    assert.deepEqual(ids(r).slice(1, 6), ['l2', 'l3', 'l5', 'l14', 'l20']);
    assert.ok((r.hits[0]?.score ?? 0) > (r.hits[1]?.score ?? 0) * 1.5);
    assert.ok(!ids(r).includes('l7')); // nothing about bikes or red
  });

  test('"apartment amsterdam": both terms in a title beat one term in a title beat description-only', () => {
    const r = s.search({ query: both('apartment amsterdam') }, {});
    assert.deepEqual(ids(r).slice(0, 4), ['l7', 'l8', 'l10', 'l18']);
    // l18's title "Room in shared apartment" is longer than "Studio apartment": length normalisation.
    assert.ok((r.hits[2]?.score ?? 0) > (r.hits[3]?.score ?? 0));
    // Description-only mentions of Amsterdam come last.
    assert.deepEqual(ids(r).slice(4).sort(), ['l15', 'l9'].sort());
  });

  test('rare terms outweigh common ones (idf): "bike lock" → the lock first', () => {
    const r = s.search(
      { query: { multi_match: { query: 'bike lock', fields: ['title', 'description'] } } },
      {},
    );
    assert.equal(ids(r)[0], 'l15');
  });

  test('shorter fields win for the same term (length norm): title "bike"', () => {
    const r = s.search({ query: { match: { title: 'bike' } }, size: 20 }, {});
    const twoTokenTitles = ['l4', 'l6', 'l15', 'l16'];
    assert.deepEqual(ids(r).slice(0, 4).sort(), twoTokenTitles.sort());
    assert.equal(r.total, 10);
  });

  test('operator and requires every term; filters restrict without changing scores', () => {
    assert.deepEqual(
      ids(s.search({ query: { match: { description: { query: 'red road bike', operator: 'and' } } } }, {})),
      ['l1'],
    );
    const filtered = s.search(
      {
        query: {
          bool: {
            must: [both('red bike')],
            filter: [{ term: { category: 'bikes' } }, { range: { priceCents: { lte: 50000 } } }],
          },
        },
      },
      {},
    );
    assert.deepEqual(ids(filtered), ['l1', 'l3', 'l5']);
    const unfiltered = s.search({ query: both('red bike'), size: 20 }, {});
    for (const hit of filtered.hits)
      assert.equal(hit.score, unfiltered.hits.find((h) => h.id === hit.id)?.score);
  });

  test('unicode terms are analysed (lower-cased, umlauts kept)', () => {
    assert.deepEqual(ids(s.search({ query: { match: { description: 'KLEINE Räume' } } }, {})), ['l19']);
    assert.deepEqual(ids(s.search({ query: { match: { title: 'café' } } }, {})), ['l19']);
  });

  test("BM25 numbers equal Lucene's formula (k1 1.2, b 0.75, per-field stats, token-count length)", () => {
    const t = new QuerySearcher({ properties: { t: { type: 'text' } } });
    t.upsert('1', { t: 'red road bike' });
    t.upsert('2', { t: 'blue bike bike' });
    t.upsert('3', { t: 'red apartment' });
    t.upsert('4', {}); // no value: not part of the field's docCount
    const idf = (n: number, N: number) => Math.log(1 + (N - n + 0.5) / (n + 0.5));
    const tfNorm = (tf: number, dl: number, avg: number) => tf / (tf + 1.2 * (0.25 + (0.75 * dl) / avg));
    const avg = 8 / 3;
    const r = t.search({ query: { match: { t: 'red bike' } } }, {});
    assert.deepEqual(ids(r), ['1', '2', '3']);
    const close = (a: number | null | undefined, b: number) =>
      assert.ok(Math.abs((a ?? 0) - b) < 1e-9, `${a} vs ${b}`);
    close(r.hits[0]?.score, idf(2, 3) * tfNorm(1, 3, avg) * 2);
    close(r.hits[1]?.score, idf(2, 3) * tfNorm(2, 3, avg));
    close(r.hits[2]?.score, idf(2, 3) * tfNorm(1, 2, avg));
    close(r.maxScore ?? 0, idf(2, 3) * tfNorm(1, 3, avg) * 2);
  });
});
