import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from './support/test-server';
import { expectEsError, http, startTestServer } from './support/test-server';

/** A GET with a JSON body, as curl sends it (fetch refuses a body on GET). */
function getWithBody(url: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const text = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

const MAPPINGS = {
  properties: {
    title: { type: 'text' as const },
    price: { type: 'long' as const },
    city: { type: 'keyword' as const },
  },
};

describe('multi get (_mget)', () => {
  let t: TestServer;
  before(async () => {
    // Periodic refresh off: a document is searchable only after an explicit refresh.
    t = await startTestServer({ refreshIntervalMs: 0 });
    await t.client.indices.create({ index: 'm1', mappings: MAPPINGS });
    await t.client.indices.create({ index: 'm2', mappings: MAPPINGS });
    await t.client.indices.putAlias({ index: 'm2', name: 'm2-alias' });
    await t.client.index({ index: 'm1', id: 'a', document: { title: 'one', price: 1, city: 'Oslo' } });
    await t.client.index({ index: 'm1', id: 'b', document: { title: 'two', price: 2, city: 'Rome' } });
    await t.client.index({ index: 'm2', id: 'a', document: { title: 'other', price: 9 } });
  });
  after(() => t.dispose());

  it('finds documents by ids in request order, with missing ones as found:false', async () => {
    const answer = await t.client.mget<{ title: string; price: number }>({
      index: 'm1',
      ids: ['b', 'zz', 'a'],
    });
    assert.equal(answer.docs.length, 3);
    assert.deepEqual(answer.docs[0], {
      _index: 'm1',
      _id: 'b',
      _version: 1,
      _seq_no: 1,
      _primary_term: 1,
      found: true,
      _source: { title: 'two', price: 2, city: 'Rome' },
    });
    assert.deepEqual(answer.docs[1], { _index: 'm1', _id: 'zz', found: false });
    assert.equal(answer.docs[2]?._id, 'a');
    assert.ok(answer.docs[2] !== undefined && 'found' in answer.docs[2] && answer.docs[2].found);
  });

  it('takes docs across indices and aliases; an unknown index is a per-document error', async () => {
    const answer = await t.client.mget({
      docs: [
        { _index: 'm2', _id: 'a' },
        { _index: 'nope', _id: 'a' },
        { _index: 'm1', _id: 'a' },
        { _index: 'm2-alias', _id: 'a' },
      ],
    });
    const [first, second, third, fourth] = answer.docs;
    assert.ok(first && 'found' in first && first.found);
    assert.deepEqual(first._source, { title: 'other', price: 9 });
    assert.ok(second && 'error' in second);
    assert.equal(second._index, 'nope');
    assert.equal(second._id, 'a');
    assert.equal(second.error.type, 'index_not_found_exception');
    assert.equal(second.error.reason, 'no such index [nope]');
    assert.ok(third && 'found' in third && third.found && third._index === 'm1');
    assert.ok(fourth && 'found' in fourth && fourth.found && fourth._index === 'm2');
  });

  it('an unknown index in the path is a per-document error too (200)', async () => {
    const reply = await http(t.server.url, 'POST', '/nope/_mget', { ids: ['1', '2'] });
    assert.equal(reply.status, 200);
    const body = reply.json() as { docs: { _index: string; _id: string; error?: { type: string } }[] };
    assert.deepEqual(
      body.docs.map((d) => [d._index, d._id, d.error?.type]),
      [
        ['nope', '1', 'index_not_found_exception'],
        ['nope', '2', 'index_not_found_exception'],
      ],
    );
  });

  it('is real-time: sees writes before a refresh', async () => {
    await t.client.index({ index: 'm1', id: 'fresh', document: { title: 'fresh', price: 5 } });
    const search = await t.client.search({ index: 'm1', query: { ids: { values: ['fresh'] } } });
    assert.equal(search.hits.hits.length, 0, 'not searchable yet');
    const answer = await t.client.mget({ index: 'm1', ids: ['fresh'] });
    const doc = answer.docs[0];
    assert.ok(doc && 'found' in doc && doc.found);
    assert.deepEqual(doc._source, { title: 'fresh', price: 5 });
    // A delete is seen at once as well.
    await t.client.delete({ index: 'm1', id: 'fresh' });
    const gone = await t.client.mget({ index: 'm1', ids: ['fresh'], realtime: true, refresh: true });
    assert.deepEqual(gone.docs[0], { _index: 'm1', _id: 'fresh', found: false });
  });

  it('filters _source from the querystring and per document', async () => {
    const includes = await t.client.mget({ index: 'm1', ids: ['a'], _source_includes: ['title', 'city'] });
    assert.deepEqual((includes.docs[0] as { _source?: unknown })._source, { title: 'one', city: 'Oslo' });
    const excludes = await t.client.mget({ index: 'm1', ids: ['a'], _source_excludes: ['title'] });
    assert.deepEqual((excludes.docs[0] as { _source?: unknown })._source, { price: 1, city: 'Oslo' });
    const none = await t.client.mget({ index: 'm1', ids: ['a'], _source: false });
    const noneDoc = none.docs[0] as unknown as Record<string, unknown>;
    assert.equal(noneDoc.found, true);
    assert.equal('_source' in noneDoc, false);
    const list = await getWithBody(t.server.url, '/m1/_mget?_source=price', { ids: ['a'] });
    assert.deepEqual((list.json as { docs: { _source: unknown }[] }).docs[0]?._source, { price: 1 });
    // Per-document _source wins over the querystring.
    const perDoc = await t.client.mget({
      index: 'm1',
      _source: false,
      docs: [
        { _id: 'a', _source: ['city'] },
        { _id: 'b', _source: { excludes: ['city', 'title'] } },
        { _id: 'a' },
      ],
    });
    const [x, y, z] = perDoc.docs as { _source?: unknown }[];
    assert.deepEqual(x?._source, { city: 'Oslo' });
    assert.deepEqual(y?._source, { price: 2 });
    assert.equal(z?._source, undefined);
  });

  it('keeps the order of many ids and repeats duplicates', async () => {
    const docs = Array.from({ length: 200 }, (_, i) => ({ id: `n${i}`, price: i }));
    await t.client.bulk({
      operations: docs.flatMap((d) => [{ index: { _index: 'm2', _id: d.id } }, { price: d.price }]),
    });
    const ids = [...docs.map((d) => d.id)].reverse();
    ids.splice(50, 0, 'missing', 'n3');
    const answer = await t.client.mget<{ price: number }>({ index: 'm2', ids });
    assert.deepEqual(
      answer.docs.map((d) => d._id),
      ids,
    );
    const n3 = answer.docs.filter((d) => d._id === 'n3');
    assert.equal(n3.length, 2);
    for (const d of n3) assert.ok('found' in d && d.found && d._source?.price === 3);
  });

  it('works over plain HTTP with GET and POST, /_mget and /{index}/_mget', async () => {
    const get = await getWithBody(t.server.url, '/_mget', { docs: [{ _index: 'm1', _id: 'a' }] });
    assert.equal(get.status, 200);
    assert.equal((get.json as { docs: { found: boolean }[] }).docs[0]?.found, true);
    const post = await http(t.server.url, 'POST', '/m1/_mget', {
      docs: [{ _id: 'b' }, { _id: 'a', _index: 'm2' }],
    });
    assert.equal(post.headers.get('x-elastic-product'), 'Elasticsearch');
    const body = post.json() as { docs: { _index: string; _id: string; found: boolean }[] };
    assert.deepEqual(
      body.docs.map((d) => [d._index, d._id, d.found]),
      [
        ['m1', 'b', true],
        ['m2', 'a', true],
      ],
    );
  });

  it('refuses bad requests like Elasticsearch', async () => {
    const noIndex = await http(t.server.url, 'POST', '/_mget', { ids: ['a'] });
    assert.equal(noIndex.status, 400);
    assert.match(noIndex.text, /action_request_validation_exception/);
    assert.match(noIndex.text, /index is missing for doc 0/);
    const noId = await http(t.server.url, 'POST', '/m1/_mget', { docs: [{ _index: 'm1' }] });
    assert.equal(noId.status, 400);
    assert.match(noId.text, /id is missing for doc 0/);
    const empty = await http(t.server.url, 'POST', '/m1/_mget', { ids: [] });
    assert.equal(empty.status, 400);
    assert.match(empty.text, /no documents to get/);
    const unknownKey = await http(t.server.url, 'POST', '/m1/_mget', { ids: ['a'], what: 1 });
    assert.equal(unknownKey.status, 400);
    assert.match(unknownKey.text, /parsing_exception/);
    await expectEsError(
      () => t.client.mget({ index: 'm1', ids: ['a'], realtime: false }),
      400,
      'illegal_argument_exception',
    );
    const unknownParam = await http(t.server.url, 'POST', '/m1/_mget?version=3', { ids: ['a'] });
    assert.equal(unknownParam.status, 400);
    assert.match(unknownParam.text, /unrecognized parameter: \[version\]/);
    const wrongMethod = await http(t.server.url, 'DELETE', '/m1/_mget');
    assert.equal(wrongMethod.status, 405);
  });
});
