/**
 * Produce, Fetch, ListOffsets and Metadata codecs against kafkajs's own request encoders and response decoders
 * (the bytes kafkajs 2.2.4 really sends and the parser it really uses).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fetchV4Request = require('kafkajs/src/protocol/requests/fetch/v4/request');
import fetchV11Request = require('kafkajs/src/protocol/requests/fetch/v11/request');
import fetchV4Response = require('kafkajs/src/protocol/requests/fetch/v4/response');
import fetchV11Response = require('kafkajs/src/protocol/requests/fetch/v11/response');
import listOffsetsV0Request = require('kafkajs/src/protocol/requests/listOffsets/v0/request');
import listOffsetsV3Request = require('kafkajs/src/protocol/requests/listOffsets/v3/request');
import listOffsetsV0Response = require('kafkajs/src/protocol/requests/listOffsets/v0/response');
import listOffsetsV1Response = require('kafkajs/src/protocol/requests/listOffsets/v1/response');
import listOffsetsV3Response = require('kafkajs/src/protocol/requests/listOffsets/v3/response');
import metadataV1Request = require('kafkajs/src/protocol/requests/metadata/v1/request');
import metadataV6Request = require('kafkajs/src/protocol/requests/metadata/v6/request');
import metadataV1Response = require('kafkajs/src/protocol/requests/metadata/v1/response');
import metadataV6Response = require('kafkajs/src/protocol/requests/metadata/v6/response');
import produceV3Request = require('kafkajs/src/protocol/requests/produce/v3/request');
import produceV7Request = require('kafkajs/src/protocol/requests/produce/v7/request');
import produceV3Response = require('kafkajs/src/protocol/requests/produce/v3/response');
import produceV7Response = require('kafkajs/src/protocol/requests/produce/v7/response');

import {
  decodeFetchRequest,
  decodeFetchResponse,
  encodeFetchRequest,
  encodeFetchResponse,
  type FetchResponse,
} from '../src/messages/fetch';
import {
  decodeListOffsetsRequest,
  decodeListOffsetsResponse,
  encodeListOffsetsResponse,
  type ListOffsetsResponse,
} from '../src/messages/list-offsets';
import {
  decodeMetadataRequest,
  decodeMetadataResponse,
  encodeMetadataResponse,
  type MetadataResponse,
} from '../src/messages/metadata';
import {
  decodeProduceRequest,
  decodeProduceResponse,
  encodeProduceResponse,
  type ProduceResponse,
} from '../src/messages/produce';
import { decodeAll, encodeToBuffer, kafkajsBody, pick } from './helpers';

const TOPIC_DATA = [
  {
    topic: 'orders',
    partitions: [
      {
        partition: 0,
        firstSequence: 0,
        messages: [
          { key: 'k1', value: 'v1' },
          { key: 'k2', value: 'v2' },
        ],
      },
      { partition: 3, firstSequence: 0, messages: [{ key: null, value: 'v3' }] },
    ],
  },
];

/** A record batch exactly as kafkajs produces it (taken from a real Produce request). */
async function kafkajsRecordBatch(): Promise<Buffer> {
  const body = await kafkajsBody(produceV3Request({ acks: -1, timeout: 30000, topicData: TOPIC_DATA }));
  const request = decodeAll(decodeProduceRequest, body, 3);
  return Buffer.from(request.topicData[0]!.partitionData[0]!.records!);
}

