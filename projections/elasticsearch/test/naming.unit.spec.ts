import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProjectionDefinition } from '@tidemark/projection-runtime';
import {
  checkpointId,
  createElasticsearchSink,
  decodeSource,
  dedupeWrites,
  documentId,
  elasticsearchTargetNames,
  encodeSource,
  MAX_ID_BYTES,
  viewMappings,
} from '../src/index';

const definition: ProjectionDefinition = {
  context: 'listings',
  name: 'listing-search',
  version: 3,
  store: 'elasticsearch',
  keyScope: 'aggregate',
  eventTypes: [],
  failurePolicy: 'stop',
  keys: () => [],
  apply: (current) => current,
};

describe('elasticsearch naming', () => {
  test('an index per version, a checkpoints index next to it, and the cutover alias name', () => {
    assert.deepEqual(elasticsearchTargetNames(definition), {
      index: 'tm-listings-listing-search-v3',
      checkpoints: 'tm-listings-listing-search-v3-checkpoints',
      alias: 'tm-listings-listing-search',
    });
    // Lowercased: index names must be.
    assert.equal(
      elasticsearchTargetNames({ context: 'Ctx', name: 'A-b', version: 1 }).index,
      'tm-ctx-a-b-v1',
    );
  });

  test('refuses names Elasticsearch would refuse, and bad versions', () => {
    assert.throws(() => elasticsearchTargetNames({ context: 'a b', name: 'x', version: 1 }), /context/);
    assert.throws(() => elasticsearchTargetNames({ context: 'a', name: '-x', version: 1 }), /name/);
    assert.throws(() => elasticsearchTargetNames({ context: 'a', name: 'x*', version: 1 }), /name/);
    assert.throws(() => elasticsearchTargetNames({ context: 'a', name: 'x', version: 0 }), /version/);
  });

  test('document ids are <partition>:<key>; over-long keys are hashed, still per partition', () => {
    assert.equal(documentId(4, 'listing-1'), '4:listing-1');
    assert.equal(documentId(0, 'colon:and/slash'), '0:colon:and/slash');
    const long = 'é'.repeat(300);
    const id = documentId(2, long);
    assert.match(id, /^2:#sha256:[0-9a-f]{64}$/);
    assert.ok(Buffer.byteLength(id) <= MAX_ID_BYTES);
    assert.equal(documentId(2, long), id);
    assert.ok(documentId(3, long).startsWith('3:#sha256:'));
    assert.equal(checkpointId(7), '_checkpoint:7');
    assert.throws(() => documentId(-1, 'k'), /partition/);
    assert.throws(() => checkpointId(1.5), /partition/);
  });

  test('a document round-trips with its bookkeeping; a tombstone is a marked-deleted document', () => {
    const doc = { title: 'x', nested: { a: [1, 2] }, nil: null };
    const source = encodeSource(1, 'k', 9, doc);
    assert.deepEqual(source, { ...doc, _tm: { key: 'k', partition: 1, position: 9, deleted: false } });
    assert.deepEqual(decodeSource(JSON.parse(JSON.stringify(source)), 'here'), {
      meta: { key: 'k', partition: 1, position: 9, deleted: false },
      doc,
    });
    const tombstone = encodeSource(1, 'k', 10, null);
    assert.deepEqual(tombstone, { _tm: { key: 'k', partition: 1, position: 10, deleted: true } });
    assert.equal(decodeSource(tombstone, 'here').doc, null);
    assert.throws(() => encodeSource(1, 'k', 1, { _tm: 1 }), /_tm/);
    assert.throws(() => decodeSource({ title: 'no meta' }, 'here'), /unreadable/);
  });

  test('mappings: the search fields plus the bookkeeping fields', () => {
    const mapped = viewMappings({
      ...definition,
      search: { mappings: { title: { type: 'text', fields: { raw: { type: 'keyword' } } } } },
    });
    assert.deepEqual(mapped, {
      properties: {
        title: { type: 'text', fields: { raw: { type: 'keyword' } } },
        _tm: {
          properties: {
            key: { type: 'keyword' },
            partition: { type: 'integer' },
            position: { type: 'long' },
            deleted: { type: 'boolean' },
          },
        },
      },
    });
    assert.deepEqual(Object.keys((viewMappings(definition) as { properties: object }).properties), ['_tm']);
  });

  test('dedupeWrites keeps the highest position per key', () => {
    const writes = dedupeWrites([
      { key: 'a', doc: { v: 1 }, position: 1 },
      { key: 'a', doc: { v: 3 }, position: 3 },
      { key: 'a', doc: { v: 2 }, position: 2 },
      { key: 'b', doc: null, position: 5 },
    ]);
    assert.deepEqual(writes, [
      { key: 'a', doc: { v: 3 }, position: 3 },
      { key: 'b', doc: null, position: 5 },
    ]);
  });

  test('a sink needs a node or a client', () => {
    assert.throws(() => createElasticsearchSink(definition, {}), /node or a client/);
    const sink = createElasticsearchSink(definition, { node: 'http://127.0.0.1:1' });
    assert.equal(sink.store, 'elasticsearch');
    assert.equal(sink.names.index, 'tm-listings-listing-search-v3');
  });
});
