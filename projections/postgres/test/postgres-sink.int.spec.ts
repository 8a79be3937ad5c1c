import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DocumentWrite, ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import { referenceFold } from '@tidemark/sdk/testing';
import {
  assertSinkMatchesFold,
  type CounterDoc,
  counterProjection,
  describeSinkContract,
  endOffsets,
  generateLog,
  replay,
} from '@tidemark/sink-contract';
import { type Stack, startStack } from '@tidemark/stack';
import { Pool } from 'pg';
import { createPostgresSink, type PostgresSinkOptions } from '../src/index';

// One embedded Postgres for the whole file (initdb takes seconds); stopped by the file-level `after`.
let stackPromise: Promise<{ stack: Stack; dataDir: string }> | undefined;

function database(): Promise<{ stack: Stack; dataDir: string }> {
  stackPromise ??= (async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-pg-sink-'));
    // Postgres runs as another user when the tests run as root: it must be able to enter the directory.
    await chmod(dataDir, 0o755);
    const stack = await startStack({
      dataDir,
      components: ['postgres'],
      ports: { postgres: 0 },
      metricsPort: null,
      handleSignals: false,
    });
    return { stack, dataDir };
  })();
  return stackPromise;
}

async function connectionString(): Promise<string> {
  const url = (await database()).stack.endpoints.postgres;
  assert.ok(url, 'the stack has a postgres endpoint');
  return url;
}

after(async () => {
  if (!stackPromise) return;
  const { stack, dataDir } = await stackPromise;
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
});

// The suite opens dozens of sinks: they share one pool rather than own one each (connections add up).
let contractPool: Pool | undefined;
describeSinkContract('postgres', {
  store: 'postgres',
  capabilities: { atomicCommit: true, mayForget: false },
  async before() {
    contractPool = new Pool({ connectionString: await connectionString(), max: 8 });
    contractPool.on('error', () => undefined);
  },
  async after() {
    await contractPool?.end();
  },
  createSink(definition) {
    assert.ok(contractPool);
    return createPostgresSink(definition, { pool: contractPool });
  },
});

