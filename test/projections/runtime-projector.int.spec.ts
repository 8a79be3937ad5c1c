import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import type { ProjectionDefinition, Sink, WatermarkUpdate } from '@tidemark/projection-runtime';
import { createPostgresWatermarkBus, Projector, projectionGroupId } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import { Registry } from 'prom-client';
import type { CounterDoc, Harness } from '../support/runtime-harness';
import {
  counterProjection,
  diffView,
  EventLog,
  eventually,
  isMarkedPoison,
  PARTITIONS,
  postgresSink,
  registry,
  startHarness,
} from '../support/runtime-harness';

let h: Harness;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  h = await startHarness();
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await h?.close();
});

function bus() {
  const b = createPostgresWatermarkBus({ connectionString: h.postgres, logger: h.logger });
  closers.push(() => b.close());
  return b;
}

async function startProjector(
  definition: ProjectionDefinition<CounterDoc>,
  sink: Sink<CounterDoc>,
  extra: { metrics?: Registry } = {},
): Promise<Projector<CounterDoc>> {
  const projector = await Projector.start({
    brokers: h.brokers,
    definition,
    sink,
    events: registry,
    bus: bus(),
    logger: h.logger,
    sessionTimeoutMs: 3000,
    heartbeatIntervalMs: 300,
    lagRefreshMs: 300,
    ...extra,
  });
  closers.push(() => projector.stop());
  return projector;
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

function onPartition(prefix: string, partition: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    if (partitionForKey(`${prefix}-${i}`, PARTITIONS) === partition) out.push(`${prefix}-${i}`);
  }
  return out;
}

