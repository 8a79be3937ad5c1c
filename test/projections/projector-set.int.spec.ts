/**
 * The projector set of `tidemark projector` / `tidemark up` follows the control table: it registers the lowest
 * catalog version on a fresh deployment, runs every live version the catalog defines, starts a version that
 * becomes live, and stops a retired one and drops its targets once its grace period has passed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HostedDeployment, ProjectionCatalog, ProjectorSet } from '@tidemark/ops';
import type { PostgresProjectionControl, ProjectionDefinition } from '@tidemark/projection-runtime';
import { createPostgresProjectionControl } from '@tidemark/projection-runtime';
import { CommandRegistry } from '@tidemark/schemas';
import type { ContextDefinition } from '@tidemark/sdk';
import { defineDeployment } from '@tidemark/sdk';
import type { CounterDoc, Harness } from '../support/runtime-harness';
import {
  counterProjection,
  diffView,
  EventLog,
  eventually,
  PARTITIONS,
  postgresSink,
  registry,
  startHarness,
} from '../support/runtime-harness';

const CONTEXT = 'pset';

let h: Harness;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  h = await startHarness();
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await h?.close();
});

function covers(checkpoints: Map<number, number>, ends: Map<number, number>): boolean {
  return [...ends].every(([partition, end]) => (checkpoints.get(partition) ?? 0) >= end);
}

describe('ProjectorSet', () => {
  test('runs the live versions of the catalog, starts newly live ones, stops and drops retired ones', async () => {
    const log = new EventLog(h, CONTEXT);
    closers.push(() => log.close());
    await log.create();
    const v1 = counterProjection(CONTEXT, 'stop', () => false, 1);
    const v2 = counterProjection(CONTEXT, 'stop', () => false, 2);
    // A deployment of this suite's own context: its event registry and the counter projection's versions.
    const context: ContextDefinition = {
      name: CONTEXT,
      aggregateType: 'counter',
      commands: new CommandRegistry({}),
      events: registry,
      decider: { initialState: () => null, decide: () => [], evolve: (state) => state },
    };
    const deployment = new HostedDeployment(
      defineDeployment({ contexts: [{ context, projections: [v1] }], catalog: [v2] }),
    );
    const catalog = ProjectionCatalog.of(deployment);
    const control: PostgresProjectionControl = createPostgresProjectionControl({
      connectionString: h.postgres,
      logger: h.logger,
    });
    closers.push(() => control.close());
    const sinkOf = (definition: ProjectionDefinition<CounterDoc>) => {
      const sink = postgresSink(h, definition);
      closers.push(() => sink.close());
      return sink;
    };
    const v1Sink = sinkOf(v1);
    const v2Sink = sinkOf(v2);

    await log.append(Array.from({ length: 40 }, (_, i) => ({ id: `a-${i % 10}`, amount: i })));
    const set = await ProjectorSet.start({
      brokers: h.brokers,
      stores: { postgres: h.postgres },
      partitions: PARTITIONS,
      deployment,
      catalog,
      projections: [{ context: CONTEXT, name: v1.name }],
      logger: h.logger,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
      reconcileIntervalMs: 200,
    });
    closers.push(() => set.stop());

    // A fresh deployment: the lowest catalog version is registered, active, and the only one running.
    assert.deepEqual(set.versions(), [{ context: CONTEXT, name: v1.name, version: 1 }]);
    assert.equal(await control.activeVersion(CONTEXT, v1.name), 1);
    await eventually(async () => covers(await v1Sink.checkpoints(), log.ends()));
    assert.deepEqual(await diffView(v1Sink, log.expected()), []);

    // A building version (a replay's) and a live one the catalog lacks are not run.
    await control.register({ context: CONTEXT, name: v1.name, version: 2, store: 'postgres' });
    await control.register(
      { context: CONTEXT, name: v1.name, version: 3, store: 'postgres' },
      { state: 'live' },
    );
    await set.settled();
    assert.deepEqual(
      set.versions().map((v) => v.version),
      [1],
    );
    assert.equal((await v2Sink.checkpoints()).size, 0);

    // The replay finished: v2 becomes live and the set starts it (on the NOTIFY), from offset 0.
    await control.setState(CONTEXT, v1.name, 2, 'live');
    await eventually(() => set.versions().some((v) => v.version === 2));
    await log.append(Array.from({ length: 20 }, (_, i) => ({ id: `b-${i % 5}`, amount: i })));
    await eventually(async () => covers(await v2Sink.checkpoints(), log.ends()));
    await eventually(async () => covers(await v1Sink.checkpoints(), log.ends()));
    assert.deepEqual(await diffView(v2Sink, log.expected()), []);

    // Retiring the active version is refused; retiring v2 with no grace period stops it and drops its table.
    await assert.rejects(
      control.setState(CONTEXT, v1.name, 1, 'retired', { retireAfter: new Date() }),
      /active version/,
    );
    await control.setState(CONTEXT, v1.name, 2, 'retired', { retireAfter: new Date() });
    await eventually(async () => {
      const row = (await control.list()).find((r) => r.context === CONTEXT && r.version === 2);
      return row?.droppedAt instanceof Date;
    });
    assert.deepEqual(
      set.versions().map((v) => v.version),
      [1],
    );
    assert.equal((await v2Sink.checkpoints()).size, 0);
    // v1 keeps running meanwhile.
    await log.append([{ id: 'c-1', amount: 5 }]);
    await eventually(async () => covers(await v1Sink.checkpoints(), log.ends()));
    // v3 (live but not in the catalog) was never run, and is not dropped (it is not retired).
    const v3Row = (await control.list()).find((r) => r.context === CONTEXT && r.version === 3);
    assert.equal(v3Row?.state, 'live');
    assert.equal(v3Row?.droppedAt, null);
  });
});
