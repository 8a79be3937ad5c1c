/**
 * Reads during a gradual cutover, in memory, through the query engine as the API composes it (one ContextReads
 * for the listings context, its queries from the listings definitions): which version answers in split mode (the
 * share drawn by an injectable random), and what shadow reads count (match, mismatch, skipped) and report to
 * the control table. A split read on the candidate keeps invariant 3 (DESIGN: a read carrying token T reflects
 * every event below T, or fails with a retryable error): it waits for the candidate, not the active version.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import type { ListingDetail, SellerStats } from '@tidemark/listings-projections';
import type { ProjectionDocument, StoredDocument } from '@tidemark/projection-runtime';
import { decodeToken, encodeToken, tokenFromPositions } from '@tidemark/schemas';
import pino from 'pino';
import type { ReadAnswer, ReadRequest, ShadowReads, WatermarkTracker } from '../src';
import { answerHeaders, QueryEngine, QueryMetrics, resolveOptions } from '../src';
import { flush, until } from './support/fakes';
import {
  envelope,
  IDENTITY,
  ListingsWorld,
  listingQuery,
  PARTITIONS,
  publishedPayload,
} from './support/world';

const CTX = 'listings';
const DETAIL = 'listing-detail';
const STATS = 'seller-stats';
const logger = pino({ level: 'silent' });

describe('reads during a gradual cutover', () => {
  const world = new ListingsWorld();
  let draw = 0.5;
  let metrics: QueryMetrics;
  let engine: QueryEngine;
  let tracker: WatermarkTracker;
  let shadow: ShadowReads;

  const reader = {
    detail: (id: string, request: ReadRequest) =>
      engine.read(listingQuery('listing'), id, undefined, request) as Promise<ReadAnswer<ListingDetail>>,
    sellerStats: (id: string, request: ReadRequest) =>
      engine.read(listingQuery('sellerStats'), id, undefined, request) as Promise<ReadAnswer<SellerStats>>,
  };

  const tokenText = (positions: Record<number, number>) =>
    encodeToken(tokenFromPositions(IDENTITY, positions));

  async function counted(
    name: 'shadowReads' | 'candidateReads',
    labels: Record<string, string>,
    from: QueryMetrics = metrics,
  ) {
    const { values } = await from[name].get();
    const found = values.find((v) =>
      Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value),
    );
    return found?.value ?? 0;
  }

  async function shadowCounts(projection: string) {
    await shadow.idle();
    return {
      match: await counted('shadowReads', { projection, outcome: 'match' }),
      mismatch: await counted('shadowReads', { projection, outcome: 'mismatch' }),
      skipped: await counted('shadowReads', { projection, outcome: 'skipped' }),
    };
  }

  async function candidate(projection: string, mode: 'shadow' | 'split' | null, percent = 100) {
    await world.control.setCandidate(CTX, projection, mode ? { version: 2, mode, percent } : null);
    await flush();
  }

  before(async () => {
    await world.register(1);
    world.append(
      envelope('c-1', 1, 'ListingPublished', publishedPayload('s-1', 1000)),
      envelope('c-2', 1, 'ListingPublished', publishedPayload('s-1', 500)),
      envelope('c-3', 1, 'ListingPublished', publishedPayload('s-2', 250)),
    );
    await world.projectAll(1);
    await world.register(2);
    await world.projectAll(2);
    // Generous bounds: reads and shadow reads here only wait for what the test does next, never for a bound to
    // pass (a loaded machine must not turn a wait into a timeout); the one test that needs a bound to pass has
    // its own engine.
    ({ engine, metrics } = await startEngine({ waitTimeoutMs: 10_000, shadowWaitMs: 10_000 }));
    tracker = engine.context(CTX).tracker;
    shadow = engine.context(CTX).shadowReads;
  });

  /** The query engine over the world, as the API composes it (no HTTP). */
  async function startEngine(bounds: { waitTimeoutMs: number; shadowWaitMs: number }) {
    const options = resolveOptions({
      apiKeys: [],
      contexts: [world.context()],
      control: world.control,
      bus: world.bus,
      waitTimeoutMs: bounds.waitTimeoutMs,
      shadow: { waitMs: bounds.shadowWaitMs, flushMs: 60_000 },
      random: () => draw,
      logger,
    });
    const counters = new QueryMetrics();
    const started = new QueryEngine(options, counters, logger);
    await started.onModuleInit();
    return { engine: started, metrics: counters };
  }

  beforeEach(async () => {
    await candidate(DETAIL, null);
    await candidate(STATS, null);
    draw = 0.5;
  });

  after(async () => {
    await engine.onApplicationShutdown();
  });

  test('every answer names the version that answered (Consistency-Version)', async () => {
    const answer = await reader.detail('c-1', {});
    assert.equal(answer.version, 1);
    assert.equal(answerHeaders(answer)['Consistency-Version'], '1');
  });

  test('split: percent 0 never, percent 100 always, otherwise the draw decides per read', async () => {
    await candidate(DETAIL, 'split', 0);
    for (const value of [0, 0.5, 0.999]) {
      draw = value;
      assert.equal((await reader.detail('c-1', {})).version, 1);
    }
    await candidate(DETAIL, 'split', 100);
    for (const value of [0, 0.5, 0.999]) {
      draw = value;
      const answer = await reader.detail('c-1', {});
      assert.equal(answer.version, 2);
      assert.equal(answer.view, 'listing-detail.v2');
    }
    await candidate(DETAIL, 'split', 30);
    draw = 0.29;
    assert.equal((await reader.detail('c-1', {})).version, 2);
    draw = 0.3;
    assert.equal((await reader.detail('c-1', {})).version, 1);
    assert.equal(await counted('candidateReads', { projection: DETAIL }), 4);
    // Other projections have no candidate: their reads stay on the active version.
    assert.equal((await reader.sellerStats('s-1', {})).version, 1);
  });

  test('split: a read on the candidate waits until the candidate covers the token, and answers its watermark', async () => {
    await candidate(DETAIL, 'split', 100);
    const written = world.append(envelope('c-1', 2, 'DetailsUpdated', { title: 'Split title' }));
    await world.project('detail', 1);
    const reading = reader.detail('c-1', { token: tokenText(written) });
    await flush();
    let done = false;
    void reading.then(() => {
      done = true;
    });
    await flush();
    assert.equal(done, false, 'v1 covers the token, but the read went to v2');
    await world.project('detail', 2);
    const answer = await reading;
    assert.equal(answer.version, 2);
    assert.equal(answer.data.title, 'Split title');
    const back = decodeToken(answer.token, IDENTITY);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(back.positions.get(p) ?? 0, tracker.watermark(DETAIL, 2).get(p) ?? 0);
    }
    // A candidate that never covers: the same retryable timeout as the active version.
    const ahead = world.append(envelope('c-2', 2, 'DetailsUpdated', { title: 'Never on v2' }));
    await world.project('detail', 1);
    await assert.rejects(reader.detail('c-2', { token: tokenText(ahead), waitMs: 50 }), {
      code: 'CONSISTENCY_TIMEOUT',
    });
    await world.project('detail', 2);
  });

  test('shadow: equal versions compare as matches, for documents, 404s and merged seller stats', async () => {
    await candidate(DETAIL, 'shadow');
    await candidate(STATS, 'shadow');
    const before = await shadowCounts(DETAIL);
    for (const id of ['c-1', 'c-2', 'c-3']) assert.equal((await reader.detail(id, {})).version, 1);
    await assert.rejects(reader.detail('nobody', {}), { code: 'LISTING_NOT_FOUND' });
    const stats = await reader.sellerStats('s-1', {});
    assert.equal(stats.version, 1);
    const after = await shadowCounts(DETAIL);
    assert.deepEqual(after, { match: before.match + 4, mismatch: before.mismatch, skipped: before.skipped });
    assert.equal((await shadowCounts(STATS)).match, 1);
  });

  test('shadow: a candidate that answers differently at the same token is a mismatch, reported with its key', async () => {
    await candidate(DETAIL, 'shadow');
    const before = await shadowCounts(DETAIL);
    const partition = partitionForKey('c-3', PARTITIONS);
    const stored = world.sink('detail', 2).docs.get(`${partition}/c-3`) as StoredDocument<ProjectionDocument>;
    const original = stored.doc;
    stored.doc = { ...original, priceCents: 25 }; // v2 "stores the price in another unit"
    try {
      await reader.detail('c-3', {});
      await reader.detail('c-1', {});
      const after = await shadowCounts(DETAIL);
      assert.deepEqual(after, {
        match: before.match + 1,
        mismatch: before.mismatch + 1,
        skipped: before.skipped,
      });
    } finally {
      stored.doc = original;
    }
    await shadow.flush();
    const [report] = await world.control.shadowReports(CTX, DETAIL);
    assert.ok(report);
    assert.equal(report.version, 2);
    assert.equal(report.activeVersion, 1);
    assert.ok(report.mismatches >= 1);
    assert.equal(report.sample.at(-1)?.key, 'c-3');
  });

  test('shadow: a candidate that does not cover the token in time is skipped, not a mismatch', async () => {
    // Its own engine with a short shadow bound (the candidate is not projected during the test, so however slow
    // the machine, the bound passes first).
    const quick = await startEngine({ waitTimeoutMs: 10_000, shadowWaitMs: 100 });
    try {
      await candidate(DETAIL, 'shadow');
      const written = world.append(envelope('c-2', 3, 'DetailsUpdated', { title: 'Only on v1 yet' }));
      await world.project('detail', 1);
      const answer = (await quick.engine.read(listingQuery('listing'), 'c-2', undefined, {
        token: tokenText(written),
      })) as ReadAnswer<ListingDetail>;
      assert.equal(answer.data.title, 'Only on v1 yet');
      assert.equal(answer.version, 1);
      await quick.engine.context(CTX).shadowReads.idle();
      const count = (outcome: string) =>
        counted('shadowReads', { projection: DETAIL, outcome }, quick.metrics);
      assert.deepEqual(
        { match: await count('match'), mismatch: await count('mismatch'), skipped: await count('skipped') },
        { match: 0, mismatch: 0, skipped: 1 },
      );
    } finally {
      await quick.engine.onApplicationShutdown();
      await world.project('detail', 2);
    }
  });

  test('shadow: a document written past the token meanwhile is read again at the later point (no false mismatch)', async () => {
    await candidate(DETAIL, 'shadow');
    const before = await shadowCounts(DETAIL);
    const written = world.append(envelope('c-1', 3, 'DetailsUpdated', { title: 'Before' }));
    await world.projectAll(1);
    await world.projectAll(2);
    // The candidate has applied a newer event that the active version has not yet.
    world.append(envelope('c-1', 4, 'DetailsUpdated', { title: 'After' }));
    await world.project('detail', 2);
    const answer = await reader.detail('c-1', { token: tokenText(written) });
    assert.equal(answer.data.title, 'Before');
    // The compare finds v2 past the token, so it waits for v1 to reach v2's position: v1 catches up meanwhile.
    await until(() => tracker.waiting > 0 || shadow.running === 0, 'the shadow read waits for v1');
    assert.equal(tracker.waiting, 1, 'the shadow read waits for the active version to catch up');
    await world.project('detail', 1);
    const after = await shadowCounts(DETAIL);
    assert.deepEqual(after, { match: before.match + 1, mismatch: before.mismatch, skipped: before.skipped });
  });

  test('shadow counts that could not be reported are kept for the next flush', async () => {
    await candidate(STATS, 'shadow');
    await shadow.flush();
    const reported = world.control.shadow.length;
    await reader.sellerStats('s-2', {});
    await shadow.idle();
    world.control.failReports = true;
    await shadow.flush();
    assert.equal(world.control.shadow.length, reported);
    world.control.failReports = false;
    await reader.sellerStats('s-2', {});
    await shadow.idle();
    await shadow.flush();
    const added = world.control.shadow.slice(reported);
    assert.equal(added.length, 1);
    assert.deepEqual(
      added.map(({ projection, version, activeVersion, reads, mismatches, skipped }) => ({
        projection,
        version,
        activeVersion,
        reads,
        mismatches,
        skipped,
      })),
      [{ projection: STATS, version: 2, activeVersion: 1, reads: 2, mismatches: 0, skipped: 0 }],
    );
  });
});
