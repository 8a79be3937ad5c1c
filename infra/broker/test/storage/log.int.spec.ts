import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, KafkaError, readBatchHeader } from '@tidemark/kafka-protocol';
import { batchOffsets, makeBatch, open, tempDir } from './helpers';

const ACKS = { acks: -1, transactionalId: null };

function isKafkaError(code: number) {
  return (err: unknown) => err instanceof KafkaError && err.code === code;
}

describe('topic registry', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('topics');
  });
  after(() => dir.remove());

  test('create, list, validation errors, delete, recreate with a new id', async () => {
    const s = await open(dir.path);
    try {
      const meta = await s.topics.create('orders', 3, { configs: { 'retention.ms': '1000' } });
      assert.equal(meta.partitionCount, 3);
      assert.match(meta.topicId, /^[0-9a-f-]{36}$/);
      assert.deepEqual(s.topics.get('orders')?.configs, { 'retention.ms': '1000' });
      for (let p = 0; p < 3; p++) assert.ok(existsSync(join(dir.path, 'logs', `orders-${p}`)));
      const file = JSON.parse(await readFile(join(dir.path, 'topics.json'), 'utf8')) as {
        topics: { name: string }[];
      };
      assert.deepEqual(
        file.topics.map((t) => t.name),
        ['orders'],
      );

      await assert.rejects(s.topics.create('orders', 1), isKafkaError(ErrorCode.TOPIC_ALREADY_EXISTS));
      await assert.rejects(s.topics.create('bad/name', 1), isKafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION));
      await assert.rejects(s.topics.create('..', 1), isKafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION));
      await assert.rejects(s.topics.create('', 1), isKafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION));
      await assert.rejects(
        s.topics.create('x'.repeat(250), 1),
        isKafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION),
      );
      await assert.rejects(s.topics.create('zero', 0), isKafkaError(ErrorCode.INVALID_PARTITIONS));
      await assert.rejects(
        s.topics.create('rf', 1, { replicationFactor: 3 }),
        isKafkaError(ErrorCode.INVALID_REPLICATION_FACTOR),
      );
      await assert.rejects(
        s.topics.create('cfg', 1, { configs: { 'segment.bytes': 'lots' } }),
        isKafkaError(ErrorCode.INVALID_CONFIG),
      );
      const dry = await s.topics.create('dry', 2, { validateOnly: true });
      assert.equal(dry.name, 'dry');
      assert.equal(s.topics.get('dry'), undefined);
      assert.ok(!existsSync(join(dir.path, 'logs', 'dry-0')));

      await s.log.append('orders', 1, await makeBatch(), ACKS);
      await s.topics.delete('orders');
      assert.equal(s.topics.get('orders'), undefined);
      assert.ok(!existsSync(join(dir.path, 'logs', 'orders-1')));
      await assert.rejects(s.topics.delete('orders'), isKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      await assert.rejects(
        s.log.append('orders', 0, await makeBatch(), ACKS),
        isKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
      );
      const again = await s.topics.create('orders', 1);
      assert.notEqual(again.topicId, meta.topicId);
      const r = await s.log.read('orders', 0, 0, 1 << 20, 0);
      assert.equal(r.highWatermark, 0);
      assert.equal(r.records, null);
    } finally {
      await s.close();
    }
    const s2 = await open(dir.path);
    try {
      assert.deepEqual(
        s2.topics.list().map((t) => [t.name, t.partitionCount]),
        [['orders', 1]],
      );
    } finally {
      await s2.close();
    }
  });
});

