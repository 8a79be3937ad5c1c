import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from './support/test-server';
import { startTestServer } from './support/test-server';

interface BulkItem {
  status: number;
  result?: string;
  _version?: number;
  error?: { type: string };
}

describe('bulk', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ refreshIntervalMs: 0 });
    await t.client.indices.create({
      index: 'bulk',
      mappings: { properties: { title: { type: 'text' }, n: { type: 'long' } } },
    });
  });
  after(() => t.dispose());

  it('applies mixed actions in order with per-item results and errors', async () => {
    await t.client.index({
      index: 'bulk',
      id: 'ext',
      version: 5,
      version_type: 'external',
      document: { n: 5 },
    });
    const response = await t.client.bulk({
      refresh: true,
      operations: [
        { index: { _index: 'bulk', _id: '1' } },
        { title: 'one', n: 1 },
        { create: { _index: 'bulk', _id: '2' } },
        { title: 'two', n: 2 },
        { create: { _index: 'bulk', _id: '1' } },
        { title: 'dup' },
        { index: { _index: 'bulk', _id: 'ext', version: 4, version_type: 'external' } },
        { n: 4 },
        { index: { _index: 'bulk', _id: 'ext', version: 6, version_type: 'external' } },
        { n: 6 },
        { index: { _index: 'bulk', _id: 'bad' } },
        { n: 'not a number' },
        { update: { _index: 'bulk', _id: '2' } },
        { doc: { n: 22 } },
        { delete: { _index: 'bulk', _id: '1' } },
        { delete: { _index: 'bulk', _id: 'never' } },
        { index: { _index: 'missing', _id: '1' } },
        { n: 1 },
      ],
    });
    assert.equal(response.errors, true);
    const items = response.items.map((item) => {
      const [action, result] = Object.entries(item)[0] as [string, BulkItem];
      return [action, result.status, result.result ?? result.error?.type];
    });
    assert.deepEqual(items, [
      ['index', 201, 'created'],
      ['create', 201, 'created'],
      ['create', 409, 'version_conflict_engine_exception'],
      ['index', 409, 'version_conflict_engine_exception'],
      ['index', 200, 'updated'],
      ['index', 400, 'mapper_parsing_exception'],
      ['update', 200, 'updated'],
      ['delete', 200, 'deleted'],
      ['delete', 404, 'not_found'],
      ['index', 404, 'index_not_found_exception'],
    ]);
    assert.equal((await t.client.get({ index: 'bulk', id: 'ext' }))._version, 6);
    assert.deepEqual((await t.client.get({ index: 'bulk', id: '2' }))._source, { title: 'two', n: 22 });
    assert.equal((await t.client.count({ index: 'bulk' })).count, 2);
  });

  it('helpers.bulk indexes 10,000 documents', async () => {
    await t.client.indices.create({
      index: 'many',
      mappings: { properties: { n: { type: 'long' }, tag: { type: 'keyword' } } },
    });
    const docs = Array.from({ length: 10_000 }, (_, n) => ({
      id: `doc-${n}`,
      n,
      tag: n % 2 === 0 ? 'even' : 'odd',
    }));
    const dropped: unknown[] = [];
    const stats = await t.client.helpers.bulk({
      datasource: docs,
      flushBytes: 200_000,
      concurrency: 4,
      refreshOnCompletion: 'many',
      onDocument: (doc) => ({ index: { _index: 'many', _id: doc.id } }),
      onDrop: (item) => dropped.push(item),
    });
    assert.deepEqual(dropped, []);
    assert.equal(stats.total, 10_000);
    assert.equal(stats.successful, 10_000);
    assert.equal(stats.failed, 0);
    assert.equal((await t.client.count({ index: 'many' })).count, 10_000);
    assert.equal((await t.client.count({ index: 'many', query: { term: { tag: 'even' } } })).count, 5_000);
    assert.equal((await t.client.get<{ n: number }>({ index: 'many', id: 'doc-9999' }))._source?.n, 9999);
  });

  it('reports a malformed bulk body as a 400', async () => {
    const response = await fetch(`${t.server.url}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: '{"explode":{"_index":"bulk"}}\n{}\n',
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-elastic-product'), 'Elasticsearch');
  });
});