describe('Produce codec', () => {
  for (const version of [3, 7]) {
    test(`decodes kafkajs's Produce v${version} request`, async () => {
      const build = version === 3 ? produceV3Request : produceV7Request;
      const body = await kafkajsBody(
        build({
          acks: -1,
          timeout: 30000,
          transactionalId: 'tx-1',
          producerId: 42,
          producerEpoch: 3,
          topicData: TOPIC_DATA,
        }),
      );
      const request = decodeAll(decodeProduceRequest, body, version);
      assert.equal(request.transactionalId, 'tx-1');
      assert.equal(request.acks, -1);
      assert.equal(request.timeoutMs, 30000);
      assert.equal(request.topicData.length, 1);
      assert.equal(request.topicData[0]!.name, 'orders');
      assert.deepEqual(
        request.topicData[0]!.partitionData.map((p) => p.index),
        [0, 3],
      );
      const records = request.topicData[0]!.partitionData[0]!.records!;
      // One whole record batch v2: batchLength + 12 bytes, magic 2, producer id 42, two records.
      assert.equal(records.readInt32BE(8) + 12, records.length);
      assert.equal(records.readInt8(16), 2);
      assert.equal(Number(records.readBigInt64BE(43)), 42);
      assert.equal(records.readInt16BE(51), 3);
      assert.equal(records.readInt32BE(57), 2);
      assert.ok(request.topicData[0]!.partitionData[1]!.records!.length > 61);
    });
  }

  test('decodes a non-transactional request (null transactional id) and acks=0', async () => {
    const body = await kafkajsBody(produceV7Request({ acks: 0, timeout: 100, topicData: TOPIC_DATA }));
    const request = decodeAll(decodeProduceRequest, body, 7);
    assert.equal(request.transactionalId, null);
    assert.equal(request.acks, 0);
  });

  const response: ProduceResponse = {
    responses: [
      {
        name: 'orders',
        partitionResponses: [
          { index: 0, errorCode: 0, baseOffset: 2 ** 35 + 1, logAppendTimeMs: -1, logStartOffset: 17 },
          { index: 3, errorCode: 3, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 },
        ],
      },
    ],
    throttleTimeMs: 0,
  };

  for (const [version, kafkajs] of [
    [3, produceV3Response],
    [5, produceV7Response],
    [7, produceV7Response],
  ] as const) {
    test(`kafkajs decodes our Produce v${version} response`, async () => {
      const decoded = await kafkajs.decode(encodeToBuffer(encodeProduceResponse, response, version));
      assert.equal(pick(decoded, 'throttleTime'), 0);
      assert.equal(pick(decoded, 'topics', 0, 'topicName'), 'orders');
      assert.equal(pick(decoded, 'topics', 0, 'partitions', 0, 'partition'), 0);
      assert.equal(pick(decoded, 'topics', 0, 'partitions', 0, 'errorCode'), 0);
      assert.equal(pick(decoded, 'topics', 0, 'partitions', 0, 'baseOffset'), String(2 ** 35 + 1));
      assert.equal(pick(decoded, 'topics', 0, 'partitions', 0, 'logAppendTime'), '-1');
      assert.equal(pick(decoded, 'topics', 0, 'partitions', 1, 'partition'), 3);
      assert.equal(pick(decoded, 'topics', 0, 'partitions', 1, 'errorCode'), 3);
      if (version >= 5) assert.equal(pick(decoded, 'topics', 0, 'partitions', 0, 'logStartOffset'), '17');
      await assert.rejects(kafkajs.parse(decoded), /does not host this topic-partition/);
      assert.deepEqual(
        decodeAll(decodeProduceResponse, encodeToBuffer(encodeProduceResponse, response, version), version)
          .responses[0]!.partitionResponses[0]!.baseOffset,
        2 ** 35 + 1,
      );
    });
  }

  test('Produce v3/v4 responses have no log_start_offset', () => {
    const v4 = encodeToBuffer(encodeProduceResponse, response, 4);
    const v5 = encodeToBuffer(encodeProduceResponse, response, 5);
    assert.equal(v5.length - v4.length, 2 * 8);
  });
});

