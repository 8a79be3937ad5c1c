/**
 * The network layer over real loopback sockets with an in-memory BrokerServices double: framing, pipelining,
 * response order, acks=0, version negotiation and connection-closing rules.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';

import Encoder = require('kafkajs/src/protocol/encoder');
import frameRequest = require('kafkajs/src/protocol/request');
import apiVersionsV2Request = require('kafkajs/src/protocol/requests/apiVersions/v2/request');
import fetchV11Request = require('kafkajs/src/protocol/requests/fetch/v11/request');
import metadataV6Request = require('kafkajs/src/protocol/requests/metadata/v6/request');
import produceV7Request = require('kafkajs/src/protocol/requests/produce/v7/request');

import {
  ApiKey,
  decodeApiVersionsResponse,
  decodeFetchResponse,
  decodeMetadataResponse,
  decodeProduceResponse,
  Reader,
} from '@tidemark/kafka-protocol';
import { pino } from 'pino';
import type {
  AppendOptions,
  AppendResult,
  BrokerServices,
  FetchPartitionResult,
  GroupCoordinator,
  LogStore,
  TopicMetadata,
  TopicPartition,
  TopicRegistry,
  TransactionCoordinator,
} from '../../src/contracts';
import { KafkaServer } from '../../src/network/kafka-server';
import { hexFixture } from './hex-fixture';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A log store whose appends wait until the test releases them. */
class FakeLog {
  appends: { topic: string; partition: number; options: AppendOptions; done: Deferred<AppendResult> }[] = [];
  waits: { partitions: TopicPartition[]; signal: AbortSignal | undefined }[] = [];
  nextOffset = 0;

  append(topic: string, partition: number, _records: Buffer, options: AppendOptions): Promise<AppendResult> {
    const done = deferred<AppendResult>();
    this.appends.push({ topic, partition, options, done });
    return done.promise;
  }

  async read(): Promise<FetchPartitionResult> {
    return {
      highWatermark: 0,
      lastStableOffset: 0,
      logStartOffset: 0,
      abortedTransactions: null,
      records: null,
    };
  }

  waitForData(partitions: TopicPartition[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.waits.push({ partitions, signal });
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  release(index: number): void {
    const append = this.appends[index];
    assert.ok(append, `append ${index} exists`);
    append.done.resolve({ baseOffset: this.nextOffset++, logAppendTimeMs: -1, logStartOffset: 0 });
  }
}

class Metrics {
  requests: { apiKey: number; errorCode: number }[] = [];
  opened = 0;
  closed = 0;
  bytesInTotal = 0;
  bytesOutTotal = 0;
  requestHandled(apiKey: number, errorCode: number): void {
    this.requests.push({ apiKey, errorCode });
  }
  bytesIn(count: number): void {
    this.bytesInTotal += count;
  }
  bytesOut(count: number): void {
    this.bytesOutTotal += count;
  }
  fsyncSeconds(): void {}
  connectionOpened(): void {
    this.opened++;
  }
  connectionClosed(): void {
    this.closed++;
  }
}

const TOPIC: TopicMetadata = {
  name: 'orders',
  topicId: 'id-1',
  partitionCount: 2,
  configs: {},
  createdAtMs: 0,
};

function makeServices(log: FakeLog, metrics: Metrics): BrokerServices {
  const topics: TopicRegistry = {
    list: () => [TOPIC],
    get: (name) => (name === TOPIC.name ? TOPIC : undefined),
    create: async () => TOPIC,
    delete: async () => {},
  };
  const unused = (): never => {
    throw new Error('not used by these tests');
  };
  return {
    config: {
      host: '127.0.0.1',
      port: 0,
      dataDir: '/nonexistent',
      nodeId: 1,
      clusterId: 'test-cluster',
      autoCreateTopics: false,
      defaultPartitions: 1,
      maxFrameBytes: 1024 * 1024,
      segmentBytes: 1 << 20,
      retentionBytes: null,
      retentionMs: null,
      groupInitialRebalanceDelayMs: 0,
      groupMinSessionTimeoutMs: 6000,
      groupMaxSessionTimeoutMs: 300000,
      transactionMaxTimeoutMs: 900000,
      transactionAbortCheckIntervalMs: 10000,
    },
    advertised: () => ({ host: '127.0.0.1', port: 9092 }),
    topics,
    log: log as unknown as LogStore,
    groups: new Proxy({}, { get: unused }) as GroupCoordinator,
    txns: new Proxy({}, { get: unused }) as TransactionCoordinator,
    logger: pino({ level: 'silent' }),
    metrics,
  };
}

/** A raw client connection that collects response frames. */
class RawClient {
  private buffered = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | null = null;
  closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        this.frames.push(this.buffered.subarray(4, 4 + size));
        this.buffered = this.buffered.subarray(4 + size);
      }
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  async nextFrame(timeoutMs = 2000): Promise<{ correlationId: number; body: Buffer }> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no response frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    const frame = this.frames.shift()!;
    return { correlationId: frame.readInt32BE(0), body: frame.subarray(4) };
  }

