/**
 * The one contract every projection sink passes (DESIGN.md, Projections and sinks; invariants 2 and 5).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type {
  DocumentWrite,
  Lookup,
  ProjectionDefinition,
  ProjectionDocument,
  Sink,
  StoreKind,
} from '@tidemark/projection-runtime';
import { referenceFold } from '@tidemark/sdk/testing';
import {
  atOffsets,
  type CounterDoc,
  counterProjection,
  generateLog,
  groupTotalsProjection,
  ITEM_ADDED,
  ITEM_DELETED,
  type LogEvent,
  makeEnvelope,
} from './fixtures';
import {
  applyBatch,
  assertSinkMatchesFold,
  byPartition,
  computeBatchWrites,
  endOffsets,
  replay,
} from './fold';
import type { SinkContractHarness } from './harness';

const STORE_KINDS: readonly StoreKind[] = ['postgres', 'redis', 'memcached', 'elasticsearch'];

function isStored<D extends ProjectionDocument>(
  lookup: Lookup<D> | undefined,
): lookup is Exclude<Lookup<D>, 'absent' | 'unknown'> {
  return lookup !== undefined && lookup !== 'absent' && lookup !== 'unknown';
}

function doc(n: number, extra: Record<string, unknown> = {}): ProjectionDocument {
  return { n, label: `doc-${n}`, nested: { list: [n, n + 1], ok: true }, ...extra };
}

/** Registers the contract tests of one store. */
export function describeSinkContract(storeName: string, harness: SinkContractHarness): void {
  const store: StoreKind =
    harness.store ?? (STORE_KINDS.includes(storeName as StoreKind) ? (storeName as StoreKind) : 'postgres');
  const atomic = harness.capabilities?.atomicCommit ?? true;
  const mayForget = harness.capabilities?.mayForget ?? false;
  // Unique per run, so a store that outlives the test process (a shared server) never has leftovers.
  const runId = randomBytes(3).toString('hex');
  let seq = 0;
  const opened: Sink[] = [];

  /** A short projection name unique to this test: sc-<run>-<n> (fits every store's name limits). */
  function uniqueName(): string {
    seq += 1;
    return `sc-${runId}-${seq}`;
  }

  async function open<D extends ProjectionDocument>(definition: ProjectionDefinition<D>): Promise<Sink<D>> {
    const sink = (await harness.createSink(
      definition as unknown as ProjectionDefinition,
    )) as unknown as Sink<D>;
    opened.push(sink as unknown as Sink);
    await sink.prepare();
    return sink;
  }

  function counter(version = 1, name = uniqueName()): ProjectionDefinition<CounterDoc> {
    return counterProjection(name, version, store);
  }

  /** The counter projection typed loosely, for tests that write documents by hand. */
  function raw(version = 1, name = uniqueName()): ProjectionDefinition {
    return counter(version, name) as unknown as ProjectionDefinition;
  }

  async function writeDocumentsOnly<D extends ProjectionDocument>(
    sink: Sink<D>,
    partition: number,
    writes: readonly DocumentWrite<D>[],
  ): Promise<void> {
    if (harness.writeDocumentsOnly) {
      await harness.writeDocumentsOnly(
        sink as unknown as Sink,
        partition,
        writes as unknown as readonly DocumentWrite[],
      );
      return;
    }
    const current = (await sink.checkpoints()).get(partition) ?? 0;
    await sink.commit(partition, writes, current);
  }

  /** 'absent', or also 'unknown' for a store that may forget. */
  function assertAbsent(lookup: Lookup | undefined, what: string): void {
    if (mayForget && lookup === 'unknown') return;
    assert.equal(lookup, 'absent', what);
  }

  async function loadOne<D extends ProjectionDocument>(
    sink: Sink<D>,
    partition: number,
    key: string,
  ): Promise<Lookup<D> | undefined> {
    return (await sink.load(partition, [key])).get(key);
  }

  describe(`${storeName} sink contract`, () => {
    before(async () => {
      await harness.before();
    });

    after(async () => {
      await Promise.allSettled(opened.map((s) => s.close()));
      await harness.after();
    });

    describe('prepare and checkpoints', () => {
      it('prepare is idempotent and checkpoints start empty', async () => {
        const sink = await open(raw());
        await sink.prepare();
        await sink.prepare();
        assert.equal((await sink.checkpoints()).size, 0);
      });

      it('prepare keeps what is already stored', async () => {
        const sink = await open(raw());
        await sink.commit(0, [{ key: 'a', doc: doc(1), position: 1 }], 1);
        await sink.prepare();
        assert.deepEqual(await sink.checkpoints(), new Map([[0, 1]]));
        assert.ok(isStored(await loadOne(sink, 0, 'a')));
      });

      it('commit moves the checkpoint, per partition', async () => {
        const sink = await open(raw());
        await sink.commit(0, [], 5);
        await sink.commit(3, [], 7);
        assert.deepEqual(
          await sink.checkpoints(),
          new Map([
            [0, 5],
            [3, 7],
          ]),
        );
        await sink.commit(0, [], 9);
        assert.deepEqual(
          await sink.checkpoints(),
          new Map([
            [0, 9],
            [3, 7],
          ]),
        );
      });

      it('the checkpoint never moves backwards', async () => {
        const sink = await open(raw());
        await sink.commit(1, [], 100);
        await sink.commit(1, [], 40);
        await sink.commit(1, [], 100);
        assert.equal((await sink.checkpoints()).get(1), 100);
      });

      it('a second sink of the same version sees the same checkpoints', async () => {
        const definition = raw();
        const a = await open(definition);
        await a.commit(2, [], 12);
        const b = await open(definition);
        assert.deepEqual(await b.checkpoints(), new Map([[2, 12]]));
      });
    });

    describe('load and read', () => {
      it("answers 'absent' for keys never written, and for every requested key", async () => {
        const sink = await open(raw());
        await sink.commit(0, [{ key: 'known', doc: doc(1), position: 3 }], 3);
        const loaded = await sink.load(0, ['never', 'known', 'other']);
        assert.equal(loaded.size, 3);
        assertAbsent(loaded.get('never'), 'never written');
        assertAbsent(loaded.get('other'), 'never written');
        assertAbsent(await sink.read(0, 'never'), 'read of a key never written');
        // The same key in another partition was never written either.
        assertAbsent(await loadOne(sink, 1, 'known'), 'other partition');
        assert.equal((await sink.load(0, [])).size, 0);
      });

      it('returns the stored document with key, partition and position', async () => {
        const sink = await open(raw());
        const d = doc(7, { text: 'héllo "world"', nil: null, deep: { a: [{ b: 1.5 }] } });
        await sink.commit(2, [{ key: 'k1', doc: d, position: 42 }], 42);
        const loaded = await loadOne(sink, 2, 'k1');
        assert.deepEqual(loaded, { key: 'k1', partition: 2, doc: d, position: 42 });
        assert.deepEqual(await sink.read(2, 'k1'), { key: 'k1', partition: 2, doc: d, position: 42 });
      });

      it('a tombstone (doc null) is returned as a stored document with doc null', async () => {
        const sink = await open(raw());
        await sink.commit(0, [{ key: 'gone', doc: doc(1), position: 1 }], 1);
        await sink.commit(0, [{ key: 'gone', doc: null, position: 2 }], 2);
        await sink.commit(0, [{ key: 'never-was', doc: null, position: 3 }], 3);
        assert.deepEqual(await loadOne(sink, 0, 'gone'), {
          key: 'gone',
          partition: 0,
          doc: null,
          position: 2,
        });
        assert.deepEqual(await sink.read(0, 'never-was'), {
          key: 'never-was',
          partition: 0,
          doc: null,
          position: 3,
        });
        // A tombstone still orders writes: an older document does not resurrect the key.
        await sink.commit(0, [{ key: 'gone', doc: doc(9), position: 1 }], 3);
        assert.deepEqual(await loadOne(sink, 0, 'gone'), {
          key: 'gone',
          partition: 0,
          doc: null,
          position: 2,
        });
        // A newer write does.
        await sink.commit(0, [{ key: 'gone', doc: doc(4), position: 4 }], 4);
        assert.deepEqual(await loadOne(sink, 0, 'gone'), {
          key: 'gone',
          partition: 0,
          doc: doc(4),
          position: 4,
        });
      });

      it('unicode and odd keys round-trip', async () => {
        const sink = await open(raw());
        const keys = [
          'with space',
          "it's",
          'say "hi"',
          'back\\slash',
          'semi;colon--',
          "'; drop table x; --",
          'x'.repeat(200),
          '🚲 émoji 中文',
          '%_*?[]{}',
          'tab\tnew\nline',
          'colon:and/slash',
          '{hash}tag',
        ];
        const writes = keys.map((key, i) => ({ key, doc: doc(i, { key }), position: i + 1 }));
        await sink.commit(1, writes, keys.length);
        const loaded = await sink.load(1, keys);
        for (const [i, key] of keys.entries()) {
          const found = loaded.get(key);
          assert.ok(isStored(found), `key ${JSON.stringify(key)}`);
          assert.equal(found.key, key);
          assert.deepEqual(found.doc, doc(i, { key }));
          assert.deepEqual(await sink.read(1, key), found);
        }
        // A prefix of a stored key is a different key.
        assertAbsent(await loadOne(sink, 1, 'x'.repeat(199)), 'prefix of a key');
      });
    });

    describe('idempotence and ordering', () => {
      it('re-applying a batch changes nothing', async () => {
        const sink = await open(raw());
        const writes = [
          { key: 'a', doc: doc(1), position: 3 },
          { key: 'b', doc: null, position: 5 },
          { key: 'c', doc: doc(3), position: 6 },
        ];
        await sink.commit(0, writes, 6);
        const first = await sink.load(0, ['a', 'b', 'c']);
        await sink.commit(0, writes, 6);
        await sink.commit(0, writes, 6);
        assert.deepEqual(await sink.load(0, ['a', 'b', 'c']), first);
        assert.deepEqual(await sink.checkpoints(), new Map([[0, 6]]));
      });

      it('a write not newer than the stored one is ignored, per key, mixed with newer writes', async () => {
        const sink = await open(raw());
        await sink.commit(
          0,
          [
            { key: 'a', doc: doc(10), position: 10 },
            { key: 'b', doc: doc(20), position: 20 },
          ],
          20,
        );
        await sink.commit(
          0,
          [
            { key: 'a', doc: doc(5), position: 5 }, // older: ignored
            { key: 'b', doc: doc(99), position: 20 }, // same position: ignored
            { key: 'c', doc: doc(7), position: 7 }, // new key: written
            { key: 'd', doc: null, position: 8 }, // new tombstone: written
          ],
          8, // an older batch: the checkpoint stays
        );
        await sink.commit(0, [{ key: 'a', doc: doc(11), position: 11 }], 21);
        const loaded = await sink.load(0, ['a', 'b', 'c', 'd']);
        assert.deepEqual(loaded.get('a'), { key: 'a', partition: 0, doc: doc(11), position: 11 });
        assert.deepEqual(loaded.get('b'), { key: 'b', partition: 0, doc: doc(20), position: 20 });
        assert.deepEqual(loaded.get('c'), { key: 'c', partition: 0, doc: doc(7), position: 7 });
        assert.deepEqual(loaded.get('d'), { key: 'd', partition: 0, doc: null, position: 8 });
        assert.equal((await sink.checkpoints()).get(0), 21);
      });

      it('a key twice in one commit: the higher position wins, in either order', async () => {
        const sink = await open(raw());
        await sink.commit(
          0,
          [
            { key: 'up', doc: doc(1), position: 1 },
            { key: 'up', doc: doc(2), position: 2 },
            { key: 'down', doc: doc(4), position: 4 },
            { key: 'down', doc: doc(3), position: 3 },
          ],
          4,
        );
        const loaded = await sink.load(0, ['up', 'down']);
        assert.deepEqual(loaded.get('up'), { key: 'up', partition: 0, doc: doc(2), position: 2 });
        assert.deepEqual(loaded.get('down'), { key: 'down', partition: 0, doc: doc(4), position: 4 });
      });
    });

    describe('convergence to the fold', () => {
      const PARTITIONS = 3;

      it('batches through the reference projector equal the fold of the log', async () => {
        const definition = counter();
        const sink = await open(definition);
        const log = generateLog({ partitions: PARTITIONS, events: 1500, aggregates: 60, seed: 7 });
        await replay(sink, definition, log, { batchSize: 37 });
        await assertSinkMatchesFold(sink, referenceFold(definition, log), { allowUnknown: mayForget });
        assert.deepEqual(await sink.checkpoints(), endOffsets(log));
      });

      it('a projector killed between the store write and the checkpoint converges to the fold', async () => {
        const definition = counter();
        const sink = await open(definition);
        const log = generateLog({ partitions: PARTITIONS, events: 1200, aggregates: 40, seed: 11 });
        const batchSize = 50;
        // Run about half of every partition.
        const half = new Map([...endOffsets(log)].map(([p, end]) => [p, Math.floor(end / 2)]));
        await replay(sink, definition, log, { batchSize, until: half });
        const before = await sink.checkpoints();
        // Crash: the next batch's documents reach the store, the checkpoint does not move.
        for (const [partition, events] of byPartition(log)) {
          const start = before.get(partition) ?? 0;
          const batch = events.filter((e) => e.offset >= start).slice(0, batchSize);
          const writes = await computeBatchWrites(sink, definition, partition, batch, log);
          await writeDocumentsOnly(sink, partition, writes);
        }
        assert.deepEqual(await sink.checkpoints(), before, 'documents-only writes do not move checkpoints');
        // Restart from the checkpoints: the re-applied events are skipped per document.
        await replay(sink, definition, log, { batchSize: 73 });
        await assertSinkMatchesFold(sink, referenceFold(definition, log), { allowUnknown: mayForget });
        assert.deepEqual(await sink.checkpoints(), endOffsets(log));
      });

      it('a rerun from an older checkpoint (offsets lost, whole batches again) converges to the fold', async () => {
        const definition = counter();
        const sink = await open(definition);
        const log = generateLog({ partitions: PARTITIONS, events: 900, aggregates: 30, seed: 13 });
        await replay(sink, definition, log, { batchSize: 40 });
        const fold = referenceFold(definition, log);
        // A restarted projector that resumes from 0, or from the middle, must not change the view.
        await replay(sink, definition, log, { batchSize: 55, from: new Map() });
        const middle = new Map([...endOffsets(log)].map(([p, end]) => [p, Math.floor(end / 3)]));
        await replay(sink, definition, log, { batchSize: 29, from: middle });
        await assertSinkMatchesFold(sink, fold, { allowUnknown: mayForget });
        assert.deepEqual(await sink.checkpoints(), endOffsets(log));
      });

      it('batch k+1 committed, then batch k again (a lagging duplicate writer), keeps batch k+1', async () => {
        const definition = counter();
        const sink = await open(definition);
        const log = generateLog({ partitions: 1, events: 400, aggregates: 10, seed: 17 });
        const events = byPartition(log).get(0) ?? [];
        const batches = [events.slice(0, 100), events.slice(100, 200), events.slice(200, 300)];
        const [b0, b1, b2] = batches as [LogEvent[], LogEvent[], LogEvent[]];
        await applyBatch(sink, definition, 0, b0, log);
        // Compute batch 1's writes on the state after batch 0, apply batch 1 and 2, then commit the stale copy.
        const stale = await computeBatchWrites(sink, definition, 0, b1, log);
        await applyBatch(sink, definition, 0, b1, log);
        await applyBatch(sink, definition, 0, b2, log);
        await sink.commit(0, stale, 200);
        await assertSinkMatchesFold(sink, referenceFold(definition, events.slice(0, 300)), {
          allowUnknown: mayForget,
        });
        assert.equal((await sink.checkpoints()).get(0), 300);
        await replay(sink, definition, log);
        await assertSinkMatchesFold(sink, referenceFold(definition, log), { allowUnknown: mayForget });
      });

      it("keyScope 'all': the same key in different partitions is separate documents", async () => {
        const definition = groupTotalsProjection(uniqueName(), 1, store);
        const sink = await open(definition);
        const log = generateLog({ partitions: 4, events: 800, aggregates: 50, groups: 4, seed: 19 });
        await replay(sink, definition, log, { batchSize: 64 });
        const fold = referenceFold(definition, log);
        await assertSinkMatchesFold(sink, fold, { allowUnknown: mayForget });
        // Every group has a sub-document in several partitions; each read answers its own partition's one.
        const merged = new Map<string, { count: number; sum: number }>();
        for (const [partition, docs] of fold) {
          for (const [key, folded] of docs) {
            const read = await sink.read(partition, key);
            if (mayForget && read === 'unknown') continue;
            assert.ok(isStored(read), `read(${partition}, ${key})`);
            assert.deepEqual(read.doc, folded.doc);
            const m = merged.get(key) ?? { count: 0, sum: 0 };
            merged.set(key, { count: m.count + (read.doc?.count ?? 0), sum: m.sum + (read.doc?.sum ?? 0) });
          }
        }
        if (!mayForget) {
          const added = log.filter((e) => e.event.type === ITEM_ADDED).length;
          assert.equal(
            [...merged.values()].reduce((n, m) => n + m.count, 0),
            added,
          );
        }
        assert.ok([...fold.values()].filter((docs) => docs.has('group-0')).length > 1);
      });

      it('explicit envelopes: delete then re-create, skipped types still advance the checkpoint', async () => {
        const definition = counter();
        const sink = await open(definition);
        const events = atOffsets(0, [
          makeEnvelope({
            type: ITEM_ADDED,
            aggregateId: 'x',
            version: 1,
            payload: { amount: 5, group: 'g', category: 'bikes' },
          }),
          makeEnvelope({ type: ITEM_DELETED, aggregateId: 'x', version: 2 }),
          makeEnvelope({ type: 'SomethingElse', aggregateId: 'x', version: 3 }),
          makeEnvelope({
            type: ITEM_ADDED,
            aggregateId: 'x',
            version: 4,
            payload: { amount: 7, group: 'g', category: 'boats' },
          }),
          makeEnvelope({ type: 'SomethingElse', aggregateId: 'y', version: 1 }),
        ]);
        await applyBatch(sink, definition, 0, events.slice(0, 2));
        assert.deepEqual(await loadOne(sink, 0, 'x'), { key: 'x', partition: 0, doc: null, position: 2 });
        await applyBatch(sink, definition, 0, events.slice(2));
        const x = await loadOne(sink, 0, 'x');
        assert.ok(isStored(x));
        assert.equal(x.position, 4);
        assert.equal(x.doc?.count, 1);
        assert.equal(x.doc?.category, 'boats');
        assert.equal((await sink.checkpoints()).get(0), 5);
        assertAbsent(await loadOne(sink, 0, 'y'), 'a key only skipped events mention');
      });
    });

    describe('versions', () => {
      it('v1 and v2 of a projection do not see each other', async () => {
        const name = uniqueName();
        const v1 = await open(raw(1, name));
        const v2 = await open(raw(2, name));
        await v1.commit(0, [{ key: 'k', doc: doc(1), position: 1 }], 10);
        await v2.commit(1, [{ key: 'k', doc: doc(2), position: 2 }], 20);
        assert.deepEqual(await v1.checkpoints(), new Map([[0, 10]]));
        assert.deepEqual(await v2.checkpoints(), new Map([[1, 20]]));
        assertAbsent(await loadOne(v2, 0, 'k'), 'v2 does not see v1');
        assertAbsent(await loadOne(v1, 1, 'k'), 'v1 does not see v2');
        assert.deepEqual(await v1.read(0, 'k'), { key: 'k', partition: 0, doc: doc(1), position: 1 });
        assert.deepEqual(await v2.read(1, 'k'), { key: 'k', partition: 1, doc: doc(2), position: 2 });
      });

      it("drop removes the version's documents and checkpoints, not the other version's", async () => {
        const name = uniqueName();
        const v1 = await open(raw(1, name));
        const v2 = await open(raw(2, name));
        const writes = Array.from({ length: 50 }, (_, i) => ({
          key: `k${i}`,
          doc: doc(i),
          position: i + 1,
        }));
        for (const p of [0, 1]) {
          await v1.commit(p, writes, 50);
          await v2.commit(p, writes, 60);
        }
        await v1.drop();
        assert.equal((await v1.checkpoints()).size, 0, 'checkpoints of a dropped version');
        assertAbsent(await loadOne(v1, 0, 'k1'), 'load after drop');
        assertAbsent(await v1.read(1, 'k2'), 'read after drop');
        assert.deepEqual(
          await v2.checkpoints(),
          new Map([
            [0, 60],
            [1, 60],
          ]),
        );
        const kept = await v2.load(
          1,
          writes.map((w) => w.key),
        );
        for (const w of writes) {
          const found = kept.get(w.key);
          if (mayForget && found === 'unknown') continue;
          assert.deepEqual(found, { key: w.key, partition: 1, doc: w.doc, position: w.position });
        }
        // A dropped version can be prepared again and starts empty (a rebuild).
        await v1.prepare();
        assert.equal((await v1.checkpoints()).size, 0);
        assertAbsent(await loadOne(v1, 0, 'k1'), 'load after drop and prepare');
        await v1.commit(0, [{ key: 'k1', doc: doc(100), position: 1 }], 1);
        assert.deepEqual(await v1.read(0, 'k1'), { key: 'k1', partition: 0, doc: doc(100), position: 1 });
      });
    });

    describe('volume and concurrency', () => {
      it('commits 5,000 writes at once (with duplicated keys: the higher position wins)', async () => {
        const sink = await open(raw());
        const writes: DocumentWrite[] = Array.from({ length: 5000 }, (_, i) => ({
          key: `key-${i}`,
          doc: doc(i),
          position: i + 1,
        }));
        // key-0 again, newer, and key-1 again, older: 5,002 entries.
        writes.push({ key: 'key-0', doc: doc(-1), position: 6000 });
        writes.push({ key: 'key-1', doc: doc(-2), position: 1 });
        await sink.commit(3, writes, 6001);
        assert.equal((await sink.checkpoints()).get(3), 6001);
        const keys = Array.from({ length: 5000 }, (_, i) => `key-${i}`);
        const loaded = await sink.load(3, keys);
        assert.equal(loaded.size, 5000);
        assert.deepEqual(loaded.get('key-0'), { key: 'key-0', partition: 3, doc: doc(-1), position: 6000 });
        assert.deepEqual(loaded.get('key-1'), { key: 'key-1', partition: 3, doc: doc(1), position: 2 });
        let stored = 0;
        for (let i = 2; i < 5000; i++) {
          const found = loaded.get(`key-${i}`);
          if (mayForget && found === 'unknown') continue;
          assert.ok(isStored(found));
          assert.equal(found.position, i + 1);
          stored += 1;
        }
        if (!mayForget) assert.equal(stored, 4998);
      });

      it('parallel commits of different partitions do not interfere', async () => {
        const definition = raw();
        const sinks = [await open(definition), await open(definition)];
        const partitions = [0, 1, 2, 3, 4, 5, 6, 7];
        const rounds = 10;
        await Promise.all(
          partitions.map(async (p) => {
            // Two projector instances (sinks), each writing only the partitions it owns.
            const sink = sinks[p % 2] as Sink;
            for (let r = 1; r <= rounds; r++) {
              const writes = Array.from({ length: 20 }, (_, i) => ({
                key: `shared-${i}`, // the same keys in every partition: still separate documents
                doc: { ...doc(r), partition: p },
                position: r * 100 + i,
              }));
              await sink.commit(p, writes, r * 100 + 20);
            }
          }),
        );
        const checkpoints = await (sinks[0] as Sink).checkpoints();
        assert.deepEqual(checkpoints, new Map(partitions.map((p) => [p, rounds * 100 + 20])));
        for (const p of partitions) {
          const loaded = await (sinks[1] as Sink).load(
            p,
            Array.from({ length: 20 }, (_, i) => `shared-${i}`),
          );
          for (const [key, found] of loaded) {
            if (mayForget && found === 'unknown') continue;
            assert.ok(isStored(found), key);
            assert.equal(found.partition, p);
            assert.equal(found.doc?.partition, p);
            assert.equal(found.doc?.n, rounds);
          }
        }
      });

      it('parallel commits of the same partition (a zombie and its successor) never go backwards', async () => {
        const definition = raw();
        const a = await open(definition);
        const b = await open(definition);
        await Promise.all([
          (async () => {
            for (let r = 1; r <= 20; r++)
              await a.commit(0, [{ key: 'z', doc: doc(r), position: r * 2 }], r * 2);
          })(),
          (async () => {
            for (let r = 20; r >= 1; r--)
              await b.commit(0, [{ key: 'z', doc: doc(r), position: r * 2 }], r * 2);
          })(),
        ]);
        assert.equal((await a.checkpoints()).get(0), 40);
        const z = await loadOne(b, 0, 'z');
        if (!(mayForget && z === 'unknown'))
          assert.deepEqual(z, { key: 'z', partition: 0, doc: doc(20), position: 40 });
      });
    });

    describe('non-atomic commit', { skip: atomic ? 'the store commits atomically' : false }, () => {
      it('documents written without a checkpoint are harmless: the rerun skips them per document', async () => {
        const sink = await open(raw());
        await writeDocumentsOnly(sink, 0, [{ key: 'a', doc: doc(2), position: 2 }]);
        // No checkpoint, or 0 (the default hook commits with the current checkpoint, none yet).
        assert.equal((await sink.checkpoints()).get(0) ?? 0, 0);
        await sink.commit(
          0,
          [
            { key: 'a', doc: doc(1), position: 1 },
            { key: 'b', doc: doc(1), position: 1 },
          ],
          2,
        );
        assert.deepEqual(await sink.read(0, 'a'), { key: 'a', partition: 0, doc: doc(2), position: 2 });
        assert.equal((await sink.checkpoints()).get(0), 2);
      });
    });

    describe('a store that may forget', { skip: mayForget ? false : 'the store never forgets' }, () => {
      it("a forgotten key is 'unknown', never 'absent', until written again", async () => {
        const forget = harness.forget;
        assert.ok(forget, 'capabilities.mayForget needs harness.forget');
        const sink = await open(raw());
        await sink.commit(
          0,
          [
            { key: 'f', doc: doc(1), position: 5 },
            { key: 't', doc: null, position: 6 },
          ],
          6,
        );
        await forget(sink as unknown as Sink, 0, 'f');
        await forget(sink as unknown as Sink, 0, 't');
        assert.equal(await loadOne(sink, 0, 'f'), 'unknown');
        assert.equal(await sink.read(0, 'f'), 'unknown');
        assert.equal(await loadOne(sink, 0, 't'), 'unknown', 'a forgotten tombstone is unknown too');
        // The projector rebuilds it from a view that knows, then writes it again.
        await sink.commit(0, [{ key: 'f', doc: doc(2), position: 7 }], 7);
        assert.deepEqual(await sink.read(0, 'f'), { key: 'f', partition: 0, doc: doc(2), position: 7 });
      });

      it('the reference projector converges after evictions (unknown keys are rebuilt from the log)', async () => {
        const forget = harness.forget;
        assert.ok(forget);
        const definition = counter();
        const sink = await open(definition);
        const log = generateLog({ partitions: 2, events: 600, aggregates: 20, seed: 23 });
        const half = new Map([...endOffsets(log)].map(([p, end]) => [p, Math.floor(end / 2)]));
        await replay(sink, definition, log, { batchSize: 30, until: half });
        for (let i = 0; i < 20; i += 3) {
          for (const p of [0, 1]) await forget(sink as unknown as Sink, p, `item-${i}`);
        }
        await replay(sink, definition, log, { batchSize: 30 });
        await assertSinkMatchesFold(sink, referenceFold(definition, log), { allowUnknown: true });
      });
    });
  });
}
