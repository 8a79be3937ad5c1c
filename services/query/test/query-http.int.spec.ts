/**
 * The query API over real HTTP, with in-memory stores, bus and control table (test/support/world.ts). The same
 * behaviour against Postgres, Redis and Memcached is in query.int.spec.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import { decodeToken, encodeToken, tokenFromPositions } from '@tidemark/schemas';
import pino from 'pino';
import type { RunningQueryApi } from '../src';
import { startQueryApi } from '../src';
import { flush } from './support/fakes';
import { envelope, IDENTITY, ListingsWorld, PARTITIONS, publishedPayload } from './support/world';

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
      partitions: PARTITIONS,
      topicIdentity: async () => IDENTITY,
      logEnd: world.logEnd,
      control: world.control,
      bus: world.bus,
      views: world.views(),
      waitTimeoutMs: 400,
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
    const started = Date.now();
    const reading = get('/v1/listings/l-1', { token: tokenText(written) });
    setTimeout(() => void world.project('detail'), 100);
    const answer = await reading;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.data?.title, 'Green bicycle');
    assert.ok(Date.now() - started >= 90);
    const back = decodeToken(answer.body.token as string, IDENTITY);
    for (const [p, o] of Object.entries(written)) assert.ok((back.positions.get(Number(p)) ?? 0) >= o);
  });

  test('after the bound: 503 CONSISTENCY_TIMEOUT, retryable, Retry-After; ?wait= lowers the bound', async () => {
    const written = world.append(envelope('l-2', 2, 'DetailsUpdated', { title: 'Never projected (yet)' }));
    const answer = await get('/v1/listings/l-2', { token: tokenText(written) });
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error?.code, 'CONSISTENCY_TIMEOUT');
    assert.equal(answer.body.error?.retryable, true);
    assert.equal(answer.headers.get('retry-after'), '1');
    const started = Date.now();
    const quick = await get('/v1/listings/l-2?wait=0', { token: tokenText(written) });
    assert.equal(quick.status, 503);
    assert.ok(Date.now() - started < 300);

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
    assert.equal(missing.body.error?.code, 'LISTING_NOT_FOUND');
    assert.ok(missing.headers.get('consistency-token'));
    assert.equal(missing.headers.get('consistency-version'), '1');
    const staleMissing = await get('/v1/listings/l-new?stale=ok', { token: tokenText(written) });
    assert.equal(staleMissing.status, 404);
    assert.equal(staleMissing.headers.get('consistency-stale'), 'true');
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

  test('bad ids and query parameters are 400', async () => {
    const long = await get(`/v1/listings/${'x'.repeat(201)}`);
    assert.equal(long.status, 400);
    assert.equal(long.body.error?.code, 'INVALID_ID');
    assert.equal((await get(`/v1/sellers/${'y'.repeat(201)}/stats`)).body.error?.code, 'INVALID_ID');
    assert.equal((await get('/v1/listings/l-1?wait=soon')).body.error?.code, 'INVALID_QUERY_PARAMETER');
    assert.equal((await get('/v1/listings/l-1?stale=maybe')).body.error?.code, 'INVALID_QUERY_PARAMETER');
    assert.equal((await get('/v1/nothing')).status, 404);
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
    // Never written anywhere: memcached says 'unknown', the detail view says absent: a 404.
    assert.equal((await get('/v1/listings/ghost/card')).body.error?.code, 'LISTING_NOT_FOUND');
    // The fallback waits for the detail view to cover the token too.
    const written = world.append(envelope('l-3', 2, 'DetailsUpdated', { title: 'Card title' }));
    await world.project('cards');
    cards.evict(partitionForKey('l-3', PARTITIONS), 'l-3');
    const waiting = get('/v1/listings/l-3/card', { token: tokenText(written) });
    setTimeout(() => void world.project('detail'), 50);
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
    assert.equal(missing.body.error?.code, 'SELLER_NOT_FOUND');
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
    for (let i = 0; i < 50 && api.tracker.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(api.tracker.waiting, 1);
    controller.abort();
    await assert.rejects(reading);
    for (let i = 0; i < 50 && api.tracker.waiting > 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(api.tracker.waiting, 0);
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
    assert.match(metrics.text, /tidemark_query_consistency_timeouts_total\{view="listing-detail"\} [1-9]/);
    assert.match(metrics.text, /tidemark_query_card_fallbacks_total/);
    assert.match(metrics.text, /tidemark_query_active_version\{projection="listing-detail"\} 1\n/);
    assert.match(metrics.text, /tidemark_query_active_version\{projection="seller-stats"\} 1\n/);
    assert.match(
      metrics.text,
      /tidemark_query_version_switches_total\{projection="listing-detail",covered="true"\} 2\n/,
    );
    assert.match(metrics.text, /tidemark_query_consistency_wait_seconds_bucket/);
    const openapi = await get('/openapi.json', { key: null });
    assert.equal(openapi.status, 200);
    assert.ok(
      (openapi.body as unknown as { paths: Record<string, unknown> }).paths['/v1/listings/{id}/card'],
    );
  });
});
