/**
 * GET /v1/listings/search over real HTTP with an in-memory search view (the Elasticsearch one is in
 * search-elasticsearch.int.spec.ts): token semantics, parameters, and the 503 when no search view is configured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LISTING_SEARCH_PROJECTION } from '@tidemark/listings-projections';
import { decodeToken, encodeToken, tokenFromPositions } from '@tidemark/schemas';
import pino from 'pino';
import type { ListingSearchParams, ListingSearchResult, ListingSearchView, RunningQueryApi } from '../src';
import { startQueryApi } from '../src';
import { IDENTITY, ListingsWorld, PARTITIONS } from './support/world';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);
const KEY = { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['queries:read:listings'] };

/** A search view whose checkpoints and answer the test sets; it records the parameters it was asked. */
class FakeSearchView implements ListingSearchView {
  checkpointsNow = new Map<number, number>();
  asked: ListingSearchParams[] = [];
  failing = false;
  result: ListingSearchResult = { total: 0, hits: [], facets: { category: [] } };

  async checkpoints() {
    return new Map(this.checkpointsNow);
  }

  async search(params: ListingSearchParams) {
    if (this.failing) throw new Error('search store down');
    this.asked.push(params);
    return this.result;
  }

  async close() {}
}

const tokenText = (positions: Record<number, number>) => encodeToken(tokenFromPositions(IDENTITY, positions));

