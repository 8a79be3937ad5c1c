import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from './support/test-server';
import { expectEsError, http, startTestServer } from './support/test-server';

const MAPPINGS = {
  properties: {
    title: { type: 'text' as const },
    price: { type: 'long' as const },
    city: { type: 'keyword' as const },
  },
};

describe('documents and versions', () => {
  let t: TestServer;
  before(async () => {
    // Periodic refresh off: visibility changes only when a test refreshes.
    t = await startTestServer({ refreshIntervalMs: 0 });
    await t.client.indices.create({ index: 'docs', mappings: MAPPINGS });
  });
  after(() => t.dispose());

  it('indexes with internal versions, gets real-time and deletes', async () => {
    const first = await t.client.index({ index: 'docs', id: 'a', document: { title: 'one', price: 1 } });
    assert.equal(first.result, 'created');
    assert.equal(first._version, 1);
    const second = await t.client.index({ index: 'docs', id: 'a', document: { title: 'two', price: 2 } });
    assert.equal(second.result, 'updated');
    assert.equal(second._version, 2);
    const got = await t.client.get({ index: 'docs', id: 'a' });
    assert.equal(got.found, true);
    assert.equal(got._version, 2);
    assert.deepEqual(got._source, { title: 'two', price: 2 });

    const deleted = await t.client.delete({ index: 'docs', id: 'a' });
    assert.equal(deleted.result, 'deleted');
    assert.equal(deleted._version, 3);
    const missing = await http(t.server.url, 'GET', '/docs/_doc/a');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { _index: 'docs', _id: 'a', found: false });
    assert.equal(await t.client.exists({ index: 'docs', id: 'a' }), false);
    // Versions continue after a delete.
    const again = await t.client.index({ index: 'docs', id: 'a', document: { title: 'three' } });
    assert.equal(again._version, 4);
    assert.equal(again.result, 'created');
  });

  it('external versions accept only greater versions, also after a delete', async () => {
    const put = (version: number, versionType: 'external' | 'external_gte' = 'external') =>
      t.client.index({
        index: 'docs',
        id: 'x',
        version,
        version_type: versionType,
        document: { title: `v${version}` },
      });
    assert.equal((await put(10))._version, 10);
    const conflict = await expectEsError(() => put(10), 409, 'version_conflict_engine_exception');
    assert.match(
      JSON.stringify(conflict.body),
      /current version \[10\] is higher or equal to the one provided \[10\]/,
    );
    await expectEsError(() => put(9), 409, 'version_conflict_engine_exception');
    assert.equal((await put(10, 'external_gte'))._version, 10);
    assert.equal((await put(12))._version, 12);

    const deleted = await t.client.delete({ index: 'docs', id: 'x', version: 15, version_type: 'external' });
    assert.equal(deleted.result, 'deleted');
    // The tombstone keeps version 15: an older (re-applied) write is still refused.
    await expectEsError(() => put(14), 409, 'version_conflict_engine_exception');
    await expectEsError(
      () => t.client.delete({ index: 'docs', id: 'x', version: 15, version_type: 'external' }),
      409,
      'version_conflict_engine_exception',
    );
    assert.equal((await put(16))._version, 16);
    assert.deepEqual((await t.client.get({ index: 'docs', id: 'x' }))._source, { title: 'v16' });
  });

  it('create refuses an existing id; POST _doc generates ids; if_seq_no guards writes', async () => {
    await t.client.create({ index: 'docs', id: 'c', document: { title: 'c' } });
    await expectEsError(
      () => t.client.create({ index: 'docs', id: 'c', document: { title: 'c' } }),
      409,
      'version_conflict_engine_exception',
    );
    const generated = await t.client.index({ index: 'docs', document: { title: 'generated' } });
    assert.equal(generated.result, 'created');
    assert.match(generated._id, /^[A-Za-z0-9_-]{20}$/);
    const current = await t.client.get({ index: 'docs', id: 'c' });
    await t.client.index({
      index: 'docs',
      id: 'c',
      if_seq_no: current._seq_no,
      if_primary_term: current._primary_term,
      document: { title: 'c2' },
    });
    await expectEsError(
      () =>
        t.client.index({
          index: 'docs',
          id: 'c',
          if_seq_no: current._seq_no,
          if_primary_term: current._primary_term,
          document: { title: 'c3' },
        }),
      409,
      'version_conflict_engine_exception',
    );
  });

  it('rejects values that do not fit the mapping with mapper_parsing_exception', async () => {
    await expectEsError(
      () => t.client.index({ index: 'docs', id: 'bad', document: { price: 'abc' } }),
      400,
      'mapper_parsing_exception',
    );
    await expectEsError(
      () => t.client.index({ index: 'docs', id: 'bad', document: { title: { nested: true } } }),
      400,
      'mapper_parsing_exception',
    );
    assert.equal(await t.client.exists({ index: 'docs', id: 'bad' }), false);
    // Unmapped fields are kept in _source (dynamic: false behaviour).
    await t.client.index({
      index: 'docs',
      id: 'extra',
      document: { title: 'x', unmapped: { any: 'thing' } },
    });
    assert.deepEqual((await t.client.get({ index: 'docs', id: 'extra' }))._source, {
      title: 'x',
      unmapped: { any: 'thing' },
    });
  });

  it('partial updates merge into the stored document', async () => {
    await t.client.index({ index: 'docs', id: 'u', document: { title: 'before', price: 5 } });
    const updated = await t.client.update({ index: 'docs', id: 'u', doc: { price: 6 } });
    assert.equal(updated.result, 'updated');
    assert.deepEqual((await t.client.get({ index: 'docs', id: 'u' }))._source, { title: 'before', price: 6 });
    await expectEsError(
      () => t.client.update({ index: 'docs', id: 'none', doc: { price: 1 } }),
      404,
      'document_missing_exception',
    );
  });
});

