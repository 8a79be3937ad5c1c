import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PartitionReader, partitionForKey } from '@tidemark/kafka';
import { listingsContext } from '@tidemark/listings';
import { CommandOutcome, decodeToken, EventEnvelope } from '@tidemark/schemas';
import type { ContextDefinition } from '@tidemark/sdk';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { CommandProcessor } from '../src';
import { CommandClient, publishPayload, startTestBroker } from './harness';

const context = listingsContext as unknown as ContextDefinition;
const logger = pino({ level: 'silent' });

describe('command processor against the embedded broker', () => {
  let stack: Awaited<ReturnType<typeof startTestBroker>>;
  let processor: CommandProcessor | undefined;
  let client: CommandClient;
  const start = (offsetCommitIntervalMs?: number) =>
    CommandProcessor.start({
      brokers: [stack.broker.bootstrap],
      context,
      partitions: 4,
      logger,
      snapshotEveryEvents: 7,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
      offsetCommitIntervalMs,
    });
  before(async () => {
    stack = await startTestBroker();
    processor = await start();
    client = await CommandClient.start(stack.broker.bootstrap, 'listings');
  });
  after(async () => {
    await client.close();
    await processor?.stop();
    await stack.close();
  });

  test('accepts, rejects, detects conflicts and deduplicates; events carry gapless versions in the key partition', async () => {
    const published = await client.send(
      'c-1',
      'PublishListing',
      'listing-1',
      publishPayload('s1', 1000),
      'new',
    );
    assert.equal(published.status, 'accepted');
    assert.ok(published.status === 'accepted');
    assert.equal(published.aggregateVersion, 1);
    assert.equal(published.events[0]?.type, 'ListingPublished');
    const token = decodeToken(published.token, processor?.topicIdentity);
    assert.equal(token.positions.size, 1);

    const price = await client.send('c-2', 'ChangePrice', 'listing-1', { priceCents: 900 }, 1);
    assert.ok(price.status === 'accepted');
    assert.equal(price.aggregateVersion, 2);

    const conflict = await client.send('c-3', 'ChangePrice', 'listing-1', { priceCents: 800 }, 1);
    assert.deepEqual(conflict, {
      status: 'conflict',
      commandId: 'c-3',
      aggregateId: 'listing-1',
      expectedVersion: 1,
      currentVersion: 2,
    });

    const again = await client.send('c-4', 'PublishListing', 'listing-1', publishPayload('s1', 1000));
    assert.equal(again.status, 'rejected');
    assert.ok(again.status === 'rejected');
    assert.equal(again.code, 'LISTING_ALREADY_EXISTS');

    const invalid = await client.send('c-5', 'ChangePrice', 'listing-1', { priceCents: -3 });
    assert.equal(invalid.status, 'invalid');

    const duplicate = await client.send('c-2', 'ChangePrice', 'listing-1', { priceCents: 900 }, 1);
    assert.deepEqual(duplicate, price, 'a retried command id gets the first outcome');

    // Many aggregates, concurrently, with snapshots every 7 events.
    const ids = Array.from({ length: 40 }, (_, i) => `agg-${i}`);
    const outcomes = await Promise.all(
      ids.map((id, i) =>
        client.send(`pub-${id}`, 'PublishListing', id, publishPayload(`s${i % 5}`, 100 + i), 'new'),
      ),
    );
    assert.ok(outcomes.every((o) => o.status === 'accepted'));
    for (let round = 0; round < 3; round++) {
      const changes = await Promise.all(
        ids.map((id) => client.send(`chg-${id}-${round}`, 'ChangePrice', id, { priceCents: 500 + round })),
      );
      assert.ok(changes.every((o) => o.status === 'accepted' && o.aggregateVersion === round + 2));
    }
  });

  test('after a restart the state is rebuilt: duplicates still answered, versions continue', async () => {
    await processor?.stop();
    processor = await start();
    const duplicate = await client.send('c-2', 'ChangePrice', 'listing-1', { priceCents: 900 }, 1);
    assert.ok(duplicate.status === 'accepted');
    assert.equal(duplicate.aggregateVersion, 2);
    const next = await client.send('c-6', 'ChangePrice', 'listing-1', { priceCents: 700 }, 2);
    assert.ok(next.status === 'accepted');
    assert.equal(next.aggregateVersion, 3);
    const more = await client.send('chg-agg-3-3', 'ChangePrice', 'agg-3', { priceCents: 42 }, 4);
    assert.ok(more.status === 'accepted', JSON.stringify(more));
    assert.equal(more.aggregateVersion, 5);

    // The log: every event exactly once, gapless per aggregate, in the partition of its key.
    const reader = PartitionReader.create([stack.broker.bootstrap]);
    const versions = new Map<string, number[]>();
    const partitionOf = new Map<string, number>();
    for (let p = 0; p < 4; p++) {
      const end = await reader.endOffset('listings.events', p);
      await reader.read('listings.events', p, 0, end, (records) => {
        for (const record of records) {
          if (record.headers.type === 'tidemark.genesis') continue;
          const event = EventEnvelope.parse(JSON.parse(record.value?.toString() ?? ''));
          versions.set(event.aggregate.id, [...(versions.get(event.aggregate.id) ?? []), event.version]);
          const known = partitionOf.get(event.aggregate.id);
          assert.ok(known === undefined || known === p);
          partitionOf.set(event.aggregate.id, p);
        }
      });
    }
    reader.close();
    assert.deepEqual(versions.get('listing-1'), [1, 2, 3]);
    assert.deepEqual(versions.get('agg-3'), [1, 2, 3, 4, 5]);
    for (const [id, list] of versions)
      assert.deepEqual(
        list,
        list.map((_, i) => i + 1),
        `gapless ${id}`,
      );
  });

  test('command offsets lag by at most the commit interval; commands re-read after a takeover are duplicates', async () => {
    await processor?.stop();
    processor = await start(60_000); // this owner commits no command offsets during the test
    const ids = Array.from({ length: 12 }, (_, i) => `late-${i}`);
    const outcomes = await Promise.all(
      ids.map((id, i) => client.send(`pub-${id}`, 'PublishListing', id, publishPayload('s9', 10 + i), 'new')),
    );
    assert.ok(outcomes.every((o) => o.status === 'accepted'));

    const admin = new Kafka({ brokers: [stack.broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const committed = async () => {
        const [topic] = await admin.fetchOffsets({
          groupId: 'listings.processor',
          topics: ['listings.commands'],
        });
        return new Map((topic?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      };
      const ends = new Map(
        (await admin.fetchTopicOffsets('listings.commands')).map((p) => [p.partition, Number(p.high)]),
      );
      const lagging = (c: Map<number, number>) => [...ends].filter(([p, end]) => (c.get(p) ?? -1) < end);
      assert.ok(
        lagging(await committed()).length > 0,
        'the late commands are decided but their offsets not committed',
      );

      await processor.stop();
      processor = await start(200);
      // The new owner re-reads every late command, answers it again, and commits the offsets once idle.
      const deadline = Date.now() + 10_000;
      while (lagging(await committed()).length > 0) {
        assert.ok(Date.now() < deadline, 'the idle offsets commit reaches the end of every partition');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await admin.disconnect();
    }

    const reader = PartitionReader.create([stack.broker.bootstrap]);
    const answers = new Map<string, CommandOutcome[]>();
    const events = new Map<string, number>();
    for (let p = 0; p < 4; p++) {
      await reader.read(
        'listings.command-results',
        p,
        0,
        await reader.endOffset('listings.command-results', p),
        (records) => {
          for (const record of records) {
            const outcome = CommandOutcome.parse(JSON.parse(record.value?.toString() ?? 'null'));
            if (outcome.commandId.startsWith('pub-late-'))
              answers.set(outcome.commandId, [...(answers.get(outcome.commandId) ?? []), outcome]);
          }
        },
      );
      await reader.read('listings.events', p, 0, await reader.endOffset('listings.events', p), (records) => {
        for (const record of records) {
          if (record.headers.type === 'tidemark.genesis') continue;
          const event = EventEnvelope.parse(JSON.parse(record.value?.toString() ?? ''));
          events.set(event.aggregate.id, (events.get(event.aggregate.id) ?? 0) + 1);
        }
      });
    }
    reader.close();
    for (const [i, id] of ids.entries()) {
      const answered = answers.get(`pub-${id}`) ?? [];
      assert.equal(answered.length, 2, `pub-${id} was decided, then re-read and answered as a duplicate`);
      assert.deepEqual(answered[1], answered[0], 'the duplicate gets the original outcome');
      assert.deepEqual(answered[0], outcomes[i]);
      assert.equal(events.get(id), 1, `${id}: one event, appended once`);
    }
  });

  test('a rebuild longer than the group session keeps the membership: one takeover, then the command is decided', async () => {
    await processor?.stop();
    processor = undefined;
    // Events written behind the processor's back (as a bulk import would): no snapshot covers them, so the next
    // owner of partition 0 replays them all, in the batch that triggered the takeover.
    const ids: string[] = [];
    for (let i = 0; ids.length < 120_000; i++) {
      if (partitionForKey(`bulk-${i}`, 4) === 0) ids.push(`bulk-${i}`);
    }
    const kafka = new Kafka({ brokers: [stack.broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (let from = 0; from < ids.length; from += 5_000) {
        await producer.send({
          topic: 'listings.events',
          acks: -1,
          messages: ids.slice(from, from + 5_000).map((id, i) => {
            const event: EventEnvelope = {
              id: `00000000-0000-7000-8000-${String(from + i).padStart(12, '0')}`,
              type: 'ListingPublished',
              schemaVersion: 2,
              aggregate: { type: 'listing', id },
              version: 1,
              commandId: `bulk-${from + i}`,
              correlationId: `bulk-${from + i}`,
              causationId: `bulk-${from + i}`,
              occurredAt: new Date(0).toISOString(),
              payload: publishPayload('s-bulk', 100 + i),
            };
            return {
              key: id,
              partition: 0,
              value: JSON.stringify(event),
              headers: { type: event.type, schemaVersion: '2', commandId: event.commandId },
            };
          }),
        });
      }
    } finally {
      await producer.disconnect();
    }
    // A session shorter than the rebuild takes on this machine (seconds for 120,000 events).
    processor = await CommandProcessor.start({
      brokers: [stack.broker.bootstrap],
      context,
      partitions: 4,
      logger,
      snapshotEveryEvents: 7,
      sessionTimeoutMs: 1000,
      heartbeatIntervalMs: 300,
    });
    const admin = kafka.admin();
    await admin.connect();
    const members = async () =>
      (await admin.describeGroups(['listings.processor'])).groups[0]?.members.map((m) => m.memberId).sort() ??
      [];
    const before = await members();
    assert.equal(before.length, 1);
    const started = Date.now();
    const target = ids[7] as string;
    const outcome = await client.send('after-bulk', 'ChangePrice', target, { priceCents: 55 }, 1);
    assert.ok(outcome.status === 'accepted', JSON.stringify(outcome));
    assert.equal(outcome.aggregateVersion, 2, 'the rebuilt state knows the bulk-written version');
    const summary = await processor.registry.getSingleMetric('tidemark_processor_rebuild_seconds')?.get();
    const value = (name: string) =>
      (summary?.values as { metricName?: string; value: number }[] | undefined)?.find(
        (v) => v.metricName === name,
      )?.value;
    const rebuilds = value('tidemark_processor_rebuild_seconds_count');
    const rebuildSeconds = value('tidemark_processor_rebuild_seconds_sum') ?? 0;
    const slowest = Date.now() - started;
    assert.equal(rebuilds, 1, `one takeover, not a rebalance loop (${slowest} ms to the answer)`);
    assert.ok(rebuildSeconds > 1, `the rebuild (${rebuildSeconds} s) outlasted the 1 s session`);
    // A member whose session expired during the rebuild would rejoin under a new member id at its next heartbeat.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual(await members(), before, 'the same member, its session never expired');
    await admin.disconnect();
  });
});
