/**
 * GET /v1/listings/search (the listings search query, from its definition) over real HTTP with an in-memory search
 * view that records the `_search` bodies it is asked (the Elasticsearch one is in search-elasticsearch.int.spec.ts):
 * invariant 3 (DESIGN: a read carrying token T reflects every event below T, or fails with a retryable error) for
 * the search view's watermark, invariant 4 (watermarks a client sees never decrease: the answer's token is the
 * request token merged with the view's watermark), parameters validated from the definition (unknown or misspelt
 * ones are a 400 naming them), the routing of the static search route beside the `/v1/listings/:id` parameter
 * route, and the 503 when no search view is configured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LISTING_SEARCH_PROJECTION } from '@tidemark/listings-projections';
import { decodeToken, encodeToken, tokenFromPositions } from '@tidemark/schemas';
import pino from 'pino';
import type { RunningQueryApi, SearchAnswer, SearchView } from '../src';
import { startQueryApi } from '../src';
import { until } from './support/fakes';
import { CONTEXT, IDENTITY, ListingsWorld } from './support/world';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);
const KEY = { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['queries:read:listings'] };
const LIVE = { term: { '_tm.deleted': false } };

const LISTING = {
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
};

/** A search view whose checkpoints and answer the test sets; it records the `_search` bodies it was asked. */
class FakeSearchView implements SearchView {
  checkpointsNow = new Map<number, number>();
  asked: Record<string, unknown>[] = [];
  failing = false;
  answer: SearchAnswer = { hits: { total: { value: 0 }, hits: [] } };

  async checkpoints() {
    return new Map(this.checkpointsNow);
  }

  async search(body: Record<string, unknown>) {
    if (this.failing) throw new Error('search store down');
    this.asked.push(body);
    return this.answer;
  }

  async close() {}
}

interface SearchData {
  total: number;
  hits: { id: string; score: number | null; listing: Record<string, unknown> }[];
  facets: Record<string, { key: string; count: number }[]>;
}

const tokenText = (positions: Record<number, number>) => encodeToken(tokenFromPositions(IDENTITY, positions));