describe('near-real-time refresh', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ refreshIntervalMs: 0 });
    await t.client.indices.create({ index: 'nrt', mappings: MAPPINGS });
  });
  after(() => t.dispose());

  const count = async () => (await t.client.count({ index: 'nrt' })).count;
  const searchIds = async () =>
    (await t.client.search({ index: 'nrt', query: { match_all: {} } })).hits.hits.map((h) => h._id).sort();

  it('a write is not searchable before a refresh but GET sees it at once', async () => {
    await t.client.index({ index: 'nrt', id: '1', document: { title: 'hidden' } });
    assert.equal(await count(), 0);
    assert.deepEqual(await searchIds(), []);
    assert.equal((await t.client.get({ index: 'nrt', id: '1' })).found, true);
    await t.client.indices.refresh({ index: 'nrt' });
    assert.equal(await count(), 1);
    assert.deepEqual(await searchIds(), ['1']);
  });

  it('refresh: true and refresh: wait_for make the write searchable when they return', async () => {
    const forced = await t.client.index({ index: 'nrt', id: '2', document: { title: 'x' }, refresh: true });
    assert.equal(forced.forced_refresh, true);
    assert.deepEqual(await searchIds(), ['1', '2']);
    await t.client.index({ index: 'nrt', id: '3', document: { title: 'y' }, refresh: 'wait_for' });
    assert.deepEqual(await searchIds(), ['1', '2', '3']);
    await t.client.delete({ index: 'nrt', id: '1' });
    assert.deepEqual(await searchIds(), ['1', '2', '3']);
    await t.client.indices.refresh();
    assert.deepEqual(await searchIds(), ['2', '3']);
  });

  it('the periodic refresh publishes writes within refreshIntervalMs', async () => {
    const periodic = await startTestServer({ refreshIntervalMs: 50 });
    try {
      await periodic.client.indices.create({ index: 'p', mappings: MAPPINGS });
      await periodic.client.index({ index: 'p', id: '1', document: { title: 'soon' } });
      const deadline = Date.now() + 5000;
      while ((await periodic.client.count({ index: 'p' })).count === 0) {
        assert.ok(Date.now() < deadline, 'not searchable after 5s');
        await new Promise((r) => setTimeout(r, 20));
      }
      // wait_for waits for the periodic refresh rather than forcing one.
      const response = await periodic.client.index({
        index: 'p',
        id: '2',
        document: { title: 'b' },
        refresh: 'wait_for',
      });
      assert.equal(response.forced_refresh, undefined);
      assert.equal((await periodic.client.count({ index: 'p' })).count, 2);
    } finally {
      await periodic.dispose();
    }
  });
});

