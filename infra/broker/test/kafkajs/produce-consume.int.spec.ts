import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Partitioners } from 'kafkajs';
import type { TestBroker } from '../support/test-broker';
import { startTestBroker, waitFor } from '../support/test-broker';

describe('kafkajs against the embedded broker: produce, consume, admin', () => {
  let tb: TestBroker;
  before(async () => {
    tb = await startTestBroker();
  });
  after(async () => {
    await tb.close();
  });

  test('keyed messages land in the key partition and are consumed in order per partition', async () => {
    const kafka = tb.kafka();
    const admin = kafka.admin();
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 4 }] }), true);
    // Creating it again reports "already exists" as false, as with Kafka.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 4 }] }), false);

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const keys = Array.from({ length: 20 }, (_, i) => `aggregate-${i}`);
    const sent: { key: string; value: string; partition: number }[] = [];
    for (let round = 0; round < 5; round++) {
      const results = await producer.send({
        topic: 'orders',
        acks: -1,
        messages: keys.map((key) => ({ key, value: `${key}:${round}` })),
      });
      assert.ok(results.every((r) => r.errorCode === 0));
    }
    const consumer = kafka.consumer({ groupId: 'orders-reader', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const received: { key: string; value: string; partition: number; offset: number }[] = [];
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          partition,
          offset: Number(message.offset),
        });
      },
    });
    await waitFor('100 messages', () => received.length >= 100);
    await consumer.disconnect();
    await producer.disconnect();

    assert.equal(received.length, 100);
    const partitionOfKey = new Map<string, number>();
    for (const message of received) {
      const known = partitionOfKey.get(message.key);
      if (known !== undefined) assert.equal(message.partition, known, `key ${message.key} moved partitions`);
      partitionOfKey.set(message.key, message.partition);
      sent.push(message);
    }
    // Keys spread over more than one partition, and each key's values arrive in send order.
    assert.ok(new Set(partitionOfKey.values()).size > 1);
    for (const key of keys) {
      const values = received.filter((m) => m.key === key).map((m) => m.value);
      assert.deepEqual(
        values,
        [0, 1, 2, 3, 4].map((round) => `${key}:${round}`),
      );
    }
    // Offsets within each partition are contiguous from 0.
    for (let p = 0; p < 4; p++) {
      const offsets = received.filter((m) => m.partition === p).map((m) => m.offset);
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => i),
      );
    }
    await admin.disconnect();
  });

  test('admin: fetchTopicMetadata, fetchOffsets, resetOffsets, fetchTopicOffsets', async () => {
    const kafka = tb.kafka();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'admin-topic', numPartitions: 3 }] });
    const metadata = await admin.fetchTopicMetadata({ topics: ['admin-topic'] });
    assert.equal(metadata.topics.length, 1);
    assert.deepEqual(metadata.topics[0]?.partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
    assert.ok(metadata.topics[0]?.partitions.every((p) => p.leader === 1));
    assert.ok((await admin.listTopics()).includes('admin-topic'));

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'admin-topic',
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `v${i}`, partition: i % 3 })),
    });
    await producer.disconnect();
    const topicOffsets = await admin.fetchTopicOffsets('admin-topic');
    assert.deepEqual(topicOffsets.map((o) => [o.partition, o.low, o.high]).sort(), [
      [0, '0', '10'],
      [1, '0', '10'],
      [2, '0', '10'],
    ]);

    // ListOffsets by timestamp: the first offset at or after the time, -1 (latest) past the end.
    const producer2 = kafka.producer();
    await producer2.connect();
    const before = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await producer2.send({ topic: 'admin-topic', messages: [{ value: 'late', partition: 1 }] });
    await producer2.disconnect();
    const byTime = await admin.fetchTopicOffsetsByTimestamp('admin-topic', before);
    assert.deepEqual(
      byTime.map((o) => [o.partition, o.offset]).sort(),
      [
        [0, '10'],
        [1, '10'],
        [2, '10'],
      ],
      'partition 1 points at the late message, the others at their end',
    );
    const fromStart = await admin.fetchTopicOffsetsByTimestamp('admin-topic', 0);
    assert.ok(fromStart.every((o) => o.offset === '0'));

    const consumer = kafka.consumer({ groupId: 'admin-group', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'admin-topic', fromBeginning: true });
    let seen = 0;
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async () => {
        seen++;
      },
    });
    await waitFor('31 consumed', () => seen >= 31);
    await waitFor('offsets committed', async () => {
      const [committed] = await admin.fetchOffsets({ groupId: 'admin-group', topics: ['admin-topic'] });
      return (
        committed?.partitions
          .map((p) => p.offset)
          .sort()
          .join() === '10,10,11'
      );
    });
    await consumer.disconnect();

    await admin.resetOffsets({ groupId: 'admin-group', topic: 'admin-topic', earliest: true });
    const [reset] = await admin.fetchOffsets({ groupId: 'admin-group', topics: ['admin-topic'] });
    // kafkajs commits "earliest" as -2 (resolved on the next fetch); the broker stores it as given.
    assert.equal(reset?.partitions.length, 3);
    assert.ok(
      reset?.partitions.every((p) => p.offset === '-2' || p.offset === '0'),
      JSON.stringify(reset),
    );
    // A consumer of the group now re-reads everything.
    const again = kafka.consumer({ groupId: 'admin-group', maxWaitTimeInMs: 200 });
    await again.connect();
    // kafkajs resolves the committed -2 with the consumer's own fromBeginning setting.
    await again.subscribe({ topic: 'admin-topic', fromBeginning: true });
    let reread = 0;
    await again.run({
      eachMessage: async () => {
        reread++;
      },
    });
    await waitFor('31 re-read after reset', () => reread >= 31);
    await again.disconnect();

    const groups = await admin.listGroups();
    assert.ok(groups.groups.some((g) => g.groupId === 'admin-group'));
    const described = await admin.describeGroups(['admin-group']);
    assert.equal(described.groups[0]?.state, 'Empty');
    await admin.deleteTopics({ topics: ['admin-topic'] });
    assert.ok(!(await admin.listTopics()).includes('admin-topic'));
    await admin.disconnect();
  });
});
