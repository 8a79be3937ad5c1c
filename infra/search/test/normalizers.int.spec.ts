/**
 * Case-insensitive keyword filters through the official client, the way the platform's search views use
 * them: `.norm` multi-fields with the built-in `lowercase` normalizer filtered with term/terms in any case
 * ("berlin"/"BERLIN" find "Berlin", "de" finds "DE", "home" finds "Home") while facets on the original field
 * keep the original case; a custom normalizer with asciifolding ("zurich" finds "Zürich"); GET mapping and
 * settings return what was given; PUT _mapping adding a normalized multi-field to existing documents; the
 * refusals (unknown normalizer, unsupported filter or char filter, non-standard analyzer, normalizer on a
 * non-keyword field); and the normalizer surviving a clean restart and a SIGKILL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import type { TestServer } from './support/test-server';
import { expectEsError, http, startChildServer, startTestServer, tempDir } from './support/test-server';

const norm = { norm: { type: 'keyword' as const, normalizer: 'lowercase' } };
const SETTINGS = {
  analysis: { normalizer: { folded: { type: 'custom' as const, filter: ['lowercase', 'asciifolding'] } } },
};
const MAPPINGS = {
  properties: {
    title: { type: 'text' as const, analyzer: 'standard' },
    city: { type: 'keyword' as const, fields: norm },
    country: { type: 'keyword' as const, fields: norm },
    category: { type: 'keyword' as const, fields: norm },
    place: { type: 'keyword' as const, normalizer: 'folded' },
  },
};
const LISTINGS = [
  { id: 'a', doc: { title: 'Loft', city: 'Berlin', country: 'DE', category: 'Home', place: 'Zürich HB' } },
  { id: 'b', doc: { title: 'Bike', city: 'Berlin', country: 'DE', category: 'Sports', place: 'Genève' } },
  { id: 'c', doc: { title: 'Sofa', city: 'Munich', country: 'DE', category: 'Home', place: 'ZURICH HB' } },
  { id: 'd', doc: { title: 'Lamp', city: 'Zürich', country: 'CH', category: 'Home', place: 'Bern' } },
];

type Buckets = { buckets: Array<{ key: string; doc_count: number }> };

/** `[key, doc_count]` pairs of a terms aggregation. */
function bucketsOf(aggregations: Record<string, unknown> | undefined, name: string): Array<[string, number]> {
  const agg = aggregations?.[name] as Buckets | undefined;
  assert.ok(agg !== undefined, `aggregation ${name} missing`);
  return agg.buckets.map((b) => [b.key, b.doc_count]);
}