async function get(api: RunningQueryApi, path: string, token?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${KEY.secret}` };
  if (token) headers['consistency-token'] = token;
  const response = await fetch(`${api.url}${path}`, { headers });
  const text = await response.text();
  let body: {
    data?: SearchData;
    token?: string;
    stale?: true;
    error?: { code: string; message: string; retryable: boolean; details?: Record<string, unknown> };
  } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // metrics are text
  }
  return { status: response.status, headers: response.headers, body, text };
}

describe('search endpoint over HTTP (in-memory search view)', () => {
  const world = new ListingsWorld();
  const view = new FakeSearchView();
  const opened: string[] = [];
  let api: RunningQueryApi;

  const publishSearch = (partition: number, offset: number) =>
    world.bus.publish([
      { context: CONTEXT, projection: LISTING_SEARCH_PROJECTION, version: 1, partition, offset },
    ]);

  before(async () => {
    await world.register(1);
    await world.control.register({
      context: CONTEXT,
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
    view.answer = {
      hits: {
        total: { value: 1 },
        hits: [
          {
            _id: '0:l-1',
            _score: 2.5,
            _source: { ...LISTING, _tm: { key: 'l-1', partition: 0, position: 3, deleted: false } },
          },
        ],
      },
      aggregations: { category: { buckets: [{ key: 'bikes', doc_count: 1 }] } },
    };
    api = await startQueryApi({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [KEY],
      contexts: [
        world.context({
          topicIdentity: async () => IDENTITY,
          search: (projection, version) => {
            opened.push(`${projection}.v${version}`);
            return view;
          },
        }),
      ],
      control: world.control,
      bus: world.bus,
      // Timeouts here come from ?wait=; reads that wait are answered while they wait.
      waitTimeoutMs: 5000,
      logger,
    });
  });

  after(async () => {
    await api.close();
  });

  test('200: {data: {total, hits, facets}, token}; the token is the search view watermark', async () => {
    const answer = await get(api, '/v1/listings/search?q=bike&category=Bikes&sort=price_asc&size=5');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.data, {
      total: 1,
      hits: [{ id: 'l-1', score: 2.5, listing: LISTING }],
      facets: { category: [{ key: 'bikes', count: 1 }] },
    });
    assert.equal(answer.headers.get('x-tidemark-source'), 'elasticsearch');
    assert.equal(answer.headers.get('x-tidemark-view'), 'listing-search.v1');
    assert.equal(answer.headers.get('consistency-version'), '1');
    assert.equal(answer.headers.get('consistency-token'), answer.body.token);
    const token = decodeToken(answer.body.token as string, IDENTITY);
    assert.equal(token.positions.get(0), 3);
    assert.equal(token.positions.get(1), 2);
    // The search the view ran: the definition's text fields, the normalised category, the default status.
    assert.deepEqual(view.asked.at(-1), {
      query: {
        bool: {
          must: [{ multi_match: { query: 'bike', fields: ['title^3', 'description'] } }],
          filter: [LIVE, { term: { 'category.lowercase': 'bikes' } }, { term: { status: 'active' } }],
        },
      },
      from: 0,
      size: 5,
      track_total_hits: true,
      sort: [{ priceCents: { order: 'asc' } }, { id: { order: 'asc' } }],
      aggs: { category: { terms: { field: 'category', size: 50 } } },
    });
    assert.deepEqual(opened, ['listing-search.v1'], 'one search view per version, reused');
  });

  test('a token the view lacks waits for the search watermark, then answers with the merged token', async () => {
    const asked = view.asked.length;
    const reading = get(api, '/v1/listings/search?q=bike', tokenText({ 0: 5, 2: 0 }));
    await until(() => api.engine.context(CONTEXT).tracker.waiting > 0, 'the search waits');
    assert.equal(view.asked.length, asked, 'no search before the view covers the token');
    view.checkpointsNow.set(0, 5);
    await publishSearch(0, 5);
    const answer = await reading;
    assert.equal(answer.status, 200);
    assert.equal(view.asked.length, asked + 1);
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
    assert.equal(timeout.body.error?.retryable, true);
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
      ['wait=later', 'wait'],
    ] as const) {
      const answer = await get(api, `/v1/listings/search?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body.error?.code, 'INVALID_QUERY_PARAMETER', query);
      assert.equal(answer.body.error?.details?.parameter, parameter, query);
    }
  });

  test('unknown or misspelt parameters: 400 naming them, and the view is never asked', async () => {
    const asked = view.asked.length;
    for (const [query, parameter] of [
      ['categroy=x', 'categroy'],
      ['qq=bike', 'qq'],
      ['q=bike&Category=bikes', 'Category'],
      ['q=bike&minprice=100', 'minprice'],
      ['id=l-1', 'id'],
    ] as const) {
      const answer = await get(api, `/v1/listings/search?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body.error?.code, 'INVALID_QUERY_PARAMETER', query);
      assert.equal(answer.body.error?.retryable, false, query);
      assert.deepEqual(answer.body.error?.details, { parameter }, query);
      assert.match(answer.body.error?.message ?? '', new RegExp(`unknown parameter '${parameter}'`), query);
    }
    assert.equal(view.asked.length, asked, 'a misspelt filter never widens a search');
  });

  test('a failing search store is 503 VIEW_UNAVAILABLE', async () => {
    view.failing = true;
    try {
      const answer = await get(api, '/v1/listings/search?q=x');
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error?.code, 'VIEW_UNAVAILABLE');
      assert.equal(answer.body.error?.retryable, true);
      assert.deepEqual(answer.body.error?.details, { view: LISTING_SEARCH_PROJECTION });
    } finally {
      view.failing = false;
    }
  });

  test('the static search route wins over /v1/listings/:id, which still answers every other id', async () => {
    const search = await get(api, '/v1/listings/search');
    assert.equal(search.status, 200);
    assert.equal(search.headers.get('x-tidemark-view'), 'listing-search.v1');
    // Ids that only look like the static segment are keys of the detail and card routes.
    const detail = await get(api, '/v1/listings/searchable');
    assert.equal(detail.status, 404);
    assert.equal(detail.body.error?.code, 'LISTING_NOT_FOUND');
    assert.deepEqual(detail.body.error?.details, { id: 'searchable' });
    assert.equal(detail.headers.get('x-tidemark-view'), 'listing-detail.v1');
    const card = await get(api, '/v1/listings/search/card');
    assert.equal(card.status, 404);
    assert.deepEqual(card.body.error?.details, { id: 'search' });
    assert.equal(card.headers.get('x-tidemark-source'), 'postgres-fallback');
    // And the request metric labels each request with its own route.
    const metrics = await get(api, '/metrics');
    const counts = metrics.text
      .split('\n')
      .filter((l) => l.startsWith('tidemark_query_http_request_duration_seconds_count'));
    assert.ok(counts.some((l) => l.includes('route="/v1/listings/search"') && l.includes('status="200"')));
    assert.ok(counts.some((l) => l.includes('route="/v1/listings/:id"') && l.includes('status="404"')));
    assert.ok(counts.some((l) => l.includes('route="/v1/listings/:id/card"') && l.includes('status="404"')));
    assert.ok(
      !counts.some((l) => l.includes('route="/v1/listings/:id"') && l.includes('status="200"')),
      'no search was counted as a detail read',
    );
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
      contexts: [world.context()],
      control: world.control,
      bus: world.bus,
      waitTimeoutMs: 100,
      logger,
    });
    try {
      const answer = await get(api, '/v1/listings/search?q=x');
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error?.code, 'VIEW_UNAVAILABLE');
      assert.equal(answer.body.error?.details?.view, LISTING_SEARCH_PROJECTION);
      // Parameters are still the definition's.
      assert.equal((await get(api, '/v1/listings/search?qq=x')).body.error?.code, 'INVALID_QUERY_PARAMETER');
      // The search view is not followed (only configured views are), and the document routes answer.
      const tracker = api.engine.context(CONTEXT).tracker;
      assert.throws(() => tracker.activeVersion(LISTING_SEARCH_PROJECTION), /not tracked/);
      assert.deepEqual(api.engine.context(CONTEXT).views.tracked().sort(), [
        'listing-card',
        'listing-detail',
        'seller-stats',
      ]);
      assert.equal((await get(api, '/v1/listings/nobody')).body.error?.code, 'LISTING_NOT_FOUND');
      const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      assert.ok(doc.paths['/v1/listings/search']);
    } finally {
      await api.close();
    }
  });
});