async function get(api: RunningQueryApi, path: string, token?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${KEY.secret}` };
  if (token) headers['consistency-token'] = token;
  const response = await fetch(`${api.url}${path}`, { headers });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as {
      data?: ListingSearchResult;
      token?: string;
      stale?: true;
      error?: { code: string; details?: Record<string, unknown> };
    },
  };
}

describe('search endpoint over HTTP (in-memory search view)', () => {
  const world = new ListingsWorld();
  const view = new FakeSearchView();
  let api: RunningQueryApi;

  const publishSearch = (partition: number, offset: number) =>
    world.bus.publish([
      { context: 'listings', projection: LISTING_SEARCH_PROJECTION, version: 1, partition, offset },
    ]);

  before(async () => {
    await world.register(1);
    await world.control.register({
      context: 'listings',
      name: LISTING_SEARCH_PROJECTION,
      version: 1,
      store: 'elasticsearch',
    });
    // The log has 5 events on partition 0 and 2 on partition 1 (only the offsets matter here).
    for (let i = 0; i < 5; i++) world.log[0]?.push({} as never);
    for (let i = 0; i < 2; i++) world.log[1]?.push({} as never);
    view.checkpointsNow = new Map([
      [0, 3],
      [1, 2],
    ]);
    view.result = {
      total: 1,
      hits: [
        {
          id: 'l-1',
          score: 2.5,
          listing: {
            id: 'l-1',
            sellerId: 's-1',
            title: 'Blue bicycle',
            description: 'Barely used',
            category: 'bikes',
            priceCents: 1000,
            currency: 'EUR',
            city: 'Utrecht',
            country: 'NL',
            status: 'active',
            publishedAt: '2025-01-01T00:00:00.000Z',
            updatedAt: '2025-01-01T00:00:00.000Z',
            version: 1,
          },
        },
      ],
      facets: { category: [{ key: 'bikes', count: 1 }] },
    };
    api = await startQueryApi({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [KEY],
      partitions: PARTITIONS,
      topicIdentity: async () => IDENTITY,
      logEnd: world.logEnd,
      control: world.control,
      bus: world.bus,
      views: { ...world.views(), search: () => view },
      waitTimeoutMs: 400,
      logger,
    });
  });

  after(async () => {
    await api.close();
  });

  test('200: {data: {total, hits, facets}, token}; the token is the search view watermark', async () => {
    const answer = await get(api, '/v1/listings/search?q=bike&category=bikes&sort=price_asc&size=5');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.data, view.result);
    assert.equal(answer.headers.get('x-tidemark-source'), 'elasticsearch');
    assert.equal(answer.headers.get('x-tidemark-view'), 'listing-search.v1');
    assert.equal(answer.headers.get('consistency-token'), answer.body.token);
    const token = decodeToken(answer.body.token as string, IDENTITY);
    assert.equal(token.positions.get(0), 3);
    assert.equal(token.positions.get(1), 2);
    assert.deepEqual(view.asked.at(-1), {
      q: 'bike',
      category: 'bikes',
      status: 'active',
      from: 0,
      size: 5,
      sort: 'price_asc',
    });
  });

  test('a token the view lacks waits for the search watermark, then answers with the merged token', async () => {
    const started = Date.now();
    const reading = get(api, '/v1/listings/search?q=bike', tokenText({ 0: 5, 2: 0 }));
    setTimeout(() => {
      view.checkpointsNow.set(0, 5);
      void publishSearch(0, 5);
    }, 100);
    const answer = await reading;
    assert.equal(answer.status, 200);
    assert.ok(Date.now() - started >= 90);
    const token = decodeToken(answer.body.token as string, IDENTITY);
    assert.equal(token.positions.get(0), 5);
    assert.equal(token.positions.get(1), 2);
  });

  test('not covered in time: 503 CONSISTENCY_TIMEOUT; stale=ok answers marked stale', async () => {
    world.log[1]?.push({} as never);
    const token = tokenText({ 1: 3 });
    const timeout = await get(api, '/v1/listings/search?wait=50', token);
    assert.equal(timeout.status, 503);
    assert.equal(timeout.body.error?.code, 'CONSISTENCY_TIMEOUT');
    assert.ok(timeout.headers.get('retry-after'));
    const stale = await get(api, '/v1/listings/search?stale=ok', token);
    assert.equal(stale.status, 200);
    assert.equal(stale.body.stale, true);
    assert.equal(stale.headers.get('consistency-stale'), 'true');
    assert.equal(decodeToken(stale.body.token as string, IDENTITY).positions.get(1), 3);
  });

  test('a token past the end of the log is 400 TOKEN_AHEAD_OF_LOG', async () => {
    const answer = await get(api, '/v1/listings/search', tokenText({ 0: 999 }));
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error?.code, 'TOKEN_AHEAD_OF_LOG');
  });

  test('bad parameters: 400 INVALID_QUERY_PARAMETER naming the parameter', async () => {
    for (const [query, parameter] of [
      ['sort=cheap', 'sort'],
      ['size=1000', 'size'],
      ['minPrice=5&maxPrice=1', 'minPrice'],
      ['status=gone', 'status'],
      ['q=a&q=b', 'q'],
    ] as const) {
      const answer = await get(api, `/v1/listings/search?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body.error?.code, 'INVALID_QUERY_PARAMETER', query);
      assert.equal(answer.body.error?.details?.parameter, parameter, query);
    }
  });

  test('a failing search store is 503 VIEW_UNAVAILABLE', async () => {
    view.failing = true;
    try {
      const answer = await get(api, '/v1/listings/search?q=x');
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error?.code, 'VIEW_UNAVAILABLE');
    } finally {
      view.failing = false;
    }
  });

  test('listings/:id still answers other ids (the search route does not shadow it)', async () => {
    const answer = await get(api, '/v1/listings/searchable');
    assert.notEqual(answer.status, 400);
  });
});

describe('search endpoint without a search view', () => {
  test('503 VIEW_UNAVAILABLE; the other views are unaffected', async () => {
    const world = new ListingsWorld();
    await world.register(1);
    const api = await startQueryApi({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [KEY],
      partitions: PARTITIONS,
      topicIdentity: async () => IDENTITY,
      logEnd: world.logEnd,
      control: world.control,
      bus: world.bus,
      views: world.views(),
      waitTimeoutMs: 100,
      logger,
    });
    try {
      const answer = await get(api, '/v1/listings/search?q=x');
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error?.code, 'VIEW_UNAVAILABLE');
      assert.equal(answer.body.error?.details?.view, LISTING_SEARCH_PROJECTION);
      const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      assert.ok(doc.paths['/v1/listings/search']);
    } finally {
      await api.close();
    }
  });
});
