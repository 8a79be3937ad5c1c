import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sink } from '@tidemark/projection-runtime';
import { projectionGroupId } from '@tidemark/projection-runtime';
import { referenceFold } from '@tidemark/sdk/testing';
import {
  counterProjection,
  createMemorySink,
  describeSinkContract,
  generateLog,
  groupTotalsProjection,
  MemoryStore,
} from '../src/index';

// The suite checks itself against the in-memory sink: a failure here is a bug in the suite, not in a store.
let memory = new MemoryStore();
describeSinkContract('memory', {
  store: 'postgres',
  async before() {
    memory = new MemoryStore();
  },
  async after() {},
  createSink: (definition) => createMemorySink(definition, memory),
});

// The same suite with the cache capabilities, so its non-atomic and may-forget branches run too.
let cache = new MemoryStore();
const forgotten = new Set<string>();
const forgetKey = (sink: Sink, partition: number, key: string) =>
  `${sinkIds.get(sink)}\u0000${partition}\u0000${key}`;
const sinkIds = new WeakMap<Sink, string>();
describeSinkContract('memory-cache', {
  store: 'memcached',
  capabilities: { atomicCommit: false, mayForget: true },
  async before() {
    cache = new MemoryStore();
  },
  async after() {},
  createSink(definition) {
    const inner = createMemorySink(definition, cache);
    const sink: Sink = {
      ...inner,
      async load(partition, keys) {
        const loaded = await inner.load(partition, keys);
        for (const key of keys) {
          if (loaded.get(key) === 'absent' && forgotten.has(forgetKey(sink, partition, key)))
            loaded.set(key, 'unknown');
        }
        return loaded;
      },
      async read(partition, key) {
        return (await sink.load(partition, [key])).get(key) ?? 'absent';
      },
    };
    sinkIds.set(sink, projectionGroupId(definition));
    return sink;
  },
  async forget(sink, partition, key) {
    forgotten.add(forgetKey(sink, partition, key));
    cache.targets.get(sinkIds.get(sink) ?? '')?.docs.delete(`${partition}\u0000${key}`);
  },
});

describe('fixtures and fold', () => {
  it('generateLog is reproducible, with gapless offsets per partition', () => {
    const a = generateLog({ partitions: 3, events: 300, seed: 5 });
    const b = generateLog({ partitions: 3, events: 300, seed: 5 });
    assert.deepEqual(
      a.map((e) => [e.partition, e.offset, e.event.type, e.event.aggregate.id, e.event.payload]),
      b.map((e) => [e.partition, e.offset, e.event.type, e.event.aggregate.id, e.event.payload]),
    );
    for (const p of [0, 1, 2]) {
      const offsets = a.filter((e) => e.partition === p).map((e) => e.offset);
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => i),
      );
    }
    assert.equal(new Set(a.map((e) => e.event.id)).size, a.length);
  });

  it('referenceFold: counter per aggregate with deletes, and group totals that add up', () => {
    const log = generateLog({ partitions: 2, events: 500, aggregates: 10, seed: 3 });
    const counters = referenceFold(counterProjection('c'), log);
    for (const [partition, docs] of counters) {
      for (const [key, folded] of docs) {
        const mine = log.filter((e) => e.partition === partition && e.event.aggregate.id === key);
        const relevant = mine.filter((e) => e.event.type !== 'ItemNoted');
        assert.equal(folded.position, (relevant[relevant.length - 1]?.offset ?? -1) + 1);
        const lastDelete = relevant.findLastIndex((e) => e.event.type === 'ItemDeleted');
        const adds = relevant.slice(lastDelete + 1);
        assert.equal(folded.doc?.count ?? 0, adds.length);
        if (adds.length === 0) assert.equal(folded.doc, null);
      }
    }
    const totals = referenceFold(groupTotalsProjection('g'), log);
    let count = 0;
    for (const docs of totals.values()) for (const f of docs.values()) count += f.doc?.count ?? 0;
    assert.equal(count, log.filter((e) => e.event.type === 'ItemAdded').length);
  });
});
