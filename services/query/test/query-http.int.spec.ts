/**
 * The listings document routes of the query API over real HTTP (routes generated from the listings query
 * definitions), with in-memory stores, bus and control table (test/support/world.ts). Checks invariant 3 (DESIGN:
 * a read carrying token T reflects every event below T, or fails with a retryable error): a token the view lacks
 * waits, then answers or fails 503 CONSISTENCY_TIMEOUT, and a 404 only comes from a view that covers the token;
 * and invariant 4 (watermarks a client sees never decrease): every answer's token is the request token merged
 * with the view's watermark, stale answers included. Also: auth scopes, token errors, parameters validated from
 * the definitions (an unknown one is a 400 naming it), the card fallback, the gathering view merged, version
 * switches, the generated routing (unknown paths are 404 ROUTE_NOT_FOUND) and the system routes. The same reads
 * against Postgres, Redis and Memcached are in query.int.spec.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import { decodeToken, encodeToken, tokenFromPositions } from '@tidemark/schemas';
import pino from 'pino';
import type { RunningQueryApi } from '../src';
import { startQueryApi } from '../src';
import { flush, until } from './support/fakes';
import { CONTEXT, envelope, IDENTITY, ListingsWorld, PARTITIONS, publishedPayload } from './support/world';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);

const KEYS = {
  reader: { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['queries:read:listings'] },
  other: {
    id: 'other',
    secret: 'other-secret-0123456789',
    scopes: ['queries:read:widgets', 'commands:write:listings'],
  },
  admin: { id: 'admin', secret: 'admin-secret-0123456789', scopes: ['*'] },
};

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown>; token?: string; stale?: boolean; error?: Record<string, unknown> };
}

const tokenText = (positions: Record<number, number>, identity = IDENTITY) =>
  encodeToken(tokenFromPositions(identity, positions));

describe('query API over HTTP (in-memory stores)', () => {
  const world = new ListingsWorld();
  let api: RunningQueryApi;
  const tracker = () => api.engine.context(CONTEXT).tracker;

  async function get(path: string, init: { token?: string; key?: string | null; signal?: AbortSignal } = {}) {
    const headers: Record<string, string> = {};
    const key = init.key === undefined ? KEYS.reader.secret : init.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (init.token !== undefined) headers['consistency-token'] = init.token;
    const response = await fetch(`${api.url}${path}`, {
      headers,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const text = await response.text();
    let body: Answer['body'] = {};
    try {
      body = JSON.parse(text);
    } catch {
      // metrics are text
    }
    return { status: response.status, headers: response.headers, body, text };
  }

  before(async () => {
    await world.register(1);
    world.append(
      envelope('l-1', 1, 'ListingPublished', publishedPayload('s-1', 1000)),
      envelope('l-2', 1, 'ListingPublished', publishedPayload('s-1', 500)),
      envelope('l-3', 1, 'ListingPublished', publishedPayload('s-1', 250)),
    );
    await world.projectAll();
    api = await startQueryApi({
      host: '127.0.0.1',
      port: 0,
      apiKeys: Object.values(KEYS),
      // The identity as a lookup (as the deployment gives it: awaitTopicIdentity), not a constant.
      contexts: [world.context({ topicIdentity: async () => IDENTITY })],
      control: world.control,
      bus: world.bus,
      // Reads that must time out do after this bound; reads that must answer are answered while they wait.
      waitTimeoutMs: 1000,
      logger,
    });
  });

  after(async () => {
    await api.close();
  });

  test('401 without a key, 403 without queries:read:listings', async () => {
    const none = await get('/v1/listings/l-1', { key: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.error?.code, 'UNAUTHENTICATED');
    assert.ok(none.headers.get('www-authenticate'));
    assert.equal((await get('/v1/listings/l-1', { key: 'nope' })).status, 401);
    const other = await get('/v1/listings/l-1', { key: KEYS.other.secret });
    assert.equal(other.status, 403);
    assert.deepEqual(other.body.error?.details, { requiredScope: 'queries:read:listings' });
    assert.equal((await get('/v1/listings/l-1', { key: KEYS.admin.secret })).status, 200);
  });

  test('200: {data, token}; the token is the view watermark, also in the Consistency-Token header', async () => {
    const answer = await get('/v1/listings/l-1');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.data?.id, 'l-1');
    assert.equal(answer.body.data?.status, 'active');
    assert.equal(answer.body.stale, undefined);
    assert.equal(answer.headers.get('consistency-token'), answer.body.token);
    assert.equal(answer.headers.get('consistency-stale'), null);
    assert.equal(answer.headers.get('x-tidemark-source'), 'postgres');
    assert.equal(answer.headers.get('x-tidemark-view'), 'listing-detail.v1');
    assert.equal(answer.headers.get('consistency-version'), '1');
    const token = decodeToken(answer.body.token as string, IDENTITY);
    for (let p = 0; p < PARTITIONS; p++) assert.equal(token.positions.get(p) ?? 0, world.log[p]?.length);
  });

  test('read-your-writes: a read with a token the view lacks waits for the projector, then answers', async () => {
    const written = world.append(envelope('l-1', 2, 'DetailsUpdated', { title: 'Green bicycle' }));
    const reading = get('/v1/listings/l-1', { token: tokenText(written) });
    // The projector catches up while the read waits (not on a timer: a loaded machine would outrun it).
    await until(() => tracker().waiting > 0, 'the read waits');
    await world.project('detail');
    const answer = await reading;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.data?.title, 'Green bicycle');
    const back = decodeToken(answer.body.token as string, IDENTITY);
    for (const [p, o] of Object.entries(written)) assert.ok((back.positions.get(Number(p)) ?? 0) >= o);
  });

  test('after the bound: 503 CONSISTENCY_TIMEOUT, retryable, Retry-After; ?wait= lowers the bound', async () => {
    const written = world.append(envelope('l-2', 2, 'DetailsUpdated', { title: 'Never projected (yet)' }));
    const started = Date.now();
    const answer = await get('/v1/listings/l-2', { token: tokenText(written) });
    assert.ok(Date.now() - started >= 950, 'the whole server bound');
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error?.code, 'CONSISTENCY_TIMEOUT');
    assert.equal(answer.body.error?.retryable, true);
    assert.equal(answer.headers.get('retry-after'), '1');
    const quick = await get('/v1/listings/l-2?wait=0', { token: tokenText(written) });
    assert.equal(quick.status, 503);
    assert.equal(quick.body.error?.code, 'CONSISTENCY_TIMEOUT');
    assert.deepEqual(
      (quick.body.error?.details as { timeoutMs?: number } | undefined)?.timeoutMs,
      0,
      'the wait was bounded by ?wait=0',
    );

    // stale=ok: no wait, the older document, marked stale in the header and the body.
    const stale = await get('/v1/listings/l-2?stale=ok', { token: tokenText(written) });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.stale, true);
    assert.equal(stale.headers.get('consistency-stale'), 'true');
    assert.equal(stale.body.data?.title, 'Blue bicycle');
    // The token it answers with still carries the request's positions (merged): a client's token never goes back.
    const back = decodeToken(stale.body.token as string, IDENTITY);
    for (const [p, o] of Object.entries(written)) assert.equal(back.positions.get(Number(p)), o);

    await world.project('detail');
    const fresh = await get('/v1/listings/l-2?stale=ok', { token: tokenText(written) });
    assert.equal(fresh.body.stale, undefined, 'a covering view is not stale');
    assert.equal(fresh.body.data?.title, 'Never projected (yet)');
  });

  test('404 only from a view that covers the token', async () => {
    const written = world.append(envelope('l-new', 1, 'ListingPublished', publishedPayload('s-2')));
    const unseen = await get('/v1/listings/l-new', { token: tokenText(written) });
    assert.equal(unseen.status, 503, 'not covered: a retryable error, never a 404');
    const missing = await get('/v1/listings/nobody');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body.error, {
      code: 'LISTING_NOT_FOUND',
      message: "listing-detail has no document 'nobody'",
      retryable: false,
      details: { id: 'nobody' },
    });
    // A 404 carries the token of the view that covered the read (its watermark, behind the log here), like an
    // answer.
    const at = decodeToken(missing.headers.get('consistency-token') as string, IDENTITY);
    const watermark = tracker().watermark('listing-detail');
    assert.ok(watermark.size > 0);
    for (let p = 0; p < PARTITIONS; p++) assert.equal(at.positions.get(p) ?? 0, watermark.get(p) ?? 0);
    assert.equal(missing.headers.get('consistency-version'), '1');
    assert.equal(missing.headers.get('x-tidemark-view'), 'listing-detail.v1');
    const staleMissing = await get('/v1/listings/l-new?stale=ok', { token: tokenText(written) });
    assert.equal(staleMissing.status, 404);
    assert.equal(staleMissing.headers.get('consistency-stale'), 'true');
    assert.deepEqual(staleMissing.body.error?.details, { id: 'l-new', stale: true });
    await world.project('detail');
    assert.equal((await get('/v1/listings/l-new', { token: tokenText(written) })).status, 200);
  });

  test('token errors are 400: malformed, foreign topic, past the end of the log, unknown partition', async () => {
    const cases: [string, string][] = [
      ['!!!', 'TOKEN_MALFORMED'],
      [tokenText({ 0: 1 }, 'fedcba9876543210'), 'TOKEN_FOREIGN'],
      [tokenText({ 0: (world.log[0]?.length ?? 0) + 5 }), 'TOKEN_AHEAD_OF_LOG'],
      [tokenText({ [PARTITIONS]: 1 }), 'TOKEN_AHEAD_OF_LOG'],
    ];
    for (const [text, code] of cases) {
      for (const path of ['/v1/listings/l-1', '/v1/listings/l-1/card', '/v1/sellers/s-1/stats']) {
        const answer = await get(path, { token: text });
        assert.equal(answer.status, 400, `${code} on ${path}`);
        assert.equal(answer.body.error?.code, code);
        assert.equal(answer.body.error?.retryable, false);
      }
    }
    const versionByte = Buffer.from(tokenText({ 0: 1 }), 'base64url');
    versionByte[0] = 9;
    const unsupported = await get('/v1/listings/l-1', { token: versionByte.toString('base64url') });
    assert.equal(unsupported.body.error?.code, 'TOKEN_UNSUPPORTED_VERSION');
  });

  test('bad ids and query parameters are 400, naming the path parameter or the query parameter', async () => {
    const long = await get(`/v1/listings/${'x'.repeat(201)}`);
    assert.equal(long.status, 400);
    assert.deepEqual(long.body.error, {
      code: 'INVALID_ID',
      message: 'id must be 1 to 200 characters without control characters',
      retryable: false,
      details: { maxLength: 200 },
    });
    const stats = await get(`/v1/sellers/${'y'.repeat(201)}/stats`);
    assert.equal(stats.body.error?.code, 'INVALID_ID');
    assert.match(String(stats.body.error?.message), /^id must be/);
    assert.equal((await get('/v1/listings/l%07x/card')).body.error?.code, 'INVALID_ID');
    for (const [query, parameter] of [
      ['wait=soon', 'wait'],
      ['wait=60001', 'wait'],
      ['stale=maybe', 'stale'],
    ] as const) {
      const answer = await get(`/v1/listings/l-1?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body.error?.code, 'INVALID_QUERY_PARAMETER', query);
      assert.deepEqual(answer.body.error?.details, { parameter }, query);
    }
  });

  test('a document route takes no parameter besides stale and wait: any other is a 400 naming it', async () => {
    const cases: [string, string][] = [
      ['/v1/listings/l-1?foo=1', 'foo'],
      ['/v1/listings/l-1?Stale=ok', 'Stale'],
      ['/v1/listings/l-1?stale=ok&staleness=ok', 'staleness'],
      ['/v1/listings/l-1/card?id=l-2', 'id'],
      ['/v1/sellers/s-1/stats?q=bike', 'q'],
      ['/v1/sellers/s-1/stats?wait=10&category=bikes', 'category'],
    ];
    for (const [path, parameter] of cases) {
      const answer = await get(path);
      assert.equal(answer.status, 400, path);
      assert.deepEqual(
        answer.body.error,
        {
          code: 'INVALID_QUERY_PARAMETER',
          message: `unknown parameter '${parameter}' (a read takes: stale, wait)`,
          retryable: false,
          details: { parameter },
        },
        path,
      );
      assert.equal(answer.headers.get('consistency-token'), null, 'refused before any view is read');
    }
    // Refused before the read, even with a token the view lacks (a read that waited could only have ended in a
    // 503: the view does not get to cover this token during the request).
    const written = world.append(envelope('l-param', 1, 'ListingPublished', publishedPayload('s-3')));
    const early = await get('/v1/listings/l-1?misspelt=1', { token: tokenText(written) });
    assert.equal(early.status, 400);
    assert.deepEqual(early.body.error?.details, { parameter: 'misspelt' });
    await world.projectAll();
    // The read parameters themselves are fine on every document route.
    for (const path of ['/v1/listings/l-1', '/v1/listings/l-1/card', '/v1/sellers/s-1/stats']) {
      assert.equal((await get(`${path}?stale=ok&wait=100`)).status, 200, path);
    }
  });

  test('an unknown path is 404 ROUTE_NOT_FOUND in the error shape, with or without a key', async () => {
    for (const path of [
      '/v1/nothing',
      '/v1/listings/l-1/detail',
      '/v1/sellers/s-1',
      '/v1/sellers/s-1/stats/extra',
      '/v2/listings/l-1',
    ]) {
      for (const key of [KEYS.reader.secret, null]) {
        const answer = await get(path, { key });
        assert.equal(answer.status, 404, path);
        assert.equal(answer.body.error?.code, 'ROUTE_NOT_FOUND', path);
        assert.equal(answer.body.error?.retryable, false, path);
        assert.equal(typeof answer.body.error?.message, 'string', path);
        assert.equal(answer.headers.get('consistency-token'), null, path);
      }
    }
  });

  test('card: from memcached, or derived from the detail view when memcached does not know it', async () => {
    await world.projectAll();
    const hit = await get('/v1/listings/l-3/card');
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get('x-tidemark-source'), 'memcached');
    assert.equal(hit.headers.get('x-tidemark-view'), 'listing-card.v1');
    const cards = world.sink('cards', 1);
    cards.evict(partitionForKey('l-3', PARTITIONS), 'l-3');
    const fallback = await get('/v1/listings/l-3/card');
    assert.equal(fallback.status, 200);
    assert.equal(fallback.headers.get('x-tidemark-source'), 'postgres-fallback');
    assert.equal(fallback.headers.get('x-tidemark-view'), 'listing-detail.v1');
    assert.deepEqual(fallback.body.data, hit.body.data);
    cards.failReads = true;
    const down = await get('/v1/listings/l-3/card');
    assert.equal(down.headers.get('x-tidemark-source'), 'postgres-fallback');
    cards.failReads = false;
    // Never written anywhere: memcached says 'unknown', the detail view says absent: a 404, from the fallback.
    const ghost = await get('/v1/listings/ghost/card');
    assert.equal(ghost.status, 404);
    assert.deepEqual(ghost.body.error, {
      code: 'LISTING_NOT_FOUND',
      message: "listing-detail has no document 'ghost'",
      retryable: false,
      details: { id: 'ghost' },
    });
    assert.equal(ghost.headers.get('x-tidemark-source'), 'postgres-fallback');
    assert.equal(ghost.headers.get('x-tidemark-view'), 'listing-detail.v1');
    // The fallback waits for the detail view to cover the token too.
    const written = world.append(envelope('l-3', 2, 'DetailsUpdated', { title: 'Card title' }));
    await world.project('cards');
    cards.evict(partitionForKey('l-3', PARTITIONS), 'l-3');
    const waiting = get('/v1/listings/l-3/card', { token: tokenText(written) });
    await until(() => tracker().waiting > 0, 'the fallback read waits for the detail view');
    await world.project('detail');
    const late = await waiting;
    assert.equal(late.headers.get('x-tidemark-source'), 'postgres-fallback');
    assert.equal(late.body.data?.title, 'Card title');
  });

  test('seller stats: the partitions’ sub-documents merged; an unknown seller is a 404', async () => {
    await world.projectAll();
    const ids = ['l-1', 'l-2', 'l-3'].map((id) => partitionForKey(id, PARTITIONS));
    const stats = await get('/v1/sellers/s-1/stats');
    assert.equal(stats.status, 200);
    assert.equal(stats.headers.get('x-tidemark-source'), 'redis');
    assert.deepEqual(stats.body.data, {
      sellerId: 's-1',
      activeListings: 3,
      askingValueCents: { EUR: 1750 },
      soldListings: 0,
      withdrawnListings: 0,
    });
    assert.ok(new Set(ids).size >= 1);
    const missing = await get('/v1/sellers/nobody/stats');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body.error, {
      code: 'SELLER_NOT_FOUND',
      message: "seller-stats has no document 'nobody'",
      retryable: false,
      details: { id: 'nobody' },
    });
    assert.equal(missing.headers.get('x-tidemark-view'), 'seller-stats.v1');
  });

  test('reads follow the active version of the control table, and switch when it changes', async () => {
    await world.register(2);
    await world.projectAll(2);
    assert.equal((await get('/v1/listings/l-1')).headers.get('x-tidemark-view'), 'listing-detail.v1');
    await world.control.activate('listings', 'listing-detail', 2);
    await flush();
    const after = await get('/v1/listings/l-1');
    assert.equal(after.headers.get('x-tidemark-view'), 'listing-detail.v2');
    assert.equal(after.headers.get('consistency-version'), '2');
    assert.equal(after.body.data?.title, 'Green bicycle');
    await world.control.activate('listings', 'listing-detail', 1);
    await flush();
    assert.equal((await get('/v1/listings/l-1')).headers.get('x-tidemark-view'), 'listing-detail.v1');
  });

  test('a client that goes away stops its wait', async () => {
    const written = world.append(
      envelope('l-1', 3, 'PriceChanged', {
        sellerId: 's-1',
        priceCents: 900,
        previousPriceCents: 1000,
        currency: 'EUR',
      }),
    );
    const controller = new AbortController();
    const reading = get('/v1/listings/l-1', { token: tokenText(written), signal: controller.signal });
    await until(() => tracker().waiting > 0, 'the read waits');
    assert.equal(tracker().waiting, 1);
    controller.abort();
    await assert.rejects(reading);
    await until(() => tracker().waiting === 0, 'the wait is given up');
    await world.projectAll();
  });

  test('/healthz, /metrics and /openapi.json', async () => {
    assert.equal((await get('/healthz', { key: null })).status, 200);
    const metrics = await get('/metrics', { key: null });
    assert.equal(metrics.status, 200);
    assert.match(
      metrics.text,
      /tidemark_query_http_request_duration_seconds_bucket\{.*route="\/v1\/listings\/:id"/,
    );
    assert.match(
      metrics.text,
      /tidemark_query_http_request_duration_seconds_bucket\{.*route="\/v1\/sellers\/:id\/stats"/,
    );
    assert.match(metrics.text, /tidemark_query_consistency_timeouts_total\{view="listing-detail"\} [1-9]/);
    // The card test: two reads the cache did not know (evicted), one it failed on; the ghost card counts too.
    assert.match(metrics.text, /tidemark_query_fallbacks_total\{view="listing-card",reason="unknown"\} 3\n/);
    assert.match(metrics.text, /tidemark_query_fallbacks_total\{view="listing-card",reason="error"\} 1\n/);
    assert.match(
      metrics.text,
      /tidemark_query_active_version\{context="listings",projection="listing-detail"\} 1\n/,
    );
    assert.match(
      metrics.text,
      /tidemark_query_active_version\{context="listings",projection="seller-stats"\} 1\n/,
    );
    assert.match(
      metrics.text,
      /tidemark_query_version_switches_total\{context="listings",projection="listing-detail",covered="true"\} 2\n/,
    );
    assert.match(metrics.text, /tidemark_query_consistency_wait_seconds_bucket/);
    const openapi = await get('/openapi.json', { key: null });
    assert.equal(openapi.status, 200);
    assert.ok(
      (openapi.body as unknown as { paths: Record<string, unknown> }).paths['/v1/listings/{id}/card'],
    );
  });
});