describe('plain HTTP (curl-style) requests and unsupported features', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ refreshIntervalMs: 0 });
  });
  after(() => t.dispose());

  it('works with application/json and no client', async () => {
    const created = await http(t.server.url, 'PUT', '/curl', { mappings: MAPPINGS });
    assert.equal(created.status, 200);
    assert.match(created.headers.get('content-type') ?? '', /application\/json/);
    const indexed = await http(t.server.url, 'PUT', '/curl/_doc/1?refresh=true', {
      title: 'curl works',
      city: 'Oslo',
    });
    assert.equal(indexed.status, 201);
    assert.equal((indexed.json() as { result: string }).result, 'created');
    const searched = await http(t.server.url, 'POST', '/curl/_search?pretty', {
      query: { term: { city: 'Oslo' } },
    });
    assert.equal(searched.status, 200);
    assert.match(searched.text, /\n {2}"took"/);
    const body = searched.json() as {
      hits: { total: { value: number }; hits: { _id: string; _index: string }[] };
    };
    assert.equal(body.hits.total.value, 1);
    assert.equal(body.hits.hits[0]?._index, 'curl');
    const filtered = await http(t.server.url, 'GET', '/curl/_search?filter_path=hits.hits._id');
    assert.deepEqual(filtered.json(), { hits: { hits: [{ _id: '1' }] } });
    const bulk = await http(
      t.server.url,
      'POST',
      '/_bulk?refresh=true',
      '{"index":{"_index":"curl","_id":"2"}}\n{"title":"two"}\n{"delete":{"_index":"curl","_id":"1"}}\n',
      { 'content-type': 'application/x-ndjson' },
    );
    assert.equal(bulk.status, 200);
    assert.equal((bulk.json() as { errors: boolean }).errors, false);
    const count = await http(t.server.url, 'GET', '/curl/_count');
    assert.deepEqual((count.json() as { count: number }).count, 1);
    const malformed = await http(t.server.url, 'POST', '/curl/_search', '{not json');
    assert.equal(malformed.status, 400);
  });

  it('unsupported queries, options and parameters are a 400 naming them, never a different result', async () => {
    await http(t.server.url, 'PUT', '/u', { mappings: MAPPINGS });
    const fuzzy = await http(t.server.url, 'POST', '/u/_search', { query: { fuzzy: { title: 'x' } } });
    assert.equal(fuzzy.status, 400);
    const fuzzyBody = fuzzy.json() as {
      status: number;
      error: { type: string; reason: string; root_cause: unknown[] };
    };
    assert.equal(fuzzyBody.status, 400);
    assert.equal(fuzzyBody.error.type, 'parsing_exception');
    assert.match(fuzzyBody.error.reason, /fuzzy/);
    assert.equal(fuzzyBody.error.root_cause.length, 1);
    const highlight = await http(t.server.url, 'POST', '/u/_search', {
      highlight: { fields: { title: {} } },
    });
    assert.equal(highlight.status, 400);
    assert.match(highlight.text, /highlight/);
    const param = await http(t.server.url, 'GET', '/u/_search?scroll=1m');
    assert.equal(param.status, 400);
    assert.match(param.text, /unrecognized parameter: \[scroll\]/);
    await expectEsError(
      () => t.client.search({ index: 'u', query: { fuzzy: { title: { value: 'x' } } } }),
      400,
      'parsing_exception',
    );
  });
});
