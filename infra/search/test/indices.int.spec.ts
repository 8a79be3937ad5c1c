import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import type { TestServer } from './support/test-server';
import { expectEsError, http, startTestServer } from './support/test-server';

describe('indices', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.dispose());

  it('creates, reports, maps and deletes an index through the official client', async () => {
    const created = await t.client.indices.create({
      index: 'listings',
      settings: { number_of_shards: 1 },
      mappings: {
        properties: {
          title: { type: 'text', fields: { raw: { type: 'keyword' } } },
          price: { type: 'long' },
          listed_at: { type: 'date' },
          address: { properties: { city: { type: 'keyword' } } },
        },
      },
    });
    assert.deepEqual(created, { acknowledged: true, shards_acknowledged: true, index: 'listings' });
    assert.equal(await t.client.indices.exists({ index: 'listings' }), true);
    assert.equal(await t.client.indices.exists({ index: 'nope' }), false);

    const mapping = await t.client.indices.getMapping({ index: 'listings' });
    assert.deepEqual(mapping.listings?.mappings.properties?.price, { type: 'long' });
    const got = await t.client.indices.get({ index: 'listings' });
    assert.equal(got.listings?.settings?.index?.number_of_shards, '1');

    await expectEsError(
      () => t.client.indices.create({ index: 'listings' }),
      400,
      'resource_already_exists_exception',
    );
    assert.deepEqual(await t.client.indices.delete({ index: 'listings' }), { acknowledged: true });
    assert.equal(await t.client.indices.exists({ index: 'listings' }), false);
    await expectEsError(
      () => t.client.indices.delete({ index: 'listings' }),
      404,
      'index_not_found_exception',
    );
  });

  it('refuses unknown field types, unknown parameters, dynamic: true and bad names with 400', async () => {
    const err = await expectEsError(
      () => t.client.indices.create({ index: 'bad', mappings: { properties: { g: { type: 'geo_point' } } } }),
      400,
      'mapper_parsing_exception',
    );
    assert.match(JSON.stringify(err.body), /geo_point/);
    await expectEsError(
      () =>
        t.client.indices.create({
          index: 'bad',
          mappings: { properties: { t: { type: 'text', analyzer: 'english' } } },
        }),
      400,
      'mapper_parsing_exception',
    );
    await expectEsError(
      () => t.client.indices.create({ index: 'bad', mappings: { dynamic: true } }),
      400,
      'mapper_parsing_exception',
    );
    await expectEsError(() => t.client.indices.create({ index: 'Bad' }), 400, 'invalid_index_name_exception');
    await expectEsError(
      () => t.client.indices.create({ index: 'bad', settings: { analysis: { analyzer: {} } } }),
      400,
      'illegal_argument_exception',
    );
    assert.equal(await t.client.indices.exists({ index: 'bad' }), false);
  });

  it('operations on a missing index answer 404 index_not_found_exception', async () => {
    await expectEsError(
      () => t.client.index({ index: 'missing', id: '1', document: {} }),
      404,
      'index_not_found_exception',
    );
    await expectEsError(() => t.client.search({ index: 'missing' }), 404, 'index_not_found_exception');
    await expectEsError(() => t.client.get({ index: 'missing', id: '1' }), 404, 'index_not_found_exception');
  });

  it('PUT _mapping adds fields and refuses type changes', async () => {
    await t.client.indices.create({ index: 'grow', mappings: { properties: { a: { type: 'keyword' } } } });
    await t.client.indices.putMapping({ index: 'grow', properties: { b: { type: 'long' } } });
    const mapping = await t.client.indices.getMapping({ index: 'grow' });
    assert.deepEqual(Object.keys(mapping.grow?.mappings.properties ?? {}).sort(), ['a', 'b']);
    await expectEsError(
      () => t.client.indices.putMapping({ index: 'grow', properties: { a: { type: 'long' } } }),
      400,
      'illegal_argument_exception',
    );
  });

  it('answers GET /, cluster health and carries the product header on every response', async () => {
    const info = await t.client.info();
    assert.equal(info.version.number, '9.0.0');
    assert.equal(info.tagline, 'You Know, for Search');
    const health = await t.client.cluster.health();
    assert.equal(health.status, 'green');
    for (const [method, path] of [
      ['GET', '/'],
      ['HEAD', '/'],
      ['HEAD', '/nope'],
      ['GET', '/nope/_doc/1'],
      ['GET', '/_no_such_endpoint'],
      ['DELETE', '/'],
      ['GET', '/_cluster/health'],
    ] as const) {
      const response = await http(t.server.url, method, path);
      assert.equal(response.headers.get('x-elastic-product'), 'Elasticsearch', `${method} ${path}`);
    }
    const notFound = await http(t.server.url, 'GET', '/nope/_doc/1');
    assert.equal(notFound.status, 404);
    assert.equal((notFound.json() as { error: { type: string } }).error.type, 'index_not_found_exception');
    assert.equal((await http(t.server.url, 'DELETE', '/')).status, 405);
  });

  it('answers in the content type the client asked for', async () => {
    const vendored = await http(t.server.url, 'GET', '/', undefined, {
      accept: 'application/vnd.elasticsearch+json; compatible-with=9',
    });
    assert.match(vendored.headers.get('content-type') ?? '', /application\/vnd\.elasticsearch\+json/);
    const plain = await http(t.server.url, 'GET', '/');
    assert.match(plain.headers.get('content-type') ?? '', /application\/json/);
  });

  it('accepts gzip-compressed request bodies (client compression: true) and answers uncompressed', async () => {
    const gzipClient = new Client({ node: t.server.url, compression: true });
    try {
      await gzipClient.indices.create({ index: 'gz', mappings: { properties: { k: { type: 'keyword' } } } });
      await gzipClient.index({ index: 'gz', id: '1', document: { k: 'v' }, refresh: true });
      assert.equal((await gzipClient.count({ index: 'gz', query: { term: { k: 'v' } } })).count, 1);
    } finally {
      await gzipClient.close();
    }
  });

  it('serves Prometheus metrics on /_prometheus/metrics', async () => {
    const response = await http(t.server.url, 'GET', '/_prometheus/metrics');
    assert.equal(response.status, 200);
    assert.match(
      response.text,
      /tidemark_search_requests_total\{endpoint="info",method="GET",status="200"\}/,
    );
    assert.match(response.text, /tidemark_search_index_docs/);
  });
});
