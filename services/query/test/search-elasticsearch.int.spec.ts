/**
 * The listings search query against the real search server (@tidemark/search, Elasticsearch API), through the
 * Elasticsearch search view the deployment gives the query API: documents are committed with the real
 * Elasticsearch sink (the listing search index with its production mappings), the watermark is published on the
 * bus as the projector does right after commit, and a search carrying the write's token finds the document
 * (DESIGN invariant 3: a read carrying token T reflects every event below T, or fails with a retryable error).
 * Also: full text, filters, ranges, sorts, paging and facets as the definition builds them, and the normalised
 * keyword filters (`city=berlin` finds "Berlin", `country=de` finds "DE", `category=Home` finds "home" and
 * "Home") on the `<field>.lowercase` multi-fields the mappings declare with `normalizer: 'lowercase'`.
 * (The search server must accept `normalizer` and `analyzer` in mappings; without them the index cannot be
 * created and every test here fails in `before`.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import type { ListingSearchDocument } from '@tidemark/listings-projections';
import { createListingSearchProjection, listingQueries } from '@tidemark/listings-projections';
import { createElasticsearchSink, type ElasticsearchSink } from '@tidemark/projection-elasticsearch';
import type { EventEnvelope } from '@tidemark/schemas';
import { encodeToken, tokenFromPositions } from '@tidemark/schemas';
import { type SearchServer, startSearchServer } from '@tidemark/search';
import pino from 'pino';
import type { RunningQueryApi } from '../src';
import { createElasticsearchSearchView, startQueryApi } from '../src';
import { MemoryBus, MemoryControl } from './support/fakes';
import { envelope, listingDefinition, publishedPayload } from './support/world';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);
const IDENTITY = 'a1b2c3d4e5f60718';
const P = 3;
const KEY = { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['queries:read:listings'] };
const definition = createListingSearchProjection({ version: 1 });

interface SearchData {
  total: number;
  hits: { id: string; score: number | null; listing: ListingSearchDocument }[];
  facets: Record<string, { key: string; count: number }[]>;
}

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
        data?: SearchData;
        token?: string;
        error?: { code: string; details?: Record<string, unknown> };
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
    try {
      await sink.prepare();
    } catch (error) {
      // The listings mappings declare `analyzer: 'standard'` and keyword `normalizer: 'lowercase'` multi-fields.
      throw new Error(
        `the search server refused the listing search index (its mappings as the projection declares them): ${String(error)}`,
        { cause: error },
      );
    }
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
      contexts: [
        {
          name: 'listings',
          partitions: P,
          topicIdentity: IDENTITY,
          logEnd: async (partition) => ends.get(partition) ?? 0,
          queries: listingQueries.list,
          definition: listingDefinition,
          // The document views are not read here (none is registered, so none is followed either).
          sink: (projection) => {
            throw new Error(`${projection} is not read in this test`);
          },
          search: (projection, version) =>
            createElasticsearchSearchView({
              definition: listingDefinition(projection, version),
              node,
              partitions: P,
            }),
        },
      ],
      control,
      bus,
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

  test('normalised keyword filters: city=berlin, country=de, category=Home match whatever the case', async () => {
    const { placed, token } = append(
      envelope('es-5', 1, 'ListingPublished', {
        ...publishedPayload('n', 100),
        title: 'Reading lamp',
        category: 'home',
        location: { country: 'DE', city: 'Berlin' },
      }),
      envelope('es-6', 1, 'ListingPublished', {
        ...publishedPayload('n', 200),
        title: 'Oak chair',
        category: 'Home',
        location: { country: 'DE', city: 'BERLIN' },
      }),
      envelope('es-7', 1, 'ListingPublished', {
        ...publishedPayload('n', 300),
        title: 'Garden table',
        category: 'Home',
        location: { country: 'FR', city: 'Paris' },
      }),
    );
    await project(placed);
    const ids = async (query: string) => {
      const answer = await search(query, token);
      assert.equal(answer.status, 200, `${query}: ${JSON.stringify(answer.body)}`);
      return answer.body.data?.hits.map((h) => h.id).sort();
    };
    // es-4 (Kids bicycle, Berlin DE, bikes) is still active from the filters test.
    assert.deepEqual(await ids('city=berlin'), ['es-4', 'es-5', 'es-6']);
    assert.deepEqual(await ids('city=Berlin'), ['es-4', 'es-5', 'es-6']);
    assert.deepEqual(await ids('country=de'), ['es-4', 'es-5', 'es-6']);
    assert.deepEqual(await ids('country=DE'), ['es-4', 'es-5', 'es-6']);
    assert.deepEqual(await ids('category=Home'), ['es-5', 'es-6', 'es-7']);
    assert.deepEqual(await ids('category=home'), ['es-5', 'es-6', 'es-7']);
    assert.deepEqual(await ids('category=HOME&city=berlin&country=De'), ['es-5', 'es-6']);
    assert.deepEqual(await ids('city=berl'), [], 'a normalised filter is still an exact match');
    // Facets count the values as written: "home" and "Home" are two buckets.
    const facets = await search('category=home&sort=price_asc', token);
    assert.deepEqual(facets.body.data?.facets.category, [
      { key: 'Home', count: 2 },
      { key: 'home', count: 1 },
    ]);
    assert.deepEqual(
      facets.body.data?.hits.map((h) => [h.id, h.listing.category, h.listing.city]),
      [
        ['es-5', 'home', 'Berlin'],
        ['es-6', 'Home', 'BERLIN'],
        ['es-7', 'Home', 'Paris'],
      ],
    );
  });

  test('a misspelt filter is a 400 naming it, never a wider search', async () => {
    const answer = await search('q=bicycle&categroy=boats');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error?.code, 'INVALID_QUERY_PARAMETER');
    assert.deepEqual(answer.body.error?.details, { parameter: 'categroy' });
  });

  test('a token the search view never reaches: 503 CONSISTENCY_TIMEOUT', async () => {
    const { token } = append(envelope('es-9', 1, 'ListingPublished', publishedPayload('s', 1)));
    const answer = await search('q=x&wait=200', token);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error?.code, 'CONSISTENCY_TIMEOUT');
  });
});