describe('postgres sink', () => {
  let pool: Pool;
  const runId = randomBytes(3).toString('hex');
  let seq = 0;
  const sinks: Sink[] = [];

  before(async () => {
    pool = new Pool({ connectionString: await connectionString(), max: 4 });
    pool.on('error', () => undefined);
  });

  after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await pool.end();
  });

  function name(): string {
    seq += 1;
    return `pg-${runId}-${seq}`;
  }

  async function open<D extends CounterDoc>(
    definition: ProjectionDefinition<D>,
    options: Partial<PostgresSinkOptions> = {},
  ): Promise<Sink<D>> {
    const sink = createPostgresSink(definition, { pool, ...options });
    sinks.push(sink as unknown as Sink);
    await sink.prepare();
    return sink;
  }

  async function tables(schema = 'public'): Promise<string[]> {
    const result = await pool.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1 order by table_name',
      [schema],
    );
    return result.rows.map((r) => r.table_name);
  }

  function doc(n: number): CounterDoc {
    return {
      id: `id-${n}`,
      count: n,
      total: n * 10,
      category: `cat-${n % 3}`,
      lastVersion: n,
      meta: { history: [n], note: 'x' },
    };
  }

  it('one table and one checkpoints table per version, with the documented columns', async () => {
    const n = name();
    const table = n.replaceAll('-', '_');
    const v1 = await open(counterProjection(n, 1));
    await open(counterProjection(n, 2));
    const all = await tables();
    for (const t of [`proj_${table}_v1`, `proj_${table}_v1_checkpoints`, `proj_${table}_v2`]) {
      assert.ok(all.includes(t), t);
    }
    const columns = await pool.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `select column_name, data_type, is_nullable from information_schema.columns
        where table_name = $1 order by ordinal_position`,
      [`proj_${table}_v1`],
    );
    assert.deepEqual(
      columns.rows.map((c) => [c.column_name, c.data_type, c.is_nullable]),
      [
        ['key', 'text', 'NO'],
        ['partition', 'integer', 'NO'],
        ['doc', 'jsonb', 'YES'],
        ['position', 'bigint', 'NO'],
      ],
    );
    const pk = await pool.query<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = $1::regclass and contype = 'p'`,
      [`proj_${table}_v1`],
    );
    assert.equal(pk.rows[0]?.def, 'PRIMARY KEY (key, partition)');
    await v1.drop();
    const left = await tables();
    assert.ok(!left.includes(`proj_${table}_v1`));
    assert.ok(!left.includes(`proj_${table}_v1_checkpoints`));
    assert.ok(left.includes(`proj_${table}_v2`));
  });

  it('an expression index per indexed field, used by a filter on it', async () => {
    const n = name();
    const definition = { ...counterProjection(n, 1), indexes: ['category', "it's odd"] };
    const sink = await open(definition);
    await sink.prepare();
    const indexes = await pool.query<{ indexdef: string }>(
      'select indexdef from pg_indexes where tablename = $1 order by indexname',
      [`proj_${n.replaceAll('-', '_')}_v1`],
    );
    const defs = indexes.rows.map((r) => r.indexdef);
    assert.equal(defs.length, 3, defs.join('\n')); // the primary key and two expression indexes
    assert.ok(defs.some((d) => d.includes("(doc ->> 'category'::text)")));
    assert.ok(defs.some((d) => d.includes("(doc ->> 'it''s odd'::text)")));
    await sink.commit(
      0,
      Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, doc: doc(i), position: i + 1 })),
      2000,
    );
    await pool.query(`analyze "proj_${n.replaceAll('-', '_')}_v1"`);
    const plan = await pool.query<{ 'QUERY PLAN': string }>(
      `explain select * from "proj_${n.replaceAll('-', '_')}_v1" where doc ->> 'category' = 'none-such'`,
    );
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(text, /_category_[0-9a-f]{8}/, text);
  });

  it('a schema option puts the tables there', async () => {
    const schema = `s_${runId}`;
    await pool.query(`create schema if not exists "${schema}"`);
    const n = name();
    const sink = await open(counterProjection(n, 1), { schema });
    await sink.commit(1, [{ key: 'a', doc: doc(1), position: 1 }], 1);
    assert.ok((await tables(schema)).includes(`proj_${n.replaceAll('-', '_')}_v1`));
    assert.ok(!(await tables()).includes(`proj_${n.replaceAll('-', '_')}_v1`));
    assert.deepEqual(await sink.checkpoints(), new Map([[1, 1]]));
  });

  it('a chunked commit is one transaction: a failing chunk leaves no row and no checkpoint', async () => {
    const sink = await open(counterProjection(name(), 1), { chunkSize: 500 });
    const writes: DocumentWrite<CounterDoc>[] = Array.from({ length: 2000 }, (_, i) => ({
      key: `k${i}`,
      doc: doc(i),
      position: i + 1,
    }));
    // jsonb refuses \u0000 in a string, so the last chunk fails.
    writes.push({ key: 'zzz', doc: { ...doc(0), category: 'nul\u0000' }, position: 5000 });
    await assert.rejects(sink.commit(0, writes, 5001));
    assert.equal((await sink.checkpoints()).size, 0);
    assert.equal((await sink.load(0, ['k0', 'k1999'])).get('k0'), 'absent');
    // Without the bad row, the chunks all land.
    await sink.commit(0, writes.slice(0, 2000), 2000);
    const loaded = await sink.load(0, ['k0', 'k1999']);
    assert.equal((loaded.get('k1999') as { position: number }).position, 2000);
  });

  it('concurrent commits of one partition from two sinks never go backwards (chunked and single)', async () => {
    const definition = counterProjection(name(), 1);
    const a = await open(definition, { chunkSize: 300 });
    const b = await open(definition);
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    const commitRound = (sink: Sink<CounterDoc>, r: number) =>
      sink.commit(
        0,
        keys.map((key, i) => ({ key, doc: doc(r), position: r * 10_000 + i })),
        r * 10_000 + keys.length,
      );
    await Promise.all([
      (async () => {
        for (let r = 1; r <= 8; r++) await commitRound(a, r);
      })(),
      (async () => {
        for (let r = 8; r >= 1; r--) await commitRound(b, r);
      })(),
    ]);
    assert.equal((await a.checkpoints()).get(0), 8 * 10_000 + keys.length);
    const loaded = await b.load(0, keys);
    for (const [i, key] of keys.entries()) {
      assert.deepEqual(loaded.get(key), { key, partition: 0, doc: doc(8), position: 80_000 + i });
    }
  });

  it('a shared pool is not ended by close, an owned one is', async () => {
    const shared = createPostgresSink(counterProjection(name(), 1), { pool });
    await shared.prepare();
    await shared.close();
    await pool.query('select 1');
    const owned = createPostgresSink(counterProjection(name(), 1), {
      connectionString: await connectionString(),
    });
    await owned.prepare();
    await owned.close();
    await assert.rejects(owned.checkpoints());
  });

  it('throughput: 5,000-row commits, and a projector catching up', async (t) => {
    const definition = counterProjection(name(), 1);
    const sink = await open(definition);
    const rounds = 20;
    const rowsPerCommit = 5000;
    // Half new keys, half updates of the previous round's keys: a projector's mix.
    const started = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      const writes = Array.from({ length: rowsPerCommit }, (_, i) => {
        const k = r * (rowsPerCommit / 2) + i;
        return { key: `key-${k}`, doc: doc(k), position: r * rowsPerCommit + i + 1 };
      });
      await sink.commit(r % 4, writes, (r + 1) * rowsPerCommit);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rowsPerSecond = Math.round((rounds * rowsPerCommit) / seconds);
    t.diagnostic(`commit: ${rowsPerSecond} rows/s (${rounds} commits of ${rowsPerCommit} rows)`);

    // The reference projector (load + fold + commit per batch) over 100,000 events of 20,000 aggregates.
    const projector = await open(counterProjection(name(), 1));
    const log = generateLog({ partitions: 4, events: 100_000, aggregates: 20_000, seed: 3 });
    const replayStart = process.hrtime.bigint();
    await replay(projector, definition, log, { batchSize: 5000 });
    const replaySeconds = Number(process.hrtime.bigint() - replayStart) / 1e9;
    const eventsPerSecond = Math.round(log.length / replaySeconds);
    t.diagnostic(`reference projector: ${eventsPerSecond} events/s (${log.length} events, batches of 5000)`);
    assert.deepEqual(await projector.checkpoints(), endOffsets(log));
    await assertSinkMatchesFold(projector, referenceFold(definition, log));
    // Loose bounds, so a loaded CI machine does not flake; the numbers above are the measurement.
    assert.ok(rowsPerSecond > 10_000, `${rowsPerSecond} rows/s`);
  });
});
