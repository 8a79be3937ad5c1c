import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Decoder = require('kafkajs/src/protocol/decoder');
import decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');

import { crc32c } from '../src/crc32c';
import { ErrorCode, KafkaError } from '../src/error-codes';
import {
  ATTRIBUTES_OFFSET,
  buildControlBatch,
  CRC_OFFSET,
  crcMatches,
  findTimestampInBatch,
  lastSequenceOf,
  MAGIC_OFFSET,
  readBatchHeader,
  readControlRecord,
  readVarlong,
  rewriteBatchBase,
  scanBatches,
  validateClientBatch,
  writeVarlong,
} from '../src/record-batch';
import { makeBatch } from '../src/testing';

function expectKafkaError(fn: () => void, code: number): void {
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === code);
}

function onlySpan(buf: Buffer) {
  const scan = scanBatches(buf);
  assert.equal(scan.stop, null);
  assert.equal(scan.batches.length, 1);
  return scan.batches[0] as NonNullable<(typeof scan.batches)[0]>;
}

describe('crc32c', () => {
  test('matches the standard check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });
});

describe('record batch header', () => {
  test('parses a kafkajs batch', async () => {
    const buf = await makeBatch({ count: 3, timestamp: (i) => 1000 + i * 10 });
    const h = readBatchHeader(buf, 0);
    assert.equal(h.baseOffset, 0);
    assert.equal(h.batchLength, buf.length - 12);
    assert.equal(h.magic, 2);
    assert.equal(h.attributes, 0);
    assert.equal(h.lastOffsetDelta, 2);
    assert.equal(h.baseTimestamp, 1000);
    assert.equal(h.maxTimestamp, 1020);
    assert.equal(h.producerId, -1);
    assert.equal(h.recordCount, 3);
    assert.ok(crcMatches(buf, 0, buf.length));
    validateClientBatch(buf, onlySpan(buf));
  });

  test('parses idempotent and transactional attributes', async () => {
    const buf = await makeBatch({
      count: 2,
      producerId: 4242,
      producerEpoch: 3,
      baseSequence: 17,
      transactional: true,
    });
    const h = readBatchHeader(buf, 0);
    assert.equal(h.producerId, 4242);
    assert.equal(h.producerEpoch, 3);
    assert.equal(h.baseSequence, 17);
    assert.equal(h.attributes & 0x10, 0x10);
    validateClientBatch(buf, onlySpan(buf));
  });

  test('iterates concatenated batches and flags a partial tail', async () => {
    const a = await makeBatch({ count: 2 });
    const b = await makeBatch({ count: 5 });
    const both = Buffer.concat([a, b]);
    const scan = scanBatches(both);
    assert.equal(scan.stop, null);
    assert.deepEqual(
      scan.batches.map((s) => [s.position, s.size]),
      [
        [0, a.length],
        [a.length, b.length],
      ],
    );
    const torn = scanBatches(both.subarray(0, both.length - 3));
    assert.equal(torn.stop, 'partial');
    assert.equal(torn.batches.length, 1);
    assert.equal(torn.validBytes, a.length);
    const shortHeader = scanBatches(Buffer.concat([a, b.subarray(0, 30)]));
    assert.equal(shortHeader.stop, 'partial');
    const garbage = Buffer.concat([a, Buffer.alloc(80)]);
    assert.equal(scanBatches(garbage).stop, 'invalid');
  });

  test('a corrupted CRC is CORRUPT_MESSAGE', async () => {
    const buf = await makeBatch({ count: 2 });
    const last = buf.length - 1;
    buf[last] = (buf[last] as number) ^ 0xff;
    expectKafkaError(() => validateClientBatch(buf, onlySpan(buf)), ErrorCode.CORRUPT_MESSAGE);
  });

  test('a wrong magic is CORRUPT_MESSAGE', async () => {
    const buf = await makeBatch();
    buf.writeInt8(1, MAGIC_OFFSET);
    expectKafkaError(() => validateClientBatch(buf, onlySpan(buf)), ErrorCode.CORRUPT_MESSAGE);
  });

  test('record count mismatch, control bit, missing sequence are INVALID_RECORD', async () => {
    const resign = (buf: Buffer) => buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    const count = await makeBatch({ count: 3 });
    count.writeInt32BE(5, 57);
    resign(count);
    expectKafkaError(() => validateClientBatch(count, onlySpan(count)), ErrorCode.INVALID_RECORD);

    const control = await makeBatch();
    control.writeInt16BE(0x20, ATTRIBUTES_OFFSET);
    resign(control);
    expectKafkaError(() => validateClientBatch(control, onlySpan(control)), ErrorCode.INVALID_RECORD);

    const noSeq = await makeBatch({ producerId: 7, baseSequence: -1 });
    expectKafkaError(() => validateClientBatch(noSeq, onlySpan(noSeq)), ErrorCode.INVALID_RECORD);
  });

  test('rewriting baseOffset and leader epoch keeps the CRC valid', async () => {
    const buf = await makeBatch({ count: 4 });
    rewriteBatchBase(buf, 0, 123456789012, 7);
    const h = readBatchHeader(buf, 0);
    assert.equal(h.baseOffset, 123456789012);
    assert.equal(h.partitionLeaderEpoch, 7);
    assert.ok(crcMatches(buf, 0, buf.length));
    validateClientBatch(buf, onlySpan(buf));
  });

  test('sequence wrap at INT32_MAX', () => {
    assert.equal(lastSequenceOf(10, 4), 14);
    assert.equal(lastSequenceOf(0x7fffffff, 0), 0x7fffffff);
    assert.equal(lastSequenceOf(0x7ffffffe, 3), 1);
  });
});

describe('varints', () => {
  test('round trip', () => {
    const buf = Buffer.alloc(16);
    for (const v of [
      0,
      1,
      -1,
      63,
      -64,
      64,
      300,
      -300,
      2 ** 31,
      -(2 ** 31) - 5,
      1_700_000_000_000,
      -1_700_000_000_000,
    ]) {
      const end = writeVarlong(buf, 0, v);
      const r = readVarlong(buf, 0);
      assert.equal(r.value, v);
      assert.equal(r.next, end);
    }
  });
});

describe('control batch', () => {
  test('is decoded by kafkajs as a control batch', async () => {
    const buf = buildControlBatch({
      baseOffset: 42,
      partitionLeaderEpoch: 0,
      producerId: 9001,
      producerEpoch: 4,
      commit: true,
      coordinatorEpoch: 12,
      timestampMs: 1_700_000_000_000,
    });
    const h = readBatchHeader(buf, 0);
    assert.equal(h.attributes, 0x30);
    assert.equal(h.baseSequence, -1);
    assert.equal(h.recordCount, 1);
    assert.equal(h.lastOffsetDelta, 0);
    assert.ok(crcMatches(buf, 0, buf.length));

    const decoded = await decodeBatch(new Decoder(buf));
    assert.equal(decoded.isControlBatch, true);
    assert.equal(decoded.inTransaction, true);
    assert.equal(decoded.firstOffset, '42');
    assert.equal(decoded.producerId, '9001');
    assert.equal(decoded.producerEpoch, 4);
    assert.equal(decoded.records.length, 1);
    const record = decoded.records[0];
    assert.ok(record);
    assert.equal(record.isControlRecord, true);
    assert.equal(record.offset, '42');
    assert.deepEqual(record.key, Buffer.from([0, 0, 0, 1]));
    assert.deepEqual(record.value, Buffer.from([0, 0, 0, 0, 0, 12]));

    assert.deepEqual(readControlRecord(buf, 0, buf.length), { version: 0, type: 1, coordinatorEpoch: 12 });
    const abort = buildControlBatch({
      baseOffset: 0,
      partitionLeaderEpoch: 0,
      producerId: 1,
      producerEpoch: 0,
      commit: false,
      coordinatorEpoch: 0,
      timestampMs: 1,
    });
    assert.equal(readControlRecord(abort, 0, abort.length)?.type, 0);
  });

  test('client batches are not control batches', async () => {
    const buf = await makeBatch();
    assert.equal(readControlRecord(buf, 0, buf.length), null);
  });
});

describe('timestamps', () => {
  test('exact offset in an uncompressed batch', async () => {
    const buf = await makeBatch({ count: 5, timestamp: (i) => 10_000 + i * 100 });
    rewriteBatchBase(buf, 0, 50, 0);
    assert.deepEqual(findTimestampInBatch(buf, 0, buf.length, 10_150), {
      offset: 52,
      timestamp: 10_200,
      approximate: false,
    });
    assert.deepEqual(findTimestampInBatch(buf, 0, buf.length, 0), {
      offset: 50,
      timestamp: 10_000,
      approximate: false,
    });
    assert.equal(findTimestampInBatch(buf, 0, buf.length, 10_401), null);
  });

  test('batch granularity for a gzip batch', async () => {
    const buf = await makeBatch({ count: 5, compression: 1, timestamp: (i) => 10_000 + i * 100 });
    assert.equal(readBatchHeader(buf, 0).attributes & 7, 1);
    validateClientBatch(buf, onlySpan(buf));
    rewriteBatchBase(buf, 0, 50, 0);
    assert.deepEqual(findTimestampInBatch(buf, 0, buf.length, 10_150), {
      offset: 50,
      timestamp: 10_400,
      approximate: true,
    });
  });
});
