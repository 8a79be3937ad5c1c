import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiKey } from '../../src';
import { KafkaTcpProxy } from '../support/tcp-proxy';
import type { TestBroker } from '../support/test-broker';
import { startTestBroker, waitFor } from '../support/test-broker';

describe('idempotent producer', () => {
  let tb: TestBroker;
  const proxy = new KafkaTcpProxy();
  let proxyPort = 0;
  before(async () => {
    // Clients reach the broker only through the proxy, which can lose a Produce response.
    proxyPort = await proxy.listen();
    tb = await startTestBroker({ advertisedPort: proxyPort });
    proxy.setTarget(tb.broker.host, tb.broker.port);
  });
  after(async () => {
    await proxy.close();
    await tb.close();
  });

  test('a batch retried after a lost response is stored once, at its original offsets', async () => {
    const kafka = tb.kafka({ brokers: [`127.0.0.1:${proxyPort}`] });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'idem', numPartitions: 1 }] });
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: 'idem', acks: -1, messages: [{ key: 'a', value: 'first' }] });

    proxy.dropResponsesOf(ApiKey.Produce);
    const [retried] = await producer.send({
      topic: 'idem',
      acks: -1,
      messages: [
        { key: 'a', value: 'second' },
        { key: 'a', value: 'third' },
      ],
    });
    assert.equal(proxy.droppedResponses, 1, 'the first attempt lost its response');
    assert.equal(retried?.baseOffset, '1', 'the retry is answered with the original offsets');
    await producer.send({ topic: 'idem', acks: -1, messages: [{ key: 'a', value: 'fourth' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'idem-reader', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'idem', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
      },
    });
    await waitFor('4 messages', () => values.length >= 4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer.disconnect();
    assert.deepEqual(values, ['first', 'second', 'third', 'fourth']);
  });
});
