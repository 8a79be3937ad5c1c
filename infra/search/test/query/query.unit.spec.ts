/** Query types, sorting, paging, aggregations and request validation of the query engine. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SearchRequestError } from '../../src/engine/contracts';
import { analyze, createSearcher, parseQueryString, QuerySearcher } from '../../src/query';
import { ids, LISTINGS, listingSearcher } from './fixtures';

const s = listingSearcher();
const find = (query: unknown, extra: Record<string, unknown> = {}) =>
  ids(s.search({ query, size: 100, ...extra }, {})).sort();
const sorted = (xs: string[]) => [...xs].sort();
const where = (pred: (l: (typeof LISTINGS)[number][1]) => boolean) =>
  sorted(LISTINGS.filter(([, l]) => pred(l)).map(([id]) => id));

function assertRejects(fn: () => unknown, type: string, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SearchRequestError, `not a SearchRequestError: ${String(err)}`);
    assert.equal(err.type, type);
    assert.match(err.reason, reason);
    return true;
  });
}

describe('analysis', () => {
  test('lower-cases and splits on non letters/digits, unicode aware, no stemming', () => {
    assert.deepEqual(analyze("Red-ROAD bike's 54cm, Räume 東京"), [
      'red',
      'road',
      'bike',
      's',
      '54cm',
      'räume',
      '東京',
    ]);
    assert.deepEqual(analyze('bikes'), ['bikes']);
  });
});

describe('full-text queries', () => {
  test('match is an OR of terms by default; minimum_should_match; zero terms', () => {
    assert.deepEqual(find({ match: { title: 'sofa lamp' } }), ['l11', 'l17']);
    assert.deepEqual(find({ match: { title: { query: 'red road bike', minimum_should_match: 3 } } }), ['l1']);
    assert.deepEqual(
      find({ match: { title: { query: 'red road bike', minimum_should_match: '-1' } } }),
      sorted(['l1', 'l2', 'l3', 'l5', 'l14', 'l20']),
    );
    assert.deepEqual(
      find({ match: { title: { query: 'red road bike', minimum_should_match: '67%' } } }),
      sorted(['l1', 'l2', 'l3', 'l5', 'l14', 'l20']),
    );
    assert.deepEqual(find({ match: { title: '!!!' } }), []);
    assert.equal(find({ match: { title: { query: '!!!', zero_terms_query: 'all' } } }).length, 20);
  });

  test('match on keyword, numeric, date and boolean fields is an exact term', () => {
    assert.deepEqual(find({ match: { 'title.raw': 'Red sofa' } }), ['l11']);
    assert.deepEqual(find({ match: { 'title.raw': 'red sofa' } }), []);
    assert.deepEqual(find({ match: { priceCents: '30000' } }), ['l11']);
    assert.deepEqual(find({ match: { publishedAt: '2024-02-20T10:00:00Z' } }), ['l11']);
    assert.deepEqual(
      find({ match: { featured: true } }),
      where((l) => l.featured),
    );
    assertRejects(
      () => find({ match: { priceCents: 'cheap' } }),
      'search_phase_execution_exception',
      /For input string/,
    );
    assert.deepEqual(find({ match: { priceCents: { query: 'cheap', lenient: true } } }), []);
  });

  test('multi_match best_fields takes the best field (+ tie_breaker), most_fields sums', () => {
    const best = s.search(
      { query: { multi_match: { query: 'sofa', fields: ['title', 'description'] } } },
      {},
    );
    const most = s.search(
      { query: { multi_match: { query: 'sofa', fields: ['title', 'description'], type: 'most_fields' } } },
      {},
    );
    const tie = s.search(
      { query: { multi_match: { query: 'sofa', fields: ['title', 'description'], tie_breaker: 0.5 } } },
      {},
    );
    const title = s.search({ query: { match: { title: 'sofa' } } }, {}).hits[0]?.score ?? 0;
    const desc = s.search({ query: { match: { description: 'sofa' } } }, {}).hits[0]?.score ?? 0;
    assert.ok(Math.abs((best.hits[0]?.score ?? 0) - Math.max(title, desc)) < 1e-12);
    assert.ok(Math.abs((most.hits[0]?.score ?? 0) - (title + desc)) < 1e-12);
    assert.ok(
      Math.abs((tie.hits[0]?.score ?? 0) - (Math.max(title, desc) + 0.5 * Math.min(title, desc))) < 1e-12,
    );
    const boosted = s.search(
      { query: { multi_match: { query: 'sofa', fields: ['title^3', 'description'] } } },
      {},
    );
    assert.ok(Math.abs((boosted.hits[0]?.score ?? 0) - Math.max(3 * title, desc)) < 1e-12);
    // keyword fields in multi_match take the whole query as one term
    assert.deepEqual(
      find({ multi_match: { query: 'Amsterdam', fields: ['location.city', 'title'] } }),
      where((l) => l.location.city === 'Amsterdam' || /amsterdam/i.test(l.title)),
    );
  });

  test('term on a text field is not analysed (like ES)', () => {
    assert.deepEqual(find({ term: { title: 'sofa' } }), ['l11']);
    assert.deepEqual(find({ term: { title: 'Sofa' } }), []);
  });
});

describe('term-level queries', () => {
  test('term / terms on keyword, numbers, dates, booleans; multi-fields and dotted paths', () => {
    assert.deepEqual(
      find({ term: { category: 'housing' } }),
      where((l) => l.category === 'housing'),
    );
    assert.deepEqual(find({ term: { category: { value: 'Housing' } } }), []);
    assert.deepEqual(
      find({ term: { 'location.city': 'Rotterdam' } }),
      where((l) => l.location.city === 'Rotterdam'),
    );
    assert.deepEqual(find({ term: { priceCents: 5000 } }), ['l5']);
    assert.deepEqual(
      find({ term: { featured: 'true' } }),
      where((l) => l.featured),
    );
    assert.deepEqual(find({ term: { publishedAt: 1709287200000 } }), ['l1']);
    assert.deepEqual(
      find({ terms: { status: ['sold', 'reserved'] } }),
      where((l) => l.status !== 'active'),
    );
    assert.deepEqual(find({ terms: { 'title.raw': ['Red sofa', 'Bike lock', 'nope'] } }), ['l11', 'l15']);
    assert.deepEqual(find({ term: { unmapped: 'x' } }), []);
  });

  test('literal dotted keys and arrays of objects in the source', () => {
    const t = new QuerySearcher({ properties: { 'a.b': { type: 'keyword' }, tags: { type: 'keyword' } } });
    t.upsert('1', { 'a.b': 'x' });
    t.upsert('2', { a: [{ b: 'y' }, { b: 'x' }], tags: ['p', 'q'] });
    t.upsert('3', { a: { b: null } });
    assert.deepEqual(ids(t.search({ query: { term: { 'a.b': 'x' } } }, {})), ['1', '2']);
    assert.deepEqual(ids(t.search({ query: { term: { tags: 'q' } } }, {})), ['2']);
    assert.deepEqual(ids(t.search({ query: { exists: { field: 'a' } } }, {})), ['1', '2']);
  });

  test('range on numbers, keywords and dates (ISO, epoch millis, date math with rounding)', () => {
    assert.deepEqual(
      find({ range: { priceCents: { gte: 100000, lt: 200000 } } }),
      where((l) => l.priceCents >= 100000 && l.priceCents < 200000),
    );
    assert.deepEqual(
      find({ range: { priceCents: { gt: 200000 } } }),
      where((l) => l.priceCents > 200000),
    );
    assert.deepEqual(
      find({ range: { rating: { gte: '4.5' } } }),
      where((l) => (l.rating ?? 0) >= 4.5),
    );
    assert.deepEqual(
      find({ range: { 'location.city': { gte: 'B', lt: 'S' } } }),
      where((l) => l.location.city === 'Rotterdam'),
    );
    assert.deepEqual(find({ range: { publishedAt: { gte: '2024-03-05', lte: '2024-03-07T10:00:00Z' } } }), [
      'l14',
      'l15',
      'l5',
    ]);
    assert.deepEqual(find({ range: { publishedAt: { lt: 1704931200000 } } }), ['l13', 'l9']); // 2024-01-11
    // now is pinned to 2024-03-10T12:00Z; now-2d/d rounds down to 2024-03-08T00:00 for gte
    assert.deepEqual(find({ range: { publishedAt: { gte: 'now-2d/d' } } }), ['l18', 'l19', 'l20']);
    // lte rounds up to the end of the day
    assert.deepEqual(find({ range: { publishedAt: { gt: '2024-03-08||/d', lte: '2024-03-09||/d' } } }), [
      'l19',
    ]);
    assertRejects(
      () => find({ range: { publishedAt: { gte: 'yesterday' } } }),
      'search_phase_execution_exception',
      /failed to parse date/,
    );
    assertRejects(() => find({ range: { title: { gte: 'a' } } }), 'illegal_argument_exception', /text/);
  });

  test('exists and ids', () => {
    assert.deepEqual(
      find({ exists: { field: 'rating' } }),
      where((l) => l.rating !== undefined),
    );
    assert.deepEqual(find({ exists: { field: 'location' } }).length, 20);
    assert.deepEqual(find({ ids: { values: ['l3', 'nope', 'l1'] } }), ['l1', 'l3']);
  });
});

describe('bool', () => {
  test('must, filter, should, must_not combinations', () => {
    assert.deepEqual(
      find({ bool: { filter: [{ term: { category: 'bikes' } }], must_not: [{ term: { status: 'sold' } }] } }),
      where((l) => l.category === 'bikes' && l.status !== 'sold'),
    );
    // should only: at least one must match
    assert.deepEqual(
      find({ bool: { should: [{ term: { category: 'housing' } }, { term: { status: 'sold' } }] } }),
      where((l) => l.category === 'housing' || l.status === 'sold'),
    );
    // should with a filter: optional, only scores
    const r = s.search(
      {
        query: { bool: { filter: { term: { category: 'furniture' } }, should: { match: { title: 'red' } } } },
      },
      {},
    );
    assert.deepEqual(
      sorted(ids(r)),
      where((l) => l.category === 'furniture'),
    );
    assert.equal(ids(r)[0], 'l11');
    assert.equal(r.hits.at(-1)?.score, 0);
    // minimum_should_match 2
    assert.deepEqual(
      find({
        bool: {
          should: [
            { term: { category: 'bikes' } },
            { term: { status: 'sold' } },
            { term: { 'location.city': 'Rotterdam' } },
          ],
          minimum_should_match: 2,
        },
      }),
      ['l13', 'l4'],
    );
    // pure negation and empty bool
    assert.deepEqual(
      find({ bool: { must_not: { term: { status: 'active' } } } }),
      where((l) => l.status !== 'active'),
    );
    assert.equal(find({ bool: {} }).length, 20);
    // nested bools
    assert.deepEqual(
      find({
        bool: {
          must: [
            { bool: { should: [{ term: { category: 'housing' } }, { term: { category: 'furniture' } }] } },
          ],
          filter: { range: { priceCents: { lt: 10000 } } },
        },
      }),
      where((l) => ['housing', 'furniture'].includes(l.category) && l.priceCents < 10000),
    );
  });

  test('scores: filter context scores 0, match_all 1, keyword term idf, constant_score boost', () => {
    const only = (query: unknown) => s.search({ query, size: 1 }, {}).hits[0]?.score;
    assert.equal(only({ bool: { filter: { term: { category: 'bikes' } } } }), 0);
    assert.equal(only({ match_all: {} }), 1);
    assert.equal(only({ match_all: { boost: 2 } }), 2);
    assert.equal(only({ constant_score: { filter: { term: { category: 'bikes' } }, boost: 3 } }), 3);
    assert.equal(only({ range: { priceCents: { gte: 0 } } }), 1);
    // keyword term: idf / (1 + k1), 6 of 20 docs are bikes
    const idf = Math.log(1 + (20 - 6 + 0.5) / (6 + 0.5));
    assert.ok(Math.abs((only({ term: { category: 'bikes' } }) ?? 0) - idf / 2.2) < 1e-12);
    assert.equal(only({ bool: { must: { match_all: {} }, should: { term: { priceCents: 45000 } } } }), 2);
  });
});

describe('sort, paging and totals', () => {
  test('field sorts carry sort values and null scores; ties by index order', () => {
    const r = s.search({ query: { term: { category: 'bikes' } }, sort: [{ priceCents: 'desc' }] }, {});
    assert.deepEqual(ids(r), ['l16', 'l2', 'l4', 'l1', 'l3', 'l5']);
    assert.deepEqual(
      r.hits.map((h) => h.sort),
      [[200000], [120000], [80000], [45000], [15000], [5000]],
    );
    assert.equal(r.hits[0]?.score, null);
    assert.equal(r.maxScore, null);
    const byCity = s.search({ sort: ['location.city', { publishedAt: { order: 'desc' } }], size: 3 }, {});
    assert.deepEqual(ids(byCity), ['l18', 'l15', 'l8']);
    assert.deepEqual(byCity.hits[0]?.sort, ['Amsterdam', Date.parse('2024-03-08T10:00:00Z')]);
    const ties = s.search({ sort: [{ category: 'asc' }], size: 4 }, {});
    assert.deepEqual(ids(ties), ['l6', 'l14', 'l15', 'l20']);
  });

  test('missing values go last (or first), _score and _doc sorts, track_scores, ?sort=', () => {
    const r = s.search({ query: { term: { category: 'housing' } }, sort: [{ rating: 'desc' }] }, {});
    assert.deepEqual(ids(r), ['l7', 'l9', 'l8', 'l10', 'l18']);
    assert.deepEqual(r.hits.at(-1)?.sort, [null]);
    const first = s.search(
      { query: { term: { category: 'housing' } }, sort: [{ rating: { order: 'asc', missing: '_first' } }] },
      {},
    );
    assert.deepEqual(ids(first), ['l8', 'l10', 'l18', 'l9', 'l7']);
    const score = s.search(
      { query: { match: { title: 'bike' } }, sort: ['_score', { priceCents: 'asc' }], size: 2 },
      {},
    );
    assert.equal(typeof score.hits[0]?.score, 'number');
    assert.equal(score.hits[0]?.sort?.[0], score.hits[0]?.score);
    const tracked = s.search(
      { query: { match: { title: 'bike' } }, sort: [{ priceCents: 'asc' }], track_scores: true },
      {},
    );
    assert.equal(typeof tracked.hits[0]?.score, 'number');
    assert.equal(typeof tracked.maxScore, 'number');
    assert.deepEqual(ids(s.search({ sort: [{ _doc: 'desc' }], size: 2 }, {})), ['l20', 'l19']);
    assert.deepEqual(ids(s.search({ size: 3 }, { sort: 'priceCents:desc' })), ['l9', 'l7', 'l16']);
    const boolSort = s.search(
      { query: { term: { category: 'furniture' } }, sort: [{ featured: 'desc' }], size: 1 },
      {},
    );
    assert.deepEqual(boolSort.hits[0]?.sort, [1]);
  });

  test('from/size paging, params win over body, totals before paging, size 0', () => {
    const all = ids(s.search({ sort: [{ priceCents: 'asc' }], size: 20 }, {}));
    const pages = [0, 5, 10, 15].flatMap((from) =>
      ids(s.search({ sort: [{ priceCents: 'asc' }], from, size: 5 }, {})),
    );
    assert.deepEqual(pages, all);
    assert.deepEqual(
      ids(s.search({ sort: [{ priceCents: 'asc' }], from: 0, size: 5 }, { from: 5, size: 2 })),
      all.slice(5, 7),
    );
    const r = s.search({ query: { term: { category: 'bikes' } }, size: 0 }, {});
    assert.equal(r.total, 6);
    assert.deepEqual(r.hits, []);
    assert.equal(s.search({ from: 30 }, {}).hits.length, 0);
    assert.equal(s.search({}, {}).hits.length, 10);
    assert.equal(s.count({}, {}), 20);
    assert.equal(
      s.count({ query: { term: { status: 'active' } } }, {}),
      where((l) => l.status === 'active').length,
    );
    assert.equal(s.count({}, { q: 'category:housing' }), 5);
  });
});

describe('terms aggregation', () => {
  test('buckets over all matches, count desc then key asc, sum_other_doc_count', () => {
    const r = s.search(
      {
        query: { match: { description: 'amsterdam' } },
        size: 0,
        aggs: { cat: { terms: { field: 'category' } } },
      },
      {},
    );
    assert.deepEqual(r.aggregations, {
      cat: {
        doc_count_error_upper_bound: 0,
        sum_other_doc_count: 0,
        buckets: [
          { key: 'housing', doc_count: 4 },
          { key: 'accessories', doc_count: 1 },
        ],
      },
    });
    const small = s.search({ aggs: { c: { terms: { field: 'location.city', size: 2 } } }, size: 0 }, {});
    assert.deepEqual(small.aggregations?.c, {
      doc_count_error_upper_bound: 0,
      sum_other_doc_count: 4,
      buckets: [
        { key: 'Amsterdam', doc_count: 9 },
        { key: 'Utrecht', doc_count: 7 },
      ],
    });
    const keyOrder = s.search(
      { aggregations: { c: { terms: { field: 'status', order: { _key: 'desc' } } } }, size: 0 },
      {},
    );
    assert.deepEqual(
      (keyOrder.aggregations as { c: { buckets: Array<{ key: string }> } }).c.buckets.map((b) => b.key),
      ['sold', 'reserved', 'active'],
    );
  });

  test('numeric, boolean and date keys; min_doc_count 0; missing; unmapped field', () => {
    const r = s.search(
      {
        query: { term: { category: 'bikes' } },
        size: 0,
        aggs: {
          f: { terms: { field: 'featured' } },
          p: { terms: { field: 'priceCents', size: 1, order: { _key: 'asc' } } },
          d: { terms: { field: 'publishedAt', size: 1, order: { _key: 'asc' } } },
          c: { terms: { field: 'category', min_doc_count: 0, size: 2 } },
          r: { terms: { field: 'rating', missing: 0, size: 1 } },
          u: { terms: { field: 'nope' } },
        },
      },
      {},
    );
    const a = r.aggregations as Record<string, { buckets: unknown[]; sum_other_doc_count: number }>;
    assert.deepEqual(a.f?.buckets, [
      { key: 0, key_as_string: 'false', doc_count: 4 },
      { key: 1, key_as_string: 'true', doc_count: 2 },
    ]);
    assert.deepEqual(a.p?.buckets, [{ key: 5000, doc_count: 1 }]);
    assert.equal(a.p?.sum_other_doc_count, 5);
    assert.deepEqual(a.d?.buckets, [
      { key: Date.parse('2024-01-20T12:00:00Z'), key_as_string: '2024-01-20T12:00:00.000Z', doc_count: 1 },
    ]);
    assert.deepEqual(a.c?.buckets, [
      { key: 'bikes', doc_count: 6 },
      { key: 'accessories', doc_count: 0 },
    ]);
    assert.deepEqual(a.r?.buckets, [{ key: 0, doc_count: 1 }]);
    assert.deepEqual(a.u?.buckets, []);
  });
});

describe('unsupported and malformed requests', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['unknown query', { query: { fuzzy: { title: 'bik' } } }, 'parsing_exception', /unknown query \[fuzzy\]/],
    [
      'unknown match param',
      { query: { match: { title: { query: 'x', fuzziness: 'AUTO' } } } },
      'parsing_exception',
      /fuzziness/,
    ],
    ['two query types', { query: { match_all: {}, term: { a: 1 } } }, 'parsing_exception', /malformed query/],
    ['empty query', { query: {} }, 'parsing_exception', /empty clause/],
    ['query not an object', { query: 'red' }, 'parsing_exception', /malformed/],
    [
      'two fields in match',
      { query: { match: { title: 'a', description: 'b' } } },
      'parsing_exception',
      /multiple fields/,
    ],
    [
      'phrase multi_match',
      { query: { multi_match: { query: 'a', fields: ['title'], type: 'phrase' } } },
      'parsing_exception',
      /phrase/,
    ],
    ['multi_match without fields', { query: { multi_match: { query: 'a' } } }, 'parsing_exception', /fields/],
    [
      'wildcard fields',
      { query: { multi_match: { query: 'a', fields: ['ti*'] } } },
      'parsing_exception',
      /wildcard/,
    ],
    [
      'terms lookup',
      { query: { terms: { category: { index: 'x', id: '1', path: 'p' } } } },
      'parsing_exception',
      /terms lookup/,
    ],
    [
      'bad operator',
      { query: { match: { title: { query: 'a', operator: 'xor' } } } },
      'parsing_exception',
      /operator/,
    ],
    [
      'msm combination',
      { query: { match: { title: { query: 'a b', minimum_should_match: '2<75%' } } } },
      'parsing_exception',
      /minimum_should_match/,
    ],
    ['range from/to', { query: { range: { priceCents: { from: 1, to: 2 } } } }, 'parsing_exception', /from/],
    [
      'range time_zone',
      { query: { range: { publishedAt: { gte: 'now', time_zone: '+01:00' } } } },
      'parsing_exception',
      /time_zone/,
    ],
    ['unknown bool key', { query: { bool: { must: [], shoud: [] } } }, 'parsing_exception', /shoud/],
    ['unknown body key', { query: { match_all: {} }, highlight: {} }, 'parsing_exception', /highlight/],
    ['sort on text', { sort: ['title'] }, 'illegal_argument_exception', /Text fields are not optimised/],
    [
      'sort on unmapped',
      { sort: [{ nope: 'asc' }] },
      'search_phase_execution_exception',
      /No mapping found for \[nope\]/,
    ],
    ['sort mode avg', { sort: [{ priceCents: { order: 'asc', mode: 'avg' } }] }, 'parsing_exception', /mode/],
    ['sort bad order', { sort: [{ priceCents: 'up' }] }, 'parsing_exception', /order/],
    ['agg type', { aggs: { a: { avg: { field: 'priceCents' } } } }, 'parsing_exception', /avg/],
    [
      'sub-aggs',
      { aggs: { a: { terms: { field: 'category' }, aggs: { b: { terms: { field: 'status' } } } } } },
      'illegal_argument_exception',
      /sub-aggregations/,
    ],
    [
      'agg on text',
      { aggs: { a: { terms: { field: 'title' } } } },
      'illegal_argument_exception',
      /Text fields/,
    ],
    [
      'agg size 0',
      { aggs: { a: { terms: { field: 'category', size: 0 } } } },
      'illegal_argument_exception',
      /size/,
    ],
    [
      'result window',
      { from: 9995, size: 10 },
      'illegal_argument_exception',
      /Result window is too large.*\[10005\]/,
    ],
    ['negative from', { from: -1 }, 'illegal_argument_exception', /from/],
    ['non-integer size', { size: 'ten' }, 'parsing_exception', /size/],
    ['negative boost', { query: { match_all: { boost: -1 } } }, 'illegal_argument_exception', /boost/],
    [
      'bad number',
      { query: { term: { priceCents: 'abc' } } },
      'search_phase_execution_exception',
      /For input string: "abc"/,
    ],
    [
      'bad boolean',
      { query: { term: { featured: 'maybe' } } },
      'search_phase_execution_exception',
      /boolean/,
    ],
    [
      'case_insensitive',
      { query: { term: { category: { value: 'x', case_insensitive: true } } } },
      'parsing_exception',
      /case_insensitive/,
    ],
    [
      'analyzer',
      { query: { match: { title: { query: 'x', analyzer: 'english' } } } },
      'parsing_exception',
      /analyzer/,
    ],
  ];
  for (const [name, body, type, reason] of cases) {
    test(name, () => assertRejects(() => s.search(body, {}), type, reason));
  }

  test('ignored server-side keys are accepted; count rejects search-only keys; q subset', () => {
    assert.equal(s.search({ _source: false, track_total_hits: true, timeout: '1s' }, {}).total, 20);
    assertRejects(() => s.count({ size: 1 }, {}), 'parsing_exception', /size/);
    assertRejects(() => s.search({}, { q: 'red bike' }), 'illegal_argument_exception', /\[q\]/);
    assertRejects(
      () => s.search({ query: { match_all: {} } }, { q: 'a:b' }),
      'illegal_argument_exception',
      /both/,
    );
    assert.deepEqual(parseQueryString('*'), { match_all: {} });
    assert.deepEqual(
      find(parseQueryString('category:furniture status:sold')),
      where((l) => l.category === 'furniture' || l.status === 'sold'),
    );
  });

  test('createSearcher follows the factory contract', () => {
    const t = createSearcher('idx', { properties: { k: { type: 'keyword' } } });
    t.upsert('a', { k: 'x' });
    t.upsert('a', { k: 'y' });
    assert.equal(t.size, 1);
    assert.equal(t.count({ query: { term: { k: 'x' } } }, {}), 0);
    t.remove('a');
    t.remove('missing');
    assert.equal(t.size, 0);
  });
});
