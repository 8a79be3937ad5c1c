/** Consumer-group API codecs against kafkajs's own request encoders and response decoders. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import describeGroupsV0Request = require('kafkajs/src/protocol/requests/describeGroups/v0/request');
import describeGroupsV2Request = require('kafkajs/src/protocol/requests/describeGroups/v2/request');
import describeGroupsV0Response = require('kafkajs/src/protocol/requests/describeGroups/v0/response');
import describeGroupsV2Response = require('kafkajs/src/protocol/requests/describeGroups/v2/response');
import findCoordinatorV0Request = require('kafkajs/src/protocol/requests/findCoordinator/v0/request');
import findCoordinatorV2Request = require('kafkajs/src/protocol/requests/findCoordinator/v2/request');
import findCoordinatorV0Response = require('kafkajs/src/protocol/requests/findCoordinator/v0/response');
import findCoordinatorV2Response = require('kafkajs/src/protocol/requests/findCoordinator/v2/response');
import heartbeatV0Request = require('kafkajs/src/protocol/requests/heartbeat/v0/request');
import heartbeatV3Request = require('kafkajs/src/protocol/requests/heartbeat/v3/request');
import heartbeatV0Response = require('kafkajs/src/protocol/requests/heartbeat/v0/response');
import heartbeatV3Response = require('kafkajs/src/protocol/requests/heartbeat/v3/response');
import joinGroupV0Request = require('kafkajs/src/protocol/requests/joinGroup/v0/request');
import joinGroupV5Request = require('kafkajs/src/protocol/requests/joinGroup/v5/request');
import joinGroupV0Response = require('kafkajs/src/protocol/requests/joinGroup/v0/response');
import joinGroupV5Response = require('kafkajs/src/protocol/requests/joinGroup/v5/response');
import leaveGroupV0Request = require('kafkajs/src/protocol/requests/leaveGroup/v0/request');
import leaveGroupV3Request = require('kafkajs/src/protocol/requests/leaveGroup/v3/request');
import leaveGroupV0Response = require('kafkajs/src/protocol/requests/leaveGroup/v0/response');
import leaveGroupV3Response = require('kafkajs/src/protocol/requests/leaveGroup/v3/response');
import listGroupsV0Request = require('kafkajs/src/protocol/requests/listGroups/v0/request');
import listGroupsV2Request = require('kafkajs/src/protocol/requests/listGroups/v2/request');
import listGroupsV0Response = require('kafkajs/src/protocol/requests/listGroups/v0/response');
import listGroupsV2Response = require('kafkajs/src/protocol/requests/listGroups/v2/response');
import offsetCommitV0Request = require('kafkajs/src/protocol/requests/offsetCommit/v0/request');
import offsetCommitV1Request = require('kafkajs/src/protocol/requests/offsetCommit/v1/request');
import offsetCommitV2Request = require('kafkajs/src/protocol/requests/offsetCommit/v2/request');
import offsetCommitV5Request = require('kafkajs/src/protocol/requests/offsetCommit/v5/request');
import offsetCommitV0Response = require('kafkajs/src/protocol/requests/offsetCommit/v0/response');
import offsetCommitV5Response = require('kafkajs/src/protocol/requests/offsetCommit/v5/response');
import offsetFetchV1Request = require('kafkajs/src/protocol/requests/offsetFetch/v1/request');
import offsetFetchV4Request = require('kafkajs/src/protocol/requests/offsetFetch/v4/request');
import offsetFetchV1Response = require('kafkajs/src/protocol/requests/offsetFetch/v1/response');
import offsetFetchV4Response = require('kafkajs/src/protocol/requests/offsetFetch/v4/response');
import syncGroupV0Request = require('kafkajs/src/protocol/requests/syncGroup/v0/request');
import syncGroupV3Request = require('kafkajs/src/protocol/requests/syncGroup/v3/request');
import syncGroupV0Response = require('kafkajs/src/protocol/requests/syncGroup/v0/response');
import syncGroupV3Response = require('kafkajs/src/protocol/requests/syncGroup/v3/response');

import { decodeDescribeGroupsRequest, encodeDescribeGroupsResponse } from '../src/messages/describe-groups';
import {
  decodeFindCoordinatorRequest,
  encodeFindCoordinatorResponse,
} from '../src/messages/find-coordinator';
import { decodeHeartbeatRequest, encodeHeartbeatResponse } from '../src/messages/heartbeat';
import {
  decodeJoinGroupRequest,
  encodeJoinGroupResponse,
  type JoinGroupResponse,
} from '../src/messages/join-group';
import { decodeLeaveGroupRequest, encodeLeaveGroupResponse } from '../src/messages/leave-group';
import { decodeListGroupsRequest, encodeListGroupsResponse } from '../src/messages/list-groups';
import { decodeOffsetCommitRequest, encodeOffsetCommitResponse } from '../src/messages/offset-commit';
import {
  decodeOffsetFetchRequest,
  decodeOffsetFetchResponse,
  encodeOffsetFetchResponse,
  type OffsetFetchResponse,
} from '../src/messages/offset-fetch';
import { decodeSyncGroupRequest, encodeSyncGroupResponse } from '../src/messages/sync-group';
import { decodeAll, encodeToBuffer, kafkajsBody, pick } from './helpers';

const OFFSET_TOPICS = [
  {
    topic: 't',
    partitions: [
      { partition: 2, offset: '-2', metadata: 'md' },
      { partition: 3, offset: '99' },
    ],
  },
];

describe('OffsetCommit codec', () => {
  test("decodes kafkajs's OffsetCommit v0 request (no generation, member)", async () => {
    const request = decodeAll(
      decodeOffsetCommitRequest,
      await kafkajsBody(offsetCommitV0Request({ groupId: 'g', topics: OFFSET_TOPICS })),
      0,
    );
    assert.deepEqual(request, {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      retentionTimeMs: -1,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 2, committedOffset: -2, commitTimestamp: -1, committedMetadata: 'md' },
            { partitionIndex: 3, committedOffset: 99, commitTimestamp: -1, committedMetadata: null },
          ],
        },
      ],
    });
  });

  test("decodes kafkajs's OffsetCommit v1 request (commit timestamp)", async () => {
    const body = await kafkajsBody(
      offsetCommitV1Request({
        groupId: 'g',
        groupGenerationId: 4,
        memberId: 'm',
        topics: [{ topic: 't', partitions: [{ partition: 0, offset: '5', timestamp: 1700000000000 }] }],
      }),
    );
    const request = decodeAll(decodeOffsetCommitRequest, body, 1);
    assert.equal(request.generationIdOrMemberEpoch, 4);
    assert.equal(request.memberId, 'm');
    assert.deepEqual(request.topics[0]!.partitions[0], {
      partitionIndex: 0,
      committedOffset: 5,
      commitTimestamp: 1700000000000,
      committedMetadata: null,
    });
  });

  test("decodes kafkajs's OffsetCommit v2 (retention) and v5 requests", async () => {
    const v2 = decodeAll(
      decodeOffsetCommitRequest,
      await kafkajsBody(
        offsetCommitV2Request({
          groupId: 'g',
          groupGenerationId: 1,
          memberId: 'm',
          retentionTime: 86400000,
          topics: OFFSET_TOPICS,
        }),
      ),
      2,
    );
    assert.equal(v2.retentionTimeMs, 86400000);
    assert.equal(v2.topics[0]!.partitions[1]!.committedOffset, 99);
    const v5 = decodeAll(
      decodeOffsetCommitRequest,
      await kafkajsBody(
        offsetCommitV5Request({ groupId: 'g', groupGenerationId: 8, memberId: 'm-1', topics: OFFSET_TOPICS }),
      ),
      5,
    );
    assert.equal(v5.generationIdOrMemberEpoch, 8);
    assert.equal(v5.memberId, 'm-1');
    assert.equal(v5.retentionTimeMs, -1);
    assert.equal(v5.topics[0]!.partitions[0]!.committedMetadata, 'md');
  });

  for (const [version, kafkajs] of [
    [0, offsetCommitV0Response],
    [5, offsetCommitV5Response],
  ] as const) {
    test(`kafkajs decodes our OffsetCommit v${version} response`, async () => {
      const decoded = await kafkajs.decode(
        encodeToBuffer(
          encodeOffsetCommitResponse,
          { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 2, errorCode: 22 }] }] },
          version,
        ),
      );
      assert.deepEqual(pick(decoded, 'responses'), [
        { topic: 't', partitions: [{ partition: 2, errorCode: 22 }] },
      ]);
      await assert.rejects(kafkajs.parse(decoded), /generation/i);
    });
  }
});

describe('OffsetFetch codec', () => {
  test("decodes kafkajs's OffsetFetch v1 and v4 requests", async () => {
    const topics = [{ topic: 't', partitions: [{ partition: 0 }, { partition: 4 }] }];
    const v1 = decodeAll(
      decodeOffsetFetchRequest,
      await kafkajsBody(offsetFetchV1Request({ groupId: 'g', topics })),
      1,
    );
    assert.deepEqual(v1, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 4] }] });
    const v4 = decodeAll(
      decodeOffsetFetchRequest,
      await kafkajsBody(offsetFetchV4Request({ groupId: 'g', topics })),
      4,
    );
    assert.deepEqual(v4, v1);
    // kafkajs sends an empty list as null: every committed offset.
    const all = decodeAll(
      decodeOffsetFetchRequest,
      await kafkajsBody(offsetFetchV4Request({ groupId: 'g', topics: [] })),
      4,
    );
    assert.deepEqual(all, { groupId: 'g', topics: null });
  });

  const response: OffsetFetchResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, errorCode: 0 },
          { partitionIndex: 4, committedOffset: 120, committedLeaderEpoch: -1, metadata: 'x', errorCode: 0 },
        ],
      },
    ],
  };

  for (const [version, kafkajs] of [
    [1, offsetFetchV1Response],
    [4, offsetFetchV4Response],
  ] as const) {
    test(`kafkajs decodes our OffsetFetch v${version} response`, async () => {
      const decoded = await kafkajs.decode(encodeToBuffer(encodeOffsetFetchResponse, response, version));
      assert.deepEqual(pick(decoded, 'responses'), [
        {
          topic: 't',
          partitions: [
            { partition: 0, offset: '-1', metadata: null, errorCode: 0 },
            { partition: 4, offset: '120', metadata: 'x', errorCode: 0 },
          ],
        },
      ]);
      if (version >= 2) assert.equal(pick(decoded, 'errorCode'), 0);
    });
  }

  test('OffsetFetch v5 adds committed_leader_epoch after the offset', () => {
    const v4 = encodeToBuffer(encodeOffsetFetchResponse, response, 4);
    const v5 = encodeToBuffer(encodeOffsetFetchResponse, response, 5);
    assert.equal(v5.length - v4.length, 2 * 4);
    // throttle(4) + topics(4) + name(2+1) + partitions(4) + partition(4) + offset(8) -> leader epoch
    assert.equal(v5.readInt32BE(4 + 4 + 3 + 4 + 4 + 8), -1);
    assert.deepEqual(decodeAll(decodeOffsetFetchResponse, v5, 5), response);
  });
});

describe('FindCoordinator codec', () => {
  test("decodes kafkajs's FindCoordinator v0 and v2 requests", async () => {
    assert.deepEqual(
      decodeAll(
        decodeFindCoordinatorRequest,
        await kafkajsBody(findCoordinatorV0Request({ groupId: 'g' })),
        0,
      ),
      {
        key: 'g',
        keyType: 0,
      },
    );
    assert.deepEqual(
      decodeAll(
        decodeFindCoordinatorRequest,
        await kafkajsBody(findCoordinatorV2Request({ coordinatorKey: 'tx', coordinatorType: 1 })),
        2,
      ),
      { key: 'tx', keyType: 1 },
    );
  });

  for (const [version, kafkajs] of [
    [0, findCoordinatorV0Response],
    [2, findCoordinatorV2Response],
  ] as const) {
    test(`kafkajs decodes our FindCoordinator v${version} response`, async () => {
      const decoded = await kafkajs.decode(
        encodeToBuffer(
          encodeFindCoordinatorResponse,
          { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 3, host: 'localhost', port: 9092 },
          version,
        ),
      );
      assert.equal(pick(decoded, 'errorCode'), 0);
      assert.deepEqual(pick(decoded, 'coordinator'), { nodeId: 3, host: 'localhost', port: 9092 });
      if (version >= 1) assert.equal(pick(decoded, 'errorMessage'), null);
    });
  }
});

describe('JoinGroup codec', () => {
  const protocols = [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 116]) }];

  test("decodes kafkajs's JoinGroup v0 request (no rebalance timeout)", async () => {
    const body = await kafkajsBody(
      joinGroupV0Request({
        groupId: 'g',
        sessionTimeout: 30000,
        memberId: '',
        protocolType: 'consumer',
        groupProtocols: protocols,
      }),
    );
    assert.deepEqual(decodeAll(decodeJoinGroupRequest, body, 0), {
      groupId: 'g',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: -1,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols,
    });
  });

  test("decodes kafkajs's JoinGroup v5 request (rebalance timeout, group instance id)", async () => {
    const body = await kafkajsBody(
      joinGroupV5Request({
        groupId: 'g',
        sessionTimeout: 30000,
        rebalanceTimeout: 60000,
        memberId: 'm-1',
        groupInstanceId: 'static-1',
        protocolType: 'consumer',
        groupProtocols: protocols,
      }),
    );
    assert.deepEqual(decodeAll(decodeJoinGroupRequest, body, 5), {
      groupId: 'g',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: 'm-1',
      groupInstanceId: 'static-1',
      protocolType: 'consumer',
      protocols,
    });
  });

  const response: JoinGroupResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 5,
    protocolName: 'RoundRobinAssigner',
    leader: 'm-1',
    memberId: 'm-2',
    members: [
      { memberId: 'm-1', groupInstanceId: null, metadata: Buffer.from('a') },
      { memberId: 'm-2', groupInstanceId: 'static-2', metadata: Buffer.from('b') },
    ],
  };

  test('kafkajs decodes our JoinGroup v0 response', async () => {
    const decoded = await joinGroupV0Response.decode(encodeToBuffer(encodeJoinGroupResponse, response, 0));
    assert.deepEqual(decoded, {
      errorCode: 0,
      generationId: 5,
      groupProtocol: 'RoundRobinAssigner',
      leaderId: 'm-1',
      memberId: 'm-2',
      members: [
        { memberId: 'm-1', memberMetadata: Buffer.from('a') },
        { memberId: 'm-2', memberMetadata: Buffer.from('b') },
      ],
    });
  });

  test('kafkajs decodes our JoinGroup v5 response', async () => {
    const decoded = await joinGroupV5Response.decode(encodeToBuffer(encodeJoinGroupResponse, response, 5));
    assert.equal(pick(decoded, 'throttleTime'), 0);
    assert.equal(pick(decoded, 'generationId'), 5);
    assert.equal(pick(decoded, 'leaderId'), 'm-1');
    assert.deepEqual(pick(decoded, 'members'), [
      { memberId: 'm-1', groupInstanceId: null, memberMetadata: Buffer.from('a') },
      { memberId: 'm-2', groupInstanceId: 'static-2', memberMetadata: Buffer.from('b') },
    ]);
  });
});

describe('Heartbeat, LeaveGroup and SyncGroup codecs', () => {
  test("decode kafkajs's v0 and highest-version requests", async () => {
    assert.deepEqual(
      decodeAll(
        decodeHeartbeatRequest,
        await kafkajsBody(heartbeatV0Request({ groupId: 'g', groupGenerationId: 2, memberId: 'm' })),
        0,
      ),
      { groupId: 'g', generationId: 2, memberId: 'm', groupInstanceId: null },
    );
    assert.deepEqual(
      decodeAll(
        decodeHeartbeatRequest,
        await kafkajsBody(
          heartbeatV3Request({ groupId: 'g', groupGenerationId: 2, memberId: 'm', groupInstanceId: 'i' }),
        ),
        3,
      ),
      { groupId: 'g', generationId: 2, memberId: 'm', groupInstanceId: 'i' },
    );
    assert.deepEqual(
      decodeAll(
        decodeLeaveGroupRequest,
        await kafkajsBody(leaveGroupV0Request({ groupId: 'g', memberId: 'm' })),
        0,
      ),
      {
        groupId: 'g',
        memberId: 'm',
        members: [{ memberId: 'm', groupInstanceId: null }],
      },
    );
    assert.deepEqual(
      decodeAll(
        decodeLeaveGroupRequest,
        await kafkajsBody(
          leaveGroupV3Request({
            groupId: 'g',
            members: [{ memberId: 'm' }, { memberId: 'n', groupInstanceId: 'i' }],
          }),
        ),
        3,
      ),
      {
        groupId: 'g',
        memberId: '',
        members: [
          { memberId: 'm', groupInstanceId: null },
          { memberId: 'n', groupInstanceId: 'i' },
        ],
      },
    );
    const groupAssignment = [{ memberId: 'm', memberAssignment: Buffer.from([0, 1]) }];
    assert.deepEqual(
      decodeAll(
        decodeSyncGroupRequest,
        await kafkajsBody(
          syncGroupV0Request({ groupId: 'g', generationId: 3, memberId: 'm', groupAssignment }),
        ),
        0,
      ),
      {
        groupId: 'g',
        generationId: 3,
        memberId: 'm',
        groupInstanceId: null,
        assignments: [{ memberId: 'm', assignment: Buffer.from([0, 1]) }],
      },
    );
    assert.deepEqual(
      decodeAll(
        decodeSyncGroupRequest,
        await kafkajsBody(
          syncGroupV3Request({
            groupId: 'g',
            generationId: 3,
            memberId: 'm',
            groupInstanceId: 'i',
            groupAssignment: [],
          }),
        ),
        3,
      ),
      { groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: 'i', assignments: [] },
    );
  });

  test('kafkajs decodes our v0 and highest-version responses', async () => {
    assert.deepEqual(
      await heartbeatV0Response.decode(
        encodeToBuffer(encodeHeartbeatResponse, { throttleTimeMs: 0, errorCode: 27 }, 0),
      ),
      {
        errorCode: 27,
      },
    );
    const hb3 = await heartbeatV3Response.decode(
      encodeToBuffer(encodeHeartbeatResponse, { throttleTimeMs: 0, errorCode: 0 }, 3),
    );
    assert.equal(pick(hb3, 'throttleTime'), 0);
    assert.equal(pick(hb3, 'errorCode'), 0);

    const leave = {
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: 'm', groupInstanceId: null, errorCode: 25 }],
    };
    assert.deepEqual(await leaveGroupV0Response.decode(encodeToBuffer(encodeLeaveGroupResponse, leave, 0)), {
      errorCode: 0,
    });
    const leave3 = await leaveGroupV3Response.decode(encodeToBuffer(encodeLeaveGroupResponse, leave, 3));
    assert.deepEqual(pick(leave3, 'members'), [{ memberId: 'm', groupInstanceId: null, errorCode: 25 }]);

    const sync = { throttleTimeMs: 0, errorCode: 0, assignment: Buffer.from([0, 1, 2]) };
    assert.deepEqual(await syncGroupV0Response.decode(encodeToBuffer(encodeSyncGroupResponse, sync, 0)), {
      errorCode: 0,
      memberAssignment: Buffer.from([0, 1, 2]),
    });
    const sync3 = await syncGroupV3Response.decode(encodeToBuffer(encodeSyncGroupResponse, sync, 3));
    assert.deepEqual(pick(sync3, 'memberAssignment'), Buffer.from([0, 1, 2]));
    assert.equal(pick(sync3, 'throttleTime'), 0);
  });
});

describe('DescribeGroups and ListGroups codecs', () => {
  test("decode kafkajs's requests", async () => {
    assert.deepEqual(
      decodeAll(
        decodeDescribeGroupsRequest,
        await kafkajsBody(describeGroupsV0Request({ groupIds: ['a', 'b'] })),
        0,
      ),
      {
        groups: ['a', 'b'],
      },
    );
    assert.deepEqual(
      decodeAll(
        decodeDescribeGroupsRequest,
        await kafkajsBody(describeGroupsV2Request({ groupIds: ['a'] })),
        2,
      ),
      {
        groups: ['a'],
      },
    );
    assert.deepEqual(decodeAll(decodeListGroupsRequest, await kafkajsBody(listGroupsV0Request()), 0), {});
    assert.deepEqual(decodeAll(decodeListGroupsRequest, await kafkajsBody(listGroupsV2Request()), 2), {});
  });

  const described = {
    throttleTimeMs: 0,
    groups: [
      {
        errorCode: 0,
        groupId: 'g',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'RoundRobinAssigner',
        members: [
          {
            memberId: 'm',
            clientId: 'app',
            clientHost: '/127.0.0.1',
            memberMetadata: Buffer.from('md'),
            memberAssignment: Buffer.from('as'),
          },
        ],
      },
    ],
  };
  const expectedGroup = {
    errorCode: 0,
    groupId: 'g',
    state: 'Stable',
    protocolType: 'consumer',
    protocol: 'RoundRobinAssigner',
    members: [
      {
        memberId: 'm',
        clientId: 'app',
        clientHost: '/127.0.0.1',
        memberMetadata: Buffer.from('md'),
        memberAssignment: Buffer.from('as'),
      },
    ],
  };

  test('kafkajs decodes our DescribeGroups v0 and v2 responses', async () => {
    assert.deepEqual(
      await describeGroupsV0Response.decode(encodeToBuffer(encodeDescribeGroupsResponse, described, 0)),
      {
        groups: [expectedGroup],
      },
    );
    const v2 = await describeGroupsV2Response.decode(
      encodeToBuffer(encodeDescribeGroupsResponse, described, 2),
    );
    assert.deepEqual(pick(v2, 'groups'), [expectedGroup]);
    assert.equal(pick(v2, 'throttleTime'), 0);
  });

  test('kafkajs decodes our ListGroups v0 and v2 responses', async () => {
    const listed = { throttleTimeMs: 0, errorCode: 0, groups: [{ groupId: 'g', protocolType: 'consumer' }] };
    assert.deepEqual(await listGroupsV0Response.decode(encodeToBuffer(encodeListGroupsResponse, listed, 0)), {
      errorCode: 0,
      groups: [{ groupId: 'g', protocolType: 'consumer' }],
    });
    const v2 = await listGroupsV2Response.decode(encodeToBuffer(encodeListGroupsResponse, listed, 2));
    assert.deepEqual(pick(v2, 'groups'), [{ groupId: 'g', protocolType: 'consumer' }]);
    assert.equal(pick(v2, 'throttleTime'), 0);
  });
});