  pendingFrames(): number {
    return this.frames.length;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function frame(
  correlationId: number,
  request: { apiKey: number; apiVersion: number; encode(): Promise<unknown> },
): Promise<Buffer> {
  return (await frameRequest({ correlationId, clientId: 'test', request })).buffer;
}

const produceTopicData = (partition: number) => [
  { topic: 'orders', partitions: [{ partition, messages: [{ key: 'k', value: 'v' }] }] },
];

function withVersion(
  request: { apiKey: number; apiVersion: number; encode(): Promise<unknown> },
  apiVersion: number,
) {
  return { ...request, apiVersion };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Waits until `condition` holds (the server handles a written request on its own schedule, slower under load). */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await tick();
  }
}

describe('KafkaServer', () => {
  const log = new FakeLog();
  const metrics = new Metrics();
  const server = new KafkaServer(makeServices(log, metrics));
  let port = 0;

  before(async () => {
    port = (await server.listen('127.0.0.1', 0)).port;
  });
  after(async () => {
    await server.close();
  });

  test('pipelined requests are dispatched on arrival and answered strictly in request order', async () => {
    const client = await RawClient.open(port);
    log.appends = [];
    const frames = Buffer.concat([
      await frame(1, produceV7Request({ acks: -1, timeout: 1000, topicData: produceTopicData(0) })),
      await frame(2, produceV7Request({ acks: 1, timeout: 1000, topicData: produceTopicData(1) })),
      await frame(3, apiVersionsV2Request()),
    ]);
    client.socket.write(frames);
    await tick();
    // Both appends started in arrival order before either finished; ApiVersions is done but held back.
    assert.deepEqual(
      log.appends.map((a) => [a.partition, a.options.acks]),
      [
        [0, -1],
        [1, 1],
      ],
    );
    assert.equal(client.pendingFrames(), 0);
    log.release(1);
    await tick();
    assert.equal(client.pendingFrames(), 0, 'second produce answered before the first');
    log.release(0);
    const first = await client.nextFrame();
    const second = await client.nextFrame();
    const third = await client.nextFrame();
    assert.deepEqual([first.correlationId, second.correlationId, third.correlationId], [1, 2, 3]);
    const produced = decodeProduceResponse(new Reader(first.body), 7);
    assert.equal(produced.responses[0]!.partitionResponses[0]!.baseOffset, 1);
    const versions = decodeApiVersionsResponse(new Reader(third.body), 2);
    assert.equal(versions.errorCode, 0);
    assert.deepEqual(
      versions.apiKeys.find((a) => a.apiKey === ApiKey.Fetch),
      { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 11 },
    );
    client.close();
  });

  test('Produce with acks=0 gets no response; the next request is answered', async () => {
    const client = await RawClient.open(port);
    log.appends = [];
    client.socket.write(
      await frame(10, produceV7Request({ acks: 0, timeout: 1000, topicData: produceTopicData(0) })),
    );
    client.socket.write(
      await frame(11, metadataV6Request({ topics: ['orders', 'nope'], allowAutoTopicCreation: false })),
    );
    await tick();
    log.release(0);
    const response = await client.nextFrame();
    assert.equal(response.correlationId, 11);
    const metadata = decodeMetadataResponse(new Reader(response.body), 6);
    assert.equal(metadata.controllerId, 1);
    assert.equal(metadata.clusterId, 'test-cluster');
    assert.deepEqual(metadata.brokers, [{ nodeId: 1, host: '127.0.0.1', port: 9092, rack: null }]);
    assert.equal(metadata.topics[0]!.partitions.length, 2);
    assert.equal(metadata.topics[1]!.errorCode, 3);
    client.close();
  });

  test('frames split into single bytes are reassembled', async () => {
    const client = await RawClient.open(port);
    const bytes = await frame(20, apiVersionsV2Request());
    for (const byte of bytes) {
      client.socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const response = await client.nextFrame();
    assert.equal(response.correlationId, 20);
    client.close();
  });

  test("librdkafka's ApiVersions v3 is answered with a v0 response header", async () => {
    const client = await RawClient.open(port);
    client.socket.write(hexFixture('librdkafka-apiversions-v3-request.hex'));
    const response = await client.nextFrame();
    assert.equal(response.correlationId, 1);
    const reader = new Reader(response.body);
    const versions = decodeApiVersionsResponse(reader, 3);
    assert.equal(reader.remaining, 0);
    assert.equal(versions.errorCode, 0);
    assert.equal(versions.apiKeys.length, 21);
    client.close();
  });

  test('an unsupported ApiVersions version gets UNSUPPORTED_VERSION in v0 layout and the connection stays open', async () => {
    const client = await RawClient.open(port);
    client.socket.write(await frame(30, withVersion(apiVersionsV2Request(), 9)));
    const response = await client.nextFrame();
    assert.equal(response.correlationId, 30);
    const versions = decodeApiVersionsResponse(new Reader(response.body), 0);
    assert.equal(versions.errorCode, 35);
    assert.ok(
      versions.apiKeys.some((a) => a.apiKey === ApiKey.Produce && a.minVersion === 3 && a.maxVersion === 7),
    );
    client.socket.write(await frame(31, apiVersionsV2Request()));
    assert.equal((await client.nextFrame()).correlationId, 31);
    assert.ok(metrics.requests.some((r) => r.apiKey === ApiKey.ApiVersions && r.errorCode === 35));
    client.close();
  });

  for (const [name, bytes] of [
    [
      'an unknown api key',
      async () => frame(40, { apiKey: 99, apiVersion: 0, encode: async () => new Encoder() }),
    ],
    [
      'an unsupported Fetch version',
      async () =>
        frame(
          41,
          withVersion(
            fetchV11Request({ replicaId: -1, maxWaitTime: 1, minBytes: 1, maxBytes: 1, topics: [] }),
            12,
          ),
        ),
    ],
    ['a frame smaller than a request header', async () => Buffer.from([0, 0, 0, 4, 0, 1, 0, 4])],
    ['a frame larger than maxFrameBytes', async () => Buffer.from([0x7f, 0, 0, 0])],
    ['a request that fails to decode', async () => hexFixture('bad-string-length-request.hex')],
  ] as const) {
    test(`${name} closes the connection`, async () => {
      const client = await RawClient.open(port);
      client.socket.write(await bytes());
      await client.closed;
      assert.equal(client.pendingFrames(), 0);
    });
  }

  test('a long-poll Fetch waits for data and answers within max_wait_ms', async () => {
    const client = await RawClient.open(port);
    const started = Date.now();
    client.socket.write(
      await frame(
        50,
        fetchV11Request({
          replicaId: -1,
          maxWaitTime: 200,
          minBytes: 1,
          maxBytes: 1000,
          isolationLevel: 1,
          topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 100 }] }],
        }),
      ),
    );
    const response = await client.nextFrame();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 1000, `answered after ${elapsed} ms`);
    const fetched = decodeFetchResponse(new Reader(response.body), 11);
    assert.equal(fetched.sessionId, 0);
    assert.equal(fetched.responses[0]!.partitions[0]!.errorCode, 0);
    assert.equal(fetched.responses[0]!.partitions[0]!.records!.length, 0);
    client.close();
  });

  test('closing a connection aborts the signal of its pending requests', async () => {
    const client = await RawClient.open(port);
    log.waits = [];
    client.socket.write(
      await frame(
        60,
        fetchV11Request({
          replicaId: -1,
          maxWaitTime: 30000,
          minBytes: 1,
          maxBytes: 1000,
          topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 100 }] }],
        }),
      ),
    );
    await until(() => log.waits.length > 0, 'the fetch is waiting for data');
    const wait = log.waits[0];
    assert.ok(wait?.signal, 'fetch is long-polling with a signal');
    assert.equal(wait.signal.aborted, false);
    client.close();
    await until(() => wait.signal?.aborted === true, 'the closed connection aborts the fetch');
  });

  test('close() stops accepting, destroys connections and aborts pending requests', async () => {
    const other = new KafkaServer(makeServices(log, new Metrics()));
    const address = await other.listen('127.0.0.1', 0);
    const client = await RawClient.open(address.port);
    log.waits = [];
    client.socket.write(
      await frame(
        70,
        fetchV11Request({
          replicaId: -1,
          maxWaitTime: 30000,
          minBytes: 1,
          maxBytes: 1000,
          topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 100 }] }],
        }),
      ),
    );
    await until(() => log.waits.length > 0, 'the fetch is waiting for data');
    await other.close();
    await client.closed;
    assert.equal(log.waits[0]?.signal?.aborted, true);
    await assert.rejects(RawClient.open(address.port));
  });

  test('metrics count connections, bytes and requests', () => {
    assert.ok(metrics.opened >= 5);
    assert.ok(metrics.closed >= 4);
    assert.ok(metrics.bytesInTotal > 0);
    assert.ok(metrics.bytesOutTotal > 0);
    assert.ok(metrics.requests.some((r) => r.apiKey === ApiKey.Produce && r.errorCode === 0));
    assert.ok(metrics.requests.some((r) => r.apiKey === ApiKey.Metadata && r.errorCode === 3));
  });
});
