import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningBroker } from '@tidemark/broker';
import { startBroker } from '@tidemark/broker';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopicIdentity, PartitionReader, provisionContextTopics, readTopicIdentity } from '../src';

describe('PartitionReader and topic provisioning against the embedded broker', () => {
  let dir = '';
  let broker: RunningBroker;
  let kafka: Kafka;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-reader-'));
    await chmod(dir, 0o755);
    broker = await startBroker({ dataDir: dir, port: 0, logLevel: 'warn' });
    kafka = new Kafka({ clientId: 'reader-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  });
  after(async () => {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('reads exactly the committed records of a range, skipping aborted transactions and markers', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'mixed', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer({
      transactionalId: 'reader-tx',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const committed: string[] = [];
    for (let i = 0; i < 12; i++) {
      const txn = await producer.transaction();
      const values = [`t${i}-a`, `t${i}-b`];
      await txn.send({
        topic: 'mixed',
        messages: values.map((value) => ({ key: 'k', value, partition: 1, headers: { type: 'test' } })),
      });
      if (i % 4 === 3) await txn.abort();
      else {
        await txn.commit();
        committed.push(...values);
      }
    }
    await producer.disconnect();

    const reader = PartitionReader.create([broker.bootstrap]);
    try {
      const end = await reader.endOffset('mixed', 1);
      assert.equal(end, 12 * 3, 'two records and a marker per transaction');
      const seen: { offset: number; value: string }[] = [];
      await reader.read('mixed', 1, 0, end, (records) => {
        for (const r of records) {
          assert.equal(r.headers.type, 'test');
          assert.equal(r.key?.toString(), 'k');
          seen.push({ offset: r.offset, value: r.value?.toString() ?? '' });
        }
      });
      assert.deepEqual(
        seen.map((s) => s.value),
        committed,
      );
      // A range starting mid-way and ending before the log end.
      const partial: string[] = [];
      await reader.read('mixed', 1, 6, 15, (records) => {
        partial.push(...records.map((r) => r.value?.toString() ?? ''));
      });
      assert.deepEqual(
        partial,
        ['t2-a', 't2-b', 't4-a', 't4-b'],
        'offsets 6..14: t2 committed, t3 aborted, t4 committed',
      );
      // An empty range returns at once.
      await reader.read('mixed', 0, 0, 0, () => assert.fail('nothing to read'));
    } finally {
      reader.close();
    }
  });

  test('provisioning creates four topics with P partitions and refuses another P', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const topics = await provisionContextTopics(admin, 'shop', { partitions: 3 });
    assert.deepEqual(topics, {
      commands: 'shop.commands',
      events: 'shop.events',
      results: 'shop.command-results',
      snapshots: 'shop.processor-snapshots',
    });
    const metadata = await admin.fetchTopicMetadata({ topics: Object.values(topics) });
    assert.ok(metadata.topics.every((t) => t.partitions.length === 3));
    // Idempotent with the same P.
    await provisionContextTopics(admin, 'shop', { partitions: 3 });
    await assert.rejects(
      provisionContextTopics(admin, 'shop', { partitions: 4 }),
      /PARTITION_COUNT|partition count/i,
    );
    await admin.disconnect();
  });

  test('the events topic identity is written once and read back by everyone', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await provisionContextTopics(admin, 'ident', { partitions: 2 });
    await admin.disconnect();
    const reader = PartitionReader.create([broker.bootstrap]);
    try {
      assert.equal(await readTopicIdentity(reader, 'ident.events'), null);
      const [a, b] = await Promise.all([
        ensureTopicIdentity(kafka, reader, 'ident.events'),
        ensureTopicIdentity(kafka, PartitionReader.create([broker.bootstrap]), 'ident.events'),
      ]);
      assert.match(a, /^[0-9a-f]{16}$/);
      assert.equal(a, b, 'racing writers agree on the first genesis record');
      assert.equal(await readTopicIdentity(reader, 'ident.events'), a);
    } finally {
      reader.close();
    }
  });
});