describe('Fetch codec', () => {
  test("decodes kafkajs's Fetch v4 request", async () => {
    const body = await kafkajsBody(
      fetchV4Request({
        replicaId: -1,
        maxWaitTime: 5000,
        minBytes: 1,
        maxBytes: 10485760,
        isolationLevel: 1,
        topics: [
          { topic: 'orders', partitions: [{ partition: 2, fetchOffset: '12345678901', maxBytes: 1048576 }] },
        ],
      }),
    );
    const request = decodeAll(decodeFetchRequest, body, 4);
    assert.equal(request.replicaId, -1);
    assert.equal(request.maxWaitMs, 5000);
    assert.equal(request.minBytes, 1);
    assert.equal(request.maxBytes, 10485760);
    assert.equal(request.isolationLevel, 1);
    assert.equal(request.sessionId, 0);
    assert.equal(request.sessionEpoch, -1);
    assert.deepEqual(request.topics, [
      {
        topic: 'orders',
        partitions: [
          {
            partition: 2,
            currentLeaderEpoch: -1,
            fetchOffset: 12345678901,
            logStartOffset: -1,
            partitionMaxBytes: 1048576,
          },
        ],
      },
    ]);
    assert.deepEqual(request.forgottenTopicsData, []);
    assert.equal(request.rackId, '');
  });

  test("decodes kafkajs's Fetch v11 request", async () => {
    const body = await kafkajsBody(
      fetchV11Request({
        replicaId: -1,
        maxWaitTime: 100,
        minBytes: 1024,
        maxBytes: 2048,
        isolationLevel: 0,
        rackId: 'rack-a',
        topics: [
          { topic: 'a', partitions: [{ partition: 0, fetchOffset: '7', maxBytes: 512 }] },
          {
            topic: 'b',
            partitions: [{ partition: 1, fetchOffset: '0', maxBytes: 256, currentLeaderEpoch: 4 }],
          },
        ],
        forgottenTopics: [{ topic: 'c', partitions: [5, 6] }],
      }),
    );
    const request = decodeAll(decodeFetchRequest, body, 11);
    assert.equal(request.maxWaitMs, 100);
    assert.equal(request.minBytes, 1024);
    assert.equal(request.maxBytes, 2048);
    assert.equal(request.isolationLevel, 0);
    assert.equal(request.sessionId, 0);
    assert.equal(request.sessionEpoch, -1);
    assert.equal(request.topics.length, 2);
    assert.deepEqual(request.topics[1], {
      topic: 'b',
      partitions: [
        { partition: 1, currentLeaderEpoch: 4, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 256 },
      ],
    });
    assert.deepEqual(request.forgottenTopicsData, [{ topic: 'c', partitions: [5, 6] }]);
    assert.equal(request.rackId, 'rack-a');
  });

  test('request encode/decode are symmetric for every version 4..11', () => {
    const request = {
      replicaId: -1,
      maxWaitMs: 10,
      minBytes: 1,
      maxBytes: 100,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 't',
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 5,
              logStartOffset: -1,
              partitionMaxBytes: 9,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    };
    for (let version = 4; version <= 11; version++) {
      assert.deepEqual(
        decodeAll(decodeFetchRequest, encodeToBuffer(encodeFetchRequest, request, version), version),
        request,
      );
    }
  });

  for (const [version, kafkajs] of [
    [4, fetchV4Response],
    [11, fetchV11Response],
  ] as const) {
    test(`kafkajs decodes our Fetch v${version} response with records and aborted transactions`, async () => {
      const batch = await kafkajsRecordBatch();
      const response: FetchResponse = {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: [
          {
            topic: 'orders',
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 4,
                lastStableOffset: 4,
                logStartOffset: 0,
                abortedTransactions: [{ producerId: 42, firstOffset: 0 }],
                preferredReadReplica: -1,
                records: batch,
              },
              {
                partitionIndex: 1,
                errorCode: 1,
                highWatermark: -1,
                lastStableOffset: -1,
                logStartOffset: -1,
                abortedTransactions: null,
                preferredReadReplica: -1,
                records: Buffer.alloc(0),
              },
            ],
          },
        ],
      };
      const body = encodeToBuffer(encodeFetchResponse, response, version);
      const decoded = await kafkajs.decode(body);
      assert.equal(pick(decoded, 'throttleTime'), 0);
      assert.equal(pick(decoded, 'responses', 0, 'topicName'), 'orders');
      assert.equal(pick(decoded, 'responses', 0, 'partitions', 0, 'highWatermark'), '4');
      assert.equal(pick(decoded, 'responses', 0, 'partitions', 0, 'lastStableOffset'), '4');
      assert.deepEqual(pick(decoded, 'responses', 0, 'partitions', 0, 'abortedTransactions'), [
        { producerId: '42', firstOffset: '0' },
      ]);
      const messages = pick(decoded, 'responses', 0, 'partitions', 0, 'messages');
      assert.ok(Array.isArray(messages));
      assert.equal(messages.length, 2);
      assert.deepEqual(pick(messages, 1, 'value'), Buffer.from('v2'));
      assert.equal(pick(decoded, 'responses', 0, 'partitions', 1, 'errorCode'), 1);
      assert.deepEqual(pick(decoded, 'responses', 0, 'partitions', 1, 'messages'), []);
      if (version >= 7) {
        assert.equal(pick(decoded, 'errorCode'), 0);
        assert.equal(pick(decoded, 'sessionId'), 0);
        assert.equal(pick(decoded, 'responses', 0, 'partitions', 0, 'lastStartOffset'), '0');
      }
      if (version >= 11)
        assert.equal(pick(decoded, 'responses', 0, 'partitions', 0, 'preferredReadReplica'), -1);
      // Empty records are written as a zero-length set, never null (librdkafka rejects a negative size).
      const ours = decodeAll(decodeFetchResponse, body, version);
      assert.equal(ours.responses[0]!.partitions[1]!.records!.length, 0);
      assert.equal(ours.responses[0]!.partitions[1]!.abortedTransactions, null);
      assert.deepEqual(ours.responses[0]!.partitions[0]!.records, batch);
    });
  }
});

