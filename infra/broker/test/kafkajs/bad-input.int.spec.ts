import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src';
import type { TestBroker } from '../support/test-broker';
import { startTestBroker, waitFor } from '../support/test-broker';

// kafkajs's own request encoders and response decoders: the bytes a real client sends and parses.
type Encoded = { buffer: Buffer };
type KafkajsRequest = { apiKey: number; apiVersion: number; encode(): Promise<Encoded> };
const frameRequest = require('kafkajs/src/protocol/request') as (args: {
  correlationId: number;
  clientId: string;
  request: KafkajsRequest;
}) => Promise<Encoded>;
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: {
  acks: number;
  timeout: number;
  topicData: {
    topic: string;
    partitions: { partition: number; messages: { key: string; value: string }[] }[];
  }[];
}) => KafkajsRequest;
const produceV3Response = require('kafkajs/src/protocol/requests/produce/v3/response') as {
  decode(buffer: Buffer): Promise<{ topics: { partitions: { partition: number; errorCode: number }[] }[] }>;
};

/** Sends raw bytes on a fresh connection; resolves with the response frames received and whether the broker closed. */
function exchange(
  port: number,
  bytes: Buffer,
  waitMs = 500,
): Promise<{ frames: Buffer[]; closedByBroker: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closedByBroker = false;
    const frames: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        frames.push(received.subarray(4, 4 + received.readInt32BE(0)));
        received = received.subarray(4 + received.readInt32BE(0));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closedByBroker = true;
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ frames, closedByBroker });
    }, waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ frames, closedByBroker: true });
    });
    socket.write(bytes);
  });
}

function header(apiKey: number, apiVersion: number, correlationId: number): Buffer {
  const clientId = Buffer.from('bad-input-test');
  const buffer = Buffer.alloc(10 + clientId.length);
  buffer.writeInt16BE(apiKey, 0);
  buffer.writeInt16BE(apiVersion, 2);
  buffer.writeInt32BE(correlationId, 4);
  buffer.writeInt16BE(clientId.length, 8);
  clientId.copy(buffer, 10);
  return buffer;
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

async function produceFrame(topic: string, partition: number, value: string): Promise<Buffer> {
  const request = produceV3({
    acks: -1,
    timeout: 1000,
    topicData: [{ topic, partitions: [{ partition, messages: [{ key: 'k', value }] }] }],
  });
  return (await frameRequest({ correlationId: 7, clientId: 'bad-input-test', request })).buffer;
}

describe('bad input: the broker answers with Kafka error codes or closes the connection, and stays healthy', () => {
  let tb: TestBroker;
  const survivors: string[] = [];
  before(async () => {
    tb = await startTestBroker({ maxFrameBytes: 1024 * 1024 });
    const producer = tb.kafka().producer();
    await producer.connect();
    await producer.send({
      topic: 'precious',
      acks: -1,
      messages: [{ value: 'before-1' }, { value: 'before-2' }],
    });
    survivors.push('before-1', 'before-2');
    await producer.disconnect();
  });
  after(async () => {
    await tb.close();
  });

  test('an oversize frame closes the connection', async () => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(1024 * 1024 + 1);
    const result = await exchange(tb.broker.port, Buffer.concat([size, Buffer.alloc(64)]));
    assert.equal(result.closedByBroker, true);
    assert.equal(result.frames.length, 0);
  });

  test('a negative or tiny frame size closes the connection', async () => {
    const negative = Buffer.alloc(8);
    negative.writeInt32BE(-5);
    assert.equal((await exchange(tb.broker.port, negative)).closedByBroker, true);
    assert.equal((await exchange(tb.broker.port, frame(Buffer.from([0, 1])))).closedByBroker, true);
  });

  test('an unknown API key closes the connection', async () => {
    const result = await exchange(tb.broker.port, frame(header(999, 0, 1)));
    assert.equal(result.closedByBroker, true);
    assert.equal(result.frames.length, 0);
  });

  test('a truncated request body closes the connection', async () => {
    // Produce v3 header followed by half a body.
    const result = await exchange(
      tb.broker.port,
      frame(Buffer.concat([header(0, 3, 2), Buffer.from([0xff, 0xff, 0, 1])])),
    );
    assert.equal(result.closedByBroker, true);
  });

  test('an unsupported ApiVersions version is answered with UNSUPPORTED_VERSION and the supported list', async () => {
    const result = await exchange(tb.broker.port, frame(header(18, 9, 42)));
    assert.equal(result.frames.length, 1);
    const response = result.frames[0] as Buffer;
    assert.equal(response.readInt32BE(0), 42, 'correlation id');
    assert.equal(response.readInt16BE(4), ErrorCode.UNSUPPORTED_VERSION);
    assert.ok(response.readInt32BE(6) >= 20, 'the list of supported APIs follows');
  });

  test('an unsupported version of another API closes the connection', async () => {
    const result = await exchange(tb.broker.port, frame(Buffer.concat([header(0, 99, 3), Buffer.alloc(16)])));
    assert.equal(result.closedByBroker, true);
    assert.equal(result.frames.length, 0);
  });

  test('a record batch with a bad CRC gets CORRUPT_MESSAGE and is not stored', async () => {
    const bytes = await produceFrame('precious', 0, 'CORRUPTME');
    const at = bytes.indexOf('CORRUPTME');
    assert.ok(at > 0);
    bytes[at] = 'X'.charCodeAt(0); // after the CRC was computed
    const result = await exchange(tb.broker.port, bytes, 2000);
    assert.equal(result.frames.length, 1);
    const decoded = await produceV3Response.decode((result.frames[0] as Buffer).subarray(4));
    assert.equal(decoded.topics[0]?.partitions[0]?.errorCode, ErrorCode.CORRUPT_MESSAGE);
  });

  test('produce to a missing partition gets UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const result = await exchange(tb.broker.port, await produceFrame('precious', 5, 'nowhere'), 2000);
    assert.equal(result.frames.length, 1);
    const decoded = await produceV3Response.decode((result.frames[0] as Buffer).subarray(4));
    assert.equal(decoded.topics[0]?.partitions[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('afterwards the broker still serves clients and everything stored before is intact', async () => {
    const kafka = tb.kafka();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'precious', acks: -1, messages: [{ value: 'after' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'precious-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'precious', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
      },
    });
    await waitFor('3 messages', () => values.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer.disconnect();
    assert.deepEqual(values, [...survivors, 'after']);
  });
});
