/**
 * The Elasticsearch sink's activation (Sink.activate, what a cutover or rollback runs inside the control table's
 * transaction) against the embedded search server through the official client: the projection's alias moves to
 * the activated version in one `POST /_aliases`, readers of the alias never see no version or two, the undo
 * moves it back, and activating the version the alias already shows changes nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { type SearchServer, startSearchServer } from '@tidemark/search';
import pino from 'pino';
import {
  createElasticsearchSink,
  type ElasticsearchProjectionDefinition,
  type ElasticsearchSink,
  type ElasticsearchSinkOptions,
} from '../src/index';

let nameSeq = 0;
function definition(version: number, name?: string): ElasticsearchProjectionDefinition {
  nameSeq += 1;
  return {
    context: 'sinktest',
    name: name ?? `activate-${process.pid}-${nameSeq}`,
    version,
    store: 'elasticsearch',
    keyScope: 'aggregate',
    eventTypes: [],
    failurePolicy: 'stop',
    keys: () => [],
    apply: (current) => current,
    search: { mappings: { title: { type: 'keyword' } } },
  };
}

describe('elasticsearch sink: activation moves the projection alias', () => {
  let server: SearchServer;
  let dataDir: string;
  let client: Client;
  const sinks: ElasticsearchSink[] = [];
  /** `METHOD path` of every request the client sent, in order. */
  const requests: string[] = [];

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidemark-es-activate-'));
    server = await startSearchServer({
      dataDir,
      host: '127.0.0.1',
      port: 0,
      refreshIntervalMs: 20,
      logger: pino({ level: 'warn' }),
    });
    client = new Client({ node: server.url });
    client.diagnostic.on('response', (_error, result) => {
      const request = result?.meta.request.params;
      if (request) requests.push(`${request.method} ${request.path}`);
    });
  });

  after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await client?.close();
    await server?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  /** Versions 1 and 2 of a new projection, prepared (v1 claims the alias), each holding `a` with its version. */
  async function twoVersions(
    options: Partial<ElasticsearchSinkOptions> = {},
  ): Promise<[ElasticsearchSink, ElasticsearchSink]> {
    const v1def = definition(1);
    const opened = [v1def, { ...v1def, version: 2 }].map((def) =>
      createElasticsearchSink(def, { client, ...options }),
    );
    sinks.push(...opened);
    const [v1, v2] = opened as [ElasticsearchSink, ElasticsearchSink];
    await v1.prepare();
    await v1.commit(0, [{ key: 'a', doc: { title: 'v1' }, position: 1 }], 1);
    await v2.prepare();
    await v2.commit(0, [{ key: 'a', doc: { title: 'v2' }, position: 1 }], 1);
    return [v1, v2];
  }

  async function holders(alias: string): Promise<string[]> {
    if (!(await client.indices.existsAlias({ name: alias }))) return [];
    return Object.keys(await client.indices.getAlias({ name: alias })).sort();
  }

  /** The `title` of every document a search through the alias finds (an error: the alias held nothing). */
  async function readThroughAlias(alias: string): Promise<string[]> {
    const answer = await client.search<{ title: string }>({ index: alias, query: { match_all: {} } });
    return answer.hits.hits.map((hit) => hit._source?.title ?? '?');
  }

  test('activating v2 moves the alias from v1 in one _aliases request; readers see v1, then v2, never neither or both', async () => {
    const [v1, v2] = await twoVersions();
    const alias = v1.names.alias;
    assert.deepEqual(await holders(alias), [v1.names.index]);

    // A reader of the alias all along the switch.
    const seen: string[][] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) seen.push(await readThroughAlias(alias));
    })();
    while (seen.length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = requests.length;
    const activation = await v2.activate();
    const sent = requests.slice(before).filter((r) => r.includes('_alias'));
    const seenAt = seen.length;
    while (seen.length < seenAt + 5) await new Promise((resolve) => setTimeout(resolve, 5));
    reading = false;
    await reader;

    assert.deepEqual(await holders(alias), [v2.names.index]);
    assert.deepEqual(
      sent.filter((r) => r.startsWith('POST')),
      ['POST /_aliases'],
      `one atomic _aliases request, sent: ${sent.join(', ')}`,
    );
    for (const titles of seen) assert.equal(titles.length, 1, `one version at a time: ${titles.join(', ')}`);
    const titles = seen.map(([title]) => title);
    const switchedAt = titles.indexOf('v2');
    assert.ok(titles[0] === 'v1' && switchedAt > 0, titles.join(' '));
    assert.ok(
      titles.slice(switchedAt).every((t) => t === 'v2'),
      `no read goes back to v1: ${titles.join(' ')}`,
    );
    assert.equal(typeof activation.undo, 'function');
  });

  test('the undo moves the alias back to what held it', async () => {
    const [v1, v2] = await twoVersions();
    const activation = await v2.activate();
    assert.deepEqual(await holders(v1.names.alias), [v2.names.index]);
    await activation.undo();
    assert.deepEqual(await holders(v1.names.alias), [v1.names.index]);
    assert.deepEqual(await readThroughAlias(v1.names.alias), ['v1']);
    // Undoing twice is harmless.
    await activation.undo();
    assert.deepEqual(await holders(v1.names.alias), [v1.names.index]);
  });

  test('activating the version the alias already shows changes nothing (nor does its undo)', async () => {
    const [v1] = await twoVersions();
    const before = requests.length;
    const activation = await v1.activate();
    await activation.undo();
    const writes = requests.slice(before).filter((r) => r.startsWith('POST') || r.startsWith('PUT'));
    assert.deepEqual(writes, [], `no alias change sent: ${writes.join(', ')}`);
    assert.deepEqual(await holders(v1.names.alias), [v1.names.index]);
  });

  test('an alias that points nowhere is created on activation, and removed again by the undo', async () => {
    const [v1, v2] = await twoVersions();
    await client.indices.updateAliases({
      actions: [{ remove: { index: v1.names.index, alias: v1.names.alias } }],
    });
    assert.deepEqual(await holders(v1.names.alias), []);
    const activation = await v2.activate();
    assert.deepEqual(await holders(v1.names.alias), [v2.names.index]);
    await activation.undo();
    assert.deepEqual(await holders(v1.names.alias), []);
  });

  test('an activation that fails leaves the alias where it was', async () => {
    const [v1, v2] = await twoVersions();
    await v2.drop();
    await assert.rejects(v2.activate(), /index_not_found/);
    assert.deepEqual(await holders(v1.names.alias), [v1.names.index]);
  });

  test('the move is logged through the sink options logger', async () => {
    const logged: { details: Record<string, unknown>; message: string }[] = [];
    const [v1, v2] = await twoVersions({
      logger: { info: (details, message) => logged.push({ details, message }) },
    });
    await v2.activate();
    assert.deepEqual(logged, [
      {
        details: { alias: v1.names.alias, from: [v1.names.index], to: v2.names.index },
        message: 'alias moved',
      },
    ]);
  });
});
