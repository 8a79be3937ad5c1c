import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DocumentWrite, Lookup, ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import { describeSinkContract } from '@tidemark/sink-contract';
import { type Stack, startStack } from '@tidemark/stack';
import { Client } from 'memjs';
import {
  createMemcachedSink,
  encodeMemcachedValue,
  MEMCACHED_MAX_KEY_BYTES,
  type MemcachedSink,
  memcachedGenerationKey,
} from '../src/index';

const PARTITIONS = 16;
let stack: Stack | undefined;
let dataDir = '';
let admin: Client | undefined;

async function startMemcachedStack(): Promise<string> {
  if (!stack) {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidemark-memcached-sink-'));
    stack = await startStack({
      dataDir,
      components: ['memcached'],
      ports: { memcached: 0 },
      metricsPort: null,
    });
    admin = Client.create(stack.endpoints.memcached ?? '', { retries: 1, logger: { log: () => undefined } });
  }
  return stack.endpoints.memcached ?? '';
}

async function stopMemcachedStack(): Promise<void> {
  admin?.close();
  admin = undefined;
  const running = stack;
  stack = undefined;
  await running?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}

/** Deletes one memcached item, as an eviction would. */
async function evict(itemKey: string): Promise<void> {
  assert.ok(admin);
  assert.equal(await admin.delete(itemKey), true, `${itemKey} should have been there`);
}

describeSinkContract('memcached', {
  before: async () => {
    await startMemcachedStack();
  },
  after: async () => undefined, // the store-specific tests below share the server; their after() stops it
  createSink: (definition) =>
    createMemcachedSink(definition, { servers: stack?.endpoints.memcached ?? '', partitions: PARTITIONS }),
  capabilities: { atomicCommit: false, mayForget: true },
  // Tolerant: the suite may ask to forget a key that a partition never held.
  forget: async (sink, partition, key) => {
    await admin?.delete(await (sink as MemcachedSink).documentKey(partition, key));
  },
});

let nameSeq = 0;
function definition(version = 1): ProjectionDefinition {
  nameSeq += 1;
  return {
    context: 'sinktest',
    name: `mc-${process.pid}-${nameSeq}`,
    version,
    store: 'memcached',
    keyScope: 'aggregate',
    eventTypes: [],
    failurePolicy: 'stop',
    keys: () => [],
    apply: (current) => current,
  };
}