describe('ListOffsets codec', () => {
  test("decodes kafkajs's ListOffsets v0 request (max_num_offsets)", async () => {
    const body = await kafkajsBody(
      listOffsetsV0Request({
        replicaId: -1,
        topics: [{ topic: 't', partitions: [{ partition: 1, timestamp: -2 }] }],
      }),
    );
    const request = decodeAll(decodeListOffsetsRequest, body, 0);
    assert.deepEqual(request, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 1, timestamp: -2, maxNumOffsets: 1 }] }],
    });
  });

  test("decodes kafkajs's ListOffsets v3 request (isolation level)", async () => {
    const body = await kafkajsBody(
      listOffsetsV3Request({
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: 1700000000000 }] }],
      }),
    );
    const request = decodeAll(decodeListOffsetsRequest, body, 3);
    assert.deepEqual(request, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, timestamp: 1700000000000, maxNumOffsets: 1 }] },
      ],
    });
  });

  const response: ListOffsetsResponse = {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [42], timestamp: -1, offset: 42 }],
      },
    ],
  };

  test('kafkajs decodes our ListOffsets v0 response (old style offsets)', async () => {
    const decoded = await listOffsetsV0Response.decode(
      encodeToBuffer(encodeListOffsetsResponse, response, 0),
    );
    assert.deepEqual(decoded, {
      responses: [{ topic: 't', partitions: [{ partition: 0, errorCode: 0, offsets: ['42'] }] }],
    });
  });

  for (const [version, kafkajs] of [
    [1, listOffsetsV1Response],
    [3, listOffsetsV3Response],
  ] as const) {
    test(`kafkajs decodes our ListOffsets v${version} response`, async () => {
      const body = encodeToBuffer(encodeListOffsetsResponse, response, version);
      const decoded = await kafkajs.decode(body);
      assert.deepEqual(pick(decoded, 'responses'), [
        { topic: 't', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '42' }] },
      ]);
      assert.equal(decodeAll(decodeListOffsetsResponse, body, version).topics[0]!.partitions[0]!.offset, 42);
    });
  }
});

describe('Metadata codec', () => {
  test("decodes kafkajs's Metadata v1 request: empty topic list is sent as null (all topics)", async () => {
    assert.deepEqual(
      decodeAll(decodeMetadataRequest, await kafkajsBody(metadataV1Request({ topics: [] })), 1),
      {
        topics: null,
        allowAutoTopicCreation: true,
      },
    );
    assert.deepEqual(
      decodeAll(decodeMetadataRequest, await kafkajsBody(metadataV1Request({ topics: ['a', 'b'] })), 1),
      {
        topics: [{ name: 'a' }, { name: 'b' }],
        allowAutoTopicCreation: true,
      },
    );
  });

  test("decodes kafkajs's Metadata v6 request with allow_auto_topic_creation", async () => {
    const body = await kafkajsBody(metadataV6Request({ topics: ['a'], allowAutoTopicCreation: false }));
    assert.deepEqual(decodeAll(decodeMetadataRequest, body, 6), {
      topics: [{ name: 'a' }],
      allowAutoTopicCreation: false,
    });
  });

  const response: MetadataResponse = {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 7, host: '127.0.0.1', port: 19092, rack: null }],
    clusterId: 'tidemark-local',
    controllerId: 7,
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 7,
            replicaNodes: [7],
            isrNodes: [7],
            offlineReplicas: [],
          },
          {
            errorCode: 0,
            partitionIndex: 1,
            leaderId: 7,
            replicaNodes: [7],
            isrNodes: [7],
            offlineReplicas: [],
          },
        ],
      },
      { errorCode: 3, name: 'missing', isInternal: false, partitions: [] },
    ],
  };

  for (const [version, kafkajs] of [
    [1, metadataV1Response],
    [6, metadataV6Response],
  ] as const) {
    test(`kafkajs decodes our Metadata v${version} response`, async () => {
      const body = encodeToBuffer(encodeMetadataResponse, response, version);
      const decoded = await kafkajs.decode(body);
      assert.deepEqual(pick(decoded, 'brokers'), [{ nodeId: 7, host: '127.0.0.1', port: 19092, rack: null }]);
      assert.equal(pick(decoded, 'controllerId'), 7);
      assert.equal(pick(decoded, 'topicMetadata', 0, 'topic'), 'orders');
      assert.equal(pick(decoded, 'topicMetadata', 0, 'topicErrorCode'), 0);
      assert.equal(pick(decoded, 'topicMetadata', 0, 'isInternal'), false);
      assert.deepEqual(pick(decoded, 'topicMetadata', 0, 'partitionMetadata', 1), {
        partitionErrorCode: 0,
        partitionId: 1,
        leader: 7,
        replicas: [7],
        isr: [7],
        ...(version >= 5 ? { offlineReplicas: [] } : {}),
      });
      assert.equal(pick(decoded, 'topicMetadata', 1, 'topicErrorCode'), 3);
      if (version >= 2) assert.equal(pick(decoded, 'clusterId'), 'tidemark-local');
      if (version >= 3) assert.equal(pick(decoded, 'throttleTime'), 0);
      assert.deepEqual(decodeAll(decodeMetadataResponse, body, version).topics[1], response.topics[1]);
    });
  }
});