describe('append and read', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('log');
  });
  after(() => dir.remove());

  test('round trip across segment rolls with contiguous offsets', async () => {
    const s = await open(dir.path, { segmentBytes: 16 * 1024 });
    try {
      await s.topics.create('t', 2);
      const sent: Buffer[] = [];
      const bases: number[] = [];
      let expected = 0;
      for (let i = 0; i < 60; i++) {
        const count = 1 + (i % 7);
        const batch = await makeBatch({ count, value: (r) => `batch ${i} record ${r} ${'x'.repeat(200)}` });
        const res = await s.log.append('t', 0, batch, ACKS);
        assert.equal(res.baseOffset, expected);
        assert.equal(res.logAppendTimeMs, -1);
        assert.equal(res.logStartOffset, 0);
        bases.push(expected);
        sent.push(batch);
        expected += count;
      }
      const stats = s.log.stats().find((p) => p.topic === 't' && p.partition === 0);
      assert.ok(stats);
      assert.equal(stats.highWatermark, expected);
      assert.ok(stats.segmentCount > 3, `expected several segments, got ${stats.segmentCount}`);
      const files = await readdir(join(dir.path, 'logs', 't-0'));
      assert.ok(files.includes('00000000000000000000.log'));
      assert.ok(files.filter((f) => f.endsWith('.log')).length === stats.segmentCount);

      // Read everything back batch by batch: stored bytes are the sent bytes with the offset rewritten.
      let offset = 0;
      let idx = 0;
      while (offset < expected) {
        const r = await s.log.read('t', 0, offset, 64 * 1024, 0);
        assert.equal(r.highWatermark, expected);
        assert.equal(r.abortedTransactions, null);
        assert.ok(r.records);
        for (const b of batchOffsets(r.records)) {
          assert.equal(b.base, bases[idx]);
          idx++;
          offset = b.base + b.count;
        }
      }
      assert.equal(idx, sent.length);
      // Sent buffers were rewritten in place and are what the log holds.
      const r5 = await s.log.read('t', 0, bases[5] as number, 0, 0);
      assert.deepEqual(r5.records, sent[5]);

      // A fetch offset inside a batch returns that whole batch first.
      const mid = (bases[10] as number) + 1;
      const rm = await s.log.read('t', 0, mid, 1, 0);
      assert.equal(batchOffsets(rm.records)[0]?.base, bases[10]);
      assert.equal(batchOffsets(rm.records).length, 1);

      // maxBytes bounds the answer but the first batch always comes whole.
      const small = await s.log.read('t', 0, 0, 10, 0);
      assert.equal(batchOffsets(small.records).length, 1);
      const some = await s.log.read('t', 0, 0, (sent[0]?.length ?? 0) + (sent[1]?.length ?? 0), 0);
      assert.equal(batchOffsets(some.records).length, 2);

      const end = await s.log.read('t', 0, expected, 1000, 0);
      assert.equal(end.records, null);
      assert.equal(end.highWatermark, expected);
      await assert.rejects(
        s.log.read('t', 0, expected + 1, 1000, 0),
        isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE),
      );
      await assert.rejects(s.log.read('t', 0, -1, 1000, 0), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
      await assert.rejects(
        s.log.read('t', 2, 0, 1000, 0),
        isKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
      );
      await assert.rejects(
        s.log.read('nope', 0, 0, 1000, 0),
        isKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
      );

      // Partition 1 is independent.
      const p1 = await s.log.append('t', 1, await makeBatch({ count: 2 }), ACKS);
      assert.equal(p1.baseOffset, 0);
    } finally {
      await s.close();
    }
  });

  test('rejects corrupt and invalid batches without appending', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('bad', 1, { configs: { 'max.message.bytes': '2000' } });
      const corrupt = await makeBatch();
      corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] as number) ^ 1;
      await assert.rejects(s.log.append('bad', 0, corrupt, ACKS), isKafkaError(ErrorCode.CORRUPT_MESSAGE));
      const torn = await makeBatch({ count: 3 });
      await assert.rejects(
        s.log.append('bad', 0, torn.subarray(0, torn.length - 1), ACKS),
        isKafkaError(ErrorCode.CORRUPT_MESSAGE),
      );
      await assert.rejects(
        s.log.append('bad', 0, Buffer.alloc(0), ACKS),
        isKafkaError(ErrorCode.CORRUPT_MESSAGE),
      );
      const big = await makeBatch({ count: 20, value: () => 'y'.repeat(200) });
      await assert.rejects(s.log.append('bad', 0, big, ACKS), isKafkaError(ErrorCode.MESSAGE_TOO_LARGE));
      const ok = await s.log.append('bad', 0, await makeBatch(), ACKS);
      assert.equal(ok.baseOffset, 0);
    } finally {
      await s.close();
    }
  });

  test('pipelined appends take effect in call order; group commit uses fewer fsyncs than appends', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('gc', 4);
      const batches = await Promise.all(
        Array.from({ length: 200 }, (_, i) => makeBatch({ count: 1 + (i % 3) })),
      );
      const before = s.metrics.fsyncs;
      const results = await Promise.all(batches.map((b, i) => s.log.append('gc', i % 4, b, ACKS)));
      const fsyncs = s.metrics.fsyncs - before;
      assert.ok(
        fsyncs < batches.length,
        `expected group commit, got ${fsyncs} fsyncs for ${batches.length} appends`,
      );
      assert.ok(fsyncs >= 1);
      const next = [0, 0, 0, 0];
      results.forEach((r, i) => {
        const p = i % 4;
        assert.equal(r.baseOffset, next[p]);
        next[p] = (next[p] as number) + 1 + (i % 3);
      });
      for (let p = 0; p < 4; p++) {
        const r = await s.log.read('gc', p, 0, 1 << 20, 0);
        assert.equal(r.highWatermark, next[p]);
      }
    } finally {
      await s.close();
    }
  });

  test('acks=0 resolves at once; the data becomes readable after the flush', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('fire', 1);
      const res = await s.log.append('fire', 0, await makeBatch({ count: 3 }), {
        acks: 0,
        transactionalId: null,
      });
      assert.equal(res.baseOffset, 0);
      await s.log.flush();
      const r = await s.log.read('fire', 0, 0, 1 << 20, 0);
      assert.equal(r.highWatermark, 3);
      assert.equal(batchOffsets(r.records).length, 1);
    } finally {
      await s.close();
    }
  });

  test('readers never see appended data before it is fsynced', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('vis', 1);
      const pending = s.log.append('vis', 0, await makeBatch(), ACKS);
      // append() returned: offsets are assigned, but nothing is durable yet.
      const r = await s.log.read('vis', 0, 0, 1 << 20, 0);
      assert.equal(r.highWatermark, 0);
      assert.equal(r.records, null);
      await pending;
      const r2 = await s.log.read('vis', 0, 0, 1 << 20, 0);
      assert.equal(r2.highWatermark, 1);
    } finally {
      await s.close();
    }
  });

  test('waitForData wakes on append, on timeout and on abort', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('wait', 1);
      const t0 = Date.now();
      await s.log.waitForData([{ topic: 'wait', partition: 0 }], 100);
      assert.ok(Date.now() - t0 >= 90);

      const t1 = Date.now();
      const waiting = s.log.waitForData([{ topic: 'wait', partition: 0 }], 10_000);
      setTimeout(() => {
        void makeBatch().then((b) => s.log.append('wait', 0, b, ACKS));
      }, 30);
      await waiting;
      assert.ok(Date.now() - t1 < 5000);

      const ac = new AbortController();
      const t2 = Date.now();
      const aborted = s.log.waitForData([{ topic: 'wait', partition: 0 }], 10_000, ac.signal);
      setTimeout(() => ac.abort(), 20);
      await aborted;
      assert.ok(Date.now() - t2 < 5000);
      // Unknown partitions are ignored: just the timeout.
      await s.log.waitForData([{ topic: 'missing', partition: 0 }], 10);

      // Data that landed after the caller's read (it saw an older end) ends the wait at once.
      const seenEnd = (await s.log.read('wait', 0, 0, 1024, 0)).highWatermark;
      await s.log.append('wait', 0, await makeBatch(), ACKS);
      const t3 = Date.now();
      await s.log.waitForData([{ topic: 'wait', partition: 0, seenEnd }], 10_000);
      assert.ok(Date.now() - t3 < 1000, 'no sleeping through data that is already there');
    } finally {
      await s.close();
    }
  });

  test('listOffset: latest, earliest, by timestamp', async () => {
    const s = await open(dir.path, { segmentBytes: 2048 });
    try {
      await s.topics.create('ts', 1);
      // 30 batches of 4 records, timestamps 1000, 1010, 1020, ... one per record
      for (let b = 0; b < 30; b++) {
        await s.log.append(
          'ts',
          0,
          await makeBatch({ count: 4, timestamp: (i) => 1000 + (b * 4 + i) * 10 }),
          ACKS,
        );
      }
      // gzip batches answer at batch granularity
      await s.log.append(
        'ts',
        0,
        await makeBatch({ count: 4, compression: 1, timestamp: (i) => 5000 + i * 10 }),
        ACKS,
      );
      assert.deepEqual(await s.log.listOffset('ts', 0, -1, 0), { offset: 124, timestamp: -1 });
      assert.deepEqual(await s.log.listOffset('ts', 0, -2, 0), { offset: 0, timestamp: -1 });
      assert.deepEqual(await s.log.listOffset('ts', 0, 0, 0), { offset: 0, timestamp: 1000 });
      assert.deepEqual(await s.log.listOffset('ts', 0, 1000 + 57 * 10 - 5, 0), {
        offset: 57,
        timestamp: 1570,
      });
      assert.deepEqual(await s.log.listOffset('ts', 0, 1000 + 119 * 10, 0), { offset: 119, timestamp: 2190 });
      assert.deepEqual(await s.log.listOffset('ts', 0, 5015, 0), { offset: 120, timestamp: 5030 });
      assert.deepEqual(await s.log.listOffset('ts', 0, 9999, 0), { offset: -1, timestamp: -1 });
      await assert.rejects(
        s.log.listOffset('nope', 0, -1, 0),
        isKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
      );
    } finally {
      await s.close();
    }
  });

  test('stored batches carry the assigned offset and leader epoch 0', async () => {
    const s = await open(dir.path);
    try {
      await s.topics.create('hdr', 1);
      await s.log.append('hdr', 0, await makeBatch({ count: 2 }), ACKS);
      await s.log.append('hdr', 0, await makeBatch({ count: 2 }), ACKS);
      const r = await s.log.read('hdr', 0, 2, 1 << 20, 0);
      assert.ok(r.records);
      const h = readBatchHeader(r.records, 0);
      assert.equal(h.baseOffset, 2);
      assert.equal(h.partitionLeaderEpoch, 0);
    } finally {
      await s.close();
    }
  });
});
