import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import type { Sink } from '@tidemark/projection-runtime';
import { type SearchServer, startSearchServer } from '@tidemark/search';
import { describeSinkContract } from '@tidemark/sink-contract';
import pino from 'pino';
import {
  createElasticsearchSink,
  type ElasticsearchProjectionDefinition,
  type ElasticsearchSink,
  LIVE_DOCUMENTS,
} from '../src/index';

let server: SearchServer | undefined;
let dataDir = '';
let users = 0;

/** One search server for both describe blocks; the last one out stops it. */
async function acquire(): Promise<string> {
  users += 1;
  if (!server) {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidemark-es-sink-'));
    server = await startSearchServer({
      dataDir,
      host: '127.0.0.1',
      port: 0,
      refreshIntervalMs: 20,
      logger: pino({ level: 'warn' }),
    });
  }
  return (server as SearchServer).url;
}

async function release(): Promise<void> {
  users -= 1;
  if (users > 0) return;
  const running = server;
  server = undefined;
  await running?.close();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}

let contractClient: Client | undefined;

describeSinkContract('elasticsearch', {
  before: async () => {
    contractClient = new Client({ node: await acquire() });
  },
  after: async () => {
    await contractClient?.close();
    await release();
  },
  createSink: (definition) => createElasticsearchSink(definition, { client: contractClient as Client }),
  // Documents, then the checkpoint: two requests.
  capabilities: { atomicCommit: false, mayForget: false },
  writeDocumentsOnly: (sink, partition, writes) =>
    (sink as ElasticsearchSink).writeDocuments(partition, writes),
});

let nameSeq = 0;
function definition(version = 1): ElasticsearchProjectionDefinition {
  nameSeq += 1;
  return {
    context: 'sinktest',
    name: `es-${process.pid}-${nameSeq}`,
    version,
    store: 'elasticsearch',
    keyScope: 'aggregate',
    eventTypes: [],
    failurePolicy: 'stop',
    keys: () => [],
    apply: (current) => current,
    search: { mappings: { title: { type: 'text' }, category: { type: 'keyword' }, price: { type: 'long' } } },
  };
}

describe('elasticsearch sink: store specifics', () => {
  let client: Client;
  const sinks: Sink[] = [];

  before(async () => {
    client = new Client({ node: await acquire() });
  });

  after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await client.close();
    await release();
  });

  async function open(def = definition(), partitions?: number): Promise<ElasticsearchSink> {
    const sink = createElasticsearchSink(def, { client, ...(partitions ? { partitions } : {}) });
    sinks.push(sink);
    await sink.prepare();
    return sink;
  }

  test('written documents are searchable as soon as commit returns; tombstones are filtered out', async () => {
    const sink = await open();
    await sink.commit(
      0,
      [
        { key: 'a', doc: { title: 'blue bicycle', category: 'bikes', price: 100 }, position: 1 },
        { key: 'b', doc: { title: 'red bicycle', category: 'bikes', price: 200 }, position: 2 },
        { key: 'c', doc: null, position: 3 },
      ],
      3,
    );
    const answer = await client.search({
      index: sink.names.index,
      query: { bool: { must: [{ match: { title: 'bicycle' } }], filter: [LIVE_DOCUMENTS] } },
    });
    assert.deepEqual(answer.hits.hits.map((h) => h._id).sort(), ['0:a', '0:b']);
    await sink.commit(0, [{ key: 'a', doc: null, position: 4 }], 4);
    const after = await client.search({
      index: sink.names.index,
      query: { bool: { must: [{ match: { title: 'bicycle' } }], filter: [LIVE_DOCUMENTS] } },
    });
    assert.deepEqual(
      after.hits.hits.map((h) => h._id),
      ['0:b'],
    );
  });

  test('the first version prepared holds the projection alias; a later version leaves it there', async () => {
    const v1 = definition(1);
    const first = await open(v1);
    const second = await open({ ...v1, version: 2 });
    assert.notEqual(first.names.index, second.names.index);
    assert.equal(first.names.alias, second.names.alias);
    const aliases = await client.indices.getAlias({ name: first.names.alias });
    assert.deepEqual(Object.keys(aliases), [first.names.index]);
    // Reads through the alias see the first version's documents.
    await first.commit(
      0,
      [{ key: 'a', doc: { title: 'green bicycle', category: 'bikes', price: 1 }, position: 1 }],
      1,
    );
    const answer = await client.search({ index: first.names.alias, query: { match: { title: 'green' } } });
    assert.deepEqual(
      answer.hits.hits.map((h) => h._id),
      ['0:a'],
    );
  });

  test('stale writes are refused by external versions; the stored _version is the position', async () => {
    const sink = await open();
    await sink.commit(1, [{ key: 'k', doc: { title: 'new' }, position: 10 }], 10);
    await sink.commit(1, [{ key: 'k', doc: { title: 'old' }, position: 5 }], 5);
    const got = await client.get({ index: sink.names.index, id: '1:k' });
    assert.equal(got._version, 10);
    assert.deepEqual(got._source, {
      title: 'new',
      _tm: { key: 'k', partition: 1, position: 10, deleted: false },
    });
  });

  test('a document that does not fit its mapping fails the commit, and the checkpoint stays', async () => {
    const sink = await open();
    await sink.commit(0, [], 2);
    await assert.rejects(
      sink.commit(0, [{ key: 'bad', doc: { price: 'not a number' }, position: 3 }], 3),
      /writes failed/,
    );
    assert.deepEqual(await sink.checkpoints(), new Map([[0, 2]]));
  });

  test('checkpoints() by id when the partition count is given', async () => {
    const def = definition();
    const writer = await open(def);
    await writer.commit(0, [], 4);
    await writer.commit(2, [], 9);
    const reader = await open(def, 3);
    assert.deepEqual(
      await reader.checkpoints(),
      new Map([
        [0, 4],
        [2, 9],
      ]),
    );
    await writer.drop();
    assert.deepEqual(await reader.checkpoints(), new Map());
  });
});
