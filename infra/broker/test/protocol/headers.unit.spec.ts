/** Request/response headers: kafkajs's framing (header v1), librdkafka's ApiVersions v3 (header v2) fixtures. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import frameRequest = require('kafkajs/src/protocol/request');
import fetchV11Request = require('kafkajs/src/protocol/requests/fetch/v11/request');
import metadataV6Request = require('kafkajs/src/protocol/requests/metadata/v6/request');

import {
  ApiKey,
  decodeApiVersionsRequest,
  decodeApiVersionsResponse,
  decodeFetchRequest,
  decodeMetadataRequest,
  decodeRequestHeader,
  encodeApiVersionsRequest,
  encodeApiVersionsResponse,
  encodeRequestHeader,
  encodeResponseHeader,
  ProtocolDecodeError,
  Reader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
} from '@tidemark/kafka-protocol';
import { hexFixture } from './hex-fixture';

/** Strips and checks the INT32 size prefix of a frame. */
function unframe(frame: Buffer): Buffer {
  assert.equal(frame.readInt32BE(0), frame.length - 4, 'frame size prefix');
  return frame.subarray(4);
}

const TWO_APIS = [
  { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 7 },
  { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 11 },
];

function framedResponse(correlationId: number, encodeBody: (writer: Writer) => void): Buffer {
  const writer = new Writer(8);
  writer.int32(0);
  encodeResponseHeader(writer, correlationId);
  encodeBody(writer);
  writer.setInt32At(0, writer.length - 4);
  return writer.toBuffer();
}

describe('request header v1 (kafkajs)', () => {
  test('decodes a framed kafkajs Metadata v6 request: header then body', async () => {
    const framed = await frameRequest({
      correlationId: 77,
      clientId: 'tidemark-app',
      request: metadataV6Request({ topics: ['orders'], allowAutoTopicCreation: true }),
    });
    const reader = new Reader(unframe(framed.buffer));
    assert.deepEqual(decodeRequestHeader(reader), {
      apiKey: ApiKey.Metadata,
      apiVersion: 6,
      correlationId: 77,
      clientId: 'tidemark-app',
    });
    assert.deepEqual(decodeMetadataRequest(reader, 6), {
      topics: [{ name: 'orders' }],
      allowAutoTopicCreation: true,
    });
    assert.equal(reader.remaining, 0);
  });

  test('a null client id is allowed', async () => {
    const framed = await frameRequest({
      correlationId: 1,
      clientId: null,
      request: fetchV11Request({ replicaId: -1, maxWaitTime: 1, minBytes: 1, maxBytes: 1, topics: [] }),
    });
    const reader = new Reader(unframe(framed.buffer));
    assert.equal(decodeRequestHeader(reader).clientId, null);
    assert.equal(decodeFetchRequest(reader, 11).topics.length, 0);
    assert.equal(reader.remaining, 0);
  });

  test('header versions: v2 only for flexible ApiVersions; responses always v0', () => {
    assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
    assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 2), 1);
    assert.equal(requestHeaderVersion(ApiKey.Fetch, 11), 1);
    assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
    const writer = new Writer();
    encodeRequestHeader(writer, { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka' });
    encodeApiVersionsRequest(writer, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' }, 3);
    assert.deepEqual(writer.toBuffer(), unframe(hexFixture('librdkafka-apiversions-v3-request.hex')));
  });
});

describe('ApiVersions v3 (librdkafka fixtures)', () => {
  test("decodes librdkafka's ApiVersions v3 request (header v2, compact strings, tag buffers)", () => {
    const reader = new Reader(unframe(hexFixture('librdkafka-apiversions-v3-request.hex')));
    assert.deepEqual(decodeRequestHeader(reader), {
      apiKey: 18,
      apiVersion: 3,
      correlationId: 1,
      clientId: 'rdkafka',
    });
    assert.deepEqual(decodeApiVersionsRequest(reader, 3), {
      clientSoftwareName: 'librdkafka',
      clientSoftwareVersion: '2.0.2',
    });
    assert.equal(reader.remaining, 0);
  });

  test('skips unknown tagged fields in the v2 header and in the body', () => {
    const writer = new Writer();
    writer.int16(18).int16(3).int32(4).nullableString(null);
    writer.uvarint(1).uvarint(9).uvarint(2).int16(7); // one unknown header tag
    writer.compactString('x').compactString('y');
    writer.uvarint(1).uvarint(0).uvarint(0); // one empty unknown body tag
    const reader = new Reader(writer.toBuffer());
    assert.equal(decodeRequestHeader(reader).correlationId, 4);
    assert.deepEqual(decodeApiVersionsRequest(reader, 3), {
      clientSoftwareName: 'x',
      clientSoftwareVersion: 'y',
    });
    assert.equal(reader.remaining, 0);
  });

  test('encodes the v3 response with a v0 response header', () => {
    const framed = framedResponse(1, (w) =>
      encodeApiVersionsResponse(w, { errorCode: 0, apiKeys: TWO_APIS, throttleTimeMs: 0 }, 3),
    );
    assert.deepEqual(framed, hexFixture('apiversions-v3-response.hex'));
    const reader = new Reader(framed, 8);
    assert.deepEqual(decodeApiVersionsResponse(reader, 3), {
      errorCode: 0,
      apiKeys: TWO_APIS,
      throttleTimeMs: 0,
    });
    assert.equal(reader.remaining, 0);
  });

  test('encodes UNSUPPORTED_VERSION in the v0 layout', () => {
    const framed = framedResponse(5, (w) =>
      encodeApiVersionsResponse(w, { errorCode: 35, apiKeys: TWO_APIS, throttleTimeMs: 0 }, 0),
    );
    assert.deepEqual(framed, hexFixture('apiversions-unsupported-v0-response.hex'));
  });
});

describe('malformed frames', () => {
  test('a truncated Fetch request throws ProtocolDecodeError', () => {
    const frame = hexFixture('truncated-fetch-v11-request.hex');
    assert.ok(frame.readInt32BE(0) > frame.length - 4, 'the fixture is shorter than its size prefix');
    const reader = new Reader(frame.subarray(4));
    const header = decodeRequestHeader(reader);
    assert.equal(header.apiKey, ApiKey.Fetch);
    assert.throws(() => decodeFetchRequest(reader, header.apiVersion), ProtocolDecodeError);
  });

  test('a string longer than the frame throws ProtocolDecodeError', () => {
    const reader = new Reader(unframe(hexFixture('bad-string-length-request.hex')));
    const header = decodeRequestHeader(reader);
    assert.equal(header.clientId, '');
    assert.throws(() => decodeMetadataRequest(reader, header.apiVersion), ProtocolDecodeError);
  });

  test('every truncation of a valid request throws ProtocolDecodeError, never another error', async () => {
    const framed = await frameRequest({
      correlationId: 3,
      clientId: 'c',
      request: fetchV11Request({
        replicaId: -1,
        maxWaitTime: 10,
        minBytes: 1,
        maxBytes: 100,
        rackId: 'r',
        topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '5', maxBytes: 10 }] }],
      }),
    });
    const body = unframe(framed.buffer);
    for (let cut = 0; cut < body.length; cut++) {
      assert.throws(
        () => {
          const reader = new Reader(body.subarray(0, cut));
          decodeRequestHeader(reader);
          decodeFetchRequest(reader, 11);
        },
        ProtocolDecodeError,
        `cut at ${cut}`,
      );
    }
  });
});
