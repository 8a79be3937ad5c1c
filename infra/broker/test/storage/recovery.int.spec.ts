import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import type { FetchPartitionResult } from '../../src/contracts';
import { batchOffsets, makeBatch, open, tempDir } from './helpers';

const ACKS = { acks: -1, transactionalId: null };
const TXN = { acks: -1, transactionalId: 'tx' };

function isKafkaError(code: number) {
  return (err: unknown) => err instanceof KafkaError && err.code === code;
}

type Opened = Awaited<ReturnType<typeof open>>;

async function readAll(
  s: Opened,
  topic: string,
  partition: number,
  isolation: 0 | 1,
): Promise<FetchPartitionResult[]> {
  const out: FetchPartitionResult[] = [];
  const first = await s.log.read(
    topic,
    partition,
    s.log.partitionLog(topic, partition).logStartOffset,
    1,
    isolation,
  );
  out.push(first);
  let next = first.records === null ? -1 : nextOffset(first.records);
  while (next >= 0 && next < (isolation === 1 ? first.lastStableOffset : first.highWatermark)) {
    const r = await s.log.read(topic, partition, next, 1, isolation);
    out.push(r);
    next = r.records === null ? -1 : nextOffset(r.records);
  }
  return out;
}

function nextOffset(records: Buffer): number {
  const last = batchOffsets(records).at(-1);
  return last === undefined ? -1 : last.base + last.count;
}

async function logFiles(dir: string, topic: string, partition: number): Promise<string[]> {
  return (await readdir(join(dir, 'logs', `${topic}-${partition}`))).filter((f) => f.endsWith('.log')).sort();
}

