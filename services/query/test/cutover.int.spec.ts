/**
 * A cutover under load, against the real parts: the embedded broker, Postgres (detail view, control table,
 * watermark bus), a Projector per version of the listing detail view, and the query API over HTTP. A writer
 * changes prices while a reader with a token reads its own writes and a reader without a token watches the
 * watermarks the API answers with. v2 is built beside v1, shadow-read (no mismatches: same code), split, made
 * active while the loops run, and rolled back: no errors, no stale reads (DESIGN invariant 3: a read carrying
 * token T reflects every event below T, or fails with a retryable error), no watermark going back (invariant 4:
 * watermarks a client sees never decrease; split mode excepted by design), and the Consistency-Version header
 * moves from 1 to 2 (and back) once, never flapping. The listings context is served from its query definitions,
 * the detail view's versions opened by name.
 * (@tidemark/listings, for the events registry, is a dependency of @tidemark/listings-projections, not of this
 * package: it is built with it.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createKafka, ensureTopicIdentity, PartitionReader, partitionForKey } from '@tidemark/kafka';
import { listingEvents } from '@tidemark/listings';
import type { ListingDetail } from '@tidemark/listings-projections';
import { listingProjections, listingQueries } from '@tidemark/listings-projections';
import { createPostgresSink } from '@tidemark/projection-postgres';
import type { PostgresProjectionControl } from '@tidemark/projection-runtime';
import {
  createPostgresProjectionControl,
  createPostgresWatermarkBus,
  Projector,
} from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import { decodeToken, encodeToken, mergeTokens, tokenFromPositions } from '@tidemark/schemas';
import type { Stack } from '@tidemark/stack';
import { startStack } from '@tidemark/stack';
import type { Producer } from 'kafkajs';
import pino from 'pino';
import type { RunningQueryApi, WatermarkTracker } from '../src';
import { QueryMetrics, startQueryApi } from '../src';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);
const P = 3;
const CTX = 'listings';
const DETAIL = 'listing-detail';
const TOPIC = `${CTX}.events`;
const KEY = { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['queries:read:listings'] };
const LISTINGS = Array.from({ length: 9 }, (_, i) => `cut-${i}`);

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One answer a loop saw. */
interface Seen {
  version: number;
  phase: string;
}