describe('Projector', () => {
  test('resumes from the sink checkpoint: every event applied exactly once across restarts and group resets', async () => {
    const log = new EventLog(h, 'rt1');
    closers.push(() => log.close());
    await log.create();
    const definition = counterProjection('rt1', 'stop', () => false);
    const sink = postgresSink(h, definition);
    closers.push(() => sink.close());
    const keys = ids('a', 24);
    const round = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await log.append(
          keys.map((id, k) => ({
            id,
            amount: k + i,
            legacy: (k + i) % 3 === 0,
            type: (k + i) % 11 === 10 ? 'Deleted' : (k + i) % 7 === 6 ? 'Ignored' : 'Added',
          })),
        );
      }
    };
    await round(5);
    let projector = await startProjector(definition, sink);
    await projector.waitForWatermark(log.ends(), 30_000);
    assert.deepEqual(await diffView(sink, log.expected()), []);
    await projector.stop();

    // Restart in the same group after more events.
    await round(3);
    projector = await startProjector(definition, sink);
    await projector.waitForWatermark(log.ends(), 30_000);
    assert.deepEqual(await diffView(sink, log.expected()), []);
    await projector.stop();

    // A new consumer group on the existing sink (the group starts from the beginning): it must seek forward.
    const renamed = { ...definition, name: 'counter-rt1-renamed' };
    await round(2);
    projector = await startProjector(renamed, sink);
    assert.equal(projector.groupId, 'rt1.proj.counter-rt1-renamed.v1');
    await projector.waitForWatermark(log.ends(), 30_000);
    assert.deepEqual(await diffView(sink, log.expected()), []);
    await projector.stop();

    const admin = h.kafka.admin();
    await admin.connect();
    try {
      // A fresh sink with an old group (committed offsets at the end): it must seek back and rebuild.
      await sink.drop();
      await sink.prepare();
      assert.equal((await sink.checkpoints()).size, 0);
      const offsets = await admin.fetchOffsets({
        groupId: projectionGroupId(definition),
        topics: ['rt1.events'],
      });
      assert.ok(
        offsets[0]?.partitions.every((p) => Number(p.offset) > 0),
        'the old group committed offsets',
      );
      await round(1);
      projector = await startProjector(definition, sink);
      await projector.waitForWatermark(log.ends(), 30_000);
      assert.deepEqual(await diffView(sink, log.expected()), []);
      const checkpoints = await sink.checkpoints();
      for (const [partition, end] of log.ends()) assert.ok((checkpoints.get(partition) ?? 0) >= end);
      await projector.stop();
    } finally {
      await admin.disconnect();
    }
  });

  for (const [context, publishWatermarks] of [
    ['rt2', false],
    ['rt8', true],
  ] as const) {
    test(`publishes a watermark only after its commit: data is readable when a subscriber sees it (${publishWatermarks ? 'notified by the Postgres commit itself' : 'published on the bus'})`, async () => {
      const log = new EventLog(h, context);
      closers.push(() => log.close());
      await log.create();
      const definition = counterProjection(context, 'stop', () => false);
      const sink = postgresSink(h, definition, { publishWatermarks });
      assert.equal(sink.publishesWatermark === true, publishWatermarks);
      closers.push(() => sink.close());
      const listener = bus();
      const checks: Promise<string | null>[] = [];
      let updates = 0;
      await listener.subscribe((update: WatermarkUpdate) => {
        if (update.context !== context) return;
        updates++;
        // Every key of the partition with an event below the watermark must already be stored past it.
        const below = new Map<string, number>();
        for (const p of log.produced) {
          if (p.partition === update.partition && p.offset < update.offset && p.event.type !== 'Ignored') {
            below.set(p.event.aggregate.id, Math.max(below.get(p.event.aggregate.id) ?? 0, p.offset + 1));
          }
        }
        checks.push(
          (async () => {
            for (const [key, position] of below) {
              const stored = await sink.read(update.partition, key);
              if (typeof stored === 'string' || stored.position < position) {
                return `${key} at ${JSON.stringify(stored)} behind watermark ${update.offset} (needs ${position})`;
              }
            }
            return null;
          })(),
        );
      });
      const projector = await startProjector(definition, sink);
      for (let i = 0; i < 20; i++) {
        await log.append(ids('w', 10).map((id) => ({ id, amount: i })));
      }
      await projector.waitForWatermark(log.ends(), 30_000);
      await eventually(() => updates > 0);
      const failures = (await Promise.all(checks)).filter((f) => f !== null);
      assert.deepEqual(failures, []);
      assert.ok(updates >= PARTITIONS);
      assert.deepEqual(await diffView(sink, log.expected()), []);
      await projector.stop();
    });
  }

  test('a failed store commit (pipelined) loses nothing: the partition resumes from the sink checkpoint', async () => {
    const log = new EventLog(h, 'rt7');
    closers.push(() => log.close());
    await log.create();
    const definition = counterProjection('rt7', 'stop', () => false);
    const real = postgresSink(h, definition);
    closers.push(() => real.close());
    // The real Postgres sink, with the commits of one partition refused twice (as a dropped connection would).
    let refusals = 2;
    const refused: number[] = [];
    const sink: Sink<CounterDoc> = {
      ...real,
      async commit(partition, writes, checkpoint) {
        if (partition === 0 && writes.length > 0 && refusals > 0) {
          refusals--;
          refused.push(checkpoint);
          throw new Error('connection terminated unexpectedly');
        }
        return real.commit(partition, writes, checkpoint);
      },
    };
    const metrics = new Registry();
    const projector = await startProjector(definition, sink, { metrics });
    for (let i = 0; i < 12; i++) {
      await log.append(ids('f', 16).map((id) => ({ id, amount: i + 1 })));
    }
    await projector.waitForWatermark(log.ends(), 30_000);
    assert.equal(refused.length, 2, 'partition 0 commits were refused twice');
    assert.deepEqual(await diffView(sink, log.expected()), [], 'every event applied exactly once');
    const failures = await metrics.getSingleMetric('tidemark_projection_commit_failures_total')?.get();
    assert.equal(
      failures?.values.reduce((sum, v) => sum + v.value, 0),
      2,
      'each failed commit is counted',
    );
    await projector.stop();
  });

  test('stop policy: a poison event halts its partition, the others go on, lag grows; a fix resumes it', async () => {
    const log = new EventLog(h, 'rt3');
    closers.push(() => log.close());
    await log.create();
    let fixed = false;
    const isPoison = (event: EventEnvelope) => !fixed && isMarkedPoison(event);
    const definition = counterProjection('rt3', 'stop', isPoison);
    const sink = postgresSink(h, definition);
    closers.push(() => sink.close());
    const metrics = new Registry();
    const everywhere = ids('s', 12);
    const [victim] = onPartition('s-p1', 1, 1);
    assert.ok(victim);
    await log.append(everywhere.map((id) => ({ id })));
    await log.append([{ id: victim }, { id: victim, poison: true }, { id: victim }]);
    const poison = log.produced.find((p) => isMarkedPoison(p.event));
    assert.ok(poison && poison.partition === 1);
    await log.append(everywhere.map((id) => ({ id })));

    const projector = await startProjector(definition, sink, { metrics });
    const others = new Map([...log.ends()].filter(([p]) => p !== 1));
    await projector.waitForWatermark(others, 30_000);
    await projector.waitForWatermark(new Map([[1, poison.offset]]), 30_000);
    await eventually(() => projector.status()[1]?.halted?.offset === poison.offset);
    assert.equal(projector.watermark().get(1), poison.offset, 'nothing past the poison event is committed');
    assert.equal((await sink.checkpoints()).get(1), poison.offset);
    const lagBefore = projector.lag().get(1) ?? 0;
    assert.ok(lagBefore > 0);

    await log.append(everywhere.map((id) => ({ id, amount: 5 })));
    await projector.waitForWatermark(new Map([...log.ends()].filter(([p]) => p !== 1)), 30_000);
    await eventually(() => (projector.lag().get(1) ?? 0) > lagBefore, 10_000);
    const lagMetric = await metrics.getSingleMetric('tidemark_projection_lag_events')?.get();
    const p1 = lagMetric?.values.find(
      (v) => v.labels.partition === '1' && v.labels.projection === 'counter-rt3',
    );
    assert.ok(p1 && p1.value > lagBefore, `lag metric of partition 1 grew: ${JSON.stringify(p1)}`);
    assert.equal(projector.watermark().get(1), poison.offset);
    await projector.stop();

    // Deploy the fix: the restarted projector resumes partition 1 from its checkpoint.
    fixed = true;
    const again = await startProjector(definition, sink);
    await again.waitForWatermark(log.ends(), 30_000);
    assert.deepEqual(await diffView(sink, log.expected()), []);
    await again.stop();
  });
});