describe('recovery', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('recovery');
  });
  after(() => dir.remove());

  test('reopening rebuilds the same state (offsets, reads, producers, transactions)', async () => {
    const s = await open(dir.path, { segmentBytes: 4096 });
    await s.topics.create('r', 2, { configs: { 'segment.bytes': '3000' } });
    for (let i = 0; i < 40; i++) {
      await s.log.append(
        'r',
        i % 2,
        await makeBatch({ count: 1 + (i % 4), value: (k) => `v${i}-${k}-${'x'.repeat(120)}` }),
        ACKS,
      );
    }
    // idempotent producer 5 on partition 0, 6 batches
    let seq = 0;
    for (let i = 0; i < 6; i++) {
      await s.log.append(
        'r',
        0,
        await makeBatch({ count: 2, producerId: 5, producerEpoch: 1, baseSequence: seq }),
        ACKS,
      );
      seq += 2;
    }
    // aborted transaction then an open one on partition 1
    await s.log.append('r', 1, await makeBatch({ count: 2, producerId: 8, transactional: true }), TXN);
    await s.log.writeTxnMarker('r', 1, {
      producerId: 8,
      producerEpoch: 0,
      commit: false,
      coordinatorEpoch: 3,
    });
    await s.log.append('r', 1, await makeBatch({ count: 1 }), ACKS);
    const openTxn = await s.log.append(
      'r',
      1,
      await makeBatch({ count: 3, producerId: 8, baseSequence: 2, transactional: true }),
      TXN,
    );
    await s.log.append('r', 1, await makeBatch({ count: 1 }), ACKS);

    const before = {
      stats: s.log.stats(),
      p0: await readAll(s, 'r', 0, 0),
      p1u: await readAll(s, 'r', 1, 0),
      p1c: await readAll(s, 'r', 1, 1),
      ts: await s.log.listOffset('r', 0, 1_700_000_000_001, 0),
    };
    assert.equal(before.p1c[0]?.lastStableOffset, openTxn.baseOffset);
    await s.close();

    const s2 = await open(dir.path, { segmentBytes: 4096 });
    try {
      assert.deepEqual(s2.log.stats(), before.stats);
      assert.deepEqual(await readAll(s2, 'r', 0, 0), before.p0);
      assert.deepEqual(await readAll(s2, 'r', 1, 0), before.p1u);
      assert.deepEqual(await readAll(s2, 'r', 1, 1), before.p1c);
      assert.deepEqual(await s2.log.listOffset('r', 0, 1_700_000_000_001, 0), before.ts);
      assert.ok((before.stats[0]?.segmentCount ?? 0) > 1);

      // The producer's last batches are remembered: duplicate and next sequence.
      const dup = await s2.log.append(
        'r',
        0,
        await makeBatch({ count: 2, producerId: 5, producerEpoch: 1, baseSequence: seq - 2 }),
        ACKS,
      );
      const hw0 = before.stats.find((p) => p.partition === 0)?.highWatermark ?? -1;
      assert.equal(dup.baseOffset, hw0 - 2);
      await assert.rejects(
        s2.log.append(
          'r',
          0,
          await makeBatch({ producerId: 5, producerEpoch: 1, baseSequence: seq + 1 }),
          ACKS,
        ),
        isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
      );
      const next = await s2.log.append(
        'r',
        0,
        await makeBatch({ producerId: 5, producerEpoch: 1, baseSequence: seq }),
        ACKS,
      );
      assert.equal(next.baseOffset, hw0);
      await assert.rejects(
        s2.log.append(
          'r',
          0,
          await makeBatch({ producerId: 5, producerEpoch: 0, baseSequence: seq + 1 }),
          ACKS,
        ),
        isKafkaError(ErrorCode.INVALID_PRODUCER_EPOCH),
      );

      // The open transaction is still open; committing it releases the LSO.
      await s2.log.writeTxnMarker('r', 1, {
        producerId: 8,
        producerEpoch: 0,
        commit: true,
        coordinatorEpoch: 3,
      });
      const rc = await s2.log.read('r', 1, openTxn.baseOffset, 1 << 20, 1);
      const hw1 = before.stats.find((p) => p.partition === 1)?.highWatermark ?? -1;
      assert.equal(rc.lastStableOffset, hw1 + 1);
      assert.equal(rc.highWatermark, hw1 + 1);
      assert.deepEqual(rc.abortedTransactions, []);
    } finally {
      await s2.close();
    }
  });

  test('a torn tail is truncated at the last whole batch; appends continue', async () => {
    const s = await open(dir.path);
    await s.topics.create('torn', 1);
    for (let i = 0; i < 5; i++) await s.log.append('torn', 0, await makeBatch({ count: 2 }), ACKS);
    await s.close();
    const file = join(dir.path, 'logs', 'torn-0', '00000000000000000000.log');
    const goodSize = (await stat(file)).size;

    // half a batch
    const half = await makeBatch({ count: 4 });
    half.writeBigInt64BE(10n, 0);
    await appendFile(file, half.subarray(0, half.length >> 1));
    let s2 = await open(dir.path);
    assert.equal((await stat(file)).size, goodSize);
    assert.equal((await s2.log.read('torn', 0, 0, 1, 0)).highWatermark, 10);
    assert.equal((await s2.log.append('torn', 0, await makeBatch({ count: 3 }), ACKS)).baseOffset, 10);
    await s2.close();
    const size2 = (await stat(file)).size;

    // garbage
    await appendFile(
      file,
      Buffer.from('this is not a record batch at all, just some garbage bytes to recover from'),
    );
    s2 = await open(dir.path);
    assert.equal((await stat(file)).size, size2);
    assert.equal((await s2.log.read('torn', 0, 0, 1, 0)).highWatermark, 13);
    // a whole batch with a bad CRC (bytes flipped) at the tail is dropped too
    await s2.log.append('torn', 0, await makeBatch({ count: 1 }), ACKS);
    await s2.close();
    const size3 = (await stat(file)).size;
    const content = await readFile(file);
    content[size3 - 2] = (content[size3 - 2] as number) ^ 0x55;
    await writeFile(file, content);
    s2 = await open(dir.path);
    try {
      assert.equal((await stat(file)).size, size2);
      assert.equal((await s2.log.read('torn', 0, 0, 1, 0)).highWatermark, 13);
      const r = await s2.log.append('torn', 0, await makeBatch({ count: 1 }), ACKS);
      assert.equal(r.baseOffset, 13);
      const all = await s2.log.read('torn', 0, 0, 1 << 20, 0);
      assert.deepEqual(
        batchOffsets(all.records).map((b) => b.base),
        [0, 2, 4, 6, 8, 10, 13],
      );
    } finally {
      await s2.close();
    }
  });

  test('corruption in an older segment truncates there and drops the later segments', async () => {
    const s = await open(dir.path, { segmentBytes: 1500 });
    await s.topics.create('mid', 1);
    for (let i = 0; i < 30; i++) {
      await s.log.append('mid', 0, await makeBatch({ count: 1, value: () => 'm'.repeat(200) }), ACKS);
    }
    await s.close();
    const files = await logFiles(dir.path, 'mid', 0);
    assert.ok(files.length >= 4);
    const second = join(dir.path, 'logs', 'mid-0', files[1] as string);
    const secondBase = Number((files[1] as string).slice(0, 20));
    const size = (await stat(second)).size;
    await truncate(second, size - 10);
    const s2 = await open(dir.path);
    try {
      const remaining = await logFiles(dir.path, 'mid', 0);
      assert.deepEqual(remaining, files.slice(0, 2));
      const hw = (await s2.log.read('mid', 0, 0, 1, 0)).highWatermark;
      assert.ok(hw > secondBase);
      const r = await s2.log.append('mid', 0, await makeBatch(), ACKS);
      assert.equal(r.baseOffset, hw);
    } finally {
      await s2.close();
    }
  });

  test('leftover partition directories of unknown topics are removed', async () => {
    await mkdir(join(dir.path, 'logs', 'ghost-0'), { recursive: true });
    const s = await open(dir.path);
    try {
      const dirs = await readdir(join(dir.path, 'logs'));
      assert.ok(!dirs.includes('ghost-0'));
    } finally {
      await s.close();
    }
  });

  test('kill -9 loses no acknowledged append', async () => {
    const d = await tempDir('crash');
    try {
      const setup = await open(d.path);
      await setup.topics.create('crash', 2);
      await setup.close();
      const child = spawn(process.execPath, [join(__dirname, 'crash-child.js'), d.path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
      });
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (out.split('\n').filter((l) => l.startsWith('ack')).length >= 300) {
            clearInterval(check);
            resolve();
          }
        }, 5);
        child.once('exit', (code) => {
          clearInterval(check);
          reject(new Error(`child exited early with ${code}`));
        });
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const acks = out
        .split('\n')
        .filter((l) => l.startsWith('ack '))
        .map((l) => l.split(' ').slice(1).map(Number) as [number, number, number, number, number]);
      assert.ok(acks.length >= 300);

      const s = await open(d.path, { segmentBytes: 64 * 1024 });
      try {
        for (const [partition, , base, count] of acks) {
          const r = await s.log.read('crash', partition, base, 1, 0);
          const b = batchOffsets(r.records)[0];
          assert.ok(b, `acknowledged offset ${base} of partition ${partition} is missing`);
          assert.equal(b.base, base);
          assert.equal(b.count, count);
        }
        // The writers can go on: a retry of each producer's last acknowledged batch gets its offset back.
        const last = new Map<number, [number, number, number, number, number]>();
        for (const a of acks) last.set(a[1], a);
        assert.equal(last.size, 4);
        for (const [partition, producerId, base, count, seq] of last.values()) {
          const retry = await makeBatch({ count, producerId, baseSequence: seq });
          const res = await s.log.append('crash', partition, retry, ACKS);
          assert.equal(res.baseOffset, base);
        }
      } finally {
        await s.close();
      }
    } finally {
      await d.remove();
    }
  });
});

