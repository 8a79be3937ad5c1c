/**
 * The search endpoint against the real search server (@tidemark/search, Elasticsearch API): documents are
 * committed with the real Elasticsearch sink, the watermark is published on the bus as the projector does right
 * after commit, and a search carrying the write's token finds the document.
 * (@tidemark/search is not a declared dependency of this package: build it first, `nx run @tidemark/search:build`.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import type { ListingSearchDocument } from '@tidemark/listings-projections';
import { createListingSearchProjection } from '@tidemark/listings-projections';
import { createElasticsearchSink, type ElasticsearchSink } from '@tidemark/projection-elasticsearch';
import type { EventEnvelope } from '@tidemark/schemas';
import { encodeToken, tokenFromPositions } from '@tidemark/schemas';
import { type SearchServer, startSearchServer } from '@tidemark/search';
import pino from 'pino';
import type { ListingSearchResult, RunningQueryApi } from '../src';
import { createElasticsearchListingSearch, startQueryApi } from '../src';
import { MemoryBus, MemoryControl } from './support/fakes';
import { envelope, publishedPayload } from './support/world';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);
const IDENTITY = 'a1b2c3d4e5f60718';
const P = 3;
const KEY = { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['queries:read:listings'] };
const definition = createListingSearchProjection({ version: 1 });

describe('search endpoint on the search server', () => {
  let dir = '';
  let server: SearchServer | undefined;
  let api: RunningQueryApi | undefined;
  let sink: ElasticsearchSink<ListingSearchDocument>;
  const bus = new MemoryBus();
  const control = new MemoryControl();
  const ends = new Map<number, number>();

  /** Appends events to "the log" (offsets only) and returns them placed, with their token. */
  function append(...events: EventEnvelope[]) {
    const placed: [EventEnvelope, number, number][] = [];
    const positions = new Map<number, number>();
    for (const event of events) {
      const partition = partitionForKey(event.aggregate.id, P);
      const offset = ends.get(partition) ?? 0;
      ends.set(partition, offset + 1);
      placed.push([event, partition, offset]);
      positions.set(partition, offset + 1);
    }
    return { placed, token: encodeToken(tokenFromPositions(IDENTITY, positions)) };
  }

  /** What the projector does per event: load, apply, commit (refreshed), then publish the watermark. */
  async function project(placed: [EventEnvelope, number, number][]) {
    for (const [event, partition, offset] of placed) {
      const key = event.aggregate.id;
      const found = (await sink.load(partition, [key])).get(key);
      const current = found && typeof found === 'object' ? found.doc : null;
      await sink.commit(
        partition,
        [{ key, doc: definition.apply(current, event, key), position: offset + 1 }],
        offset + 1,
      );
      await bus.publish([
        { context: 'listings', projection: definition.name, version: 1, partition, offset: offset + 1 },
      ]);
    }
  }

  async function search(query: string, token?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${KEY.secret}` };
    if (token) headers['consistency-token'] = token;
    const response = await fetch(`${api?.url}/v1/listings/search?${query}`, { headers });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as {
        data?: ListingSearchResult;
        token?: string;
        error?: { code: string };
      },
    };
  }

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidemark-query-search-'));
    server = await startSearchServer({
      dataDir: dir,
      host: '127.0.0.1',
      port: 0,
      refreshIntervalMs: 50,
      logger,
    });
    sink = createElasticsearchSink(definition, { node: server.url });
    await sink.prepare();
    await control.register({
      context: 'listings',
      name: definition.name,
      version: 1,
      store: 'elasticsearch',
    });
    const node = server.url;
    api = await startQueryApi({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [KEY],
      partitions: P,
      topicIdentity: IDENTITY,
      logEnd: async (partition) => ends.get(partition) ?? 0,
      control,
      bus,
      views: {
        // The other views are not read here.
        detail: () => {
          throw new Error('not used');
        },
        sellerStats: () => {
          throw new Error('not used');
        },
        cards: () => {
          throw new Error('not used');
        },
        search: (version) => createElasticsearchListingSearch({ version, node, partitions: P }),
      },
      waitTimeoutMs: 3000,
      logger,
    });
  });

  after(async () => {
    await api?.close();
    await sink?.close();
    await server?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('read-your-writes: a search with the write token waits for the projector, then finds the listing', async () => {
    const { placed, token } = append(
      envelope('es-1', 1, 'ListingPublished', {
        ...publishedPayload('es-seller', 1500),
        title: 'Vintage racing bicycle',
        description: 'Steel frame, new tyres',
      }),
    );
    const reading = search('q=racing', token);
    setTimeout(() => void project(placed), 150);
    const answer = await reading;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.headers.get('x-tidemark-source'), 'elasticsearch');
    assert.equal(answer.body.data?.total, 1);
    const hit = answer.body.data?.hits[0];
    assert.equal(hit?.id, 'es-1');
    assert.equal(hit?.listing.title, 'Vintage racing bicycle');
    assert.equal(hit?.listing.city, 'Utrecht');
    assert.ok(typeof hit?.score === 'number' && hit.score > 0);
    assert.equal(answer.headers.get('consistency-token'), answer.body.token);
  });

  test('filters, price range, sorting, paging and category facets', async () => {
    const { placed, token } = append(
      envelope('es-2', 1, 'ListingPublished', { ...publishedPayload('s', 500), title: 'Red city bicycle' }),
      envelope('es-3', 1, 'ListingPublished', {
        ...publishedPayload('s', 90_000),
        title: 'Sailing boat',
        category: 'boats',
        description: 'A bicycle fits on deck',
      }),
      envelope('es-4', 1, 'ListingPublished', {
        ...publishedPayload('s', 700),
        title: 'Kids bicycle',
        location: { country: 'DE', city: 'Berlin' },
      }),
    );
    await project(placed);
    const all = await search('q=bicycle', token);
    assert.equal(all.status, 200);
    assert.equal(all.body.data?.total, 4);
    // Title matches (boosted) rank above the description-only match.
    assert.equal(all.body.data?.hits.at(-1)?.id, 'es-3');
    assert.deepEqual(all.body.data?.facets.category, [
      { key: 'bikes', count: 3 },
      { key: 'boats', count: 1 },
    ]);
    const cheap = await search('q=bicycle&category=bikes&maxPrice=1000&sort=price_asc', token);
    assert.deepEqual(
      cheap.body.data?.hits.map((h) => [h.id, h.score]),
      [
        ['es-2', null],
        ['es-4', null],
      ],
    );
    const german = await search('country=DE', token);
    assert.deepEqual(
      german.body.data?.hits.map((h) => h.id),
      ['es-4'],
    );
    const page = await search('sort=price_desc&from=1&size=2', token);
    assert.equal(page.body.data?.total, 4);
    assert.deepEqual(
      page.body.data?.hits.map((h) => h.id),
      ['es-1', 'es-4'],
    );
  });

  test('a withdrawn listing leaves the default (active) results but is found with status=withdrawn', async () => {
    const { placed, token } = append(
      envelope('es-2', 2, 'ListingWithdrawn', { sellerId: 's', priceCents: 500, currency: 'EUR' }),
    );
    await project(placed);
    const active = await search('q=red', token);
    assert.equal(active.body.data?.total, 0);
    const withdrawn = await search('q=red&status=withdrawn', token);
    assert.deepEqual(
      withdrawn.body.data?.hits.map((h) => [h.id, h.listing.status]),
      [['es-2', 'withdrawn']],
    );
  });

  test('a token the search view never reaches: 503 CONSISTENCY_TIMEOUT', async () => {
    const { token } = append(envelope('es-9', 1, 'ListingPublished', publishedPayload('s', 1)));
    const answer = await search('q=x&wait=200', token);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error?.code, 'CONSISTENCY_TIMEOUT');
  });
});
