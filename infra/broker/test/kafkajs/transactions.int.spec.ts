import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import type { TestBroker } from '../support/test-broker';
import { startTestBroker, waitFor } from '../support/test-broker';

async function readAll(
  kafka: Kafka,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
  expected: number,
): Promise<string[]> {
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${isolation}-${Math.random()}`,
    readUncommitted: isolation === 'read_uncommitted',
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value?.toString() ?? '');
    },
  });
  await waitFor(`${expected} ${isolation} messages of ${topic}`, () => values.length >= expected);
  // Linger so that anything that should not be there would have arrived.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await consumer.disconnect();
  return values;
}

describe('transactions', () => {
  let tb: TestBroker;
  before(async () => {
    tb = await startTestBroker();
  });
  after(async () => {
    await tb.close();
  });

  test('committed transactions reach read_committed consumers exactly once, aborted ones never', async () => {
    const kafka = tb.kafka();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tx-basic', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer({
      transactionalId: 'tx-basic-producer',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    for (let i = 0; i < 6; i++) {
      const txn = await producer.transaction();
      await txn.send({
        topic: 'tx-basic',
        messages: [
          { key: `k${i}`, value: `t${i}-a`, partition: 0 },
          { key: `k${i}`, value: `t${i}-b`, partition: 1 },
        ],
      });
      if (i % 3 === 2) await txn.abort();
      else await txn.commit();
    }
    await producer.disconnect();
    const committed = await readAll(kafka, 'tx-basic', 'read_committed', 8);
    assert.deepEqual([...committed].sort(), ['t0-a', 't0-b', 't1-a', 't1-b', 't3-a', 't3-b', 't4-a', 't4-b']);
    const everything = await readAll(kafka, 'tx-basic', 'read_uncommitted', 12);
    assert.equal(everything.length, 12, 'read_uncommitted sees aborted data too');
  });

  test('an open transaction holds back read_committed readers until it commits', async () => {
    const kafka = tb.kafka();
    const producer = kafka.producer({ transactionalId: 'tx-open', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const plain = kafka.producer();
    await plain.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'tx-open', messages: [{ value: 'in-txn' }] });
    await plain.send({ topic: 'tx-open', messages: [{ value: 'after-open-txn' }] });

    const consumer = kafka.consumer({ groupId: 'tx-open-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'tx-open', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.deepEqual(values, [], 'nothing past the last stable offset is visible');
    await txn.commit();
    await waitFor('both messages after commit', () => values.length >= 2);
    assert.deepEqual(values, ['in-txn', 'after-open-txn']);
    await consumer.disconnect();
    await plain.disconnect();
    await producer.disconnect();
  });

  test('consume-transform-produce: every input reaches the output exactly once despite aborted attempts', async () => {
    const kafka = tb.kafka();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'ctp-in', numPartitions: 3 },
        { topic: 'ctp-out', numPartitions: 3 },
      ],
    });
    await admin.disconnect();
    const input = kafka.producer();
    await input.connect();
    const total = 300;
    await input.send({
      topic: 'ctp-in',
      messages: Array.from({ length: total }, (_, i) => ({ key: `k${i % 17}`, value: String(i) })),
    });
    await input.disconnect();

    const producer = kafka.producer({
      transactionalId: 'ctp-processor',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const consumer = kafka.consumer({ groupId: 'ctp-group', readUncommitted: false, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ctp-in', fromBeginning: true });
    let attempts = 0;
    let aborted = 0;
    let done = 0;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const txn = await producer.transaction();
        attempts++;
        try {
          await txn.send({
            topic: 'ctp-out',
            messages: batch.messages.map((m) => ({ key: m.key, value: `out-${m.value?.toString()}` })),
          });
          const next = (Number(batch.lastOffset()) + 1).toString();
          await txn.sendOffsets({
            consumerGroupId: 'ctp-group',
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
          });
          // Every third attempt is abandoned: its output must never be visible and its input is redone.
          if (attempts % 3 === 0) throw new Error('deliberate failure');
          await txn.commit();
          resolveOffset(batch.lastOffset());
          done += batch.messages.length;
        } catch (error) {
          await txn.abort();
          aborted++;
          consumer.seek({
            topic: batch.topic,
            partition: batch.partition,
            offset: batch.firstOffset() ?? '0',
          });
          if (!(error instanceof Error && error.message === 'deliberate failure')) throw error;
        }
      },
    });
    await waitFor('all input processed', () => done >= total, 30_000);
    await consumer.disconnect();
    await producer.disconnect();
    assert.ok(aborted > 0, 'some attempts were aborted');

    const output = await readAll(kafka, 'ctp-out', 'read_committed', total);
    assert.equal(output.length, total);
    assert.deepEqual(
      [...output].sort(),
      Array.from({ length: total }, (_, i) => `out-${i}`).sort(),
      'each input exactly once',
    );
    const admin2 = kafka.admin();
    await admin2.connect();
    const [offsets] = await admin2.fetchOffsets({ groupId: 'ctp-group', topics: ['ctp-in'] });
    const committedTotal = offsets?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    assert.equal(committedTotal, total, 'offsets committed inside the transactions');
    await admin2.disconnect();
  });

  test('a zombie producer is fenced by a newer one with the same transactional id', async () => {
    const kafka = tb.kafka();
    const zombie = kafka.producer({ transactionalId: 'fenced-id', maxInFlightRequests: 1, idempotent: true });
    await zombie.connect();
    const zombieTxn = await zombie.transaction();
    await zombieTxn.send({ topic: 'fencing', messages: [{ value: 'from-zombie' }] });

    const successor = kafka.producer({
      transactionalId: 'fenced-id',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await successor.connect();
    // kafkajs sends InitProducerId with the transactional id on the first transaction(): that bumps the epoch
    // and aborts the zombie's open transaction.
    const txn = await successor.transaction();
    await assert.rejects(
      zombieTxn
        .send({ topic: 'fencing', messages: [{ value: 'zombie-again' }] })
        .then(() => zombieTxn.commit()),
      (error: Error) => /epoch|fenced/i.test(`${error.name} ${error.message}`),
    );
    await txn.send({ topic: 'fencing', messages: [{ value: 'from-successor' }] });
    await txn.commit();
    await successor.disconnect();
    await zombie.disconnect().catch(() => undefined);

    const committed = await readAll(kafka, 'fencing', 'read_committed', 1);
    assert.deepEqual(committed, ['from-successor']);
  });
});
