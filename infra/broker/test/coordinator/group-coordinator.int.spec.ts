import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode } from '@tidemark/kafka-protocol';
import pino from 'pino';
import type { BrokerConfig, JoinGroupInput, JoinGroupOutput } from '../../src/contracts';
import { DiskGroupCoordinator } from '../../src/coordinator';
import { sleep, testConfig } from './helpers';

const logger = pino({ level: 'silent' });
const RANGE = { name: 'range', metadata: Buffer.from('range-meta') };
const ROUND_ROBIN = { name: 'roundrobin', metadata: Buffer.from('rr-meta') };

function joinInput(groupId: string, overrides: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [RANGE],
    clientId: 'client',
    clientHost: '/127.0.0.1',
    ...overrides,
  };
}

describe('DiskGroupCoordinator', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-groups-'));
  after(() => rm(root, { recursive: true, force: true }));
  let counter = 0;
  const open = (overrides: Partial<BrokerConfig> = {}, dataDir = join(root, `g${++counter}`)) =>
    DiskGroupCoordinator.open(testConfig(overrides), { logger, dataDir });

  /** Joins n new members at once and completes the rebalance with the leader's assignment. */
  async function formGroup(
    gc: DiskGroupCoordinator,
    groupId: string,
    n: number,
    overrides: Partial<JoinGroupInput> = {},
  ) {
    const joins = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        gc.joinGroup(joinInput(groupId, { clientId: `c${i}`, ...overrides })),
      ),
    );
    const leader = joins.find((j) => j.memberId === j.leader);
    assert.ok(leader);
    const syncs = await Promise.all(
      joins.map((j) =>
        gc.syncGroup({
          groupId,
          generationId: j.generationId,
          memberId: j.memberId,
          groupInstanceId: null,
          assignments:
            j === leader
              ? joins.map((m) => ({ memberId: m.memberId, assignment: Buffer.from(`a-${m.memberId}`) }))
              : [],
        }),
      ),
    );
    return { joins, leader, syncs };
  }

  /** A long synchronous step in a process the broker shares. */
  function blockEventLoop(ms: number): void {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // blocked
    }
  }

  /** A group of one member with a 200 ms session; returns that member's heartbeat. */
  async function oneMemberGroup(gc: DiskGroupCoordinator): Promise<() => number> {
    const { joins } = await formGroup(gc, 'g', 1, { sessionTimeoutMs: 200, rebalanceTimeoutMs: 2000 });
    const member = joins[0] as JoinGroupOutput;
    return () =>
      gc.heartbeat({ groupId: 'g', generationId: 1, memberId: member.memberId, groupInstanceId: null });
  }

  test('three members join: one generation, one leader, assignments after the leader syncs', async () => {
    const gc = await open({ groupInitialRebalanceDelayMs: 100 });
    try {
      const joins = await Promise.all(
        [0, 1, 2].map((i) => gc.joinGroup(joinInput('g', { clientId: `c${i}` }))),
      );
      for (const j of joins) {
        assert.equal(j.errorCode, ErrorCode.NONE);
        assert.equal(j.generationId, 1);
        assert.equal(j.protocolName, 'range');
        assert.match(j.memberId, /^c\d-[0-9a-f-]{36}$/);
      }
      assert.equal(new Set(joins.map((j) => j.memberId)).size, 3);
      assert.equal(new Set(joins.map((j) => j.leader)).size, 1);
      const leader = joins.find((j) => j.memberId === j.leader);
      assert.ok(leader);
      assert.equal(leader.members.length, 3);
      assert.deepEqual(leader.members[0]?.metadata, RANGE.metadata);
      for (const j of joins) if (j !== leader) assert.deepEqual(j.members, []);
      assert.equal(gc.describeGroup('g').state, 'CompletingRebalance');
      // Heartbeats are fine while waiting for the assignment.
      assert.equal(
        gc.heartbeat({ groupId: 'g', generationId: 1, memberId: joins[0]!.memberId, groupInstanceId: null }),
        0,
      );

      const followers = joins.filter((j) => j !== leader);
      const followerSyncs = followers.map((j) =>
        gc.syncGroup({
          groupId: 'g',
          generationId: 1,
          memberId: j.memberId,
          groupInstanceId: null,
          assignments: [],
        }),
      );
      let settled = false;
      void Promise.all(followerSyncs).then(() => {
        settled = true;
      });
      await sleep(30);
      assert.equal(settled, false, 'followers must wait for the leader');

      const leaderSync = await gc.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: leader.memberId,
        groupInstanceId: null,
        assignments: joins.map((j) => ({
          memberId: j.memberId,
          assignment: Buffer.from(`for-${j.memberId}`),
        })),
      });
      assert.equal(leaderSync.errorCode, ErrorCode.NONE);
      assert.equal(leaderSync.assignment.toString(), `for-${leader.memberId}`);
      const results = await Promise.all(followerSyncs);
      results.forEach((r, i) => {
        assert.equal(r.errorCode, ErrorCode.NONE);
        assert.equal(r.assignment.toString(), `for-${followers[i]!.memberId}`);
      });

      const described = gc.describeGroup('g');
      assert.equal(described.state, 'Stable');
      assert.equal(described.protocolType, 'consumer');
      assert.equal(described.protocolData, 'range');
      assert.equal(described.members.length, 3);
      assert.deepEqual(gc.listGroups(), [{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }]);
    } finally {
      await gc.close();
    }
  });

  test('a fourth member triggers a rebalance; heartbeats answer REBALANCE_IN_PROGRESS until everyone rejoins', async () => {
    const gc = await open({ groupInitialRebalanceDelayMs: 50 });
    try {
      const { joins } = await formGroup(gc, 'g', 3);
      const fourth = gc.joinGroup(joinInput('g', { clientId: 'c3' }));
      assert.equal(gc.describeGroup('g').state, 'PreparingRebalance');
      for (const j of joins) {
        const hb = gc.heartbeat({
          groupId: 'g',
          generationId: 1,
          memberId: j.memberId,
          groupInstanceId: null,
        });
        assert.equal(hb, ErrorCode.REBALANCE_IN_PROGRESS);
      }
      // SyncGroup while preparing a rebalance is refused too.
      const sync = await gc.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: joins[0]!.memberId,
        groupInstanceId: null,
        assignments: [],
      });
      assert.equal(sync.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);

      const rejoins = joins.map((j) =>
        gc.joinGroup(joinInput('g', { memberId: j.memberId, clientId: 'again' })),
      );
      const all = await Promise.all([...rejoins, fourth]);
      for (const j of all) {
        assert.equal(j.errorCode, ErrorCode.NONE);
        assert.equal(j.generationId, 2);
      }
      assert.deepEqual(
        all.slice(0, 3).map((j) => j.memberId),
        joins.map((j) => j.memberId),
      );
      const leaders = all.filter((j) => j.memberId === j.leader);
      assert.equal(leaders.length, 1);
      assert.equal(leaders[0]!.members.length, 4);
      // The old generation is gone.
      assert.equal(
        gc.heartbeat({ groupId: 'g', generationId: 1, memberId: joins[0]!.memberId, groupInstanceId: null }),
        ErrorCode.ILLEGAL_GENERATION,
      );
      assert.equal(
        gc.heartbeat({ groupId: 'g', generationId: 2, memberId: joins[0]!.memberId, groupInstanceId: null }),
        ErrorCode.NONE,
      );
    } finally {
      await gc.close();
    }
  });

  test('members that do not rejoin within the rebalance timeout are dropped', async () => {
    const gc = await open({ groupInitialRebalanceDelayMs: 50 });
    try {
      const { joins } = await formGroup(gc, 'g', 2, { rebalanceTimeoutMs: 300 });
      const started = Date.now();
      const newcomer = gc.joinGroup(joinInput('g', { clientId: 'late', rebalanceTimeoutMs: 300 }));
      const rejoin = gc.joinGroup(joinInput('g', { memberId: joins[0]!.memberId, rebalanceTimeoutMs: 300 }));
      const [a, b] = await Promise.all([newcomer, rejoin]);
      assert.ok(Date.now() - started >= 250, 'the join phase waits for the rebalance timeout');
      assert.equal(a.generationId, 2);
      assert.equal(b.generationId, 2);
      const leader = a.memberId === a.leader ? a : b;
      assert.equal(leader.members.length, 2);
      assert.equal(
        gc.heartbeat({ groupId: 'g', generationId: 1, memberId: joins[1]!.memberId, groupInstanceId: null }),
        ErrorCode.UNKNOWN_MEMBER_ID,
      );
    } finally {
      await gc.close();
    }
  });

  test('a member that stops heartbeating expires after its session timeout and the group rebalances', async () => {
    const gc = await open({ groupInitialRebalanceDelayMs: 50 });
    try {
      const { joins } = await formGroup(gc, 'g', 2, { sessionTimeoutMs: 300, rebalanceTimeoutMs: 2000 });
      const [alive, silent] = joins as [JoinGroupOutput, JoinGroupOutput];
      let lastHeartbeat: number = ErrorCode.NONE;
      const started = Date.now();
      while (lastHeartbeat === ErrorCode.NONE && Date.now() - started < 3000) {
        await sleep(80);
        lastHeartbeat = gc.heartbeat({
          groupId: 'g',
          generationId: 1,
          memberId: alive.memberId,
          groupInstanceId: null,
        });
      }
      const elapsed = Date.now() - started;
      assert.equal(lastHeartbeat, ErrorCode.REBALANCE_IN_PROGRESS);
      assert.ok(elapsed >= 250 && elapsed < 1500, `expired after ${elapsed} ms`);
      assert.equal(gc.describeGroup('g').members.length, 1);

      const rejoined = await gc.joinGroup(
        joinInput('g', { memberId: alive.memberId, sessionTimeoutMs: 300 }),
      );
      assert.equal(rejoined.generationId, 2);
      assert.equal(rejoined.leader, alive.memberId);
      assert.deepEqual(
        rejoined.members.map((m) => m.memberId),
        [alive.memberId],
      );
      assert.equal(
        gc.heartbeat({ groupId: 'g', generationId: 2, memberId: silent.memberId, groupInstanceId: null }),
        ErrorCode.UNKNOWN_MEMBER_ID,
      );
    } finally {
      await gc.close();
    }
  });

  test('a stalled event loop does not expire a member whose heartbeat waits unread behind the stall', async () => {
    const gc = await open({ groupInitialRebalanceDelayMs: 50 });
    try {
      const heartbeat = await oneMemberGroup(gc);
      // The loop is blocked past the session (a long synchronous step in a process the broker shares). The
      // heartbeat the client sent meanwhile is read after the timers phase, as socket data is: in a check-phase
      // callback scheduled behind the stall.
      const answer = await new Promise<number>((resolve) => {
        setImmediate(() => {
          blockEventLoop(400);
          setImmediate(() => resolve(heartbeat()));
        });
      });
      assert.equal(answer, ErrorCode.NONE, 'the heartbeat read after the stall keeps the member');
      assert.equal(gc.describeGroup('g').members.length, 1);
      // A member that really went silent still expires.
      const started = Date.now();
      while (gc.describeGroup('g').members.length > 0 && Date.now() - started < 3000) await sleep(20);
      assert.equal(gc.describeGroup('g').members.length, 0);
      assert.equal(heartbeat(), ErrorCode.UNKNOWN_MEMBER_ID);
    } finally {
      await gc.close();
    }
  });

  test('a stall that ends just past the deadline lets the heartbeat sent in that timers phase in first', async () => {
    const gc = await open({ groupInitialRebalanceDelayMs: 50 });
    try {
      const heartbeat = await oneMemberGroup(gc);
      // The stall ends 15 ms past the session's deadline (under the stall threshold, so the session timer counts
      // as on time). The member's own heartbeat timer, due during the stall, runs in the same timers phase, and
      // its heartbeat is read in the poll phase that follows (here: a check-phase callback queued by that timer).
      const answer = await new Promise<number>((resolve) => {
        setImmediate(() => {
          assert.equal(heartbeat(), ErrorCode.NONE);
          setTimeout(() => setImmediate(() => resolve(heartbeat())), 150);
          blockEventLoop(200 + 15);
        });
      });
      assert.equal(answer, ErrorCode.NONE, 'the heartbeat read right after the stall keeps the member');
      assert.equal(gc.describeGroup('g').members.length, 1);
    } finally {
      await gc.close();
    }
  });

  test('LeaveGroup removes the member and rebalances; the last one leaving empties the group, offsets stay', async () => {
    const gc = await open();
    try {
      const first = await gc.joinGroup(joinInput('g', { clientId: 'a' }));
      assert.equal(first.generationId, 1);
      await gc.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: first.memberId,
        groupInstanceId: null,
        assignments: [{ memberId: first.memberId, assignment: Buffer.from('x') }],
      });
      const commit = await gc.commitOffsets('g', 1, first.memberId, [
        { topic: 't', partition: 0, offset: 42, metadata: null },
      ]);
      assert.deepEqual(commit, [{ topic: 't', partition: 0, errorCode: 0 }]);

      // A second member joins: generation 2 with both.
      const secondJoin = gc.joinGroup(joinInput('g', { clientId: 'b' }));
      const firstRejoin = await gc.joinGroup(joinInput('g', { memberId: first.memberId }));
      const second = await secondJoin;
      assert.equal(second.generationId, 2);
      assert.equal(firstRejoin.generationId, 2);

      const left = gc.leaveGroup('g', [
        { memberId: second.memberId, groupInstanceId: null },
        { memberId: 'nobody', groupInstanceId: null },
      ]);
      assert.equal(left.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        left.members.map((m) => m.errorCode),
        [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
      );
      assert.equal(gc.describeGroup('g').state, 'PreparingRebalance');
      assert.equal(
        gc.heartbeat({ groupId: 'g', generationId: 2, memberId: first.memberId, groupInstanceId: null }),
        ErrorCode.REBALANCE_IN_PROGRESS,
      );
      const alone = await gc.joinGroup(joinInput('g', { memberId: first.memberId }));
      assert.equal(alone.generationId, 3);

      gc.leaveGroup('g', [{ memberId: first.memberId, groupInstanceId: null }]);
      const described = gc.describeGroup('g');
      assert.equal(described.state, 'Empty');
      assert.deepEqual(described.members, []);
      assert.deepEqual(gc.fetchOffsets('g', null), [
        { topic: 't', partition: 0, offset: 42, metadata: null, errorCode: 0 },
      ]);
      assert.deepEqual(
        gc.leaveGroup('other', [{ memberId: 'x', groupInstanceId: null }]).members[0]?.errorCode,
        25,
      );
    } finally {
      await gc.close();
    }
  });

  test('committed offsets are durable across reopen; negative offsets are stored as given', async () => {
    const dataDir = join(root, 'durable');
    const gc = await open({}, dataDir);
    const results = await gc.commitOffsets('g', -1, '', [
      { topic: 't', partition: 0, offset: 10, metadata: 'm' },
      { topic: 't', partition: 1, offset: -2, metadata: null },
    ]);
    assert.deepEqual(
      results.map((r) => r.errorCode),
      [0, 0],
    );
    await gc.commitOffsets('g', -1, '', [{ topic: 't', partition: 0, offset: 11, metadata: 'm2' }]);
    await gc.applyTxnOffsets('h', [{ topic: 'u', partition: 3, offset: 7, metadata: '' }]);
    await gc.close();

    const reopened = await open({}, dataDir);
    try {
      assert.deepEqual(
        reopened.fetchOffsets('g', [
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
          { topic: 't', partition: 2 },
        ]),
        [
          { topic: 't', partition: 0, offset: 11, metadata: 'm2', errorCode: 0 },
          { topic: 't', partition: 1, offset: -2, metadata: null, errorCode: 0 },
          { topic: 't', partition: 2, offset: -1, metadata: '', errorCode: 0 },
        ],
      );
      assert.deepEqual(reopened.fetchOffsets('h', null), [
        { topic: 'u', partition: 3, offset: 7, metadata: '', errorCode: 0 },
      ]);
      assert.deepEqual(reopened.fetchOffsets('unknown', null), []);
      assert.equal(reopened.describeGroup('g').state, 'Empty');
      assert.deepEqual(
        reopened
          .listGroups()
          .map((g) => g.groupId)
          .sort(),
        ['g', 'h'],
      );
    } finally {
      await reopened.close();
    }
  });

  test('OffsetCommit generation checks', async () => {
    const gc = await open();
    try {
      const offsets = [{ topic: 't', partition: 0, offset: 5, metadata: null }];
      const code = async (generationId: number, memberId: string, groupId = 'g') =>
        (await gc.commitOffsets(groupId, generationId, memberId, offsets))[0]?.errorCode;

      // Unknown group: only a commit from outside a group is accepted.
      assert.equal(await code(3, 'm', 'fresh'), ErrorCode.ILLEGAL_GENERATION);

      const member = await gc.joinGroup(joinInput('g'));
      // Joined but not synced: CompletingRebalance.
      assert.equal(await code(1, member.memberId), ErrorCode.REBALANCE_IN_PROGRESS);
      await gc.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: member.memberId,
        groupInstanceId: null,
        assignments: [],
      });
      assert.equal(await code(1, member.memberId), ErrorCode.NONE);
      assert.equal(await code(0, member.memberId), ErrorCode.ILLEGAL_GENERATION);
      assert.equal(await code(1, 'stranger'), ErrorCode.UNKNOWN_MEMBER_ID);
      // A commit from outside the group while it has active members.
      assert.equal(await code(-1, ''), ErrorCode.UNKNOWN_MEMBER_ID);

      // During PreparingRebalance the current generation may still commit (Kafka does the same).
      const newcomer = gc.joinGroup(joinInput('g', { clientId: 'n' }));
      assert.equal(gc.describeGroup('g').state, 'PreparingRebalance');
      assert.equal(await code(1, member.memberId), ErrorCode.NONE);
      await gc.joinGroup(joinInput('g', { memberId: member.memberId }));
      const n = await newcomer;
      gc.leaveGroup('g', [
        { memberId: member.memberId, groupInstanceId: null },
        { memberId: n.memberId, groupInstanceId: null },
      ]);
      assert.equal(gc.describeGroup('g').state, 'Empty');
      // No active members: admin-style commits are fine again.
      assert.equal(await code(-1, ''), ErrorCode.NONE);

      const tooLong = await gc.commitOffsets('g', -1, '', [
        { topic: 't', partition: 1, offset: 1, metadata: 'x'.repeat(5000) },
      ]);
      assert.equal(tooLong[0]?.errorCode, ErrorCode.OFFSET_METADATA_TOO_LARGE);
    } finally {
      await gc.close();
    }
  });

  test('JoinGroup validation and protocol selection', async () => {
    const gc = await open({
      groupInitialRebalanceDelayMs: 50,
      groupMinSessionTimeoutMs: 1000,
      groupMaxSessionTimeoutMs: 5000,
    });
    try {
      assert.equal(
        (await gc.joinGroup(joinInput('g', { sessionTimeoutMs: 999 }))).errorCode,
        ErrorCode.INVALID_SESSION_TIMEOUT,
      );
      assert.equal(
        (await gc.joinGroup(joinInput('g', { sessionTimeoutMs: 5001 }))).errorCode,
        ErrorCode.INVALID_SESSION_TIMEOUT,
      );
      assert.equal(
        (await gc.joinGroup(joinInput('', { sessionTimeoutMs: 2000 }))).errorCode,
        ErrorCode.INVALID_GROUP_ID,
      );
      assert.equal(
        (await gc.joinGroup(joinInput('g', { sessionTimeoutMs: 2000, memberId: 'ghost' }))).errorCode,
        ErrorCode.UNKNOWN_MEMBER_ID,
      );

      // Two prefer roundrobin, one prefers range; all support both: majority wins.
      const joins = await Promise.all([
        gc.joinGroup(joinInput('p', { sessionTimeoutMs: 2000, protocols: [RANGE, ROUND_ROBIN] })),
        gc.joinGroup(joinInput('p', { sessionTimeoutMs: 2000, protocols: [ROUND_ROBIN, RANGE] })),
        gc.joinGroup(joinInput('p', { sessionTimeoutMs: 2000, protocols: [ROUND_ROBIN, RANGE] })),
      ]);
      for (const j of joins) assert.equal(j.protocolName, 'roundrobin');
      const leader = joins.find((j) => j.memberId === j.leader);
      assert.deepEqual(
        leader?.members.map((m) => m.metadata.toString()),
        ['rr-meta', 'rr-meta', 'rr-meta'],
      );

      // No protocol in common, or another protocol type.
      const other = { name: 'sticky', metadata: Buffer.alloc(0) };
      assert.equal(
        (await gc.joinGroup(joinInput('p', { sessionTimeoutMs: 2000, protocols: [other] }))).errorCode,
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
      );
      assert.equal(
        (await gc.joinGroup(joinInput('p', { sessionTimeoutMs: 2000, protocolType: 'connect' }))).errorCode,
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
      );
      assert.equal(gc.describeGroup('p').members.length, 3);

      // A follower re-sending the same JoinGroup while the group awaits the leader's sync gets the current generation.
      const follower = joins.find((j) => j !== leader)!;
      const again = await gc.joinGroup(
        joinInput('p', {
          sessionTimeoutMs: 2000,
          memberId: follower.memberId,
          protocols: [ROUND_ROBIN, RANGE],
        }),
      );
      assert.equal(again.generationId, follower.generationId);
      assert.equal(gc.describeGroup('p').state, 'CompletingRebalance');
    } finally {
      await gc.close();
    }
  });

  test('SyncGroup and Heartbeat errors', async () => {
    const gc = await open();
    try {
      assert.equal(
        gc.heartbeat({ groupId: 'none', generationId: 1, memberId: 'm', groupInstanceId: null }),
        25,
      );
      const sync = await gc.syncGroup({
        groupId: 'none',
        generationId: 1,
        memberId: 'm',
        groupInstanceId: null,
        assignments: [],
      });
      assert.equal(sync.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
      const m = await gc.joinGroup(joinInput('g'));
      const wrongGen = await gc.syncGroup({
        groupId: 'g',
        generationId: 7,
        memberId: m.memberId,
        groupInstanceId: null,
        assignments: [],
      });
      assert.equal(wrongGen.errorCode, ErrorCode.ILLEGAL_GENERATION);
      assert.equal(
        gc.heartbeat({ groupId: 'g', generationId: 7, memberId: m.memberId, groupInstanceId: null }),
        22,
      );
      assert.equal(gc.heartbeat({ groupId: 'g', generationId: 1, memberId: 'x', groupInstanceId: null }), 25);
    } finally {
      await gc.close();
    }
  });

  test('describe of an unknown group reports Dead with no error', async () => {
    const gc = await open();
    try {
      const d = gc.describeGroup('nope');
      assert.equal(d.errorCode, ErrorCode.NONE);
      assert.equal(d.state, 'Dead');
      assert.deepEqual(d.members, []);
    } finally {
      await gc.close();
    }
  });

  test('close fails held JoinGroup and SyncGroup requests with COORDINATOR_NOT_AVAILABLE', async () => {
    const gc = await open({ groupInitialRebalanceDelayMs: 50 });
    const { joins } = await formGroup(gc, 'g', 2);
    // A new member starts a rebalance; nobody else rejoins, so its JoinGroup is held.
    const held = gc.joinGroup(joinInput('g', { clientId: 'late' }));
    const other = await open();
    const m = await other.joinGroup(joinInput('s'));
    const m2Join = other.joinGroup(joinInput('s', { clientId: 'second' }));
    const rejoin = await other.joinGroup(joinInput('s', { memberId: m.memberId }));
    const m2 = await m2Join;
    const follower = rejoin.memberId === rejoin.leader ? m2 : rejoin;
    const heldSync = other.syncGroup({
      groupId: 's',
      generationId: follower.generationId,
      memberId: follower.memberId,
      groupInstanceId: null,
      assignments: [],
    });
    await gc.close();
    await other.close();
    assert.equal((await held).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal((await heldSync).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal(joins.length, 2);
  });
});
