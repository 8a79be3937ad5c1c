/** ApiVersions, topic admin and transaction API codecs against kafkajs's own encoders and decoders. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import addOffsetsToTxnV0Request = require('kafkajs/src/protocol/requests/addOffsetsToTxn/v0/request');
import addOffsetsToTxnV1Request = require('kafkajs/src/protocol/requests/addOffsetsToTxn/v1/request');
import addOffsetsToTxnV0Response = require('kafkajs/src/protocol/requests/addOffsetsToTxn/v0/response');
import addOffsetsToTxnV1Response = require('kafkajs/src/protocol/requests/addOffsetsToTxn/v1/response');
import addPartitionsToTxnV0Request = require('kafkajs/src/protocol/requests/addPartitionsToTxn/v0/request');
import addPartitionsToTxnV1Request = require('kafkajs/src/protocol/requests/addPartitionsToTxn/v1/request');
import addPartitionsToTxnV0Response = require('kafkajs/src/protocol/requests/addPartitionsToTxn/v0/response');
import addPartitionsToTxnV1Response = require('kafkajs/src/protocol/requests/addPartitionsToTxn/v1/response');
import apiVersionsV0Request = require('kafkajs/src/protocol/requests/apiVersions/v0/request');
import apiVersionsV2Request = require('kafkajs/src/protocol/requests/apiVersions/v2/request');
import apiVersionsV0Response = require('kafkajs/src/protocol/requests/apiVersions/v0/response');
import apiVersionsV2Response = require('kafkajs/src/protocol/requests/apiVersions/v2/response');
import createTopicsV0Request = require('kafkajs/src/protocol/requests/createTopics/v0/request');
import createTopicsV3Request = require('kafkajs/src/protocol/requests/createTopics/v3/request');
import createTopicsV0Response = require('kafkajs/src/protocol/requests/createTopics/v0/response');
import createTopicsV1Response = require('kafkajs/src/protocol/requests/createTopics/v1/response');
import createTopicsV3Response = require('kafkajs/src/protocol/requests/createTopics/v3/response');
import deleteTopicsV0Request = require('kafkajs/src/protocol/requests/deleteTopics/v0/request');
import deleteTopicsV1Request = require('kafkajs/src/protocol/requests/deleteTopics/v1/request');
import deleteTopicsV0Response = require('kafkajs/src/protocol/requests/deleteTopics/v0/response');
import deleteTopicsV1Response = require('kafkajs/src/protocol/requests/deleteTopics/v1/response');
import endTxnV0Request = require('kafkajs/src/protocol/requests/endTxn/v0/request');
import endTxnV1Request = require('kafkajs/src/protocol/requests/endTxn/v1/request');
import endTxnV0Response = require('kafkajs/src/protocol/requests/endTxn/v0/response');
import endTxnV1Response = require('kafkajs/src/protocol/requests/endTxn/v1/response');
import initProducerIdV0Request = require('kafkajs/src/protocol/requests/initProducerId/v0/request');
import initProducerIdV1Request = require('kafkajs/src/protocol/requests/initProducerId/v1/request');
import initProducerIdV0Response = require('kafkajs/src/protocol/requests/initProducerId/v0/response');
import initProducerIdV1Response = require('kafkajs/src/protocol/requests/initProducerId/v1/response');
import txnOffsetCommitV0Request = require('kafkajs/src/protocol/requests/txnOffsetCommit/v0/request');
import txnOffsetCommitV1Request = require('kafkajs/src/protocol/requests/txnOffsetCommit/v1/request');
import txnOffsetCommitV0Response = require('kafkajs/src/protocol/requests/txnOffsetCommit/v0/response');
import txnOffsetCommitV1Response = require('kafkajs/src/protocol/requests/txnOffsetCommit/v1/response');

import {
  decodeAddOffsetsToTxnRequest,
  encodeAddOffsetsToTxnResponse,
} from '../src/messages/add-offsets-to-txn';
import {
  decodeAddPartitionsToTxnRequest,
  encodeAddPartitionsToTxnResponse,
} from '../src/messages/add-partitions-to-txn';
import { decodeApiVersionsRequest, encodeApiVersionsResponse } from '../src/messages/api-versions';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from '../src/messages/create-topics';
import { decodeDeleteTopicsRequest, encodeDeleteTopicsResponse } from '../src/messages/delete-topics';
import { decodeEndTxnRequest, encodeEndTxnResponse } from '../src/messages/end-txn';
import { decodeInitProducerIdRequest, encodeInitProducerIdResponse } from '../src/messages/init-producer-id';
import {
  decodeTxnOffsetCommitRequest,
  encodeTxnOffsetCommitResponse,
} from '../src/messages/txn-offset-commit';
import { decodeAll, encodeToBuffer, kafkajsBody, pick } from './helpers';

describe('ApiVersions codec (kafkajs v0..v2)', () => {
  const apiKeys = [
    { apiKey: 0, minVersion: 3, maxVersion: 7 },
    { apiKey: 18, minVersion: 0, maxVersion: 3 },
  ];

  test("decodes kafkajs's empty v0 and v2 requests", async () => {
    const empty = { clientSoftwareName: '', clientSoftwareVersion: '' };
    assert.deepEqual(
      decodeAll(decodeApiVersionsRequest, await kafkajsBody(apiVersionsV0Request()), 0),
      empty,
    );
    assert.deepEqual(
      decodeAll(decodeApiVersionsRequest, await kafkajsBody(apiVersionsV2Request()), 2),
      empty,
    );
  });

  test('kafkajs decodes our v0 and v2 responses', async () => {
    const response = { errorCode: 0, apiKeys, throttleTimeMs: 0 };
    assert.deepEqual(
      await apiVersionsV0Response.decode(encodeToBuffer(encodeApiVersionsResponse, response, 0)),
      {
        errorCode: 0,
        apiVersions: apiKeys,
      },
    );
    const v2 = await apiVersionsV2Response.decode(encodeToBuffer(encodeApiVersionsResponse, response, 2));
    assert.deepEqual(pick(v2, 'apiVersions'), apiKeys);
    assert.equal(pick(v2, 'clientSideThrottleTime'), 0);
  });

  test('kafkajs recognises UNSUPPORTED_VERSION in the v0 layout (its cue to retry a lower version)', async () => {
    const body = encodeToBuffer(encodeApiVersionsResponse, { errorCode: 35, apiKeys, throttleTimeMs: 0 }, 0);
    await assert.rejects(apiVersionsV2Response.decode(body), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.name, /KafkaJSProtocolError/);
      assert.equal(pick(error, 'type'), 'UNSUPPORTED_VERSION');
      return true;
    });
  });
});

describe('CreateTopics codec', () => {
  const topics = [
    {
      topic: 'a',
      numPartitions: 3,
      replicationFactor: 1,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    },
    { topic: 'b', replicaAssignment: [{ partition: 0, replicas: [1] }] },
  ];
  const expectedTopics = [
    {
      name: 'a',
      numPartitions: 3,
      replicationFactor: 1,
      assignments: [],
      configs: [{ name: 'cleanup.policy', value: 'compact' }],
    },
    {
      name: 'b',
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 0, brokerIds: [1] }],
      configs: [],
    },
  ];

  test("decodes kafkajs's CreateTopics v0 and v3 requests", async () => {
    assert.deepEqual(
      decodeAll(
        decodeCreateTopicsRequest,
        await kafkajsBody(createTopicsV0Request({ topics, timeout: 5000 })),
        0,
      ),
      {
        topics: expectedTopics,
        timeoutMs: 5000,
        validateOnly: false,
      },
    );
    assert.deepEqual(
      decodeAll(
        decodeCreateTopicsRequest,
        await kafkajsBody(createTopicsV3Request({ topics, validateOnly: true, timeout: 7000 })),
        3,
      ),
      { topics: expectedTopics, timeoutMs: 7000, validateOnly: true },
    );
  });

  const response = {
    throttleTimeMs: 0,
    topics: [
      { name: 'a', errorCode: 0, errorMessage: null },
      { name: 'b', errorCode: 36, errorMessage: "Topic 'b' already exists." },
    ],
  };

  test('kafkajs decodes our v0, v1 and v3 responses', async () => {
    assert.deepEqual(
      await createTopicsV0Response.decode(encodeToBuffer(encodeCreateTopicsResponse, response, 0)),
      {
        topicErrors: [
          { topic: 'a', errorCode: 0 },
          { topic: 'b', errorCode: 36 },
        ],
      },
    );
    const expected = [
      { topic: 'a', errorCode: 0, errorMessage: null },
      { topic: 'b', errorCode: 36, errorMessage: "Topic 'b' already exists." },
    ];
    const v1 = await createTopicsV1Response.decode(encodeToBuffer(encodeCreateTopicsResponse, response, 1));
    assert.deepEqual(pick(v1, 'topicErrors'), expected);
    const v3 = await createTopicsV3Response.decode(encodeToBuffer(encodeCreateTopicsResponse, response, 3));
    assert.deepEqual(pick(v3, 'topicErrors'), expected);
    assert.equal(pick(v3, 'throttleTime'), 0);
  });
});

describe('DeleteTopics codec', () => {
  test("decodes kafkajs's v0 and v1 requests", async () => {
    assert.deepEqual(
      decodeAll(
        decodeDeleteTopicsRequest,
        await kafkajsBody(deleteTopicsV0Request({ topics: ['a', 'b'], timeout: 5000 })),
        0,
      ),
      {
        topicNames: ['a', 'b'],
        timeoutMs: 5000,
      },
    );
    assert.deepEqual(
      decodeAll(
        decodeDeleteTopicsRequest,
        await kafkajsBody(deleteTopicsV1Request({ topics: ['a'], timeout: 10 })),
        1,
      ),
      {
        topicNames: ['a'],
        timeoutMs: 10,
      },
    );
  });

  test('kafkajs decodes our v0 and v1 responses', async () => {
    const response = { throttleTimeMs: 0, responses: [{ name: 'a', errorCode: 3 }] };
    assert.deepEqual(
      await deleteTopicsV0Response.decode(encodeToBuffer(encodeDeleteTopicsResponse, response, 0)),
      {
        topicErrors: [{ topic: 'a', errorCode: 3 }],
      },
    );
    const v1 = await deleteTopicsV1Response.decode(encodeToBuffer(encodeDeleteTopicsResponse, response, 1));
    assert.deepEqual(pick(v1, 'topicErrors'), [{ topic: 'a', errorCode: 3 }]);
    assert.equal(pick(v1, 'throttleTime'), 0);
  });
});

describe('InitProducerId codec', () => {
  test("decodes kafkajs's v0 (idempotent, null id) and v1 (transactional) requests", async () => {
    assert.deepEqual(
      decodeAll(
        decodeInitProducerIdRequest,
        await kafkajsBody(initProducerIdV0Request({ transactionalId: null, transactionTimeout: 30000 })),
        0,
      ),
      { transactionalId: null, transactionTimeoutMs: 30000 },
    );
    assert.deepEqual(
      decodeAll(
        decodeInitProducerIdRequest,
        await kafkajsBody(initProducerIdV1Request({ transactionalId: 'tx', transactionTimeout: 60000 })),
        1,
      ),
      { transactionalId: 'tx', transactionTimeoutMs: 60000 },
    );
  });

  for (const [version, kafkajs] of [
    [0, initProducerIdV0Response],
    [1, initProducerIdV1Response],
  ] as const) {
    test(`kafkajs decodes our v${version} response`, async () => {
      const decoded = await kafkajs.decode(
        encodeToBuffer(
          encodeInitProducerIdResponse,
          { throttleTimeMs: 0, errorCode: 0, producerId: 2 ** 33 + 9, producerEpoch: 4 },
          version,
        ),
      );
      assert.equal(pick(decoded, 'errorCode'), 0);
      assert.equal(pick(decoded, 'producerId'), String(2 ** 33 + 9));
      assert.equal(pick(decoded, 'producerEpoch'), 4);
    });
  }
});

describe('transaction API codecs', () => {
  const txn = { transactionalId: 'tx', producerId: 2 ** 33 + 9, producerEpoch: 4 };

  test("decode kafkajs's AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit requests (v0 and v1)", async () => {
    for (const [version, build] of [
      [0, addPartitionsToTxnV0Request],
      [1, addPartitionsToTxnV1Request],
    ] as const) {
      const body = await kafkajsBody(build({ ...txn, topics: [{ topic: 't', partitions: [0, 2] }] }));
      assert.deepEqual(decodeAll(decodeAddPartitionsToTxnRequest, body, version), {
        ...txn,
        topics: [{ name: 't', partitions: [0, 2] }],
      });
    }
    for (const [version, build] of [
      [0, addOffsetsToTxnV0Request],
      [1, addOffsetsToTxnV1Request],
    ] as const) {
      const body = await kafkajsBody(build({ ...txn, groupId: 'g' }));
      assert.deepEqual(decodeAll(decodeAddOffsetsToTxnRequest, body, version), { ...txn, groupId: 'g' });
    }
    for (const [version, build] of [
      [0, endTxnV0Request],
      [1, endTxnV1Request],
    ] as const) {
      for (const transactionResult of [true, false]) {
        const body = await kafkajsBody(build({ ...txn, transactionResult }));
        assert.deepEqual(decodeAll(decodeEndTxnRequest, body, version), {
          ...txn,
          committed: transactionResult,
        });
      }
    }
    for (const [version, build] of [
      [0, txnOffsetCommitV0Request],
      [1, txnOffsetCommitV1Request],
    ] as const) {
      const body = await kafkajsBody(
        build({
          ...txn,
          groupId: 'g',
          topics: [{ topic: 't', partitions: [{ partition: 1, offset: '10', metadata: null }] }],
        }),
      );
      assert.deepEqual(decodeAll(decodeTxnOffsetCommitRequest, body, version), {
        ...txn,
        groupId: 'g',
        topics: [
          { name: 't', partitions: [{ partitionIndex: 1, committedOffset: 10, committedMetadata: null }] },
        ],
      });
    }
  });

  test('kafkajs decodes our v0 and v1 responses', async () => {
    for (const kafkajs of [addPartitionsToTxnV0Response, addPartitionsToTxnV1Response]) {
      const version = kafkajs === addPartitionsToTxnV0Response ? 0 : 1;
      const decoded = await kafkajs.decode(
        encodeToBuffer(
          encodeAddPartitionsToTxnResponse,
          {
            throttleTimeMs: 0,
            resultsByTopic: [
              { name: 't', resultsByPartition: [{ partitionIndex: 2, partitionErrorCode: 47 }] },
            ],
          },
          version,
        ),
      );
      assert.deepEqual(pick(decoded, 'errors'), [
        { topic: 't', partitionErrors: [{ partition: 2, errorCode: 47 }] },
      ]);
      await assert.rejects(kafkajs.parse(decoded));
    }
    for (const [version, kafkajs] of [
      [0, addOffsetsToTxnV0Response],
      [1, addOffsetsToTxnV1Response],
    ] as const) {
      const decoded = await kafkajs.decode(
        encodeToBuffer(encodeAddOffsetsToTxnResponse, { throttleTimeMs: 0, errorCode: 51 }, version),
      );
      assert.equal(pick(decoded, 'errorCode'), 51);
    }
    for (const [version, kafkajs] of [
      [0, endTxnV0Response],
      [1, endTxnV1Response],
    ] as const) {
      const decoded = await kafkajs.decode(
        encodeToBuffer(encodeEndTxnResponse, { throttleTimeMs: 0, errorCode: 0 }, version),
      );
      assert.equal(pick(decoded, 'errorCode'), 0);
      assert.equal(pick(decoded, 'throttleTime'), 0);
    }
    for (const [version, kafkajs] of [
      [0, txnOffsetCommitV0Response],
      [1, txnOffsetCommitV1Response],
    ] as const) {
      const decoded = await kafkajs.decode(
        encodeToBuffer(
          encodeTxnOffsetCommitResponse,
          { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 1, errorCode: 0 }] }] },
          version,
        ),
      );
      assert.deepEqual(pick(decoded, 'topics'), [
        { topic: 't', partitions: [{ partition: 1, errorCode: 0 }] },
      ]);
    }
  });
});
