import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChildBroker } from '../support/child-broker';
import { freePort, startChildBroker } from '../support/child-broker';
import { makeTempDir } from '../support/temp-dir';
import { kafkaClient, waitFor } from '../support/test-broker';

describe('broker killed with SIGKILL during a produce stream', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: ChildBroker | undefined;
  before(async () => {
    dir = await makeTempDir('kill');
  });
  after(async () => {
    await broker?.kill('SIGKILL');
    await dir.remove();
  });

  test('loses no acknowledged message and serves all of them after restart', async () => {
    const port = await freePort();
    broker = await startChildBroker(dir.path, port, ['--partitions', '3']);
    const kafka = kafkaClient(broker.bootstrap, { retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();

    const acknowledged = new Set<string>();
    let next = 0;
    let stopped = false;
    const streams = Array.from({ length: 4 }, async () => {
      while (!stopped) {
        const values = Array.from({ length: 25 }, () => `m${next++}`);
        try {
          await producer.send({
            topic: 'durable',
            acks: -1,
            messages: values.map((value) => ({ key: value, value })),
          });
          for (const value of values) acknowledged.add(value);
        } catch {
          return; // the broker is gone: this batch was never acknowledged
        }
      }
    });
    await waitFor('a stream of acknowledged writes', () => acknowledged.size >= 3000, 30_000);
    await broker.kill('SIGKILL');
    stopped = true;
    await Promise.all(streams);
    await producer.disconnect().catch(() => undefined);
    const ackedAtKill = acknowledged.size;

    broker = await startChildBroker(dir.path, port);
    const reader = kafkaClient(broker.bootstrap);
    const consumer = reader.consumer({ groupId: 'after-crash', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'durable', fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.add(message.value?.toString() ?? '');
      },
    });
    await waitFor(
      'every acknowledged message after restart',
      () => [...acknowledged].every((v) => seen.has(v)),
      30_000,
    );
    await consumer.disconnect();
    const missing = [...acknowledged].filter((v) => !seen.has(v));
    assert.deepEqual(missing, []);
    assert.equal(acknowledged.size, ackedAtKill);

    // The recovered log takes new writes after the old ones.
    const producer2 = reader.producer();
    await producer2.connect();
    const [result] = await producer2.send({
      topic: 'durable',
      acks: -1,
      messages: [{ value: 'after', partition: 0 }],
    });
    assert.equal(result?.errorCode, 0);
    await producer2.disconnect();
  });
});