describe('retention', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('retention');
  });
  after(() => dir.remove());

  test('by size: whole oldest segments go, logStartOffset advances, the active segment stays', async () => {
    const s = await open(dir.path, { segmentBytes: 2000 });
    try {
      await s.topics.create('size', 1, { configs: { 'retention.bytes': '5000' } });
      for (let i = 0; i < 40; i++) {
        await s.log.append('size', 0, await makeBatch({ count: 2, value: () => 's'.repeat(150) }), ACKS);
      }
      const before = s.log.stats()[0];
      assert.ok(before && before.sizeBytes > 5000);
      const deleted = await s.log.runRetention();
      assert.ok(deleted > 0);
      const after = s.log.stats()[0];
      assert.ok(after);
      assert.ok(after.sizeBytes >= 5000 && after.sizeBytes < 5000 + 2000, `size ${after.sizeBytes}`);
      assert.ok(after.logStartOffset > 0);
      assert.equal(after.highWatermark, 80);
      assert.equal((await logFiles(dir.path, 'size', 0)).length, after.segmentCount);
      await assert.rejects(s.log.read('size', 0, 0, 1, 0), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
      const r = await s.log.read('size', 0, after.logStartOffset, 1, 0);
      assert.equal(r.logStartOffset, after.logStartOffset);
      assert.equal(batchOffsets(r.records)[0]?.base, after.logStartOffset);
      assert.deepEqual(await s.log.listOffset('size', 0, -2, 0), {
        offset: after.logStartOffset,
        timestamp: -1,
      });
      const res = await s.log.append('size', 0, await makeBatch(), ACKS);
      assert.equal(res.logStartOffset, after.logStartOffset);
    } finally {
      await s.close();
    }
    // The log start survives a restart.
    const s2 = await open(dir.path, { segmentBytes: 2000 });
    try {
      const st = s2.log.stats().find((p) => p.topic === 'size');
      assert.ok(st && st.logStartOffset > 0);
      assert.equal(st.highWatermark, 81);
    } finally {
      await s2.close();
    }
  });

  test('by age, using the newest timestamp of each segment', async () => {
    const s = await open(dir.path, { segmentBytes: 1000, retentionMs: 60_000 });
    try {
      await s.topics.create('age', 1);
      const now = Date.now();
      // old data: 2 hours ago
      for (let i = 0; i < 10; i++) {
        await s.log.append(
          'age',
          0,
          await makeBatch({ count: 1, value: () => 'a'.repeat(300), timestamp: () => now - 7_200_000 }),
          ACKS,
        );
      }
      // fresh data
      for (let i = 0; i < 4; i++) {
        await s.log.append(
          'age',
          0,
          await makeBatch({ count: 1, value: () => 'b'.repeat(300), timestamp: () => now }),
          ACKS,
        );
      }
      const before = s.log.stats().find((p) => p.topic === 'age');
      assert.ok(before);
      await s.log.runRetention(now);
      const after = s.log.stats().find((p) => p.topic === 'age');
      assert.ok(after);
      assert.ok(after.segmentCount < before.segmentCount);
      assert.ok(
        after.logStartOffset >= 9 && after.logStartOffset <= 10,
        `logStartOffset ${after.logStartOffset}`,
      );
      // Nothing fresh was removed.
      const r = await s.log.read('age', 0, after.logStartOffset, 1 << 20, 0);
      assert.equal(r.highWatermark, 14);
      // Much later everything but the active segment goes.
      await s.log.runRetention(now + 3_600_000);
      const later = s.log.stats().find((p) => p.topic === 'age');
      assert.equal(later?.segmentCount, 1);
    } finally {
      await s.close();
    }
  });
});
