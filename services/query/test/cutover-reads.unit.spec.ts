/**
 * Reads during a gradual cutover, in memory: which version answers in split mode (the share drawn by an
 * injectable random), and what shadow reads count (match, mismatch, skipped) and report to the control table.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import type { ProjectionDocument, StoredDocument } from '@tidemark/projection-runtime';
import { decodeToken, encodeToken, tokenFromPositions } from '@tidemark/schemas';
import pino from 'pino';
import {
  answerHeaders,
  ListingsReader,
  QueryMetrics,
  resolveOptions,
  ShadowReads,
  ViewSinks,
  WatermarkTracker,
} from '../src';
import { flush } from './support/fakes';
import { envelope, IDENTITY, ListingsWorld, PARTITIONS, publishedPayload } from './support/world';

const CTX = 'listings';
const DETAIL = 'listing-detail';
const STATS = 'seller-stats';
const logger = pino({ level: 'silent' });

describe('reads during a gradual cutover', () => {
  const world = new ListingsWorld();
  let draw = 0.5;
  let metrics: QueryMetrics;
  let tracker: WatermarkTracker;
  let shadow: ShadowReads;
  let sinks: ViewSinks;
  let reader: ListingsReader;

  const tokenText = (positions: Record<number, number>) =>
    encodeToken(tokenFromPositions(IDENTITY, positions));

  async function counted(name: 'shadowReads' | 'candidateReads', labels: Record<string, string>) {
    const { values } = await metrics[name].get();
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
    const options = resolveOptions({
      apiKeys: [],
      partitions: PARTITIONS,
      topicIdentity: IDENTITY,
      logEnd: world.logEnd,
      control: world.control,
      bus: world.bus,
      views: world.views(),
      waitTimeoutMs: 300,
      random: () => draw,
    });
    metrics = new QueryMetrics();
    sinks = new ViewSinks(options.views);
    tracker = new WatermarkTracker({
      context: CTX,
      projections: [DETAIL, STATS, 'listing-card'],
      bus: world.bus,
      control: world.control,
      checkpoints: (projection, version) => sinks.checkpoints(projection, version),
    });
    await tracker.start();
    shadow = new ShadowReads({
      context: CTX,
      tracker,
      control: world.control,
      metrics,
      logger,
      options: { waitMs: 150, flushMs: 60_000 },
    });
    reader = new ListingsReader(options, tracker, sinks, metrics, logger, shadow);
  });

  beforeEach(async () => {
    await candidate(DETAIL, null);
    await candidate(STATS, null);
    draw = 0.5;
  });

  after(async () => {
    await tracker.stop();
    await shadow.close();
    await sinks.close();
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
    await candidate(DETAIL, 'shadow');
    const before = await shadowCounts(DETAIL);
    const written = world.append(envelope('c-2', 3, 'DetailsUpdated', { title: 'Only on v1 yet' }));
    await world.project('detail', 1);
    const answer = await reader.detail('c-2', { token: tokenText(written) });
    assert.equal(answer.data.title, 'Only on v1 yet');
    assert.equal(answer.version, 1);
    const after = await shadowCounts(DETAIL);
    assert.deepEqual(after, { match: before.match, mismatch: before.mismatch, skipped: before.skipped + 1 });
    await world.project('detail', 2);
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
    setTimeout(() => void world.project('detail', 1), 20);
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
