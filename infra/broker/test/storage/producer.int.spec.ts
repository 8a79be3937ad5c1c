import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import { ProducerStateManager } from '../../src/storage/producer-state';
import { batchOffsets, makeBatch, open, tempDir } from './helpers';

const ACKS = { acks: -1, transactionalId: null };
const TXN = { acks: -1, transactionalId: 'tx' };

function isKafkaError(code: number) {
  return (err: unknown) => err instanceof KafkaError && err.code === code;
}

describe('idempotent producer', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('idem');
  });
  after(() => dir.remove());

  test('duplicates resolve with the original offset and append nothing', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('i', 1);
      await s.log.append('i', 0, await makeBatch({ count: 2 }), ACKS); // offsets 0-1, non-idempotent
      const a = await s.log.append(
        'i',
        0,
        await makeBatch({ count: 3, producerId: 7, baseSequence: 0 }),
        ACKS,
      );
      const b = await s.log.append(
        'i',
        0,
        await makeBatch({ count: 2, producerId: 7, baseSequence: 3 }),
        ACKS,
      );
      assert.equal(a.baseOffset, 2);
      assert.equal(b.baseOffset, 5);
      const dupA = await s.log.append(
        'i',
        0,
        await makeBatch({ count: 3, producerId: 7, baseSequence: 0 }),
        ACKS,
      );
      const dupB = await s.log.append(
        'i',
        0,
        await makeBatch({ count: 2, producerId: 7, baseSequence: 3 }),
        ACKS,
      );
      assert.equal(dupA.baseOffset, 2);
      assert.equal(dupB.baseOffset, 5);
      const r = await s.log.read('i', 0, 0, 1 << 20, 0);
      assert.equal(r.highWatermark, 7);
      assert.equal(batchOffsets(r.records).length, 3);
      // Pipelined: a retry sent before the original is durable still gets the original offset.
      const orig = s.log.append('i', 0, await makeBatch({ count: 1, producerId: 7, baseSequence: 5 }), ACKS);
      const retry = s.log.append('i', 0, await makeBatch({ count: 1, producerId: 7, baseSequence: 5 }), ACKS);
      assert.equal((await orig).baseOffset, 7);
      assert.equal((await retry).baseOffset, 7);
      // Only the last five batches are remembered: the first one is now out of order.
      for (let seq = 6; seq < 10; seq++) {
        await s.log.append('i', 0, await makeBatch({ count: 1, producerId: 7, baseSequence: seq }), ACKS);
      }
      await assert.rejects(
        s.log.append('i', 0, await makeBatch({ count: 3, producerId: 7, baseSequence: 0 }), ACKS),
        isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
      );
      const dup9 = await s.log.append(
        'i',
        0,
        await makeBatch({ count: 1, producerId: 7, baseSequence: 9 }),
        ACKS,
      );
      assert.equal(dup9.baseOffset, 11);
      assert.equal((await s.log.read('i', 0, 0, 1, 0)).highWatermark, 12);
    } finally {
      await s.close();
    }
  });

  test('sequence and epoch errors', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('e', 1);
      // unknown producer must start at 0
      await assert.rejects(
        s.log.append('e', 0, await makeBatch({ producerId: 1, baseSequence: 5 }), ACKS),
        isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
      );
      await s.log.append(
        'e',
        0,
        await makeBatch({ count: 2, producerId: 1, producerEpoch: 2, baseSequence: 0 }),
        ACKS,
      );
      // gap
      await assert.rejects(
        s.log.append('e', 0, await makeBatch({ producerId: 1, producerEpoch: 2, baseSequence: 3 }), ACKS),
        isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
      );
      // older epoch
      await assert.rejects(
        s.log.append('e', 0, await makeBatch({ producerId: 1, producerEpoch: 1, baseSequence: 2 }), ACKS),
        isKafkaError(ErrorCode.INVALID_PRODUCER_EPOCH),
      );
      // new epoch must start at 0
      await assert.rejects(
        s.log.append('e', 0, await makeBatch({ producerId: 1, producerEpoch: 3, baseSequence: 2 }), ACKS),
        isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
      );
      const e3 = await s.log.append(
        'e',
        0,
        await makeBatch({ producerId: 1, producerEpoch: 3, baseSequence: 0 }),
        ACKS,
      );
      assert.equal(e3.baseOffset, 2);
      // the old epoch is fenced now
      await assert.rejects(
        s.log.append('e', 0, await makeBatch({ producerId: 1, producerEpoch: 2, baseSequence: 2 }), ACKS),
        isKafkaError(ErrorCode.INVALID_PRODUCER_EPOCH),
      );
      // an unknown producer starting elsewhere than 0
      await s.log.append('e', 0, await makeBatch({ count: 1, producerId: 2, baseSequence: 0 }), ACKS);
      await assert.rejects(
        s.log.append('e', 0, await makeBatch({ count: 2, producerId: 3, baseSequence: 0x7ffffffe }), ACKS),
        isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
      );
      // nothing was appended by the failures
      assert.equal((await s.log.read('e', 0, 0, 1, 0)).highWatermark, 4);
    } finally {
      await s.close();
    }
  });

  test('sequence numbers wrap past INT32_MAX (producer state)', () => {
    const state = new ProducerStateManager();
    state.recordBatch(
      { producerId: 9, producerEpoch: 0, baseSequence: 0x7ffffffd, lastOffsetDelta: 1 },
      0,
      false,
    );
    assert.equal(
      state.check({ producerId: 9, producerEpoch: 0, baseSequence: 0x7fffffff, lastOffsetDelta: 1 }),
      null,
    );
    state.recordBatch(
      { producerId: 9, producerEpoch: 0, baseSequence: 0x7fffffff, lastOffsetDelta: 1 },
      2,
      false,
    );
    assert.equal(state.get(9)?.batches.at(-1)?.lastSeq, 0);
    assert.equal(state.check({ producerId: 9, producerEpoch: 0, baseSequence: 1, lastOffsetDelta: 0 }), null);
    assert.throws(
      () => state.check({ producerId: 9, producerEpoch: 0, baseSequence: 2, lastOffsetDelta: 0 }),
      isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
    );
    // the duplicate of the wrapping batch is recognised
    assert.equal(
      state.check({ producerId: 9, producerEpoch: 0, baseSequence: 0x7fffffff, lastOffsetDelta: 1 })
        ?.firstOffset,
      2,
    );
  });
});

