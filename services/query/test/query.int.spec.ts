/**
 * The listings document routes against the real stores: Postgres (detail view, control table, watermark bus),
 * Redis (seller stats) and Memcached (cards), started with startStack; the listings context is given to the
 * query API as the deployment gives it (its query definitions, a sink per projection version opened by name).
 * Documents are committed with the real sinks directly and watermarks published on the real bus, so no broker
 * is needed: the topic identity is fixed and the log end is this test's own counter. Checks invariant 3 (DESIGN:
 * a read carrying token T reflects every event below T, or fails with a retryable error) on each store: the read
 * waits for the Postgres bus, 503 before the view covers the token and 404 only after; the card fallback and the
 * gathering view's merge over real stores.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import type { ListingCard, ListingDetail, SellerStats } from '@tidemark/listings-projections';
import { listingProjections, listingQueries } from '@tidemark/listings-projections';
import { createMemcachedSink } from '@tidemark/projection-memcached';
import { createPostgresSink } from '@tidemark/projection-postgres';
import { createRedisSink } from '@tidemark/projection-redis';
import type { ProjectionDefinition, ProjectionDocument, Sink } from '@tidemark/projection-runtime';
import { createPostgresProjectionControl, createPostgresWatermarkBus } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import { encodeToken, tokenFromPositions } from '@tidemark/schemas';
import type { Stack } from '@tidemark/stack';
import { startStack } from '@tidemark/stack';
import pino from 'pino';
import type { RunningQueryApi } from '../src';
import { startQueryApi } from '../src';
import { envelope, listingDefinition, publishedPayload } from './support/world';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);
const IDENTITY = 'a1b2c3d4e5f60718';
const P = 3;
const KEY = { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['queries:read:listings'] };
const defs = listingProjections({ version: 1 });

describe('query API on Postgres, Redis and Memcached', () => {
  let dir = '';
  let stack: Stack | undefined;
  let api: RunningQueryApi | undefined;
  const closers: (() => Promise<void>)[] = [];
  const ends = new Map<number, number>();
  /** The sinks the query API opened, as `<projection>.v<N>`. */
  const opened: string[] = [];
  let writers: { detail: Sink<ListingDetail>; stats: Sink<SellerStats>; cards: Sink<ListingCard> };
  let publish: (projection: string, partition: number, offset: number) => Promise<void>;

  /** Appends events to "the log" (only offsets: no broker) and returns their token. */
  function append(...events: EventEnvelope[]): { events: [EventEnvelope, number, number][]; token: string } {
    const placed: [EventEnvelope, number, number][] = [];
    const positions = new Map<number, number>();
    for (const event of events) {
      const partition = partitionForKey(event.aggregate.id, P);
      const offset = ends.get(partition) ?? 0;
      ends.set(partition, offset + 1);
      placed.push([event, partition, offset]);
      positions.set(partition, offset + 1);
    }
    return { events: placed, token: encodeToken(tokenFromPositions(IDENTITY, positions)) };
  }

  /** Commits the events into one view with its real sink and announces the watermark, as a projector would. */
  async function project<D extends ProjectionDocument>(
    definition: ProjectionDefinition<D>,
    sink: Sink<D>,
    placed: [EventEnvelope, number, number][],
  ) {
    for (const [event, partition, offset] of placed) {
      const writes = [];
      for (const key of definition.keys(event)) {
        const found = (await sink.load(partition, [key])).get(key);
        const current = found && typeof found === 'object' ? found.doc : null;
        writes.push({ key, doc: definition.apply(current, event, key), position: offset + 1 });
      }
      await sink.commit(partition, writes, offset + 1);
      await publish(definition.name, partition, offset + 1);
    }
  }

  async function get(pathname: string, token?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${KEY.secret}` };
    if (token) headers['consistency-token'] = token;
    const response = await fetch(`${api?.url}${pathname}`, { headers });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as {
        data?: Record<string, unknown>;
        error?: { code: string; message: string; details?: Record<string, unknown> };
      },
    };
  }

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidemark-query-'));
    await fs.chmod(dir, 0o755);
    stack = await startStack({
      dataDir: dir,
      components: ['postgres', 'redis', 'memcached'],
      metricsPort: null,
    });
    const { postgres, redis, memcached } = stack.endpoints;
    assert.ok(postgres && redis && memcached);
    const control = createPostgresProjectionControl({ connectionString: postgres, logger });
    const bus = createPostgresWatermarkBus({ connectionString: postgres, logger });
    closers.push(
      () => control.close(),
      () => bus.close(),
    );
    writers = {
      detail: createPostgresSink(defs.detail, { connectionString: postgres }),
      stats: createRedisSink(defs.sellerStats, { url: redis }),
      cards: createMemcachedSink(defs.card, { servers: memcached, partitions: P }),
    };
    for (const sink of Object.values(writers)) {
      await sink.prepare();
      closers.push(() => sink.close());
    }
    for (const d of [defs.detail, defs.sellerStats, defs.card]) {
      await control.register({ context: d.context, name: d.name, version: d.version, store: d.store });
    }
    publish = (projection, partition, offset) =>
      bus.publish([{ context: 'listings', projection, version: 1, partition, offset }]);
    // A projection version's sink, opened by the store its definition names (as the deployment does).
    const openSink = (projection: string, version: number): Sink => {
      const definition = listingDefinition(projection, version);
      opened.push(`${projection}.v${version}`);
      switch (definition.store) {
        case 'postgres':
          return createPostgresSink(definition, { connectionString: postgres });
        case 'redis':
          return createRedisSink(definition, { url: redis });
        case 'memcached':
          return createMemcachedSink(definition, { servers: memcached, partitions: P });
        default:
          throw new Error(`no ${definition.store} sink in this test`);
      }
    };
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
          sink: openSink,
        },
      ],
      control,
      bus,
      waitTimeoutMs: 1500,
      logger,
    });
  });

  after(async () => {
    await api?.close();
    for (const close of closers.reverse()) await close().catch(() => {});
    await stack?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('read-your-writes on the detail view, woken by the Postgres watermark bus', async () => {
    const { events, token } = append(
      envelope('int-1', 1, 'ListingPublished', publishedPayload('int-seller', 700)),
    );
    const reading = get('/v1/listings/int-1', token);
    setTimeout(() => void project(defs.detail, writers.detail, events), 200);
    const answer = await reading;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.data?.id, 'int-1');
    assert.equal(answer.headers.get('x-tidemark-source'), 'postgres');
  });

  test('not covered: 503 CONSISTENCY_TIMEOUT, never a 404; covered and absent: 404', async () => {
    const { events, token } = append(
      envelope('int-2', 1, 'ListingPublished', publishedPayload('int-seller', 300)),
    );
    const early = await get('/v1/listings/int-2', token);
    assert.equal(early.status, 503);
    assert.equal(early.body.error?.code, 'CONSISTENCY_TIMEOUT');
    assert.equal(early.headers.get('retry-after'), '1');
    await project(defs.detail, writers.detail, events);
    assert.equal((await get('/v1/listings/int-2', token)).status, 200);
    const missing = await get('/v1/listings/int-none', token);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error?.code, 'LISTING_NOT_FOUND');
    assert.equal(missing.body.error?.message, "listing-detail has no document 'int-none'");
    assert.deepEqual(missing.body.error?.details, { id: 'int-none' });
  });

  test('cards from memcached; after memcached loses them, derived from Postgres', async () => {
    const { events, token } = append(
      envelope('int-3', 1, 'ListingPublished', publishedPayload('int-seller', 100)),
      envelope('int-3', 2, 'DetailsUpdated', { title: 'Renamed' }),
    );
    await project(defs.detail, writers.detail, events);
    await project(defs.card, writers.cards, events);
    const hit = await get('/v1/listings/int-3/card', token);
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get('x-tidemark-source'), 'memcached');
    assert.equal(hit.body.data?.title, 'Renamed');
    await flushMemcached(stack?.endpoints.memcached as string);
    const fallback = await get('/v1/listings/int-3/card', token);
    assert.equal(fallback.status, 200);
    assert.equal(fallback.headers.get('x-tidemark-source'), 'postgres-fallback');
    assert.deepEqual(fallback.body.data, hit.body.data);
  });

  test('seller stats merged over the partitions from Redis; an unknown seller is a 404', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `int-s-${i}`);
    const { events, token } = append(
      ...ids.map((id, i) => envelope(id, 1, 'ListingPublished', publishedPayload('int-many', 100 * (i + 1)))),
    );
    assert.ok(new Set(events.map(([, partition]) => partition)).size > 1, 'spread over partitions');
    await project(defs.sellerStats, writers.stats, events);
    const stats = await get('/v1/sellers/int-many/stats', token);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.data?.activeListings, 6);
    assert.deepEqual(stats.body.data?.askingValueCents, { EUR: 2100 });
    const nobody = await get('/v1/sellers/int-nobody/stats', token);
    assert.equal(nobody.status, 404);
    assert.equal(nobody.body.error?.code, 'SELLER_NOT_FOUND');
    assert.deepEqual(nobody.body.error?.details, { id: 'int-nobody' });
    // Each projection version's sink was opened once and reused by every read.
    assert.deepEqual([...opened].sort(), ['listing-card.v1', 'listing-detail.v1', 'seller-stats.v1']);
  });
});

/** Empties memcached (text protocol flush_all): every card becomes 'unknown'. */
function flushMemcached(hostPort: string): Promise<void> {
  const at = hostPort.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(hostPort.slice(at + 1)), hostPort.slice(0, at), () =>
      socket.write('flush_all\r\n'),
    );
    socket.once('data', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}
