import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningBroker } from '@tidemark/broker';
import { startBroker } from '@tidemark/broker';
import { partitionForKey } from '@tidemark/kafka';
import type { CommandEnvelope, CommandOutcome } from '@tidemark/schemas';
import { TidemarkError } from '@tidemark/schemas';
import type { KafkaMessage, Producer } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { KafkaCommandTransport } from '../src';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);
const CONTEXT = 'widgets';
const PARTITIONS = 4;

async function waitFor(description: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function command(commandId: string, aggregateId: string): CommandEnvelope {
  return {
    commandId,
    type: 'CreateWidget',
    aggregateId,
    expectedVersion: 'new',
    payload: { name: 'sprocket', priceCents: 100 },
    metadata: {
      correlationId: commandId,
      causationId: commandId,
      principal: 'test',
      receivedAt: new Date().toISOString(),
    },
  };
}

function rejected(commandId: string, code = 'WIDGET_RETIRED'): CommandOutcome {
  return {
    status: 'rejected',
    commandId,
    aggregateId: `agg-${commandId}`,
    aggregateVersion: 2,
    code,
    message: 'no',
  };
}

describe('KafkaCommandTransport against the embedded broker', () => {
  let broker: RunningBroker;
  let dataDir: string;
  let kafka: Kafka;
  let transport: KafkaCommandTransport;
  let results: Producer;
  let brokerStopped = false;

  /** Writes outcomes the way the processor does: in a transaction, keyed by command id. */
  async function writeResults(outcomes: CommandOutcome[], commit = true): Promise<void> {
    const txn = await results.transaction();
    await txn.send({
      topic: `${CONTEXT}.command-results`,
      messages: outcomes.map((o) => ({ key: o.commandId, value: JSON.stringify(o) })),
    });
    if (commit) await txn.commit();
    else await txn.abort();
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tidemark-gateway-broker-'));
    await chmod(dataDir, 0o755);
    broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'warn' });
    kafka = new Kafka({
      clientId: 'gateway-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: `${CONTEXT}.commands`, numPartitions: PARTITIONS },
        { topic: `${CONTEXT}.command-results`, numPartitions: PARTITIONS },
      ],
    });
    await admin.disconnect();
    results = kafka.producer({
      transactionalId: `${CONTEXT}.processor.p0`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await results.connect();
    // A result written before the transport starts: it starts at the end, so it never sees this one.
    await writeResults([rejected('before-start')]);
    transport = await KafkaCommandTransport.start({
      brokers: [broker.bootstrap],
      contexts: [CONTEXT],
      clientId: 'gateway-under-test',
      logger,
      sendTimeoutMs: 4_000,
    });
  });

  after(async () => {
    await transport?.close();
    await results?.disconnect().catch(() => undefined);
    if (!brokerStopped) await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('send writes keyed JSON with type and commandId headers into the murmur2 partition of the key', async () => {
    const sent = Array.from({ length: 24 }, (_, i) =>
      command(`cmd-send-${i}`, `widget-${i}-${'x'.repeat(i % 5)}`),
    );
    await Promise.all(sent.map((c) => transport.send(CONTEXT, c)));

    const seen: { partition: number; message: KafkaMessage }[] = [];
    const consumer = kafka.consumer({ groupId: 'gateway-test-check', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: `${CONTEXT}.commands`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, message });
      },
    });
    try {
      await waitFor('the commands', () => seen.length >= sent.length);
    } finally {
      await consumer.disconnect();
    }
    assert.equal(seen.length, sent.length);
    const partitionsUsed = new Set<number>();
    for (const { partition, message } of seen) {
      const key = message.key?.toString('utf8') ?? '';
      const envelope = sent.find((c) => c.aggregateId === key);
      assert.ok(envelope, `a command keyed ${key}`);
      assert.equal(partition, partitionForKey(key, PARTITIONS), `partition of ${key}`);
      partitionsUsed.add(partition);
      assert.deepEqual(JSON.parse(message.value?.toString('utf8') ?? 'null'), envelope);
      assert.equal(message.headers?.type?.toString(), 'CreateWidget');
      assert.equal(message.headers?.commandId?.toString(), envelope.commandId);
    }
    assert.ok(partitionsUsed.size > 1, 'keys spread over partitions');
  });

  test('a committed outcome wakes the waiter, and lookupOutcome answers it afterwards', async () => {
    assert.equal(transport.lookupOutcome(CONTEXT, 'cmd-1'), null);
    const waiting = transport.awaitOutcome(CONTEXT, 'cmd-1', 10_000);
    const outcome = rejected('cmd-1');
    await writeResults([outcome]);
    assert.deepEqual(await waiting, outcome);
    assert.deepEqual(transport.lookupOutcome(CONTEXT, 'cmd-1'), outcome);
    // Already known: answered at once.
    assert.deepEqual(await transport.awaitOutcome(CONTEXT, 'cmd-1', 10_000), outcome);
    assert.equal(
      transport.lookupOutcome(CONTEXT, 'before-start'),
      null,
      'results from before start are not read',
    );
  });

  test('an aborted outcome never wakes the waiter', async () => {
    const aborted = transport.awaitOutcome(CONTEXT, 'cmd-aborted', 2_000);
    await writeResults([rejected('cmd-aborted', 'FROM_ABORTED_TXN')], false);
    const later = transport.awaitOutcome(CONTEXT, 'cmd-after-abort', 10_000);
    await writeResults([rejected('cmd-after-abort')]);
    assert.equal(
      (await later)?.commandId,
      'cmd-after-abort',
      'the consumer read past the aborted transaction',
    );
    assert.equal(await aborted, null);
    assert.equal(transport.lookupOutcome(CONTEXT, 'cmd-aborted'), null);
  });

  test('several waiters for one command id all get the same outcome', async () => {
    const waiters = [1, 2, 3].map(() => transport.awaitOutcome(CONTEXT, 'cmd-shared', 10_000));
    const outcome: CommandOutcome = {
      status: 'conflict',
      commandId: 'cmd-shared',
      aggregateId: 'agg',
      expectedVersion: 'new',
      currentVersion: 4,
    };
    await writeResults([outcome]);
    const got = await Promise.all(waiters);
    for (const g of got) assert.deepEqual(g, outcome);
  });

  test('a wait that times out returns null', async () => {
    const started = Date.now();
    assert.equal(await transport.awaitOutcome(CONTEXT, 'cmd-never', 250), null);
    assert.ok(Date.now() - started >= 240);
  });

  test('a result written right after start() is seen', async () => {
    const second = await KafkaCommandTransport.start({
      brokers: [broker.bootstrap],
      contexts: [CONTEXT],
      logger,
    });
    try {
      await writeResults([rejected('cmd-right-after-start')]);
      await waitFor('the result', () => second.lookupOutcome(CONTEXT, 'cmd-right-after-start') !== null);
      assert.equal(second.lookupOutcome(CONTEXT, 'cmd-1'), null);
    } finally {
      await second.close();
    }
  });

  test('send fails with LOG_UNAVAILABLE (503, retryable) when the broker is down', async () => {
    await broker.stop();
    brokerStopped = true;
    const started = Date.now();
    await assert.rejects(transport.send(CONTEXT, command('cmd-down', 'widget-down')), (error: unknown) => {
      assert.ok(error instanceof TidemarkError);
      assert.equal(error.code, 'LOG_UNAVAILABLE');
      assert.equal(error.status, 503);
      assert.equal(error.retryable, true);
      return true;
    });
    assert.ok(Date.now() - started < 15_000);
  });
});
