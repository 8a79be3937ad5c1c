/**
 * Side effects are recorded only by the active version's projector, exactly once per event: a version replayed
 * beside the active one records nothing, and when it becomes active it first records the effects of the events
 * it applied while inactive (the listings detail projection notifies the seller of every ListingSold).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ensureTopicIdentity, PartitionReader, partitionForKey } from '@tidemark/kafka';
import { listingEvents } from '@tidemark/listings';
import type { ListingDetail } from '@tidemark/listings-projections';
import { createListingDetailProjection, LISTING_SOLD_NOTIFICATION } from '@tidemark/listings-projections';
import { createPostgresSink } from '@tidemark/projection-postgres';
import type { ProjectionDefinition } from '@tidemark/projection-runtime';
import {
  createPostgresProjectionControl,
  createPostgresSideEffectOutbox,
  createPostgresWatermarkBus,
  Projector,
} from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import type { Producer } from 'kafkajs';
import type { Harness } from '../support/runtime-harness';
import { eventually, PARTITIONS, startHarness } from '../support/runtime-harness';

const CONTEXT = 'listings';
const TOPIC = `${CONTEXT}.events`;

let h: Harness;
let producer: Producer;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  h = await startHarness();
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: -1 }],
    });
  } finally {
    await admin.disconnect();
  }
  const reader = PartitionReader.create(h.brokers);
  try {
    await ensureTopicIdentity(h.kafka, reader, TOPIC);
  } finally {
    reader.close();
  }
  producer = h.kafka.producer({
    transactionalId: `side-effects-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await producer?.disconnect();
  await h?.close();
});

/** partition -> offset just past the last event appended. */
const ends = new Map<number, number>();
let listingCounter = 0;

function envelope(id: string, version: number, type: string, payload: unknown): EventEnvelope {
  return {
    id: randomUUID(),
    type,
    schemaVersion: type === 'ListingPublished' ? 2 : 1,
    aggregate: { type: 'listing', id },
    version,
    commandId: randomUUID(),
    correlationId: 'side-effects-test',
    causationId: 'side-effects-test',
    occurredAt: new Date().toISOString(),
    payload,
  };
}

/** Publishes `count` listings and sells every other one, in one transaction; returns the sold listing ids. */
async function publishAndSell(count: number): Promise<string[]> {
  const transaction = await producer.transaction();
  const sold: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const id = `listing-${++listingCounter}`;
      const sellerId = `seller-${listingCounter % 3}`;
      const events = [
        envelope(id, 1, 'ListingPublished', {
          sellerId,
          title: `item ${listingCounter}`,
          description: '',
          category: 'bikes',
          priceCents: 1000 + listingCounter,
          currency: 'EUR',
          location: { country: 'NL', city: 'Utrecht' },
        }),
      ];
      if (listingCounter % 2 === 0) {
        sold.push(id);
        events.push(
          envelope(id, 2, 'ListingSold', {
            sellerId,
            buyerId: `buyer-${listingCounter}`,
            priceCents: 900 + listingCounter,
            askingPriceCents: 1000 + listingCounter,
            currency: 'EUR',
          }),
        );
      }
      const partition = partitionForKey(id, PARTITIONS);
      const [result] = await transaction.send({
        topic: TOPIC,
        messages: events.map((e) => ({
          partition,
          key: id,
          value: JSON.stringify(e),
          headers: { type: e.type, schemaVersion: String(e.schemaVersion) },
        })),
      });
      const base = Number(result?.baseOffset);
      ends.set(partition, Math.max(ends.get(partition) ?? 0, base + events.length));
    }
    await transaction.commit();
  } catch (error) {
    await transaction.abort().catch(() => undefined);
    throw error;
  }
  return sold;
}

/** Every ListingSold in the log: `partition:offset` -> listing id. */
async function soldInLog(): Promise<Map<string, string>> {
  const reader = PartitionReader.create(h.brokers);
  const sold = new Map<string, string>();
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const end = await reader.endOffset(TOPIC, partition);
      await reader.read(TOPIC, partition, 0, end, (records) => {
        for (const record of records) {
          if (record.headers.type !== 'ListingSold') continue;
          const event = JSON.parse(record.value?.toString('utf8') ?? '') as EventEnvelope;
          sold.set(`${partition}:${record.offset}`, event.aggregate.id);
        }
      });
    }
  } finally {
    reader.close();
  }
  return sold;
}

function services() {
  const control = createPostgresProjectionControl({ connectionString: h.postgres, logger: h.logger });
  const outbox = createPostgresSideEffectOutbox({ connectionString: h.postgres, logger: h.logger });
  const bus = createPostgresWatermarkBus({ connectionString: h.postgres, logger: h.logger });
  closers.push(
    () => control.close(),
    () => outbox.close(),
    () => bus.close(),
  );
  return { control, outbox, bus };
}

async function startProjector(
  definition: ProjectionDefinition<ListingDetail>,
  s: ReturnType<typeof services>,
): Promise<Projector<ListingDetail>> {
  const sink = createPostgresSink(definition, { connectionString: h.postgres });
  closers.push(() => sink.close());
  const projector = await Projector.start({
    brokers: h.brokers,
    definition,
    sink,
    events: listingEvents,
    bus: s.bus,
    control: s.control,
    registerState: 'building',
    outbox: s.outbox,
    logger: h.logger,
    sessionTimeoutMs: 3000,
    heartbeatIntervalMs: 300,
    effectsCheckMs: 500,
  });
  closers.push(() => projector.stop());
  return projector;
}