describe('keyword normalizers', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ refreshIntervalMs: 0 });
    await t.client.indices.create({ index: 'listings', settings: SETTINGS, mappings: MAPPINGS });
    await t.client.bulk({
      index: 'listings',
      refresh: true,
      operations: LISTINGS.flatMap(({ id, doc }) => [{ index: { _id: id } }, doc]),
    });
  });
  after(() => t.dispose());

  const ids = async (query: Record<string, unknown>) =>
    (await t.client.search({ index: 'listings', query, size: 100 })).hits.hits.map((h) => h._id).sort();

  it('filters case-insensitively on .norm with term and terms, whatever the case of the value', async () => {
    for (const city of ['berlin', 'BERLIN', 'Berlin', 'bErLiN'])
      assert.deepEqual(await ids({ term: { 'city.norm': city } }), ['a', 'b'], city);
    for (const country of ['de', 'DE', 'De'])
      assert.deepEqual(await ids({ term: { 'country.norm': { value: country } } }), ['a', 'b', 'c'], country);
    assert.deepEqual(await ids({ terms: { 'category.norm': ['home'] } }), ['a', 'c', 'd']);
    assert.deepEqual(await ids({ terms: { 'category.norm': ['HOME', 'sports'] } }), ['a', 'b', 'c', 'd']);
    assert.deepEqual(
      await ids({
        bool: { filter: [{ term: { 'city.norm': 'berlin' } }, { terms: { 'category.norm': ['home'] } }] },
      }),
      ['a'],
    );
    // The original field stays exact, as in ES.
    assert.deepEqual(await ids({ term: { city: 'berlin' } }), []);
    assert.deepEqual(await ids({ term: { city: 'Berlin' } }), ['a', 'b']);
    // _count and ?q= use the same normalization.
    assert.equal(
      (await t.client.count({ index: 'listings', query: { term: { 'country.norm': 'de' } } })).count,
      3,
    );
    assert.equal((await t.client.count({ index: 'listings', q: 'city.norm:MUNICH' })).count, 1);
  });

  it('facets on the original field keep the original case; _source is unchanged', async () => {
    const result = await t.client.search({
      index: 'listings',
      query: { term: { 'country.norm': 'de' } },
      sort: [{ 'city.norm': 'asc' }, '_doc'],
      aggs: {
        city: { terms: { field: 'city' } },
        country: { terms: { field: 'country' } },
        category: { terms: { field: 'category' } },
        normalized: { terms: { field: 'city.norm' } },
      },
    });
    const buckets = (name: string) => bucketsOf(result.aggregations, name);
    assert.deepEqual(buckets('city'), [
      ['Berlin', 2],
      ['Munich', 1],
    ]);
    assert.deepEqual(buckets('country'), [['DE', 3]]);
    assert.deepEqual(buckets('category'), [
      ['Home', 2],
      ['Sports', 1],
    ]);
    // Like ES, aggregations and sorts on the normalized field see normalized values.
    assert.deepEqual(buckets('normalized'), [
      ['berlin', 2],
      ['munich', 1],
    ]);
    assert.deepEqual(
      result.hits.hits.map((h) => h.sort?.[0]),
      ['berlin', 'berlin', 'munich'],
    );
    assert.deepEqual(
      result.hits.hits.map((h) => (h._source as { city: string }).city),
      ['Berlin', 'Berlin', 'Munich'],
    );
  });

  it('a custom normalizer with asciifolding: "zurich" finds "Zürich"', async () => {
    for (const place of ['zurich hb', 'ZURICH HB', 'Zürich HB', 'zürich hb'])
      assert.deepEqual(await ids({ term: { place } }), ['a', 'c'], place);
    assert.deepEqual(await ids({ match: { place: 'geneve' } }), ['b']);
    assert.deepEqual(await ids({ range: { place: { gte: 'Z' } } }), ['a', 'c']);
    const facets = await t.client.search({
      index: 'listings',
      size: 0,
      aggs: { p: { terms: { field: 'place' } } },
    });
    assert.deepEqual(bucketsOf(facets.aggregations, 'p'), [
      ['zurich hb', 2],
      ['bern', 1],
      ['geneve', 1],
    ]);
  });

  it('GET /{index} and GET /_mapping return the mapping and the analysis settings as given', async () => {
    const got = await t.client.indices.get({ index: 'listings' });
    assert.deepEqual(got.listings?.mappings, MAPPINGS);
    assert.deepEqual(got.listings?.settings?.index?.analysis, SETTINGS.analysis);
    const mapping = await http(t.server.url, 'GET', '/_mapping');
    assert.deepEqual((mapping.json() as Record<string, { mappings: unknown }>).listings?.mappings, MAPPINGS);
  });

  it('PUT _mapping adds a normalized multi-field; existing documents become searchable by it', async () => {
    await t.client.indices.create({ index: 'grow', mappings: { properties: { city: { type: 'keyword' } } } });
    await t.client.index({ index: 'grow', id: '1', document: { city: 'Berlin' }, refresh: true });
    await t.client.indices.putMapping({
      index: 'grow',
      properties: { city: { type: 'keyword', fields: norm } },
    });
    const found = await t.client.search({ index: 'grow', query: { term: { 'city.norm': 'BERLIN' } } });
    assert.deepEqual(
      found.hits.hits.map((h) => h._id),
      ['1'],
    );
    const unknown = await expectEsError(
      () =>
        t.client.indices.putMapping({
          index: 'grow',
          properties: { country: { type: 'keyword', normalizer: 'folded' } },
        }),
      400,
      'mapper_parsing_exception',
    );
    assert.match(JSON.stringify(unknown.body), /normalizer \[folded\] not found for field \[country\]/);
    // Restating the field without its multi-fields keeps them (ES merges multi-fields); dropping the
    // multi-field's normalizer is a conflict.
    await t.client.indices.putMapping({ index: 'grow', properties: { city: { type: 'keyword' } } });
    const changed = await expectEsError(
      () =>
        t.client.indices.putMapping({
          index: 'grow',
          properties: { city: { type: 'keyword', fields: { norm: { type: 'keyword' } } } },
        }),
      400,
      'illegal_argument_exception',
    );
    assert.equal(
      (changed.body as { error: { reason: string } }).error.reason,
      'Mapper for [city.norm] conflicts with existing mapper:\n\tCannot update parameter [normalizer] from [lowercase] to [null]',
    );
    const still = await t.client.indices.getMapping({ index: 'grow' });
    assert.deepEqual(still.grow?.mappings.properties?.city, { type: 'keyword', fields: norm });
  });

  it('refuses an unknown normalizer with ES mapper_parsing_exception', async () => {
    const response = await http(t.server.url, 'PUT', '/bad', {
      mappings: {
        properties: { city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: 'ci' } } } },
      },
    });
    assert.equal(response.status, 400);
    assert.deepEqual(response.json(), {
      error: {
        root_cause: [
          { type: 'mapper_parsing_exception', reason: 'normalizer [ci] not found for field [norm]' },
        ],
        type: 'mapper_parsing_exception',
        reason: 'Failed to parse mapping: normalizer [ci] not found for field [norm]',
        caused_by: { type: 'mapper_parsing_exception', reason: 'normalizer [ci] not found for field [norm]' },
      },
      status: 400,
    });
    assert.equal(await t.client.indices.exists({ index: 'bad' }), false);
  });

  it('refuses unsupported filters, char filters, analyzers and misplaced parameters with a 400', async () => {
    const refused = async (body: Record<string, unknown>, type: string, reason: RegExp) => {
      const error = await expectEsError(() => t.client.indices.create({ index: 'bad', ...body }), 400, type);
      assert.match((error.body as { error: { reason: string } }).error.reason, reason);
    };
    const supported = /supported: lowercase, uppercase, asciifolding, trim/;
    await refused(
      { settings: { analysis: { normalizer: { n: { type: 'custom', filter: ['german_normalization'] } } } } },
      'illegal_argument_exception',
      supported,
    );
    await refused(
      { settings: { analysis: { normalizer: { n: { type: 'custom', filter: ['stop'] } } } } },
      'illegal_argument_exception',
      supported,
    );
    await refused(
      { settings: { analysis: { normalizer: { n: { type: 'custom', char_filter: ['html_strip'] } } } } },
      'illegal_argument_exception',
      /may not use char_filter \[html_strip\]/,
    );
    await refused(
      { settings: { analysis: { analyzer: { mine: { type: 'custom', tokenizer: 'standard' } } } } },
      'illegal_argument_exception',
      /only keyword normalizers/,
    );
    await refused(
      { mappings: { properties: { title: { type: 'text', analyzer: 'english' } } } },
      'mapper_parsing_exception',
      /analyzer \[english\] on field \[title\] is not supported by this server: .*\[standard\] analyzer only/,
    );
    await refused(
      { mappings: { properties: { title: { type: 'text', search_analyzer: 'whitespace' } } } },
      'mapper_parsing_exception',
      /\[standard\] analyzer only/,
    );
    await refused(
      { mappings: { properties: { price: { type: 'long', normalizer: 'lowercase' } } } },
      'mapper_parsing_exception',
      /unknown parameter \[normalizer\] on mapper \[price\] of type \[long\]/,
    );
    await refused(
      { mappings: { properties: { city: { type: 'keyword', analyzer: 'standard' } } } },
      'mapper_parsing_exception',
      /unknown parameter \[analyzer\] on mapper \[city\] of type \[keyword\]/,
    );
    assert.equal(await t.client.indices.exists({ index: 'bad' }), false);
  });
});