describe('cutover of the detail view under load', () => {
  let dir = '';
  let stack: Stack | undefined;
  let api: RunningQueryApi | undefined;
  let control: PostgresProjectionControl;
  let producer: Producer;
  let identity = '';
  let tracker: WatermarkTracker;
  const closers: (() => Promise<void>)[] = [];
  const aggregateVersions = new Map<string, number>();
  const ends = new Map<number, number>();

  /** Appends one event like the processor (a transaction); returns the token just past it. */
  async function append(id: string, type: string, payload: unknown): Promise<Map<number, number>> {
    const version = (aggregateVersions.get(id) ?? 0) + 1;
    aggregateVersions.set(id, version);
    const envelope: EventEnvelope = {
      id: randomUUID(),
      type,
      schemaVersion: type === 'ListingPublished' ? 2 : 1,
      aggregate: { type: 'listing', id },
      version,
      commandId: randomUUID(),
      correlationId: 'cutover-test',
      causationId: 'cutover-test',
      occurredAt: new Date().toISOString(),
      payload,
    };
    const partition = partitionForKey(id, P);
    const transaction = await producer.transaction();
    const [result] = await transaction.send({
      topic: TOPIC,
      messages: [
        {
          partition,
          key: id,
          value: JSON.stringify(envelope),
          headers: { type, schemaVersion: String(envelope.schemaVersion) },
        },
      ],
    });
    await transaction.commit();
    const next = Number(result?.baseOffset) + 1;
    ends.set(partition, Math.max(ends.get(partition) ?? 0, next));
    return new Map([[partition, next]]);
  }

  async function startProjector(version: number, registerState?: 'live') {
    const definition = listingProjections({ version }).detail;
    const sink = createPostgresSink(definition, { connectionString: stack?.endpoints.postgres ?? '' });
    const bus = createPostgresWatermarkBus({ connectionString: stack?.endpoints.postgres ?? '', logger });
    const projector = await Projector.start({
      brokers: [stack?.endpoints.broker ?? ''],
      definition,
      sink,
      events: listingEvents,
      bus,
      control,
      ...(registerState ? { registerState } : {}),
      logger,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
    });
    closers.push(
      () => sink.close(),
      () => bus.close(),
      () => projector.stop(),
    );
    return projector;
  }

  async function get(pathname: string, token?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${KEY.secret}` };
    if (token) headers['consistency-token'] = token;
    const response = await fetch(`${api?.url}${pathname}`, { headers });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as { data?: ListingDetail; token?: string; error?: { code: string } },
    };
  }

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidemark-query-cutover-'));
    await fs.chmod(dir, 0o755);
    stack = await startStack({
      dataDir: dir,
      components: ['broker', 'postgres'],
      ports: { broker: 0, postgres: 0 },
      metricsPort: null,
      handleSignals: false,
      logger,
    });
    const brokers = [stack.endpoints.broker ?? ''];
    const postgres = stack.endpoints.postgres ?? '';
    const kafka = createKafka({ brokers, clientId: 'query-cutover-test', logger });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: TOPIC, numPartitions: P, replicationFactor: -1 }],
    });
    await admin.disconnect();
    const reader = PartitionReader.create(brokers);
    closers.push(async () => reader.close());
    identity = await ensureTopicIdentity(kafka, reader, TOPIC);
    producer = kafka.producer({
      transactionalId: `cutover-test-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    closers.push(() => producer.disconnect());
    control = createPostgresProjectionControl({ connectionString: postgres, logger });
    const bus = createPostgresWatermarkBus({ connectionString: postgres, logger });
    closers.push(
      () => control.close(),
      () => bus.close(),
    );
    api = await startQueryApi({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [KEY],
      contexts: [
        {
          name: CTX,
          partitions: P,
          topicIdentity: identity,
          logEnd: (partition) => reader.endOffset(TOPIC, partition),
          queries: listingQueries.list,
          sink: (projection, version) => {
            if (projection !== DETAIL) throw new Error(`${projection} is not read in this test`);
            return createPostgresSink(listingProjections({ version }).detail, { connectionString: postgres });
          },
        },
      ],
      control,
      bus,
      waitTimeoutMs: 5000,
      shadow: { waitMs: 1000, flushMs: 200 },
      logger,
    });
    tracker = api.engine.context(CTX).tracker;
  });

  after(async () => {
    await api?.close();
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await stack?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('v2 is shadowed, split, activated and rolled back while readers run: no error, nothing stale, nothing back', async () => {
    const v1 = await startProjector(1);
    let token = tokenFromPositions(identity, []);
    for (const id of LISTINGS) {
      const written = await append(id, 'ListingPublished', {
        sellerId: 'seller-cut',
        title: `Listing ${id}`,
        description: 'Cutover test',
        category: 'bikes',
        priceCents: 1000,
        currency: 'EUR',
        location: { country: 'NL', city: 'Utrecht' },
      });
      token = mergeTokens(token, tokenFromPositions(identity, written));
    }
    await v1.waitForWatermark(ends);
    await eventually(() => tracker.activeVersion(DETAIL) === 1, 'v1 to be active');

    let phase = 'v1';
    let stopping = false;
    const errors: string[] = [];
    let stale = 0;
    let decreases = 0;
    const writerSeen: Seen[] = [];
    const watcherSeen: Seen[] = [];
    const prices = new Map<string, number>();

    // Writes a price, then reads it back with the merged token: read-your-writes through every phase.
    const writer = (async () => {
      for (let i = 0; !stopping; i++) {
        const id = LISTINGS[i % LISTINGS.length] as string;
        const previous = prices.get(id) ?? 1000;
        const price = 1000 + i + 1;
        const written = await append(id, 'PriceChanged', {
          sellerId: 'seller-cut',
          priceCents: price,
          previousPriceCents: previous,
          currency: 'EUR',
        });
        prices.set(id, price);
        token = mergeTokens(token, tokenFromPositions(identity, written));
        const answer = await get(`/v1/listings/${id}`, encodeToken(token));
        if (answer.status !== 200) {
          errors.push(`${phase}: ${answer.status} ${answer.body.error?.code}`);
          continue;
        }
        if (answer.body.data?.priceCents !== price) stale++;
        const back = decodeToken(answer.body.token as string, identity);
        for (const [partition, offset] of token.positions) {
          if ((back.positions.get(partition) ?? 0) < offset) decreases++;
        }
        token = mergeTokens(token, back);
        writerSeen.push({ version: Number(answer.headers.get('consistency-version')), phase });
      }
    })();

    // Reads without a token: the watermark the instance answers with must never go back (except in split
    // mode, where by design some reads are answered by the other version).
    const watcher = (async () => {
      let highest = new Map<number, number>();
      let previousSplit = false;
      for (let i = 0; !stopping; i++) {
        const started = phase;
        const answer = await get(`/v1/listings/${LISTINGS[i % LISTINGS.length]}`);
        const current = phase;
        if (answer.status !== 200) {
          errors.push(`${current} (no token): ${answer.status} ${answer.body.error?.code}`);
          continue;
        }
        const split = started === 'split' || current === 'split';
        const back = decodeToken(answer.body.token as string, identity).positions;
        if (!split && !previousSplit) {
          for (const [partition, offset] of highest) {
            if ((back.get(partition) ?? 0) < offset) decreases++;
          }
        }
        highest = new Map(back);
        previousSplit = split;
        watcherSeen.push({ version: Number(answer.headers.get('consistency-version')), phase: current });
      }
    })();

    const seenIn = (wanted: string, version: number) =>
      [...writerSeen, ...watcherSeen].filter((s) => s.phase === wanted && s.version === version).length;
    /** Both loops answered by `version` in the phase, the writer (slower: it waits for its writes) less often. */
    const bothSaw = (wanted: string, version: number, count: number) =>
      writerSeen.filter((s) => s.phase === wanted && s.version === version).length >= Math.ceil(count / 4) &&
      watcherSeen.filter((s) => s.phase === wanted && s.version === version).length >= count;
    const metrics = api?.app.get(QueryMetrics) as QueryMetrics;
    const shadowCount = async (outcome: string) =>
      (await metrics.shadowReads.get()).values.find(
        (v) => v.labels.projection === DETAIL && v.labels.outcome === outcome,
      )?.value ?? 0;

    try {
      await eventually(() => bothSaw('v1', 1, 20), 'reads on v1');

      // v2 is built beside v1 (same code: it must compare equal) and caught up while the writer goes on.
      const v2 = await startProjector(2, 'live');
      await v2.waitForWatermark(new Map(ends));

      phase = 'shadow';
      await control.setCandidate(CTX, DETAIL, { version: 2, mode: 'shadow', percent: 100 });
      await eventually(() => tracker.candidate(DETAIL)?.mode === 'shadow', 'the shadow candidate');
      await eventually(async () => (await shadowCount('match')) >= 20, 'shadow reads');
      assert.equal(await shadowCount('mismatch'), 0);
      await eventually(async () => {
        const [report] = await control.shadowReports(CTX, DETAIL);
        return (report?.reads ?? 0) >= 10;
      }, 'shadow reports in the control table');
      const [report] = await control.shadowReports(CTX, DETAIL);
      assert.equal(report?.version, 2);
      assert.equal(report?.activeVersion, 1);
      assert.equal(report?.mismatches, 0);
      assert.ok(seenIn('shadow', 2) === 0, 'shadow reads are never answered by the candidate');

      phase = 'split';
      await control.setCandidate(CTX, DETAIL, { version: 2, mode: 'split', percent: 50 });
      await eventually(() => bothSaw('split', 1, 8) && bothSaw('split', 2, 8), 'reads of both versions');

      await control.setCandidate(CTX, DETAIL, null);
      await eventually(() => tracker.candidate(DETAIL) === null, 'the candidate to be cleared');
      phase = 'v1-again';
      await eventually(() => bothSaw('v1-again', 1, 4), 'reads on v1 again');

      phase = 'cutover';
      await control.activate(CTX, DETAIL, 2, { expectedActive: 1 });
      await eventually(() => bothSaw('cutover', 2, 20), 'reads on v2');
      assert.equal(tracker.activeVersion(DETAIL), 2);

      phase = 'rollback';
      await control.activate(CTX, DETAIL, 1, { expectedActive: 2 });
      await eventually(() => bothSaw('rollback', 1, 20), 'reads on v1 after the rollback');
    } finally {
      stopping = true;
      await Promise.all([writer, watcher]);
    }

    assert.deepEqual(errors, []);
    assert.equal(stale, 0, 'a read with a token reflected the write before it');
    assert.equal(decreases, 0, 'a watermark went back');
    // Once reads switched, they stayed switched: 1...1 2...2 in the cutover, 2...2 1...1 in the rollback.
    for (const seen of [writerSeen, watcherSeen]) {
      const versions = (wanted: string) => seen.filter((s) => s.phase === wanted).map((s) => s.version);
      const cutover = versions('cutover');
      assert.ok(
        cutover.every((v, i) => i === 0 || v >= (cutover[i - 1] as number)),
        'never back to v1',
      );
      const rollback = versions('rollback');
      assert.ok(
        rollback.every((v, i) => i === 0 || v <= (rollback[i - 1] as number)),
        'never back to v2',
      );
    }
    const switches = (await metrics.versionSwitches.get()).values
      .filter((v) => v.labels.context === CTX && v.labels.projection === DETAIL)
      .reduce((sum, v) => sum + v.value, 0);
    assert.equal(switches, 2);
    const gauge = (await metrics.activeVersion.get()).values.find(
      (v) => v.labels.context === CTX && v.labels.projection === DETAIL,
    );
    assert.equal(gauge?.value, 1);
  });
});