function writes(count: number, position: number, prefix = 'k'): DocumentWrite[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}${i}`,
    doc: { i, name: `item ${i}`, tags: ['a', 'b'], price: i * 1.5 },
    position: position + i,
  }));
}

function positionOf(lookup: Lookup | undefined): number | string | undefined {
  return typeof lookup === 'object' ? lookup.position : lookup;
}

describe('memcached sink: store specifics', () => {
  let servers = '';
  const sinks: Sink[] = [];

  before(async () => {
    servers = await startMemcachedStack();
  });

  after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await stopMemcachedStack();
  });

  async function open(def = definition(), partitions = PARTITIONS): Promise<MemcachedSink> {
    const sink = createMemcachedSink(def, { servers, partitions });
    sinks.push(sink);
    await sink.prepare();
    return sink;
  }

  test('an evicted document or tombstone is unknown, never absent, and can be written again', async () => {
    const sink = await open();
    await sink.commit(
      2,
      [
        { key: 'doc', doc: { v: 1 }, position: 3 },
        { key: 'gone', doc: null, position: 4 },
      ],
      5,
    );
    assert.deepEqual(await sink.read(2, 'gone'), { key: 'gone', partition: 2, doc: null, position: 4 });
    await evict(await sink.documentKey(2, 'doc'));
    await evict(await sink.documentKey(2, 'gone'));
    assert.equal(await sink.read(2, 'doc'), 'unknown');
    assert.equal((await sink.load(2, ['doc', 'gone', 'never'])).get('gone'), 'unknown');
    assert.equal(await sink.read(2, 'never'), 'unknown', 'memcached cannot tell never-written from evicted');
    await sink.commit(2, [{ key: 'doc', doc: { v: 2 }, position: 9 }], 10);
    assert.deepEqual(await sink.read(2, 'doc'), { key: 'doc', partition: 2, doc: { v: 2 }, position: 9 });
    // An evicted checkpoint: the partition starts from 0 again (re-applying is idempotent).
    await evict(await sink.checkpointKey(2));
    assert.equal((await sink.checkpoints()).has(2), false);
  });

  test('long and odd keys round-trip, stored under valid memcached keys', async () => {
    const sink = await open();
    const odd = [
      'x'.repeat(1000),
      'with space',
      'tab\t',
      'ünïcødé ✓',
      '',
      '#hash-like',
      '__checkpoint',
      'a:b:c',
    ];
    await sink.commit(
      1,
      odd.map((key, i) => ({ key, doc: { i }, position: i + 1 })),
      odd.length + 1,
    );
    const loaded = await sink.load(1, odd);
    assert.deepEqual([...loaded.keys()], odd);
    odd.forEach((key, i) => {
      assert.deepEqual(loaded.get(key), { key, partition: 1, doc: { i }, position: i + 1 });
    });
    for (const key of odd) {
      const itemKey = await sink.documentKey(1, key);
      assert.ok(itemKey.length <= MEMCACHED_MAX_KEY_BYTES);
      assert.match(itemKey, /^[\x21-\x7e]+$/);
    }
    assert.deepEqual(await sink.checkpoints(), new Map([[1, odd.length + 1]]));
  });

  test('a value under our address that belongs to another key is unknown to reads and stops a commit', async () => {
    const sink = await open();
    const itemKey = await sink.documentKey(0, 'y'.repeat(400));
    assert.ok(admin);
    await admin.set(itemKey, encodeMemcachedValue('some other key', 5, { x: 1 }), {});
    assert.equal(await sink.read(0, 'y'.repeat(400)), 'unknown');
    await assert.rejects(
      sink.commit(0, [{ key: 'y'.repeat(400), doc: {}, position: 9 }], 10),
      /hash collision/,
    );
  });

  test('CAS: a concurrent writer between load and commit is not overwritten blindly', async () => {
    const def = definition();
    const mine = await open(def);
    const other = await open(def);
    await mine.commit(0, [{ key: 'a', doc: { by: 'mine' }, position: 5 }], 6);
    // Both load (keeping CAS hints), then the other writer gets in first.
    await mine.load(0, ['a', 'b', 'c']);
    await other.commit(
      0,
      [
        { key: 'a', doc: { by: 'other' }, position: 9 }, // newer than ours: we must lose
        { key: 'b', doc: { by: 'other' }, position: 6 }, // older than ours: we must win despite the race
        { key: 'c', doc: { by: 'other' }, position: 20 }, // created meanwhile: our ADD fails, we re-read
      ],
      21,
    );
    await mine.commit(
      0,
      [
        { key: 'a', doc: { by: 'mine' }, position: 7 },
        { key: 'b', doc: { by: 'mine' }, position: 7 },
        { key: 'c', doc: { by: 'mine' }, position: 8 },
      ],
      8,
    );
    const loaded = await other.load(0, ['a', 'b', 'c']);
    assert.deepEqual(loaded.get('a'), { key: 'a', partition: 0, doc: { by: 'other' }, position: 9 });
    assert.deepEqual(loaded.get('b'), { key: 'b', partition: 0, doc: { by: 'mine' }, position: 7 });
    assert.deepEqual(loaded.get('c'), { key: 'c', partition: 0, doc: { by: 'other' }, position: 20 });
    assert.deepEqual(await mine.checkpoints(), new Map([[0, 21]]), 'the checkpoint never goes backwards');
  });

  test('CAS: racing writers on the same keys converge to the highest position', async () => {
    const def = definition();
    const writers = await Promise.all([open(def), open(def), open(def), open(def)]);
    const keys = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    await Promise.all(
      writers.map(async (sink, w) => {
        for (let round = 0; round < 10; round++) {
          // Different writers, different positions per round; each loads first so its CAS hints go stale.
          await sink.load(3, keys);
          const batch = keys.map((key, i) => ({ key, doc: { w, round }, position: round * 10 + w + i }));
          await sink.commit(3, batch, round * 10 + w + 100);
        }
      }),
    );
    const loaded = await writers[0]?.load(3, keys);
    keys.forEach((key, i) => {
      const found = loaded?.get(key);
      assert.ok(typeof found === 'object');
      assert.equal(found.position, 9 * 10 + 3 + i);
      assert.deepEqual(found.doc, { w: 3, round: 9 });
    });
    assert.equal((await writers[1]?.checkpoints())?.get(3), 9 * 10 + 3 + 100);
  });

  test('documents over the 1 MB item limit are refused before anything of the batch is written', async () => {
    const sink = await open();
    const big = { blob: 'x'.repeat(1024 * 1024) };
    await assert.rejects(
      sink.commit(
        4,
        [
          { key: 'small', doc: { ok: true }, position: 1 },
          { key: 'big', doc: big, position: 2 },
        ],
        3,
      ),
      /"big" is too large for memcached/,
    );
    assert.equal(await sink.read(4, 'small'), 'unknown');
    assert.equal((await sink.checkpoints()).has(4), false);
    // Large but within the limit works.
    const large = { blob: 'y'.repeat(900 * 1024) };
    await sink.commit(4, [{ key: 'large', doc: large, position: 5 }], 6);
    assert.deepEqual(await sink.read(4, 'large'), { key: 'large', partition: 4, doc: large, position: 5 });
  });

  test('drop switches to a new generation; every instance sees an empty version after it', async () => {
    const def = definition();
    const one = await open(def);
    const two = await open(def);
    await one.commit(0, writes(20, 1), 30);
    const before = await one.documentKey(0, 'k1');
    assert.equal(await two.documentKey(0, 'k1'), before, 'instances agree on the generation');
    await one.drop();
    assert.deepEqual(await one.checkpoints(), new Map());
    assert.deepEqual(await two.checkpoints(), new Map(), 'another instance notices on checkpoints()');
    assert.notEqual(await two.documentKey(0, 'k1'), before);
    assert.equal(await one.read(0, 'k1'), 'unknown');
    // Written again from scratch (a rebuild), positions from the start apply.
    await two.commit(0, writes(1, 1), 2);
    assert.equal(positionOf(await one.read(0, 'k0')), 1);
    assert.deepEqual(await one.checkpoints(), new Map([[0, 2]]));
    // A new version of the same projection is untouched by the drop of another.
    const v2 = await open({ ...def, version: 2 });
    await v2.commit(1, writes(2, 1), 3);
    await one.drop();
    assert.deepEqual(await v2.checkpoints(), new Map([[1, 3]]));
  });

  test('a lost generation key empties the version instead of resurrecting an old one', async () => {
    const def = definition();
    const sink = await open(def);
    await sink.commit(0, writes(3, 1), 4);
    await evict(memcachedGenerationKey(def));
    const fresh = await open(def);
    assert.deepEqual(await fresh.checkpoints(), new Map());
    assert.equal(await fresh.read(0, 'k0'), 'unknown');
  });

  test('partitions outside 0..P-1 are refused', async () => {
    const sink = await open(definition(), 4);
    await assert.rejects(sink.commit(4, [], 1), /outside 0\.\.3/);
  });

  test('5,000-write batches and throughput', async () => {
    const sink = await open();
    const batches = 6;
    const size = 5_000;
    let started = process.hrtime.bigint();
    for (let b = 0; b < batches; b++) {
      await sink.commit(5, writes(size, b * size + 1, `b${b % 2}-`), (b + 1) * size + 1);
    }
    let seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(
      `memcached sink: ${batches} commits of ${size} writes (no load) in ${seconds.toFixed(2)} s = ` +
        `${Math.round((batches * size) / seconds)} writes/s`,
    );
    // The projector's cycle: load the batch's keys, then commit (the load's CAS values save a round trip).
    started = process.hrtime.bigint();
    for (let b = 0; b < batches; b++) {
      const batch = writes(size, (batches + b) * size + 1, `b${b % 2}-`);
      await sink.load(
        5,
        batch.map((w) => w.key),
      );
      await sink.commit(5, batch, (batches + b + 1) * size + 1);
    }
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(
      `memcached sink: ${batches} load+commit cycles of ${size} in ${seconds.toFixed(2)} s = ` +
        `${Math.round((batches * size) / seconds)} writes/s`,
    );
    assert.deepEqual(await sink.checkpoints(), new Map([[5, 2 * batches * size + 1]]));
    const last = await sink.read(5, `b1-${size - 1}`);
    assert.equal(positionOf(last), (2 * batches - 1) * size + size);
  });
});