describe('keyword normalizers across restarts', () => {
  const check = async (client: Client, index: string) => {
    const found = await client.search({ index, query: { term: { 'city.norm': 'BERLIN' } } });
    assert.deepEqual(
      found.hits.hits.map((h) => h._id),
      ['1'],
    );
    const folded = await client.count({ index, query: { term: { place: 'ZURICH' } } });
    assert.equal(folded.count, 1);
    const got = await client.indices.get({ index });
    assert.deepEqual(got[index]?.settings?.index?.analysis, SETTINGS.analysis);
    assert.deepEqual(got[index]?.mappings?.properties?.place, MAPPINGS.properties.place);
  };

  it('keeps the normalizers (settings and mappings) after a clean restart; new writes are normalized', async () => {
    const dir = tempDir();
    try {
      const first = await startTestServer({ dataDir: dir.path, refreshIntervalMs: 0 });
      try {
        await first.client.indices.create({ index: 'keep', settings: SETTINGS, mappings: MAPPINGS });
        await first.client.index({ index: 'keep', id: '1', document: { city: 'Berlin', place: 'Zürich' } });
      } finally {
        await first.stop();
      }

      const second = await startTestServer({ dataDir: dir.path, refreshIntervalMs: 0 });
      try {
        await check(second.client, 'keep');
        await second.client.index({
          index: 'keep',
          id: '2',
          document: { city: 'Köln', place: 'Köln' },
          refresh: true,
        });
        assert.equal(
          (await second.client.count({ index: 'keep', query: { term: { place: 'KOLN' } } })).count,
          1,
        );
        assert.equal(
          (await second.client.count({ index: 'keep', query: { term: { 'city.norm': 'KÖLN' } } })).count,
          1,
        );
      } finally {
        await second.stop();
      }
    } finally {
      dir.remove();
    }
  });

  it('keeps them after a SIGKILL of tidemark search-server (durable before acknowledged)', async () => {
    const dir = tempDir();
    try {
      const child = await startChildServer(dir.path, ['--refresh-interval-ms', '0']);
      const client = new Client({ node: child.url });
      try {
        await client.indices.create({ index: 'crash', settings: SETTINGS, mappings: MAPPINGS });
        await client.index({ index: 'crash', id: '1', document: { city: 'Berlin', place: 'Zürich' } });
      } finally {
        await client.close();
        await child.kill('SIGKILL');
      }
      const restarted = await startTestServer({ dataDir: dir.path, refreshIntervalMs: 0 });
      try {
        await check(restarted.client, 'crash');
      } finally {
        await restarted.stop();
      }
    } finally {
      dir.remove();
    }
  });
});