describe('transactions', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('txn');
  });
  after(() => dir.remove());

  test('LSO, read_committed, aborted ranges and markers (kafkajs fetch.spec expectations)', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('tx', 1);
      const pid = 100;
      // open transaction: 3 records
      await s.log.append(
        'tx',
        0,
        await makeBatch({ count: 3, producerId: pid, baseSequence: 0, transactional: true }),
        TXN,
      );
      let rc = await s.log.read('tx', 0, 0, 1 << 20, 1);
      assert.equal(rc.highWatermark, 3);
      assert.equal(rc.lastStableOffset, 0);
      assert.equal(rc.records, null);
      assert.deepEqual(rc.abortedTransactions, []);
      assert.deepEqual(await s.log.listOffset('tx', 0, -1, 1), { offset: 0, timestamp: -1 });
      assert.deepEqual(await s.log.listOffset('tx', 0, -1, 0), { offset: 3, timestamp: -1 });
      const ru = await s.log.read('tx', 0, 0, 1 << 20, 0);
      assert.equal(ru.abortedTransactions, null);
      assert.equal(batchOffsets(ru.records).length, 1);

      await s.log.writeTxnMarker('tx', 0, {
        producerId: pid,
        producerEpoch: 0,
        commit: false,
        coordinatorEpoch: 1,
      });
      rc = await s.log.read('tx', 0, 0, 1 << 20, 1);
      assert.equal(rc.highWatermark, 4);
      assert.equal(rc.lastStableOffset, 4);
      assert.deepEqual(rc.abortedTransactions, [{ producerId: pid, firstOffset: 0 }]);
      const batches = batchOffsets(rc.records);
      assert.deepEqual(
        batches.map((b) => [b.base, b.control]),
        [
          [0, false],
          [3, true],
        ],
      );

      // A committed transaction interleaved with an open one from another producer.
      const other = 200;
      await s.log.append(
        'tx',
        0,
        await makeBatch({ count: 2, producerId: pid, baseSequence: 3, transactional: true }),
        TXN,
      ); // 4-5
      await s.log.append(
        'tx',
        0,
        await makeBatch({ count: 1, producerId: other, baseSequence: 0, transactional: true }),
        TXN,
      ); // 6
      await s.log.append('tx', 0, await makeBatch({ count: 1 }), ACKS); // 7 non-transactional
      rc = await s.log.read('tx', 0, 4, 1 << 20, 1);
      assert.equal(rc.lastStableOffset, 4);
      assert.equal(rc.records, null);
      await s.log.writeTxnMarker('tx', 0, {
        producerId: pid,
        producerEpoch: 0,
        commit: true,
        coordinatorEpoch: 1,
      }); // 8
      rc = await s.log.read('tx', 0, 4, 1 << 20, 1);
      assert.equal(rc.lastStableOffset, 6);
      assert.deepEqual(
        batchOffsets(rc.records).map((b) => b.base),
        [4],
      );
      assert.deepEqual(rc.abortedTransactions, []);
      await s.log.writeTxnMarker('tx', 0, {
        producerId: other,
        producerEpoch: 0,
        commit: false,
        coordinatorEpoch: 1,
      }); // 9
      rc = await s.log.read('tx', 0, 0, 1 << 20, 1);
      assert.equal(rc.highWatermark, 10);
      assert.equal(rc.lastStableOffset, 10);
      assert.deepEqual(rc.abortedTransactions, [
        { producerId: pid, firstOffset: 0 },
        { producerId: other, firstOffset: 6 },
      ]);
      // A fetch past the first aborted range lists only the overlapping one.
      rc = await s.log.read('tx', 0, 4, 1 << 20, 1);
      assert.deepEqual(rc.abortedTransactions, [{ producerId: other, firstOffset: 6 }]);
      // A fetch bounded before offset 6 does not list it.
      const first = await s.log.read('tx', 0, 4, 1, 1);
      assert.deepEqual(
        batchOffsets(first.records).map((b) => b.base),
        [4],
      );
      assert.deepEqual(first.abortedTransactions, []);
    } finally {
      await s.close();
    }
  });

  test('a marker with a higher epoch fences the older epoch; a lower one is refused', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('fence', 1);
      const pid = 300;
      await s.log.append(
        'fence',
        0,
        await makeBatch({ count: 1, producerId: pid, producerEpoch: 5, transactional: true }),
        TXN,
      );
      await s.log.writeTxnMarker('fence', 0, {
        producerId: pid,
        producerEpoch: 6,
        commit: false,
        coordinatorEpoch: 0,
      });
      await assert.rejects(
        s.log.append(
          'fence',
          0,
          await makeBatch({
            count: 1,
            producerId: pid,
            producerEpoch: 5,
            baseSequence: 1,
            transactional: true,
          }),
          TXN,
        ),
        isKafkaError(ErrorCode.INVALID_PRODUCER_EPOCH),
      );
      await assert.rejects(
        s.log.writeTxnMarker('fence', 0, {
          producerId: pid,
          producerEpoch: 5,
          commit: true,
          coordinatorEpoch: 0,
        }),
        isKafkaError(ErrorCode.INVALID_PRODUCER_EPOCH),
      );
      // The new epoch starts at sequence 0.
      const r = await s.log.append(
        'fence',
        0,
        await makeBatch({
          count: 1,
          producerId: pid,
          producerEpoch: 6,
          baseSequence: 0,
          transactional: true,
        }),
        TXN,
      );
      assert.equal(r.baseOffset, 2);
      const rc = await s.log.read('fence', 0, 0, 1 << 20, 1);
      assert.equal(rc.lastStableOffset, 2);
      assert.deepEqual(rc.abortedTransactions, [{ producerId: pid, firstOffset: 0 }]);
    } finally {
      await s.close();
    }
  });

  test('waitForData wakes when the LSO moves', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('lso', 1);
      await s.log.append('lso', 0, await makeBatch({ count: 1, producerId: 1, transactional: true }), TXN);
      const t0 = Date.now();
      const waiting = s.log.waitForData([{ topic: 'lso', partition: 0 }], 10_000);
      setTimeout(() => {
        void s.log.writeTxnMarker('lso', 0, {
          producerId: 1,
          producerEpoch: 0,
          commit: true,
          coordinatorEpoch: 0,
        });
      }, 20);
      await waiting;
      assert.ok(Date.now() - t0 < 5000);
      assert.equal((await s.log.read('lso', 0, 0, 1, 1)).lastStableOffset, 2);
    } finally {
      await s.close();
    }
  });
});
