import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import pino from 'pino';
import type { BrokerConfig, LogStore } from '../../src/contracts';
import { DiskGroupCoordinator, DiskTransactionCoordinator } from '../../src/coordinator';
import { eventually, sleep, testConfig } from './helpers';

const logger = pino({ level: 'silent' });

interface Marker {
  topic: string;
  partition: number;
  producerId: number;
  producerEpoch: number;
  commit: boolean;
}

/** Records writeTxnMarker calls; everything else is unused by the coordinator. */
class RecordingLog {
  markers: Marker[] = [];
  inFlight = 0;
  maxInFlight = 0;
  fail: Error | null = null;
  delayMs = 5;

  readonly store = {
    writeTxnMarker: async (
      topic: string,
      partition: number,
      marker: { producerId: number; producerEpoch: number; commit: boolean; coordinatorEpoch: number },
    ) => {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await sleep(this.delayMs);
        if (this.fail) throw this.fail;
        if (topic === 'deleted') throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        this.markers.push({
          topic,
          partition,
          producerId: marker.producerId,
          producerEpoch: marker.producerEpoch,
          commit: marker.commit,
        });
      } finally {
        this.inFlight -= 1;
      }
    },
  } as unknown as LogStore;
}

describe('DiskTransactionCoordinator', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-txns-'));
  after(() => rm(root, { recursive: true, force: true }));
  let counter = 0;

  async function setup(
    overrides: Partial<BrokerConfig> = {},
    dataDir = join(root, `t${++counter}`),
    log = new RecordingLog(),
  ) {
    const config = testConfig(overrides);
    const groups = await DiskGroupCoordinator.open(config, { logger, dataDir });
    const txns = await DiskTransactionCoordinator.open(config, { logger, dataDir, log: log.store, groups });
    const close = async () => {
      await txns.close();
      await groups.close();
    };
    return { txns, groups, log, close, dataDir };
  }

  const tps = (...parts: [string, number][]) => parts.map(([topic, partition]) => ({ topic, partition }));
  const state = (txns: DiskTransactionCoordinator, id: string) =>
    txns.describe().find((t) => t.transactionalId === id);

  test('InitProducerId allocates fresh ids; transactional ids keep theirs and bump the epoch', async () => {
    const { txns, close } = await setup();
    try {
      const a = await txns.initProducerId(null, 60_000);
      const b = await txns.initProducerId(null, 60_000);
      assert.equal(a.errorCode, 0);
      assert.equal(a.producerEpoch, 0);
      assert.notEqual(a.producerId, b.producerId);

      const t1 = await txns.initProducerId('tx', 60_000);
      assert.deepEqual({ ...t1, producerId: 0 }, { errorCode: 0, producerId: 0, producerEpoch: 0 });
      assert.ok(![a.producerId, b.producerId].includes(t1.producerId));
      const t2 = await txns.initProducerId('tx', 60_000);
      assert.equal(t2.producerId, t1.producerId);
      assert.equal(t2.producerEpoch, 1);
      assert.equal(state(txns, 'tx')?.state, 'Empty');

      await assert.rejects(
        txns.initProducerId('tx', 900_001),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_TRANSACTION_TIMEOUT,
      );
    } finally {
      await close();
    }
  });

  test('re-init fences the old epoch and aborts its open transaction with the new epoch', async () => {
    const { txns, groups, log, close } = await setup();
    try {
      const first = await txns.initProducerId('tx', 60_000);
      const { producerId } = first;
      assert.deepEqual(
        (await txns.addPartitionsToTxn('tx', producerId, 0, tps(['a', 0], ['a', 1], ['b', 0]))).map(
          (r) => r.errorCode,
        ),
        [0, 0, 0],
      );
      assert.equal(await txns.addOffsetsToTxn('tx', producerId, 0, 'grp'), 0);
      await txns.txnOffsetCommit({
        transactionalId: 'tx',
        groupId: 'grp',
        producerId,
        producerEpoch: 0,
        offsets: [{ topic: 'in', partition: 0, offset: 10, metadata: null }],
      });
      assert.equal(state(txns, 'tx')?.state, 'Ongoing');

      const second = await txns.initProducerId('tx', 60_000);
      assert.equal(second.errorCode, 0);
      assert.equal(second.producerId, producerId);
      assert.equal(second.producerEpoch, 1);
      assert.deepEqual(
        log.markers.map((m) => `${m.topic}-${m.partition}:${m.commit}:${m.producerEpoch}`).sort(),
        ['a-0:false:1', 'a-1:false:1', 'b-0:false:1'],
      );
      assert.equal(groups.fetchOffsets('grp', [{ topic: 'in', partition: 0 }])[0]?.offset, -1);

      // The zombie is fenced everywhere.
      assert.equal((await txns.addPartitionsToTxn('tx', producerId, 0, tps(['a', 0])))[0]?.errorCode, 47);
      assert.equal(await txns.addOffsetsToTxn('tx', producerId, 0, 'grp'), 47);
      assert.equal(await txns.endTxn('tx', producerId, 0, true), 47);
      const offsetResult = await txns.txnOffsetCommit({
        transactionalId: 'tx',
        groupId: 'grp',
        producerId,
        producerEpoch: 0,
        offsets: [{ topic: 'in', partition: 0, offset: 11, metadata: null }],
      });
      assert.equal(offsetResult[0]?.errorCode, 47);
      // Unknown id or wrong producer id.
      assert.equal(await txns.addOffsetsToTxn('nope', producerId, 1, 'grp'), 49);
      assert.equal((await txns.addPartitionsToTxn('tx', producerId + 1, 1, tps(['a', 0])))[0]?.errorCode, 49);
      assert.equal(await txns.endTxn('nope', producerId, 1, true), 49);
    } finally {
      await close();
    }
  });

  test('commit writes COMMIT markers to every partition, in parallel, then applies the offsets', async () => {
    const { txns, groups, log, close } = await setup();
    try {
      const { producerId, producerEpoch } = await txns.initProducerId('tx', 60_000);
      await txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['a', 0], ['a', 1]));
      await txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['a', 1], ['b', 2], ['deleted', 0]));
      assert.equal(await txns.addOffsetsToTxn('tx', producerId, producerEpoch, 'grp'), 0);
      const committed = await txns.txnOffsetCommit({
        transactionalId: 'tx',
        groupId: 'grp',
        producerId,
        producerEpoch,
        offsets: [
          { topic: 'in', partition: 0, offset: 100, metadata: 'x' },
          { topic: 'in', partition: 1, offset: 200, metadata: null },
        ],
      });
      assert.deepEqual(
        committed.map((r) => r.errorCode),
        [0, 0],
      );
      assert.equal(
        groups.fetchOffsets('grp', [{ topic: 'in', partition: 0 }])[0]?.offset,
        -1,
        'pending until commit',
      );

      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, true), 0);
      assert.deepEqual(log.markers.map((m) => `${m.topic}-${m.partition}`).sort(), ['a-0', 'a-1', 'b-2']);
      assert.ok(
        log.markers.every(
          (m) => m.commit && m.producerId === producerId && m.producerEpoch === producerEpoch,
        ),
      );
      assert.ok(log.maxInFlight >= 3, 'markers are written in parallel');
      assert.deepEqual(
        groups.fetchOffsets('grp', null).map((o) => [o.topic, o.partition, o.offset, o.metadata]),
        [
          ['in', 0, 100, 'x'],
          ['in', 1, 200, null],
        ],
      );
      assert.equal(state(txns, 'tx')?.state, 'CompleteCommit');

      // Repeating the same EndTxn is fine; the opposite result is not.
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, true), 0);
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, false), 48);
      assert.equal(log.markers.length, 3);

      // The next transaction starts clean.
      await txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['c', 0]));
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, true), 0);
      assert.deepEqual(
        log.markers.slice(3).map((m) => m.topic),
        ['c'],
      );
    } finally {
      await close();
    }
  });

  test('abort writes ABORT markers and drops the pending offsets; EndTxn from Empty is INVALID_TXN_STATE', async () => {
    const { txns, groups, log, close } = await setup();
    try {
      const { producerId, producerEpoch } = await txns.initProducerId('tx', 60_000);
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, true), 48);
      await txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['a', 0], ['a', 1]));
      await txns.addOffsetsToTxn('tx', producerId, producerEpoch, 'grp');
      await txns.txnOffsetCommit({
        transactionalId: 'tx',
        groupId: 'grp',
        producerId,
        producerEpoch,
        offsets: [{ topic: 'in', partition: 0, offset: 5, metadata: null }],
      });
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch + 1, false), 47);
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, false), 0);
      assert.deepEqual(log.markers.map((m) => `${m.topic}-${m.partition}:${m.commit}`).sort(), [
        'a-0:false',
        'a-1:false',
      ]);
      assert.deepEqual(groups.fetchOffsets('grp', null), []);
      assert.equal(state(txns, 'tx')?.state, 'CompleteAbort');
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, false), 0);
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, true), 48);

      // A transaction with offsets only commits without markers.
      await txns.addOffsetsToTxn('tx', producerId, producerEpoch, 'grp');
      await txns.txnOffsetCommit({
        transactionalId: 'tx',
        groupId: 'grp',
        producerId,
        producerEpoch,
        offsets: [{ topic: 'in', partition: 0, offset: 6, metadata: null }],
      });
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, true), 0);
      assert.equal(log.markers.length, 2);
      assert.equal(groups.fetchOffsets('grp', null)[0]?.offset, 6);
    } finally {
      await close();
    }
  });

  test('a transaction open past its timeout is aborted and its producer fenced', async () => {
    const { txns, groups, log, close } = await setup({ transactionAbortCheckIntervalMs: 50 });
    try {
      const { producerId, producerEpoch } = await txns.initProducerId('tx', 200);
      await txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['a', 0]));
      await txns.addOffsetsToTxn('tx', producerId, producerEpoch, 'grp');
      await txns.txnOffsetCommit({
        transactionalId: 'tx',
        groupId: 'grp',
        producerId,
        producerEpoch,
        offsets: [{ topic: 'in', partition: 0, offset: 5, metadata: null }],
      });
      await sleep(100);
      assert.equal(state(txns, 'tx')?.state, 'Ongoing');
      await eventually(() => state(txns, 'tx')?.state === 'CompleteAbort', 2000, 'the expiry abort');
      assert.deepEqual(log.markers, [
        { topic: 'a', partition: 0, producerId, producerEpoch: producerEpoch + 1, commit: false },
      ]);
      assert.equal(state(txns, 'tx')?.producerEpoch, producerEpoch + 1);
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, true), 47);
      assert.deepEqual(groups.fetchOffsets('grp', null), []);

      const reinit = await txns.initProducerId('tx', 200);
      assert.equal(reinit.producerEpoch, producerEpoch + 2);
    } finally {
      await close();
    }
  });

  test('producer ids are never reused after reopen; transaction state survives it', async () => {
    const dataDir = join(root, 'reopen');
    const first = await setup({}, dataDir);
    const plain = await first.txns.initProducerId(null, 60_000);
    const tx = await first.txns.initProducerId('tx', 60_000);
    await first.txns.initProducerId('tx', 60_000); // epoch 1
    await first.txns.addPartitionsToTxn('tx', tx.producerId, 1, tps(['a', 0], ['a', 3]));
    await first.txns.addOffsetsToTxn('tx', tx.producerId, 1, 'grp');
    await first.txns.txnOffsetCommit({
      transactionalId: 'tx',
      groupId: 'grp',
      producerId: tx.producerId,
      producerEpoch: 1,
      offsets: [{ topic: 'in', partition: 2, offset: 9, metadata: null }],
    });
    await first.close();

    const second = await setup({}, dataDir);
    try {
      assert.deepEqual(state(second.txns, 'tx'), {
        transactionalId: 'tx',
        producerId: tx.producerId,
        producerEpoch: 1,
        state: 'Ongoing',
      });
      const fresh = await second.txns.initProducerId(null, 60_000);
      assert.ok(fresh.producerId > Math.max(plain.producerId, tx.producerId), 'no producer id reuse');
      const other = await second.txns.initProducerId('other', 60_000);
      assert.ok(other.producerId > fresh.producerId);

      assert.equal(await second.txns.endTxn('tx', tx.producerId, 1, true), 0);
      assert.deepEqual(
        second.log.markers.map((m) => `${m.topic}-${m.partition}:${m.commit}:${m.producerEpoch}`).sort(),
        ['a-0:true:1', 'a-3:true:1'],
      );
      assert.equal(second.groups.fetchOffsets('grp', [{ topic: 'in', partition: 2 }])[0]?.offset, 9);
    } finally {
      await second.close();
    }
  });

  test('a transaction whose markers failed stays prepared and is completed on reopen', async () => {
    const dataDir = join(root, 'recover');
    const failing = new RecordingLog();
    const first = await setup({}, dataDir, failing);
    const { producerId, producerEpoch } = await first.txns.initProducerId('tx', 60_000);
    await first.txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['a', 0], ['b', 0]));
    await first.txns.addOffsetsToTxn('tx', producerId, producerEpoch, 'grp');
    await first.txns.txnOffsetCommit({
      transactionalId: 'tx',
      groupId: 'grp',
      producerId,
      producerEpoch,
      offsets: [{ topic: 'in', partition: 0, offset: 77, metadata: null }],
    });
    failing.fail = new Error('disk on fire');
    assert.equal(
      await first.txns.endTxn('tx', producerId, producerEpoch, true),
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    assert.equal(state(first.txns, 'tx')?.state, 'PrepareCommit');
    assert.equal(
      await first.txns
        .addPartitionsToTxn('tx', producerId, producerEpoch, tps(['c', 0]))
        .then((r) => r[0]?.errorCode),
      51,
    );
    assert.equal(await first.txns.endTxn('tx', producerId, producerEpoch, false), 48);
    await first.close();

    const second = await setup({}, dataDir);
    try {
      assert.equal(state(second.txns, 'tx')?.state, 'CompleteCommit');
      assert.deepEqual(second.log.markers.map((m) => `${m.topic}:${m.commit}:${m.producerEpoch}`).sort(), [
        'a:true:0',
        'b:true:0',
      ]);
      assert.equal(second.groups.fetchOffsets('grp', null)[0]?.offset, 77);
      assert.equal(await second.txns.endTxn('tx', producerId, producerEpoch, true), 0);
    } finally {
      await second.close();
    }
  });

  test('a failed EndTxn can be retried once the log recovers', async () => {
    const log = new RecordingLog();
    const { txns, close } = await setup({}, undefined, log);
    try {
      const { producerId, producerEpoch } = await txns.initProducerId('tx', 60_000);
      await txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['a', 0]));
      log.fail = new Error('transient');
      assert.equal(
        await txns.endTxn('tx', producerId, producerEpoch, false),
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
      );
      log.fail = null;
      assert.equal(await txns.endTxn('tx', producerId, producerEpoch, false), 0);
      assert.equal(state(txns, 'tx')?.state, 'CompleteAbort');
      assert.equal(log.markers.length, 1);
    } finally {
      await close();
    }
  });

  test('epoch exhaustion moves the transactional id to a new producer id', async () => {
    const dataDir = join(root, 'exhausted');
    await mkdir(dataDir, { recursive: true });
    const snapshot = {
      t: 'txn',
      id: 'old',
      producerId: 5000,
      epoch: 32766,
      state: 'CompleteCommit',
      timeoutMs: 60000,
      partitions: [],
      groups: [],
      offsets: {},
      startedAtMs: 0,
    };
    await appendFile(
      join(dataDir, 'transactions.jsonl'),
      `${JSON.stringify({ t: 'pids', end: 6000 })}\n${JSON.stringify(snapshot)}\n`,
    );
    const { txns, close } = await setup({}, dataDir);
    try {
      const result = await txns.initProducerId('old', 60_000);
      assert.equal(result.producerEpoch, 0);
      assert.ok(result.producerId >= 6000);
    } finally {
      await close();
    }
  });

  test('operations on one transactional id are serialized', async () => {
    const { txns, log, close } = await setup();
    try {
      const { producerId, producerEpoch } = await txns.initProducerId('tx', 60_000);
      log.delayMs = 30;
      await txns.addPartitionsToTxn('tx', producerId, producerEpoch, tps(['a', 0]));
      // EndTxn and a racing re-init: the re-init must see the completed commit, not abort it.
      const [end, init] = await Promise.all([
        txns.endTxn('tx', producerId, producerEpoch, true),
        txns.initProducerId('tx', 60_000),
      ]);
      assert.equal(end, 0);
      assert.equal(init.producerEpoch, producerEpoch + 1);
      assert.deepEqual(
        log.markers.map((m) => m.commit),
        [true],
      );
    } finally {
      await close();
    }
  });
});
