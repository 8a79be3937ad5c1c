import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DocumentWrite, ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import { describeSinkContract } from '@tidemark/sink-contract';
import { type Stack, startStack } from '@tidemark/stack';
import { Redis } from 'ioredis';
import { COMMIT_SCRIPT, createRedisSink, redisKeyspace } from '../src/index';

let stack: Stack | undefined;
let dataDir = '';

async function startRedisStack(): Promise<string> {
  if (!stack) {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidemark-redis-sink-'));
    stack = await startStack({ dataDir, components: ['redis'], ports: { redis: 0 }, metricsPort: null });
  }
  return stack.endpoints.redis ?? '';
}

async function stopRedisStack(): Promise<void> {
  const running = stack;
  stack = undefined;
  await running?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}

describeSinkContract('redis', {
  before: async () => {
    await startRedisStack();
  },
  after: async () => undefined, // the store-specific tests below share the server; the last after() stops it
  createSink: (definition) => createRedisSink(definition, { url: stack?.endpoints.redis ?? '' }),
  capabilities: { atomicCommit: true, mayForget: false },
});

let nameSeq = 0;
function definition(version = 1): ProjectionDefinition {
  nameSeq += 1;
  return {
    context: 'sinktest',
    name: `redis-${process.pid}-${nameSeq}`,
    version,
    store: 'redis',
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

describe('redis sink: store specifics', () => {
  let url = '';
  let redis: Redis;
  const sinks: Sink[] = [];

  before(async () => {
    url = await startRedisStack();
    redis = new Redis(url, { maxRetriesPerRequest: 1 });
  });

  after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    redis.disconnect();
    await stopRedisStack();
  });

  async function open(def = definition()): Promise<Sink> {
    const sink = createRedisSink(def, { url });
    sinks.push(sink);
    await sink.prepare();
    return sink;
  }

  test('keys carry the partition hash tag; values are compact JSON with the position', async () => {
    const def = definition();
    const sink = await open(def);
    await sink.commit(3, [{ key: 'a', doc: { x: 1 }, position: 4 }], 5);
    const found = await redis.keys(`tm:{${def.context}:${def.name}:v1:*`);
    assert.deepEqual(found.sort(), [
      `tm:{${def.context}:${def.name}:v1:p3}:cp`,
      `tm:{${def.context}:${def.name}:v1:p3}:d:a`,
    ]);
    for (const key of found) assert.match(key, new RegExp(`^tm:\\{${def.context}:${def.name}:v1:p3\\}:`));
    const keys = redisKeyspace(def);
    assert.equal(await redis.get(keys.documentKey(3, 'a')), '{"p":4,"d":{"x":1}}');
    assert.equal(await redis.get(keys.checkpointKey(3)), '5');
    assert.deepEqual(await redis.smembers(keys.registryKey), ['3']);
  });

  test('a batch that fails inside the script leaves no partial writes', async () => {
    const def = definition();
    const keys = redisKeyspace(def);
    const sink = await open(def);
    await sink.commit(0, [{ key: 'first', doc: { v: 1 }, position: 1 }], 2);
    // A key of another type in the middle of the batch: its GET fails inside the script, after the GETs of
    // the writes before it; because the script writes nothing before it has read everything, none lands.
    await redis.hset(keys.documentKey(0, 'w2'), 'field', 'x');
    const batch: DocumentWrite[] = [
      { key: 'first', doc: { v: 2 }, position: 10 },
      { key: 'w1', doc: { v: 1 }, position: 11 },
      { key: 'w2', doc: { v: 1 }, position: 12 },
      { key: 'w3', doc: { v: 1 }, position: 13 },
    ];
    await assert.rejects(sink.commit(0, batch, 14), /WRONGTYPE/);
    assert.deepEqual(await sink.read(0, 'first'), { key: 'first', partition: 0, doc: { v: 1 }, position: 1 });
    assert.equal(await sink.read(0, 'w1'), 'absent');
    assert.equal(await sink.read(0, 'w3'), 'absent');
    assert.deepEqual(await sink.checkpoints(), new Map([[0, 2]]));
  });

  test('the script refuses bad arguments before writing anything', async () => {
    const def = definition();
    const keys = redisKeyspace(def);
    const cp = keys.checkpointKey(1);
    const a = keys.documentKey(1, 'a');
    const b = keys.documentKey(1, 'b');
    await assert.rejects(
      redis.eval(COMMIT_SCRIPT, 3, cp, a, b, '9', '1', '{"p":1,"d":{}}', 'not-a-number', '{"p":2,"d":{}}'),
      /bad position/,
    );
    await assert.rejects(redis.eval(COMMIT_SCRIPT, 2, cp, a, '9', '1'), /bad arguments/);
    assert.equal(await redis.exists(cp, a, b), 0);
    // An unreadable stored value is refused too, with nothing written.
    await redis.set(b, 'garbage');
    await assert.rejects(
      redis.eval(COMMIT_SCRIPT, 3, cp, a, b, '9', '1', '{"p":1,"d":{}}', '2', '{"p":2,"d":{}}'),
      /unreadable stored value/,
    );
    assert.equal(await redis.exists(cp, a), 0);
  });

  test('a sink refuses bad positions and unencodable documents before sending anything', async () => {
    const def = definition();
    const sink = await open(def);
    await assert.rejects(sink.commit(0, [{ key: 'a', doc: {}, position: -1 }], 1), /non-negative/);
    await assert.rejects(sink.commit(0, [{ key: 'a', doc: { n: 1n } }] as unknown as DocumentWrite[], 1));
    await assert.rejects(sink.commit(0, [], 1.5), /checkpoint/);
    assert.deepEqual(await sink.checkpoints(), new Map());
  });

  test('duplicates inside one batch: the highest position wins whatever the order', async () => {
    const sink = await open();
    await sink.commit(
      2,
      [
        { key: 'x', doc: { v: 'five' }, position: 5 },
        { key: 'x', doc: { v: 'seven' }, position: 7 },
        { key: 'x', doc: { v: 'six' }, position: 6 },
        { key: 'y', doc: { v: 1 }, position: 3 },
        { key: 'y', doc: null, position: 4 },
      ],
      8,
    );
    const loaded = await sink.load(2, ['x', 'y', 'z']);
    assert.deepEqual(loaded.get('x'), { key: 'x', partition: 2, doc: { v: 'seven' }, position: 7 });
    assert.deepEqual(loaded.get('y'), { key: 'y', partition: 2, doc: null, position: 4 });
    assert.equal(loaded.get('z'), 'absent');
  });

  test('works after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const sink = await open();
    await redis.script('FLUSH');
    await sink.commit(0, [{ key: 'a', doc: { v: 1 }, position: 1 }], 2);
    assert.deepEqual(await sink.checkpoints(), new Map([[0, 2]]));
  });

  test('drop removes this version only', async () => {
    const v1 = definition(1);
    const v2 = { ...v1, version: 2 };
    const one = await open(v1);
    const two = await open(v2);
    await one.commit(0, writes(50, 1), 60);
    await one.commit(7, writes(50, 1), 60);
    await two.commit(0, writes(5, 1), 6);
    await one.drop();
    assert.deepEqual(await one.checkpoints(), new Map());
    assert.deepEqual(await redis.keys(`tm:{${v1.context}:${v1.name}:v1*`), []);
    assert.deepEqual(await two.checkpoints(), new Map([[0, 6]]));
    assert.equal((await two.load(0, ['k0'])).get('k0') !== 'absent', true);
    // A dropped version can be written again from scratch.
    await one.commit(7, writes(1, 1), 2);
    assert.deepEqual(await one.checkpoints(), new Map([[7, 2]]));
  });

  test('a commit after another instance dropped the version is listed by checkpoints()', async () => {
    const def = definition();
    const writer = await open(def);
    const dropper = await open(def);
    await writer.commit(4, writes(3, 1), 4);
    await dropper.drop();
    assert.deepEqual(await writer.checkpoints(), new Map());
    await writer.commit(4, writes(3, 1), 4);
    assert.deepEqual(await dropper.checkpoints(), new Map([[4, 4]]));
  });

  test('5,000-write batches: one script each, and throughput', async () => {
    const sink = await open();
    const batches = 10;
    const size = 5_000;
    const started = process.hrtime.bigint();
    for (let b = 0; b < batches; b++) {
      // Half the keys repeat across batches (updates), half are new.
      const batch = writes(size, b * size + 1, `b${b % 2}-`);
      await sink.commit(1, batch, (b + 1) * size + 1);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = Math.round((batches * size) / seconds);
    console.log(
      `redis sink: ${batches} commits of ${size} writes in ${seconds.toFixed(2)} s = ${rate} writes/s`,
    );
    assert.deepEqual(await sink.checkpoints(), new Map([[1, batches * size + 1]]));
    const loaded = await sink.load(
      1,
      Array.from({ length: size }, (_, i) => `b1-${i}`),
    );
    assert.equal(loaded.size, size);
    const last = loaded.get(`b1-${size - 1}`);
    assert.ok(last !== undefined && last !== 'absent' && last !== 'unknown');
    assert.equal(last.position, (batches - 1) * size + size);

    // Re-applying the whole last batch is a no-op.
    const again = writes(size, 1, 'b1-');
    await sink.commit(1, again, 1);
    const reloaded = await sink.load(1, [`b1-${size - 1}`]);
    assert.deepEqual(reloaded.get(`b1-${size - 1}`), last);
    assert.deepEqual(await sink.checkpoints(), new Map([[1, batches * size + 1]]));
  });

  test('a given client stays open after close()', async () => {
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      const sink = createRedisSink(definition(), { client });
      await sink.prepare();
      await sink.commit(0, [], 3);
      await sink.close();
      assert.equal(await client.ping(), 'PONG');
    } finally {
      client.disconnect();
    }
  });
});