describe('side effects', () => {
  test('the outbox records an effect once and never moves the progress back', async () => {
    const { outbox } = services();
    const projection = { context: 'outbox-only', name: 'p', version: 1 };
    const effect = (offset: number, key: string) => ({
      partition: 2,
      offset,
      effect: { kind: 'k', key, payload: { offset } },
    });
    assert.equal(await outbox.record(projection, 2, [effect(5, 'a'), effect(5, 'b'), effect(7, 'a')], 8), 3);
    assert.equal(
      await outbox.record({ ...projection, version: 2 }, 2, [effect(5, 'a'), effect(9, 'a')], 4),
      1,
    );
    assert.deepEqual(await outbox.progress('outbox-only', 'p'), new Map([[2, 8]]));
    assert.deepEqual(
      (await outbox.list('outbox-only', 'p')).map((e) => [e.offset, e.key, e.version]),
      [
        [5, 'a', 1],
        [5, 'b', 1],
        [7, 'a', 1],
        [9, 'a', 2],
      ],
    );
    await assert.rejects(
      outbox.record(projection, 1, [effect(1, 'x')], 2),
      /partition 2 recorded as partition 1/,
    );
  });

  test('only the active version records them, each ListingSold exactly once across a replay and a cutover', async () => {
    const s = services();
    const v1Definition = createListingDetailProjection({ version: 1 });
    const v2Definition = createListingDetailProjection({ version: 2 });
    const v1 = await startProjector(v1Definition, s);
    assert.equal(await s.control.activeVersion(CONTEXT, v1Definition.name), 1);

    // v1 is active: every sale is recorded once, by v1, with the notification's payload.
    const soldA = await publishAndSell(24);
    await v1.waitForWatermark(ends);
    let effects = await s.outbox.list(CONTEXT, v1Definition.name);
    assert.deepEqual(effects.map((e) => e.payload.listingId).sort(), [...soldA].sort());
    for (const effect of effects) {
      assert.equal(effect.version, 1);
      assert.equal(effect.kind, LISTING_SOLD_NOTIFICATION);
      assert.equal(effect.key, 'notify-seller');
      const n = Number(String(effect.payload.listingId).split('-')[1]);
      assert.deepEqual(effect.payload, {
        listingId: `listing-${n}`,
        sellerId: `seller-${n % 3}`,
        buyerId: `buyer-${n}`,
        priceCents: 900 + n,
        currency: 'EUR',
      });
    }
    // The shared progress follows (chunks without effects write it periodically).
    await eventually(async () => {
      const progress = await s.outbox.progress(CONTEXT, v1Definition.name);
      return [...ends].every(([partition, end]) => (progress.get(partition) ?? 0) >= end);
    });

    // v2 replays from offset 0 beside v1, while new sales arrive: it records nothing.
    const v2 = await startProjector(v2Definition, s);
    assert.equal(v2.recordsEffects(), false);
    const soldB = await publishAndSell(12);
    await v2.waitForWatermark(ends);
    await v1.waitForWatermark(ends);
    effects = await s.outbox.list(CONTEXT, v1Definition.name);
    assert.deepEqual(effects.map((e) => e.payload.listingId).sort(), [...soldA, ...soldB].sort());
    assert.ok(effects.every((e) => e.version === 1));

    // v1 goes away; v2 applies more sales while inactive (nobody records them yet).
    await v1.stop();
    const soldC = await publishAndSell(12);
    await v2.waitForWatermark(ends);
    assert.equal((await s.outbox.list(CONTEXT, v1Definition.name)).length, soldA.length + soldB.length);

    // The switch, while sales continue: v2 fills the gap from the log, then records as it goes.
    let appending = true;
    const soldD: string[] = [];
    const load = (async () => {
      while (appending) soldD.push(...(await publishAndSell(2)));
    })();
    await s.control.setState(CONTEXT, v2Definition.name, 2, 'live');
    await s.control.activate(CONTEXT, v2Definition.name, 2, { expectedActive: 1 });
    await eventually(() => v2.recordsEffects());
    await eventually(() => soldD.length >= 6);
    appending = false;
    await load;
    await v2.waitForWatermark(ends);
    const inLog = await soldInLog();
    assert.equal(inLog.size, soldA.length + soldB.length + soldC.length + soldD.length);
    await eventually(async () => (await s.outbox.list(CONTEXT, v1Definition.name)).length >= inLog.size);
    effects = await s.outbox.list(CONTEXT, v1Definition.name);
    const recorded = new Map(effects.map((e) => [`${e.partition}:${e.offset}`, e]));
    assert.equal(recorded.size, effects.length, 'no event has two effects');
    assert.deepEqual(
      [...recorded].map(([position, e]) => [position, e.payload.listingId]).sort(),
      [...inLog].sort(),
      'every ListingSold in the log has exactly one effect',
    );
    for (const id of [...soldC, ...soldD]) {
      assert.equal(effects.find((e) => e.payload.listingId === id)?.version, 2, `${id} recorded by v2`);
    }

    // v1 restarted while inactive catches up on the log again and records nothing.
    const v1Again = await startProjector(v1Definition, s);
    const soldE = await publishAndSell(6);
    await v1Again.waitForWatermark(ends);
    await v2.waitForWatermark(ends);
    await eventually(
      async () => (await s.outbox.list(CONTEXT, v1Definition.name)).length === inLog.size + soldE.length,
    );
    effects = await s.outbox.list(CONTEXT, v1Definition.name);
    for (const id of soldE) {
      assert.equal(effects.find((e) => e.payload.listingId === id)?.version, 2);
    }
    assert.equal(v1Again.recordsEffects(), false);
  });
});
