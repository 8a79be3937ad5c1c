/**
 * Keyword normalizers in the query engine: the token filters (Lucene's simple case mapping, ASCII folding,
 * Java-whitespace trim, chaining order), and a searcher with normalized fields: the indexed term is normalized
 * (`_source` is not), term/terms/range/match/`q` normalize their value, terms aggregations and sorts on the
 * normalized field see normalized values while the original field keeps its case, and a terms aggregation's
 * `missing` value is used as given.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Mappings } from '../../src/engine/contracts';
import { QuerySearcher } from '../../src/query';
import { asciifolding, compileNormalizer, lowercase, trim, uppercase } from '../../src/query/normalizers';

describe('normalizer filters', () => {
  test('lowercase and uppercase use the simple case mapping, as Lucene (Java) does', () => {
    assert.equal(lowercase('BERLIN'), 'berlin');
    assert.equal(uppercase('de'), 'DE');
    // JS's full mapping would give 'i̇stanbul' (i + combining dot) and a final 'ς'.
    assert.equal(lowercase('İSTANBUL'), 'istanbul');
    assert.equal(lowercase('ΟΔΟΣ'), 'οδοσ');
    // JS's full mapping would give 'STRASSE', 'FIX' and 'ΑΙ'.
    assert.equal(uppercase('straße'), 'STRAßE');
    assert.equal(uppercase('ﬁx'), 'ﬁX');
    assert.equal(uppercase('ᾳ'), 'ᾼ');
    assert.equal(uppercase('ᾀb'), 'ᾈB');
  });

  test('asciifolding folds Latin letters, ligatures, fullwidth forms and quotes, and keeps other scripts', () => {
    assert.equal(asciifolding('Zürich'), 'Zurich');
    assert.equal(asciifolding('Ærøskøbing'), 'AEroskobing');
    assert.equal(asciifolding('Łódź Straße'), 'Lodz Strasse');
    assert.equal(asciifolding('ﬁnd ǆ'), 'find dz');
    assert.equal(asciifolding('Ｔｏｋｙｏ'), 'Tokyo');
    assert.equal(asciifolding('“quoted” – ‘x’'), '"quoted" - \'x\'');
    assert.equal(asciifolding('Москва й'), 'Москва й');
    assert.equal(asciifolding('東京'), '東京');
    assert.equal(asciifolding('plain'), 'plain');
  });

  test('trim strips Java whitespace at both ends only (not the no-break space)', () => {
    assert.equal(trim('  Berlin\t\n'), 'Berlin');
    assert.equal(trim('\u3000New York\u2003'), 'New York');
    assert.equal(trim('\u00a0Berlin'), '\u00a0Berlin');
    assert.equal(trim('   '), '');
  });

  test('filters chain in the given order', () => {
    assert.equal(compileNormalizer(['lowercase', 'asciifolding'])('ÆRØ Zürich'), 'aero zurich');
    // uppercase keeps ß (no simple mapping), which asciifolding then folds to "ss".
    assert.equal(compileNormalizer(['uppercase', 'asciifolding'])('straße'), 'STRAssE');
    assert.equal(compileNormalizer(['asciifolding', 'uppercase'])('straße'), 'STRASSE');
    assert.equal(compileNormalizer(['trim', 'uppercase'])(' de '), 'DE');
  });
});

const MAPPINGS: Mappings = {
  properties: {
    city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: ['lowercase'] } } },
    country: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: ['lowercase'] } } },
    category: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: ['lowercase'] } } },
    title: { type: 'text', fields: { key: { type: 'keyword', normalizer: ['lowercase', 'asciifolding'] } } },
    code: { type: 'keyword', normalizer: ['trim', 'uppercase'] },
  },
};

const DOCS: Array<[string, Record<string, unknown>]> = [
  ['1', { city: 'Berlin', country: 'DE', category: 'Home', title: 'Café Zürich', code: ' ab1 ' }],
  ['2', { city: 'berlin', country: 'de', category: 'Garden', title: 'cafe zurich', code: 'AB1' }],
  ['3', { city: 'Munich', country: 'De', category: 'HOME', title: 'Other', code: 'cd2' }],
  ['4', { city: ['Zürich', 'Bern'], country: 'CH' }],
];

function searcher(): QuerySearcher {
  const s = new QuerySearcher(MAPPINGS);
  for (const [id, doc] of DOCS) s.upsert(id, doc);
  return s;
}

describe('searching normalized keyword fields', () => {
  const s = searcher();
  const find = (query: unknown, params: { q?: string } = {}) =>
    s
      .search(query === undefined ? { size: 100 } : { query, size: 100 }, params)
      .hits.map((h) => h.id)
      .sort();

  test('term, terms and match normalize their value; the original field stays exact', () => {
    assert.deepEqual(find({ term: { 'city.norm': 'berlin' } }), ['1', '2']);
    assert.deepEqual(find({ term: { 'city.norm': 'BERLIN' } }), ['1', '2']);
    assert.deepEqual(find({ term: { 'city.norm': { value: 'BerLin' } } }), ['1', '2']);
    assert.deepEqual(find({ term: { city: 'berlin' } }), ['2']);
    assert.deepEqual(find({ terms: { 'country.norm': ['de'] } }), ['1', '2', '3']);
    assert.deepEqual(find({ terms: { 'country.norm': ['DE', 'ch'] } }), ['1', '2', '3', '4']);
    assert.deepEqual(find({ terms: { country: ['de'] } }), ['2']);
    assert.deepEqual(find({ match: { 'category.norm': 'HoMe' } }), ['1', '3']);
    assert.deepEqual(find({ match: { 'title.key': 'CAFE ZÜRICH' } }), ['1', '2']);
    assert.deepEqual(find({ term: { code: 'ab1' } }), ['1', '2']);
    assert.deepEqual(find(undefined, { q: 'category.norm:HOME' }), ['1', '3']);
    // Filter context and bool combinations go through the same path.
    assert.deepEqual(
      find({
        bool: { filter: [{ term: { 'country.norm': 'DE' } }, { term: { 'category.norm': 'home' } }] },
      }),
      ['1', '3'],
    );
  });

  test('range bounds are normalized too', () => {
    // Unnormalized, 'A'..'C' would match nothing: the indexed terms are lower-case.
    assert.deepEqual(find({ range: { 'city.norm': { gte: 'A', lt: 'C' } } }), ['1', '2', '4']);
    assert.deepEqual(find({ range: { city: { gte: 'A', lt: 'C' } } }), ['1', '4']);
  });

  test('_source keeps the original values', () => {
    const hit = s.search({ query: { term: { 'city.norm': 'berlin' } }, sort: ['_doc'] }, {}).hits[0];
    assert.deepEqual(hit?.source, DOCS[0]?.[1]);
  });

  test('terms aggregations: the original field keeps its case, the normalized one is normalized', () => {
    const result = s.search(
      {
        size: 0,
        aggs: {
          city: { terms: { field: 'city', order: { _key: 'asc' } } },
          cityNorm: { terms: { field: 'city.norm', order: { _key: 'asc' } } },
          category: { terms: { field: 'category.norm', missing: 'N/A' } },
        },
      },
      {},
    );
    const buckets = (name: string) => {
      const agg = result.aggregations?.[name] as
        | { buckets: Array<{ key: string; doc_count: number }> }
        | undefined;
      assert.ok(agg !== undefined, `aggregation ${name} missing`);
      return agg.buckets.map((b) => [b.key, b.doc_count]);
    };
    assert.deepEqual(buckets('city'), [
      ['Berlin', 1],
      ['Bern', 1],
      ['Munich', 1],
      ['Zürich', 1],
      ['berlin', 1],
    ]);
    assert.deepEqual(buckets('cityNorm'), [
      ['berlin', 2],
      ['bern', 1],
      ['munich', 1],
      ['zürich', 1],
    ]);
    // ES uses `missing` as given (not normalized).
    assert.deepEqual(buckets('category'), [
      ['home', 2],
      ['N/A', 1],
      ['garden', 1],
    ]);
  });

  test('sorting on a normalized field uses and returns the normalized values', () => {
    const result = s.search(
      { query: { terms: { 'country.norm': ['de'] } }, sort: ['city.norm', '_doc'] },
      {},
    );
    assert.deepEqual(
      result.hits.map((h) => [h.id, ...(h.sort ?? [])]),
      [
        ['1', 'berlin', 0],
        ['2', 'berlin', 1],
        ['3', 'munich', 2],
      ],
    );
  });

  test('updates and removes keep the normalized postings exact', () => {
    const t = searcher();
    t.upsert('2', { city: 'Hamburg' });
    assert.deepEqual(
      t
        .search({ query: { term: { 'city.norm': 'BERLIN' } } }, {})
        .hits.map((h) => h.id)
        .sort(),
      ['1'],
    );
    t.remove('1');
    assert.equal(t.count({ query: { term: { 'city.norm': 'berlin' } } }, {}), 0);
    assert.equal(t.count({ query: { term: { 'city.norm': 'HAMBURG' } } }, {}), 1);
  });
});
